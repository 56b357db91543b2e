// Loads the libtorch addon (build/Release/mimmx_native.node) and describes its raw interface. Only the
// tensor layer talks to this object; everything else uses Tensor.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseCpuList } from "../util/cpu-list.js";
import { packageRoot } from "../util/package-root.js";

/** The handle object the addon creates for each tensor. */
export interface NativeTensor {
  free(): void;
  isFreed(): boolean;
  shape(): number[];
  dtype(): string;
  device(): string;
  numel(): number;
  requiresGrad(): boolean;
  setRequiresGrad(flag: boolean): void;
  grad(): NativeTensor | null;
  setGrad(g: NativeTensor | null): void;
  isLeaf(): boolean;
  item(): number | boolean;
  toBuffer(): ArrayBuffer;
  retainGrad(): void;
  sameStorage(other: NativeTensor): boolean;
}

// The addon's functions take positional arguments (see native/src/*.cc for each signature).
// biome-ignore lint/suspicious/noExplicitAny: the addon is untyped; Tensor gives every call its types.
export type NativeFn = (...args: any[]) => any;
export type NativeAddon = Record<string, NativeFn> & { torch_version: string };

function load(): NativeAddon {
  const root = packageRoot();
  const path = join(root, "build", "Release", "mimmx_native.node");
  if (!existsSync(path)) {
    throw new Error(
      `mimmx: the native addon is not built (${path} is missing). Run \`make setup\` (or \`npm run build:native\`); ` +
        "it needs libtorch: Debian's `apt-get install libtorch-dev libopenblas0-pthread`, a Python torch, or LIBTORCH=<folder>.",
    );
  }
  const threads = process.env.MIMMX_THREADS;
  if (threads !== undefined && !/^[1-9][0-9]*$/.test(threads)) {
    throw new Error(`mimmx: MIMMX_THREADS must be a positive integer, got "${threads}"`);
  }
  // The cores of this process (the --nproc-per-node launcher gives each rank its own), bound before
  // any tensor op can start libtorch's thread pool, so its threads inherit them.
  const affinity = process.env.MIMMX_CPU_AFFINITY;
  const cpus = affinity ? parseCpuList(affinity, "mimmx: MIMMX_CPU_AFFINITY") : null;
  const require = createRequire(import.meta.url);
  const addon = require(path) as NativeAddon;
  if (cpus) {
    try {
      addon.set_cpu_affinity(cpus);
    } catch (e) {
      throw new Error(`mimmx: MIMMX_CPU_AFFINITY=${affinity}: ${(e as Error).message}`);
    }
  }
  return addon;
}

export const native: NativeAddon = load();

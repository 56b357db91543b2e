// Loads the image-kernel addon (build/Release/mimmx_image.node, native/image/image.cc): bilinear
// resize, min-max scaling and CLAHE in C++, the per-image hot path of an X-ray pipeline. It holds no
// libtorch and no global state, so each loader worker thread loads its own instance. The callers
// (geometry.ts, intensity.ts, clahe.ts) validate arguments and keep the documented algorithms.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "../../util/package-root.js";

export interface ImageKernels {
  resizeBilinear(
    src: Float32Array,
    c: number,
    h: number,
    w: number,
    outH: number,
    outW: number,
  ): Float32Array;
  minMax(src: Float32Array, channels: number, lo: number, hi: number): Float32Array;
  clahe(
    src: Float32Array,
    c: number,
    h: number,
    w: number,
    tilesY: number,
    tilesX: number,
    bins: number,
    clipLimit: number,
  ): Float32Array;
}

function load(): ImageKernels {
  const path = join(packageRoot(import.meta.url), "build", "Release", "mimmx_image.node");
  if (!existsSync(path))
    throw new Error(
      `mimmx: the image addon is not built (${path} is missing). Run \`make setup\` (or \`npm run build:native\`).`,
    );
  return createRequire(import.meta.url)(path) as ImageKernels;
}

let kernels: ImageKernels | null = null;

/** The addon, loaded on first use (a process that never prepares an image never loads it). */
export function imageKernels(): ImageKernels {
  kernels ??= load();
  return kernels;
}

// A toy shortcut problem that runs in seconds, to study the MI machinery in isolation from CNNs.
// Inputs are 16-d vectors: two noisy "shape" coordinates that predict y with ~89% accuracy, one clean
// "marker" coordinate per spurion (z_i = y with probability `ratio` in training), the rest noise.
// Judged like the image benchmark: y accuracy on val / inverted / balanced, probes f_y -> z_i.
//
//   node dist/bench/toy-shortcut.js '{"method":"mimmx","mimmx":{"lambda":1},"steps":2000}'
import { linearProbe } from "../src/eval/index.js";
import {
  createMethod,
  type Method,
  type MethodConfig,
  Mimmx,
  type MimmxConfig,
} from "../src/methods/index.js";
import type { EncoderStepPieces } from "../src/methods/mimmx/pieces.js";
import * as torch from "../src/tensor/index.js";
import { Rng } from "../src/util/random.js";
import { METHOD_LAYER_MIMMX } from "./mimmx-method-layer.js";

export interface ToyConfig {
  method: string;
  /** MIMM-X switches over METHOD_LAYER_MIMMX (the setting this toy has always measured) */
  mimmx?: Record<string, unknown>;
  /** MIMM-X only: replaced pieces of the encoder step (tests: mutants of the MI gradient) */
  pieces?: Partial<EncoderStepPieces>;
  spurions?: number;
  ratio?: number;
  steps?: number;
  batchSize?: number;
  partSize?: number;
  lr?: number;
  seed?: number;
  dim?: number;
  shapeMean?: number;
  hidden?: number[];
}

interface ToySplit {
  x: Float32Array;
  y: Int32Array;
  z: Int32Array[];
  n: number;
}

function makeSplit(n: number, ratio: number, numZ: number, dim: number, mu: number, rng: Rng): ToySplit {
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  const z = Array.from({ length: numZ }, () => new Int32Array(n));
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.5 ? 1 : 0;
    const sy = 2 * y[i] - 1;
    const row = x.subarray(i * dim, (i + 1) * dim);
    for (let d = 0; d < dim; d++) row[d] = rng.normal();
    row[0] += mu * sy;
    row[1] += mu * sy;
    for (let k = 0; k < numZ; k++) {
      z[k][i] = rng.next() < ratio ? y[i] : 1 - y[i];
      row[2 + k] = 2 * z[k][i] - 1 + 0.1 * row[2 + k];
    }
  }
  return { x, y, z, n };
}

export function runToy(cfg: ToyConfig): Record<string, unknown> {
  const numZ = cfg.spurions ?? 1;
  const dim = cfg.dim ?? 16;
  const ratio = cfg.ratio ?? 0.9;
  const mu = cfg.shapeMean ?? 0.87;
  const rng = new Rng(cfg.seed ?? 0);
  const train = makeSplit(10000, ratio, numZ, dim, mu, rng);
  const val = makeSplit(2000, ratio, numZ, dim, mu, rng);
  const inv = makeSplit(2000, 1 - ratio, numZ, dim, mu, rng);
  const bal = makeSplit(2000, 0.5, numZ, dim, mu, rng);
  torch.manualSeed(cfg.seed ?? 0);
  const k = cfg.partSize ?? 8;
  const tasks = [
    { name: "y", numClasses: 2 },
    ...Array.from({ length: numZ }, (_, i) => ({ name: `z${i}`, numClasses: 2 })),
  ];
  const common = {
    tasks,
    encoder: { name: "mlp", inputDim: dim, hidden: cfg.hidden ?? [64] },
    partSize: k,
    lr: cfg.lr ?? 1e-3,
  } as const;
  const mimmxConfig = { ...common, ...METHOD_LAYER_MIMMX, ...(cfg.mimmx ?? {}) } as MimmxConfig;
  let method: Method;
  if (cfg.pieces) {
    if (cfg.method !== "mimmx") throw new Error(`runToy: pieces replace MIMM-X's, not ${cfg.method}'s`);
    method = new Mimmx(mimmxConfig, cfg.pieces);
  } else if (cfg.method === "mimmx") method = createMethod({ method: "mimmx", ...mimmxConfig });
  else
    method = createMethod({
      method: cfg.method === "oracle" ? "erm" : cfg.method,
      ...common,
    } as MethodConfig);
  const src = cfg.method === "oracle" ? makeSplit(10000, 0.5, numZ, dim, mu, rng) : train;
  const bs = cfg.batchSize ?? 128;
  const steps = cfg.steps ?? 2000;
  const batchRng = new Rng((cfg.seed ?? 0) + 1);
  let last: Record<string, number> = {};
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    torch.tidy(() => {
      const idx = Array.from({ length: bs }, () => Math.floor(batchRng.next() * src.n));
      const xb = new Float32Array(bs * dim);
      idx.forEach((r, j) => {
        xb.set(src.x.subarray(r * dim, (r + 1) * dim), j * dim);
      });
      const lab = (a: Int32Array) =>
        torch.tensor(
          Int32Array.from(idx, (r) => a[r]),
          { dtype: "int64" },
        );
      last = method.update({ x: torch.tensor(xb, { shape: [bs, dim] }), y: lab(src.y), z: src.z.map(lab) });
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  const evalSplit = (sp: ToySplit) =>
    torch.tidy(() => {
      const x = torch.tensor(sp.x, { shape: [sp.n, dim] });
      const logits = method.predict(x)[0].dataSync() as Float32Array;
      let correct = 0;
      for (let i = 0; i < sp.n; i++) if ((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === sp.y[i]) correct++;
      return { acc: correct / sp.n, feats: Float32Array.from(method.features(x).dataSync() as Float32Array) };
    });
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  const b = evalSplit(bal);
  const fdim = (numZ + 1) * k;
  const probe = (part: number, labels: Int32Array) =>
    r3(linearProbe(b.feats, fdim, labels, { columns: [part * k, (part + 1) * k], bootstrap: 0 }).accuracy);
  const probes: Record<string, number> = { "f_y->y": probe(0, bal.y) };
  bal.z.forEach((z, i) => {
    probes[`f_y->z${i}`] = probe(0, z);
  });
  const logs = Object.fromEntries(
    Object.entries(last)
      .filter(([key]) => /^(mi\/|scale|w\/|ce\/)/.test(key))
      .map(([key, v]) => [key, r3(v)]),
  );
  return {
    method: cfg.method,
    val: r3(evalSplit(val).acc),
    inverted: r3(evalSplit(inv).acc),
    balanced: r3(b.acc),
    probes,
    seconds: r3(seconds),
    logs,
  };
}

if (process.argv[1]?.endsWith("toy-shortcut.js")) {
  torch.setNumThreads(1);
  const cfg = JSON.parse(process.argv[2] ?? '{"method":"erm"}') as ToyConfig;
  console.log(JSON.stringify({ cfg: { ...cfg }, ...runToy(cfg) }));
}

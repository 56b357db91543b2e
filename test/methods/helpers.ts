// Tiny synthetic shortcut data for method and loop tests: 28x28 images where y puts a bright blob
// top-left and each spurion z_i a bright blob in another corner; z_i = y with probability `ratio`.
import type { Batch } from "../../src/methods/batch.js";
import type { CommonConfig, MimmxConfig } from "../../src/methods/index.js";
import type { MimmSwitches } from "../../src/methods/mimm.js";
import type { EncoderStepPieces } from "../../src/methods/mimmx/pieces.js";
import { Mimmx } from "../../src/methods/mimmx.js";
import type { TaskSpec } from "../../src/models/index.js";
import * as torch from "../../src/tensor/index.js";
import { type ArrayDataset, Rng } from "../../src/train/index.js";

export const TASKS: TaskSpec[] = [
  { name: "y", numClasses: 2 },
  { name: "z0", numClasses: 2 },
  { name: "z1", numClasses: 2 },
];

export function shortcutDataset(n: number, seed = 0, ratio = 0.9): ArrayDataset {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  const images = new Float32Array(n * 28 * 28);
  const y = new Int32Array(n);
  const z0 = new Int32Array(n);
  const z1 = new Int32Array(n);
  const corners = [
    [2, 2],
    [2, 20],
    [20, 2],
  ];
  for (let i = 0; i < n; i++) {
    y[i] = rand() < 0.5 ? 1 : 0;
    z0[i] = rand() < ratio ? y[i] : 1 - y[i];
    z1[i] = rand() < ratio ? y[i] : 1 - y[i];
    const base = i * 784;
    for (let p = 0; p < 784; p++) images[base + p] = 0.1 * (rand() - 0.5);
    [y[i], z0[i], z1[i]].forEach((v, c) => {
      if (v === 0) return;
      const [r0, c0] = corners[c];
      for (let r = r0; r < r0 + 5; r++) for (let q = c0; q < c0 + 5; q++) images[base + r * 28 + q] += 1;
    });
  }
  return { images, itemShape: [1, 28, 28], labels: { y, z0, z1 }, length: n };
}

/** A whole dataset as one Batch (tensors kept alive: dispose with disposeBatch). */
export function asBatch(ds: ArrayDataset): Batch {
  return {
    x: torch.tensor(ds.images, { shape: [ds.length, ...ds.itemShape] }).keep(),
    y: torch.tensor(ds.labels.y, { dtype: "int64" }).keep(),
    z: [
      torch.tensor(ds.labels.z0, { dtype: "int64" }).keep(),
      torch.tensor(ds.labels.z1, { dtype: "int64" }).keep(),
    ],
    rows: Int32Array.from({ length: ds.length }, (_, i) => i),
  };
}

export const TASK_NAMES = { primary: "y", spurions: ["z0", "z1"] };

/**
 * The run configuration's current defaults for MIMM-X (src/config/), as method-layer
 * switches: the method layer has none of its own, so every test states its setting through this.
 * `overrides` replace single switches; a switch that turns GradNorm or attention on needs their
 * parameters, which are here already.
 */
export function mimmxOptions(overrides: MimmxOverrides = {}): MimmxSwitchSet {
  return { ...CONFIG_LAYER_MIMMX, ...overrides } as MimmxSwitchSet;
}

/** Single switches to change; GradNorm and attention may be turned off. */
export type MimmxOverrides = Partial<Omit<MimmxFullSwitches, "gradNorm" | "attention">> & {
  gradNorm?: boolean;
  attention?: boolean;
};

/** MimmxConfig without the common part (still a union over the GradNorm and attention switches). */
export type MimmxSwitchSet = MimmxConfig extends infer T
  ? T extends MimmxConfig
    ? Omit<T, keyof CommonConfig>
    : never
  : never;

/** MIMM's switches at the run configuration's defaults, spurion 0. */
export function mimmOptions(overrides: Partial<MimmSwitches & { spurion: number }> = {}) {
  const { lambda, estimator, conditional, nFE, nMI, criticData, criticLr, adaptiveScaling, objective } =
    CONFIG_LAYER_MIMMX;
  return {
    lambda,
    estimator,
    conditional,
    nFE,
    nMI,
    criticData,
    criticLr,
    adaptiveScaling,
    objective,
    spurion: 0,
    ...overrides,
  };
}

/** Every MIMM-X switch with GradNorm and attention on (their parameters present). */
export type MimmxFullSwitches = Omit<
  Extract<MimmxConfig, { gradNorm: true; attention: true }>,
  keyof CommonConfig
>;

const CONFIG_LAYER_MIMMX: MimmxFullSwitches = {
  lambda: 1,
  // joint critic, 3 x 64, all B - 1 negatives, scores bounded by 5 tanh(T / 5)
  estimator: {
    critic: "joint",
    hidden: [64, 64, 64],
    firstLayer: "split",
    negatives: "all",
    scoreBound: 5,
    conditional: false,
    emaRate: 0.9,
    objective: "dv",
  },
  pairs: "all",
  conditional: false,
  nFE: 1,
  nMI: 5,
  criticData: "reuse",
  criticLr: 1e-4,
  adaptiveScaling: true,
  scalingScope: "lastLayer",
  gradNorm: true,
  gradNormAlpha: 1.5,
  gradNormLr: 0.025,
  gradNormMi: true,
  attention: true,
  attentionTau: 1,
  attentionFloor: 0.1,
  attentionEma: 0.9,
  miWarmup: 0,
  lambdaRamp: 0,
  penalise: "all",
  spurionGrad: "trunk",
  miGrad: "trunk",
  spurionView: "part",
  objective: "dv",
  miDistribution: "train",
  yLoss: { kind: "ce" },
};

/**
 * `rows` rows of `dim` inputs that carry their labels (y, z0, z1 drawn uniformly, times 0.8, in the
 * first three columns) plus unit noise, so every term of a MIMM-X objective has a gradient worth
 * comparing. Seeded: the same seed gives the same batch.
 */
export function labelCarryingBatch(seed: number, rows: number, dim: number): Batch {
  torch.manualSeed(seed);
  const y = torch.randint(0, 2, [rows]);
  const z0 = torch.randint(0, 2, [rows]);
  const z1 = torch.randint(0, 2, [rows]);
  const cols = [y, z0, z1].map((t) => t.float().unsqueeze(1));
  const x = torch.randn([rows, dim]).add(torch.cat([...cols, torch.zeros([rows, dim - 3])], 1).mul(0.8));
  return { x: x.keep(), y: y.keep(), z: [z0.keep(), z1.keep()] };
}

/** MIMM-X on a small MLP (one hidden layer of 8, parts of `partSize`) for the gradient tests. */
export function smallMlpMimmx(
  overrides: MimmxOverrides,
  o: { inputDim: number; partSize: number },
  pieces: Partial<EncoderStepPieces> = {},
): Mimmx {
  torch.manualSeed(1);
  return new Mimmx(
    {
      tasks: TASKS,
      encoder: { name: "mlp", inputDim: o.inputDim, hidden: [8] },
      partSize: o.partSize,
      lr: 2e-2,
      ...mimmxOptions(overrides),
    },
    pieces,
  );
}

// The `mimmx demo` run: ERM, MIMM-X and the oracle on the built-in fashion-confounded benchmark,
// sized to finish in about ten minutes on two CPU cores.
//
// DEMO_MIMMX is the ONE place the demo's MIMM-X hyper-parameters live; every key not set here takes
// its schema default (docs/config.md). How they were chosen: docs/tuning-log.md.
import type { DeepPartial, MethodConfig, MethodName, RunConfig } from "../config/index.js";

/** MIMM-X hyper-parameters of the demo. */
export const DEMO_MIMMX: DeepPartial<MethodConfig> = {
  name: "mimmx",
  lambda: 1,
  n_fe: 1,
  n_mi: 5,
  estimator: {
    critic: "joint",
    hidden: 64,
    layers: 1,
    negatives: 8,
    ema_rate: 0.9,
    lr: 5e-3,
    score_bound: "none",
    objective: "dv",
  },
  pairs: "all",
  adaptive_scaling: false,
  gradnorm: { enabled: false },
  attention: { enabled: true, tau: 1, floor: 0.1 },
  mi_warmup: 80,
  lambda_ramp: 160,
  spurion_view: "probs",
  mi_distribution: "balanced",
};

/** The methods the demo compares, in report order. */
export const DEMO_METHODS: MethodName[] = ["erm", "mimmx", "oracle"];

/** Data, model, training and evaluation settings of the demo (budget: ~10 min on 2 cores). */
export const DEMO_CONFIG: DeepPartial<RunConfig> = {
  name: "demo",
  seed: 0,
  data: {
    source: "fashion-confounded",
    classes: [2, 4],
    spurions: [
      { name: "marker", kind: "patch", ratio: 0.9 },
      { name: "block", kind: "block", ratio: 0.9 },
    ],
    splits: { train: 10000, validation: 2000, test_inverted: 2000, test_balanced: 2000 },
  },
  model: { encoder: "small-cnn", feature_dim: 2 },
  method: DEMO_MIMMX,
  train: { epochs: 15, batch_size: 128, lr: 1e-3, log_every: 10, select_by: "val_worst_group" },
  eval: {
    bootstrap: 200,
    probes: { enabled: true, split: "test_balanced", max_iter: 200 },
    tsne: { enabled: true, split: "test_balanced", max_points: 600, iterations: 500 },
    mi_audit: { enabled: true, split: "test_balanced", hidden: 64, layers: 2, steps: 500, batch_size: 64 },
  },
};

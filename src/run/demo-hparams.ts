// Settings of `mimmx demo` on the built-in fashion-confounded benchmark, chosen by measurement with
// bench/tune-mimmx.ts (results: one JSON line per run). PRELIMINARY: being tuned, numbers follow.
import type { FashionConfoundedOptions } from "../data/index.js";

/** Benchmark options (fashionConfounded): the defaults already make ERM take the shortcut. */
export const DEMO_DATA: FashionConfoundedOptions = {};

/** Training loop settings shared by ERM, oracle and MIMM-X in the demo. */
export const DEMO_TRAIN = {
  epochs: 20,
  batchSize: 128,
  lr: 1e-3,
  partSize: 8,
};

/** MIMM-X method config fields (spread into createMethod({ method: "mimmx", ... })). */
export const DEMO_MIMMX = {
  lambda: 1,
  estimator: "joint-64-k8" as const,
  adaptiveScaling: true,
  gradNorm: false,
  attention: true,
  conditional: false,
  nFE: 1,
  nMI: 5,
  criticData: "fresh" as const,
};

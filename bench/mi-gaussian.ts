// MI estimators on correlated Gaussians with known MI: a ~ N(0, I_d), c = rho a + sqrt(1 - rho^2) e,
// so I(a; c) = -(d/2) ln(1 - rho^2). Every estimator gets the same sample and step budget; each is
// trained from scratch per case, then evaluated (DV estimate, no gradient) on fresh batches.
// `node -e 'import("./dist/bench/mi-gaussian.js").then(m => m.benchMiGaussian({})).then(r => console.log(JSON.stringify(r, null, 1)))'`
import {
  buildPairEstimators,
  ESTIMATOR_PRESETS,
  type EstimatorConfig,
  type EstimatorPreset,
} from "../src/mi/index.js";
import { Adam } from "../src/optim/index.js";
import * as torch from "../src/tensor/index.js";

export interface BenchMiGaussianOptions {
  /** presets by name, or {name: config} for ad-hoc configs */
  estimators?: (EstimatorPreset | { name: string; config: EstimatorConfig })[];
  dims?: number[];
  /** true MI values in nats */
  mis?: number[];
  steps?: number;
  batch?: number;
  evalBatches?: number;
  lr?: number;
  seed?: number;
  threads?: number;
}

export interface MiGaussianCase {
  estimator: string;
  d: number;
  truth: number;
  estimate: number;
  abs_error: number;
  rel_error: number;
  /** within 10% or 0.05 nats of the truth */
  ok: boolean;
  train_seconds: number;
}

/** A batch of correlated Gaussian pairs with the given true MI. */
export function gaussianPairs(b: number, d: number, mi: number): [torch.Tensor, torch.Tensor] {
  const rho = Math.sqrt(1 - Math.exp((-2 * mi) / d));
  const a = torch.randn([b, d]);
  const c = a.mul(rho).add(torch.randn([b, d]).mul(Math.sqrt(1 - rho * rho)));
  return [a, c];
}

/** Trains one estimator on the Gaussian case and returns its estimate averaged over fresh batches. */
export function fitGaussian(
  preset: EstimatorPreset | EstimatorConfig,
  d: number,
  mi: number,
  o: Required<Omit<BenchMiGaussianOptions, "estimators" | "dims" | "mis" | "threads">>,
): { estimate: number; seconds: number } {
  torch.manualSeed(o.seed);
  // The same code path MIMM-X trains (stacked critics when the config allows), with one pair.
  const est = buildPairEstimators([{ name: "a;c", a: [0], c: [1], spurion: null }], d, preset);
  const opt = new Adam(est.module.parameters(), { lr: o.lr });
  const t0 = performance.now();
  for (let s = 0; s < o.steps; s++) {
    torch.tidy(() => {
      const [a, c] = gaussianPairs(o.batch, d, mi);
      opt.zeroGrad();
      est.terms([a, c]).surrogates.sum().neg().backward();
      opt.step();
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  let sum = 0;
  for (let e = 0; e < o.evalBatches; e++) {
    sum += torch.tidy(() => {
      const [a, c] = gaussianPairs(o.batch, d, mi);
      return est.estimates([a, c])[0];
    });
  }
  for (const p of est.module.parameters()) p.dispose();
  return { estimate: sum / o.evalBatches, seconds };
}

export async function benchMiGaussian(opts: BenchMiGaussianOptions = {}): Promise<{
  bench: string;
  settings: Record<string, unknown>;
  cases: MiGaussianCase[];
  summary: Record<string, { max_abs_error: number; all_ok: boolean; mean_train_seconds: number }>;
}> {
  if (opts.threads) torch.setNumThreads(opts.threads);
  const o = {
    steps: opts.steps ?? 600,
    batch: opts.batch ?? 128,
    evalBatches: opts.evalBatches ?? 20,
    lr: opts.lr ?? 1e-3,
    seed: opts.seed ?? 0,
  };
  const estimators = (
    opts.estimators ??
    (Object.keys(ESTIMATOR_PRESETS).filter(
      (n) => n !== "published" && n !== "joint-400-split",
    ) as EstimatorPreset[])
  ).map((e) => (typeof e === "string" ? { name: e, config: e as EstimatorPreset | EstimatorConfig } : e));
  const dims = opts.dims ?? [2, 4, 8];
  const mis = opts.mis ?? [0.1, 0.5, 1, 2];
  const cases: MiGaussianCase[] = [];
  for (const { name: estimator, config } of estimators) {
    for (const d of dims) {
      for (const truth of mis) {
        const { estimate, seconds } = fitGaussian(config, d, truth, o);
        const absErr = Math.abs(estimate - truth);
        cases.push({
          estimator,
          d,
          truth,
          estimate,
          abs_error: absErr,
          rel_error: absErr / truth,
          ok: absErr <= 0.05 || absErr <= 0.1 * truth,
          train_seconds: seconds,
        });
      }
    }
  }
  const summary: Record<string, { max_abs_error: number; all_ok: boolean; mean_train_seconds: number }> = {};
  for (const { name: e } of estimators) {
    const mine = cases.filter((c) => c.estimator === e);
    summary[e] = {
      max_abs_error: Math.max(...mine.map((c) => c.abs_error)),
      all_ok: mine.every((c) => c.ok),
      mean_train_seconds: mine.reduce((s, c) => s + c.train_seconds, 0) / mine.length,
    };
  }
  return {
    bench: "mi-gaussian",
    settings: { ...o, dims, mis, estimators: estimators.map((e) => e.name) },
    cases,
    summary,
  };
}

// The "kernel" estimator of MIMM-X as a pair-estimator set: for every (f_y, z_i) pair it scores the
// dependence of f_y on the spurion's label within each class of y (kernel-dependence.ts). The
// spurion side of a pair is the label itself (spurion view "labels": a one-hot [B, C] view), so
// there is no critic to train: `module` holds no parameters and the EMA state is empty.
import { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import { stack } from "../tensor/functions.js";
import type { Tensor } from "../tensor/tensor.js";
import { assertFinite } from "./guard.js";
import {
  classMedian,
  DEFAULT_BANDWIDTHS,
  dependenceFromKernel,
  rbfKernel,
  standardisedLinearKernel,
} from "./kernel-dependence.js";
import type { PairEstimatorSet, PairTerms } from "./pair-estimators.js";
import type { PartPair } from "./pair-sets.js";

export interface KernelEstimatorConfig {
  critic: "kernel";
  /** multipliers of the median-heuristic bandwidth (default 0.5, 1, 2) */
  bandwidths?: number[];
  /** also a linear kernel on the standardised features, averaged with the RBF one (default false) */
  linear?: boolean;
  /** pairs whose median squared distance is the bandwidth h: all ("batch", default) or same-y ("class") */
  bandwidthPairs?: "batch" | "class";
}

class NoParameters extends Module {
  forward(): Tensor {
    throw new Error("the kernel estimator has no critic network");
  }
}

/** Class indices [B] of a one-hot view on the host; an all-zero row (unknown label) gives -1. */
function labelsOf(view: Tensor): Int32Array {
  const [b, c] = view.shape;
  const v = view.dataSync() as ArrayLike<number>;
  const out = new Int32Array(b).fill(-1);
  for (let i = 0; i < b; i++)
    for (let j = 0; j < c; j++)
      if (v[i * c + j] > 0.5) {
        out[i] = j;
        break;
      }
  return out;
}

export class KernelPairEstimators implements PairEstimatorSet {
  readonly module: Module = new NoParameters();
  private readonly bandwidths: number[];

  /** numClasses: classes of each task in part order (task 0 = y). */
  constructor(
    readonly pairs: PartPair[],
    private readonly numClasses: number[],
    cfg: KernelEstimatorConfig = { critic: "kernel" },
  ) {
    for (const p of pairs)
      if (p.a.length !== 1 || p.a[0] !== 0 || p.c.length !== 1)
        throw new Error(
          `kernel estimator: pair ${p.name} is not (f_y, one spurion); it scores y-z_i pairs only`,
        );
    this.bandwidths = cfg.bandwidths ?? DEFAULT_BANDWIDTHS;
    this.linear = cfg.linear ?? false;
    this.bandwidthPairs = cfg.bandwidthPairs ?? "batch";
  }
  private readonly linear: boolean;
  private readonly bandwidthPairs: "batch" | "class";

  /** views: f_y, then one-hot labels per spurion; condition: y labels [B] (required). */
  terms(views: Tensor[], condition?: Tensor): PairTerms {
    if (!condition) throw new Error("kernel estimator: needs the primary labels y (condition)");
    const y = Int32Array.from(condition.dataSync() as ArrayLike<number | bigint>, Number);
    // Every pair scores the same f_y: one kernel matrix serves them all.
    const scale = this.bandwidthPairs === "class" ? (d2: ArrayLike<number>) => classMedian(d2, y) : undefined;
    const rbf = rbfKernel(views[0], this.bandwidths, scale);
    const k = this.linear ? rbf.add(standardisedLinearKernel(views[0])).div(2) : rbf;
    const values = this.pairs.map((p) =>
      dependenceFromKernel(k, y, labelsOf(views[p.c[0]]), this.numClasses[0], this.numClasses[p.c[0]]),
    );
    const estimates = values.map((v, i) => {
      const x = v.item();
      assertFinite(`kernel dependence ${this.pairs[i].name}`, x);
      return x;
    });
    return { surrogates: stack(values), estimates };
  }

  estimates(views: Tensor[], condition?: Tensor): number[] {
    return noGrad(() => this.terms(views, condition).estimates);
  }

  emaState(): (number | null)[] {
    return [];
  }
  setEmaState(): void {}
}

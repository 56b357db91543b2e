// The Donsker-Varadhan bound used by MINE, on critic scores split into joint ("positive") samples
// and product-of-marginals ("negative") samples (METHOD.md, "MI estimation").
//
//   estimate  I = mean(pos) - log(mean(exp(neg)))                       (stable logsumexp)
//   surrogate S = mean(pos) - mean(exp(neg)) / EMA                      (bias-corrected gradient)
//
// EMA is a detached running mean of mean(exp(neg)). Differentiating S gives MINE's corrected
// gradient: the log term's gradient E[grad exp(T)] / E[exp(T)] with the denominator replaced by the
// running mean, which removes the mini-batch bias of the plain estimate's gradient.
// The EMA is held in the log domain, so scores of any size never overflow.
import * as F from "../nn/functional.js";
import type { Tensor } from "../tensor/tensor.js";

/** Critic scores of one batch: pos [B] = T(a_i, c_i); neg: 1-d, every valid T(a_i, c_j), j != i. */
export interface PairScores {
  pos: Tensor;
  neg: Tensor;
}

/** log(mean(exp(neg))), as a stable logsumexp. */
export function logMeanExp(neg: Tensor): Tensor {
  const n = neg.numel();
  if (n === 0) throw new Error("logMeanExp: no negative samples (all pairs masked out?)");
  return neg.logsumexp(0).sub(Math.log(n));
}

/** The DV estimate of I(a; c) in nats, differentiable. */
export function dvEstimate(s: PairScores): Tensor {
  return s.pos.mean().sub(logMeanExp(s.neg));
}

/**
 * Detached running mean of mean(exp(neg)): EMA <- r * new + (1 - r) * EMA (METHOD.md, r = 0.9),
 * initialised with the first value. Stored as log(EMA).
 */
export class LogEma {
  logValue: number | null = null;
  constructor(readonly rate = 0.9) {
    if (!(rate > 0 && rate <= 1)) throw new Error(`LogEma: rate must be in (0, 1], got ${rate}`);
  }
  /** Folds in log(mean(exp(neg))) of a new batch; returns the updated log(EMA). */
  update(logMeanExpNew: number): number {
    if (this.logValue === null || this.rate === 1) this.logValue = logMeanExpNew;
    else
      this.logValue = logAddExp(Math.log(this.rate) + logMeanExpNew, Math.log(1 - this.rate) + this.logValue);
    return this.logValue;
  }
}

function logAddExp(x: number, y: number): number {
  const m = Math.max(x, y);
  if (m === Number.NEGATIVE_INFINITY) return m;
  return m + Math.log(Math.exp(x - m) + Math.exp(y - m));
}

/**
 * The bias-corrected surrogate S = mean(pos) - mean(exp(neg)) / EMA, given log(EMA). Its value is
 * not the MI; its gradient is the corrected MI gradient. Critics maximise it, encoders minimise it.
 */
export function correctedSurrogate(s: PairScores, logEma: number): Tensor {
  return s.pos.mean().sub(logMeanExp(s.neg).sub(logEma).exp());
}

/**
 * The Jensen-Shannon surrogate mean(-softplus(-pos)) - mean(softplus(neg)) (Deep InfoMax). Critics
 * maximise it; its maximiser is the log density ratio, as for DV.
 */
export function jsdSurrogate(s: PairScores): Tensor {
  return F.softplus(s.pos.neg()).mean().neg().sub(F.softplus(s.neg).mean());
}

// The DV estimate and corrected surrogate of dv.ts for P pairs at once (rows of [P, ...] tensors).
// Optional importance weights (StackedScores.posLogW / negLogW) turn every mean into a weighted mean:
// the estimate then refers to the reweighted distribution. Masked negatives get weight 0.
import * as F from "../nn/functional.js";
import type { Tensor } from "../tensor/tensor.js";
import type { StackedScores } from "./stacked-critic.js";

/** Log-weights of the negatives [P, M] with masked entries at -inf, or null (uniform, all valid). */
function negLogWeights(s: StackedScores): Tensor | null {
  const w = s.negLogW ?? null;
  if (!s.mask) return w;
  const base = w ?? s.neg.mul(0);
  return base.maskedFill(s.mask.logicalNot(), Number.NEGATIVE_INFINITY);
}

/** log(weighted mean over valid negatives of exp(neg)) per pair: [P]. */
export function stackedLogMeanExp(s: StackedScores): Tensor {
  const lw = negLogWeights(s);
  if (!lw) return s.neg.logsumexp(1).sub(Math.log(s.neg.shape[1]));
  return s.neg.add(lw).logsumexp(1).sub(lw.logsumexp(1));
}

/** Weighted mean over the joint samples of v [P, B] (default: the positive scores): [P]. */
function posMean(s: StackedScores, v: Tensor = s.pos): Tensor {
  return s.posLogW ? v.mul(s.posLogW.softmax(1)).sum(1) : v.mean(1);
}

/** Weighted mean over valid negatives of v [P, M]: [P]. */
function negMean(s: StackedScores, v: Tensor): Tensor {
  const lw = negLogWeights(s);
  return lw ? v.mul(lw.softmax(1)).sum(1) : v.mean(1);
}

/** DV estimate per pair [P] = mean(pos) - logMeanExp(neg). */
export function stackedDv(s: StackedScores): Tensor {
  return posMean(s).sub(stackedLogMeanExp(s));
}

/** Weighted mean of the positive scores per pair [P] (the first term of the DV bound). */
export function stackedPosMean(s: StackedScores): Tensor {
  return posMean(s);
}

/** Corrected surrogate per pair [P] = mean(pos) - exp(logMeanExp(neg) - logEma), logEma [P]. */
export function stackedSurrogate(s: StackedScores, lme: Tensor, logEma: Tensor): Tensor {
  return posMean(s).sub(lme.sub(logEma).exp());
}

/** Jensen-Shannon surrogate per pair [P] = mean(-softplus(-pos)) - mean over valid negatives of softplus(neg). */
export function stackedJsdSurrogate(s: StackedScores): Tensor {
  return posMean(s, F.softplus(s.pos.neg()))
    .neg()
    .sub(negMean(s, F.softplus(s.neg)));
}

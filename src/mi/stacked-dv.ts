// The DV estimate and corrected surrogate of dv.ts for P pairs at once (rows of [P, ...] tensors).
import type { Tensor } from "../tensor/tensor.js";
import type { StackedScores } from "./stacked-critic.js";

/** log(mean over valid negatives of exp(neg)) per pair: [P]. */
export function stackedLogMeanExp(s: StackedScores): Tensor {
  if (!s.mask) return s.neg.logsumexp(1).sub(Math.log(s.neg.shape[1]));
  const count = s.mask.float().sum(1).clamp(1);
  return s.neg.maskedFill(s.mask.logicalNot(), Number.NEGATIVE_INFINITY).logsumexp(1).sub(count.log());
}

/** DV estimate per pair [P] = mean(pos) - logMeanExp(neg). */
export function stackedDv(s: StackedScores): Tensor {
  return s.pos.mean(1).sub(stackedLogMeanExp(s));
}

/** Corrected surrogate per pair [P] = mean(pos) - exp(logMeanExp(neg) - logEma), logEma [P]. */
export function stackedSurrogate(s: StackedScores, lme: Tensor, logEma: Tensor): Tensor {
  return s.pos.mean(1).sub(lme.sub(logEma).exp());
}

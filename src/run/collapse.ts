// A trained model that predicts one class for (nearly) every image has learnt nothing of y, whatever
// its accuracy says (50% on a balanced split). That outcome must not pass silently: a narrow f_y
// under a balanced loss can stay at its starting plateau (docs/tuning-log.md, round 5).
import { findSplit, type MethodEvaluation } from "./evaluate.js";

/** Share of one split's predictions in one class above which y counts as not learnt. */
export const ONE_CLASS_SHARE = 0.99;

/**
 * The warning for a method whose primary-task predictions on `split` (default validation, or the
 * part of it the method reports) fall in one class for at least ONE_CLASS_SHARE of the images;
 * undefined otherwise.
 */
export function oneClassWarning(
  evaluation: MethodEvaluation,
  label: string,
  split = "validation",
): string | undefined {
  const s = findSplit(evaluation.splits, split);
  const primary = s ? s.tasks[evaluation.tasks[0]] : undefined;
  if (!s || !primary || primary.n === 0) return undefined;
  const c = primary.numClasses;
  const predicted = Array.from({ length: c }, (_, j) =>
    primary.confusion.reduce((sum, v, i) => sum + (i % c === j ? v : 0), 0),
  );
  const top = Math.max(...predicted);
  if (top / primary.n < ONE_CLASS_SHARE) return undefined;
  const cls = predicted.indexOf(top);
  return `${label}: predicts class ${cls} of ${evaluation.tasks[0]} for ${top} of the ${primary.n} images of ${s.split} (${((100 * top) / primary.n).toFixed(1)}%): ${evaluation.tasks[0]} was not learnt (its loss stayed at, or went back to, its starting plateau). A wider f_y (model.feature_dim), group-balanced batches (method.balance_by: sampler) or another y_loss may start where this did not`;
}

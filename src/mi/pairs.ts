// Which (i, j) pairs of a batch serve as negatives: all B-1 others, or K sampled ones, optionally
// only those with the same primary label (conditional negatives estimate I(a; c | y)).
import { arange, randint } from "../tensor/creation.js";
import type { Device, Tensor } from "../tensor/tensor.js";

export interface NegativeSampling {
  /** "all": every j != i (B(B-1) negatives); a number K: K random j != i per row */
  negatives: "all" | number;
  /** labels [B]: keep only negatives with label_j = label_i (conditional negatives) */
  condition?: Tensor;
}

/**
 * Off-diagonal mask [B, B] (bool) on `device` (the scores'), restricted to same-label pairs when
 * labels are given.
 */
export function allPairsMask(b: number, device: Device, condition?: Tensor): Tensor {
  const idx = arange(b, undefined, 1, { device });
  let mask = idx.unsqueeze(1).ne(idx.unsqueeze(0));
  if (condition) mask = mask.logicalAnd(condition.unsqueeze(1).eq(condition.unsqueeze(0)));
  return mask;
}

/**
 * K random partners per row, never the row itself: j = (i + U{1..B-1}) mod B. Returns [B, K] int64
 * on `device` (the scores').
 */
export function sampledPartners(b: number, k: number, device: Device): Tensor {
  if (b < 2) throw new Error("sampledPartners: a batch of at least 2 is needed for negatives");
  return arange(b, undefined, 1, { device })
    .unsqueeze(1)
    .add(randint(1, b, [b, k], { device }))
    .remainder(b);
}

/** Mask [B, K] of sampled partners that share row i's label (all true without labels). */
export function sampledMask(partners: Tensor, condition?: Tensor): Tensor | null {
  if (!condition) return null;
  const b = partners.shape[0];
  const partnerLabels = condition.indexSelect(0, partners.flatten()).view(b, -1);
  return partnerLabels.eq(condition.unsqueeze(1));
}

// Small helpers for gradient bookkeeping.
import type { Tensor } from "../tensor/tensor.js";

/** sqrt(sum of squared entries) over a list of gradients (nulls count as zero). */
export function globalNorm(grads: (Tensor | null)[]): number {
  let sq = 0;
  for (const g of grads) if (g) sq += g.square().sum().item();
  return Math.sqrt(sq);
}

/** Turns gradient recording for a set of parameters on or off (freezing critics for a phase). */
export function setRequiresGrad(params: Tensor[], flag: boolean): void {
  for (const p of params) p.requiresGrad_(flag);
}

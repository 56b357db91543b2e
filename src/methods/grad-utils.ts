// Small helpers for gradient bookkeeping.
import type { Tensor } from "../tensor/tensor.js";

/** sqrt(sum of squared entries) over a list of gradients (nulls count as zero): optim's global norm. */
export { globalGradNorm as globalNorm } from "../optim/clip.js";

/** Turns gradient recording for a set of parameters on or off (freezing critics for a phase). */
export function setRequiresGrad(params: Tensor[], flag: boolean): void {
  for (const p of params) p.requiresGrad_(flag);
}

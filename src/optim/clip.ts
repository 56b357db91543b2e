// torch.nn.utils.clip_grad_norm_: rescales the gradients of a set of parameters in place so that
// their global norm (the norm of all gradients concatenated) is at most maxNorm.
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * Clips the global gradient norm of `params` to `maxNorm`, in place, and returns the total norm
 * before clipping (PyTorch's return value). As in PyTorch, every gradient is multiplied by
 * min(1, maxNorm / (total + 1e-6)); parameters without a gradient are skipped. `normType` is 2
 * (Euclidean, default) or Infinity (the largest absolute entry).
 */
/** A tensor's scalar value; the tensor is freed (these helpers may run outside any tidy scope). */
function scalar(t: Tensor): number {
  const v = t.item();
  t.dispose();
  return v;
}

/**
 * The global L2 norm of a list of gradients: sqrt of the sum of their squared norms, summed in
 * float64 on the JS side (one scalar per tensor, no concatenation copy). Nulls count as zero.
 */
export function globalGradNorm(grads: Iterable<Tensor | null>): number {
  let sq = 0;
  for (const g of grads) if (g) sq += noGrad(() => scalar(g.norm())) ** 2;
  return Math.sqrt(sq);
}

export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm_: maxNorm must be >= 0, got ${maxNorm}`);
  if (!(normType === 2 || normType === Number.POSITIVE_INFINITY))
    throw new Error(`clipGradNorm_: normType must be 2 or Infinity, got ${normType}`);
  const grads: Tensor[] = [];
  for (const p of params) {
    const g = p.grad;
    if (g) grads.push(g);
  }
  if (grads.length === 0) return 0;
  try {
    return noGrad(() => {
      let total = 0;
      if (normType === 2) {
        total = globalGradNorm(grads);
      } else {
        for (const g of grads) {
          const a = g.abs();
          total = Math.max(total, scalar(a.max()));
          a.dispose();
        }
      }
      const coef = maxNorm / (total + 1e-6);
      if (coef < 1) for (const g of grads) g.mul_(coef);
      return total;
    });
  } finally {
    // The wrappers only; the gradients stay on their parameters.
    for (const g of grads) g.dispose();
  }
}

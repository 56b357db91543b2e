// torch.nn.utils.clip_grad_norm_: rescales the gradients of a set of parameters in place so that
// their global norm (the norm of all gradients concatenated) is at most maxNorm.
import { noGrad } from "../tensor/autograd.js";
import { stack } from "../tensor/functions.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * The global L2 norm of a list of gradients: the L2 norm of their per-tensor norms (PyTorch's
 * clip_grad_norm_), reduced on the gradients' device and combined in float64, so the host waits
 * for the device once per call, not once per tensor. Nulls count as zero.
 */
export function globalGradNorm(grads: Iterable<Tensor | null>): number {
  const present = [...grads].filter((g): g is Tensor => g !== null);
  if (present.length === 0) return 0;
  return noGrad(() =>
    tidy(() =>
      stack(present.map((g) => g.norm()))
        .to("float64")
        .norm()
        .item(),
    ),
  );
}

/** The largest absolute entry over all gradients, in one host sync. */
function globalMaxAbs(grads: Tensor[]): number {
  return noGrad(() =>
    tidy(() =>
      stack(grads.map((g) => g.abs().max()))
        .max()
        .item(),
    ),
  );
}

/**
 * Clips the global gradient norm of `params` to `maxNorm`, in place, and returns the total norm
 * before clipping (PyTorch's return value). As in PyTorch, every gradient is multiplied by
 * min(1, maxNorm / (total + 1e-6)); parameters without a gradient are skipped. `normType` is 2
 * (Euclidean, default) or Infinity (the largest absolute entry).
 */
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
      const total = normType === 2 ? globalGradNorm(grads) : globalMaxAbs(grads);
      const coef = maxNorm / (total + 1e-6);
      if (coef < 1) for (const g of grads) g.mul_(coef);
      return total;
    });
  } finally {
    // The wrappers only; the gradients stay on their parameters.
    for (const g of grads) g.dispose();
  }
}

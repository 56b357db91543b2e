// Autograd beyond Tensor.backward: torch.autograd.grad, no-grad scopes and gradient reversal.
import { native } from "./native.js";
import { Tensor } from "./tensor.js";

export interface GradOptions {
  /** Gradients flowing into each output (default: ones, for scalar outputs). */
  gradOutputs?: Tensor[];
  /** Keep the graph for another backward pass (default: createGraph). */
  retainGraph?: boolean;
  /** Build a graph of the gradient itself, for higher-order derivatives. */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on, instead of raising. */
  allowUnused?: boolean;
}

/** PyTorch's torch.autograd.grad: d(sum of outputs)/d(input) for each input, without touching .grad. */
export function grad(
  outputs: Tensor | Tensor[],
  inputs: Tensor | Tensor[],
  opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const res = native.grad(
    outs.map((t) => t._h),
    ins.map((t) => t._h),
    opts.gradOutputs?.map((t) => t._h),
    opts.retainGraph,
    opts.createGraph ?? false,
    opts.allowUnused ?? false,
  ) as (Tensor["_h"] | null)[];
  return res.map((g) => (g === null ? null : new Tensor(g)));
}

/** Runs fn with gradient recording off (PyTorch's `with torch.no_grad()`), restoring the mode after. */
export function noGrad<T>(fn: () => T): T {
  const prev = native.set_grad_enabled(false) as boolean;
  try {
    return fn();
  } finally {
    native.set_grad_enabled(prev);
  }
}

/** Runs fn with gradient recording on (inside a noGrad region). */
export function enableGrad<T>(fn: () => T): T {
  const prev = native.set_grad_enabled(true) as boolean;
  try {
    return fn();
  } finally {
    native.set_grad_enabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native.is_grad_enabled() as boolean;
}

/** Identity forward; multiplies the gradient by -lambda backward (gradient reversal layer). */
export function gradReverse(x: Tensor, lambda = 1): Tensor {
  return new Tensor(native.grad_reverse(x._h, lambda));
}

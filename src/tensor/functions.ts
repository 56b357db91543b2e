// Free functions of PyTorch's torch.* namespace that take several tensors.
import { native } from "./native.js";
import { type Operand, Tensor } from "./tensor.js";

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(
    native.cat(
      tensors.map((t) => t._h),
      dim,
    ),
  );
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(
    native.stack(
      tensors.map((t) => t._h),
      dim,
    ),
  );
}
/** Elements of a where cond is true, else of b. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const ha = typeof a === "number" ? a : a._h;
  const hb = typeof b === "number" ? b : b._h;
  return new Tensor(native.where(cond._h, ha, hb));
}
export function maximum(a: Tensor, b: Tensor): Tensor {
  return a.maximum(b);
}
export function minimum(a: Tensor, b: Tensor): Tensor {
  return a.minimum(b);
}
export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.matmul(b);
}
export function outer(a: Tensor, b: Tensor): Tensor {
  return new Tensor(native.outer(a._h, b._h));
}
/** Pairwise p-norm distances between the rows of a [.., P, M] and b [.., R, M]. */
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor {
  return new Tensor(native.cdist(a._h, b._h, p));
}
/** number ** tensor. */
export function powScalar(base: number, exponent: Tensor): Tensor {
  return new Tensor(native.pow_scalar_base(base, exponent._h));
}

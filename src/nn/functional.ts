// Stateless neural-network functions (PyTorch's torch.nn.functional), in camelCase.
import { native } from "../tensor/native.js";
import { Tensor } from "../tensor/tensor.js";

type Tuple = number | number[];
export type Reduction = "mean" | "sum" | "none";

/** Expands an int or a list to `n` entries, naming the op and argument when the length is wrong. */
export function ntuple(v: Tuple, n: number, op: string, arg: string): number[] {
  if (typeof v === "number") return new Array(n).fill(v);
  if (v.length !== n) throw new Error(`${op}: ${arg} needs ${n} values, got [${v.join(", ")}]`);
  return v;
}

export interface ConvOptions {
  stride?: Tuple;
  padding?: Tuple;
  dilation?: Tuple;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return new Tensor(
    native.conv2d(
      x._h,
      weight._h,
      bias?._h,
      ntuple(o.stride ?? 1, 2, "conv2d", "stride"),
      ntuple(o.padding ?? 0, 2, "conv2d", "padding"),
      ntuple(o.dilation ?? 1, 2, "conv2d", "dilation"),
      o.groups ?? 1,
    ),
  );
}
export function conv3d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return new Tensor(
    native.conv3d(
      x._h,
      weight._h,
      bias?._h,
      ntuple(o.stride ?? 1, 3, "conv3d", "stride"),
      ntuple(o.padding ?? 0, 3, "conv3d", "padding"),
      ntuple(o.dilation ?? 1, 3, "conv3d", "dilation"),
      o.groups ?? 1,
    ),
  );
}
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return new Tensor(native.linear(x._h, weight._h, bias?._h));
}

export interface PoolOptions {
  stride?: Tuple;
  padding?: Tuple;
  dilation?: Tuple;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}
function pool(kind: "max" | "avg", dims: 2 | 3, x: Tensor, kernel: Tuple, o: PoolOptions): Tensor {
  const op = `${kind}_pool${dims}d`;
  const k = ntuple(kernel, dims, op, "kernel_size");
  const s = o.stride === undefined ? k : ntuple(o.stride, dims, op, "stride");
  const p = ntuple(o.padding ?? 0, dims, op, "padding");
  if (kind === "max") {
    return new Tensor(
      native[op](x._h, k, s, p, ntuple(o.dilation ?? 1, dims, op, "dilation"), o.ceilMode ?? false),
    );
  }
  return new Tensor(native[op](x._h, k, s, p, o.ceilMode ?? false, o.countIncludePad ?? true));
}
export const maxPool2d = (x: Tensor, kernel: Tuple, o: PoolOptions = {}) => pool("max", 2, x, kernel, o);
export const maxPool3d = (x: Tensor, kernel: Tuple, o: PoolOptions = {}) => pool("max", 3, x, kernel, o);
export const avgPool2d = (x: Tensor, kernel: Tuple, o: PoolOptions = {}) => pool("avg", 2, x, kernel, o);
export const avgPool3d = (x: Tensor, kernel: Tuple, o: PoolOptions = {}) => pool("avg", 3, x, kernel, o);
export function adaptiveAvgPool2d(x: Tensor, outputSize: Tuple): Tensor {
  return new Tensor(
    native.adaptive_avg_pool2d(x._h, ntuple(outputSize, 2, "adaptive_avg_pool2d", "output_size")),
  );
}
export function adaptiveAvgPool3d(x: Tensor, outputSize: Tuple): Tensor {
  return new Tensor(
    native.adaptive_avg_pool3d(x._h, ntuple(outputSize, 3, "adaptive_avg_pool3d", "output_size")),
  );
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/** Batch norm; in training mode the running statistics (if given) are updated in place. */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  o: BatchNormOptions = {},
): Tensor {
  return new Tensor(
    native.batch_norm(
      x._h,
      o.weight?._h,
      o.bias?._h,
      runningMean?._h,
      runningVar?._h,
      o.training ?? false,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}
export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight?: Tensor,
  bias?: Tensor,
  eps = 1e-5,
): Tensor {
  return new Tensor(native.layer_norm(x._h, normalizedShape, weight?._h, bias?._h, eps));
}
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  return new Tensor(native.dropout(x._h, p, training));
}

export const relu = (x: Tensor) => x.relu();
export const sigmoid = (x: Tensor) => x.sigmoid();
export const tanh = (x: Tensor) => x.tanh();
export const leakyRelu = (x: Tensor, negativeSlope = 0.01) =>
  new Tensor(native.leaky_relu(x._h, negativeSlope));
export const elu = (x: Tensor, alpha = 1) => new Tensor(native.elu(x._h, alpha));
export const gelu = (x: Tensor) => new Tensor(native.gelu(x._h));
export const softplus = (x: Tensor, beta = 1, threshold = 20) =>
  new Tensor(native.softplus(x._h, beta, threshold));
export const logsigmoid = (x: Tensor) => new Tensor(native.logsigmoid(x._h));
export const softmax = (x: Tensor, dim: number) => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number) => x.logSoftmax(dim);

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}
/** Cross-entropy of logits [N, C] against int64 class indices [N] (class weights, ignore index). */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    native.cross_entropy(
      logits._h,
      target._h,
      o.weight?._h,
      o.reduction,
      o.ignoreIndex ?? -100,
      o.labelSmoothing ?? 0,
    ),
  );
}
export function nllLoss(logProbs: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    native.nll_loss(logProbs._h, target._h, o.weight?._h, o.reduction, o.ignoreIndex ?? -100),
  );
}
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor; posWeight?: Tensor; reduction?: Reduction } = {},
): Tensor {
  return new Tensor(
    native.binary_cross_entropy_with_logits(logits._h, target._h, o.weight?._h, o.posWeight?._h, o.reduction),
  );
}
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return new Tensor(native.mse_loss(input._h, target._h, reduction));
}
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return new Tensor(native.l1_loss(input._h, target._h, reduction));
}

/** Resizes [N, C, H, W] (bilinear, nearest) or [N, C, D, H, W] (trilinear, nearest) to `size`. */
export function interpolate(
  x: Tensor,
  size: number[],
  mode: "bilinear" | "trilinear" | "nearest" = "bilinear",
  alignCorners = false,
): Tensor {
  return new Tensor(native.interpolate(x._h, size, mode, alignCorners));
}
/** Constant padding; `pad` lists (before, after) pairs from the last dimension backwards, as PyTorch. */
export function pad(x: Tensor, padding: number[], value = 0): Tensor {
  return new Tensor(native.pad(x._h, padding, value));
}
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  return new Tensor(native.one_hot(indices._h, numClasses));
}

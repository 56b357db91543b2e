// Making tensors: from JS data, filled, ranges, and seeded random numbers (PyTorch's torch.* factories).
import { native } from "./native.js";
import { place } from "./placement.js";
import { type AnyTypedArray, type Device, type DType, Tensor } from "./tensor.js";

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

type Nested = number | boolean | Nested[];

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
  }
  return shape;
}

function flattenNested(data: Nested, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) throw new Error("tensor: ragged nested array (inner arrays of unequal depth)");
    out.push(typeof data === "boolean" ? (data ? 1 : 0) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new Error(`tensor: ragged nested array: expected length ${shape[depth]} at depth ${depth}`);
  }
  for (const d of data) flattenNested(d, shape, depth + 1, out);
}

function typedFor(dtype: DType, values: ArrayLike<number>): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return Float32Array.from(values);
    case "float64":
      return Float64Array.from(values);
    case "int64":
      return BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
    case "int32":
      return Int32Array.from(values);
    case "bool":
      // libtorch's bool storage must hold 0 or 1: any other byte reads back as itself (2, 255...).
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    default:
      return Uint8Array.from(values);
  }
}

function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Int32Array) return "int32";
  return "uint8";
}

/**
 * A tensor from JS data (copied). Nested arrays give the shape; a TypedArray needs `shape` (default:
 * 1-d). Numbers default to float32, booleans to bool; pass dtype to choose.
 */
export function tensor(
  data: Nested | AnyTypedArray,
  opts: TensorOptions & { shape?: number[] } = {},
): Tensor {
  let array: AnyTypedArray;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    const src = data as AnyTypedArray;
    dtype = opts.dtype ?? dtypeOfArray(src);
    shape = opts.shape ?? [src.length];
    const natural = dtypeOfArray(src);
    if (dtype === "bool" && natural === "uint8") array = typedFor("bool", src as Uint8Array);
    else if (dtype === natural) array = src;
    else
      array = typedFor(
        dtype,
        src instanceof BigInt64Array ? Array.from(src, Number) : (src as ArrayLike<number>),
      );
  } else {
    shape = inferShape(data);
    const flat: number[] = [];
    flattenNested(data, shape, 0, flat);
    let first: Nested = data;
    while (Array.isArray(first)) first = first[0] as Nested;
    dtype = opts.dtype ?? (typeof first === "boolean" ? "bool" : "float32");
    if (opts.shape) shape = opts.shape;
    array = typedFor(dtype, flat);
  }
  return finish(new Tensor(native.from_buffer(array, shape, dtype, place("tensor", opts.device))), opts);
}

/** A float tensor with the same shape as `like`... or any shape; see PyTorch's torch.zeros. */
export function zeros(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.zeros(shape, opts.dtype, place("zeros", opts.device))), opts);
}
export function ones(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.ones(shape, opts.dtype, place("ones", opts.device))), opts);
}
export function empty(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.empty(shape, opts.dtype, place("empty", opts.device))), opts);
}
export function full(shape: number[], value: number, opts: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.full(shape, value, opts.dtype, place("full", opts.device))), opts);
}
export function zerosLike(t: Tensor): Tensor {
  return new Tensor(native.zeros_like(t._h));
}
export function onesLike(t: Tensor): Tensor {
  return new Tensor(native.ones_like(t._h));
}
export function fullLike(t: Tensor, value: number): Tensor {
  return new Tensor(native.full_like(t._h, value));
}
export function randnLike(t: Tensor): Tensor {
  return new Tensor(native.randn_like(t._h));
}
export function randLike(t: Tensor): Tensor {
  return new Tensor(native.rand_like(t._h));
}
/** Values start, start+step, ... below end (int64 unless a dtype is given). */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  return finish(
    new Tensor(native.arange(start, end, step, opts.dtype ?? "int64", place("arange", opts.device))),
    opts,
  );
}
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  return finish(
    new Tensor(native.linspace(start, end, steps, opts.dtype, place("linspace", opts.device))),
    opts,
  );
}
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.eye(n, m, opts.dtype, place("eye", opts.device))), opts);
}
/** Standard normal samples from the global generator (see manualSeed). */
export function randn(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.randn(shape, opts.dtype, place("randn", opts.device))), opts);
}
/** Uniform samples in [0, 1). */
export function rand(shape: number[], opts: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.rand(shape, opts.dtype, place("rand", opts.device))), opts);
}
/** Integers uniform in [low, high). */
export function randint(low: number, high: number, shape: number[], opts: TensorOptions = {}): Tensor {
  return new Tensor(native.randint(low, high, shape, opts.dtype ?? "int64", place("randint", opts.device)));
}
export function randperm(n: number, opts: TensorOptions = {}): Tensor {
  return new Tensor(native.randperm(n, opts.dtype ?? "int64", place("randperm", opts.device)));
}
/** Bernoulli draws: with p, a tensor of probabilities (or a number, used with `like`'s shape). */
export function bernoulli(probs: Tensor, p?: number): Tensor {
  return new Tensor(p === undefined ? native.bernoulli(probs._h) : native.bernoulli_p(probs._h, p));
}
export function multinomial(probs: Tensor, numSamples: number, replacement = false): Tensor {
  return new Tensor(native.multinomial(probs._h, numSamples, replacement));
}
/** Seeds libtorch's global generator (CPU and, where present, CUDA). */
export function manualSeed(seed: number): void {
  native.manual_seed(seed);
}

// Tensor: a typed handle on a libtorch tensor. Method names follow PyTorch's, in camelCase
// (log_softmax -> logSoftmax, requires_grad -> requiresGrad), so paper code maps line by line.
// Ops never mutate their inputs unless their name ends in "_" (PyTorch's in-place convention).
import { type NativeTensor, native } from "./native.js";
import { notePlaced, place, simulatedDeviceOf } from "./placement.js";
import { type Scoped, track, untrack } from "./scope.js";

export type DType = "float32" | "float64" | "int64" | "int32" | "bool" | "uint8";
export type Device = "cpu" | "cuda" | `cuda:${number}`;
const DTYPES: readonly string[] = ["float32", "float64", "int64", "int32", "bool", "uint8"];
export type TypedArrayOf<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int64"
      ? BigInt64Array
      : D extends "int32"
        ? Int32Array
        : Uint8Array;
export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
/** The second operand of arithmetic: another tensor (broadcast) or a number. */
export type Operand = Tensor | number;

function h(x: Operand): NativeTensor | number {
  return typeof x === "number" ? x : x._h;
}

export class Tensor implements Scoped {
  /** @internal the addon's handle */
  _h: NativeTensor;
  /** @internal owning scope (see scope.ts) */
  _scope: Set<Scoped> | null = null;
  private _shape: number[] | null = null;

  /** @internal use the factory functions (tensor, zeros, ...) instead. */
  constructor(handle: NativeTensor) {
    this._h = handle;
    track(this);
    notePlaced(this);
  }

  // ---- metadata --------------------------------------------------------------------------------
  /** The size of each dimension (PyTorch's .shape). */
  get shape(): number[] {
    if (this._shape === null) this._shape = this._h.shape();
    return this._shape.slice();
  }
  size(dim?: number): number | number[] {
    const s = this.shape;
    if (dim === undefined) return s;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new Error(`size: dim ${dim} out of range for shape [${s.join(", ")}]`);
    return s[d];
  }
  get ndim(): number {
    return this.shape.length;
  }
  get dtype(): DType {
    return this._h.dtype() as DType;
  }
  get device(): Device {
    return simulatedDeviceOf(this) ?? (this._h.device() as Device);
  }
  numel(): number {
    return this._h.numel();
  }
  get isDisposed(): boolean {
    return this._h.isFreed();
  }

  // ---- memory ----------------------------------------------------------------------------------
  /** Frees this handle now (other handles on the same storage stay valid). */
  dispose(): void {
    untrack(this);
    this._shape = null; // so a later .shape raises "freed" like every other use
    this._h.free();
  }
  /** Exempts this tensor from every scope: it lives until dispose() or the GC. */
  keep(): this {
    untrack(this);
    return this;
  }

  // ---- autograd ----------------------------------------------------------------------------------
  get requiresGrad(): boolean {
    return this._h.requiresGrad();
  }
  set requiresGrad(flag: boolean) {
    this._h.setRequiresGrad(flag);
  }
  requiresGrad_(flag = true): this {
    this._h.setRequiresGrad(flag);
    return this;
  }
  /** The accumulated gradient, as a new handle (dispose it freely), or null. */
  get grad(): Tensor | null {
    const g = this._h.grad();
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    this._h.setGrad(g === null ? null : g._h);
  }
  get isLeaf(): boolean {
    return this._h.isLeaf();
  }
  retainGrad(): this {
    this._h.retainGrad();
    return this;
  }
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(this._h, gradient?._h, opts.retainGraph ?? false, opts.createGraph ?? false);
  }
  detach(): Tensor {
    return new Tensor(native.detach(this._h));
  }

  // ---- data out --------------------------------------------------------------------------------
  /** The single value of a one-element tensor. */
  item(): number {
    const v = this._h.item();
    return typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  /** A copy of the data as a TypedArray of the tensor's dtype (bool and uint8 as Uint8Array). */
  dataSync(): AnyTypedArray {
    const buf = this._h.toBuffer();
    switch (this.dtype) {
      case "float32":
        return new Float32Array(buf);
      case "float64":
        return new Float64Array(buf);
      case "int64":
        return new BigInt64Array(buf);
      case "int32":
        return new Int32Array(buf);
      default:
        return new Uint8Array(buf);
    }
  }
  /** The data as plain numbers, flattened in row-major order. */
  toArray(): number[] {
    const d = this.dataSync();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }
  /** The raw bytes, row-major (used by checkpoints). */
  toBytes(): Uint8Array {
    return new Uint8Array(this._h.toBuffer());
  }
  toString(): string {
    if (this.isDisposed) return "Tensor(<freed>)";
    const n = this.numel();
    const values = n <= 12 ? this.toArray().map((v) => +v.toPrecision(5)) : "…";
    return `Tensor(shape=[${this.shape.join(", ")}], dtype=${this.dtype}, device=${this.device}, values=${JSON.stringify(values)})`;
  }

  // ---- conversion ------------------------------------------------------------------------------
  /**
   * A copy with another dtype and/or on another device (PyTorch's Tensor.to). nonBlocking lets a
   * copy from pinned host memory to a CUDA device (or back) overlap with the host; elsewhere it is
   * an ordinary copy.
   */
  to(target: DType | Device | { dtype?: DType; device?: Device; nonBlocking?: boolean }): Tensor {
    const o: { dtype?: DType; device?: Device; nonBlocking?: boolean } =
      typeof target === "object"
        ? target
        : DTYPES.includes(target)
          ? { dtype: target as DType }
          : { device: target as Device };
    const device = o.device === undefined ? undefined : place("to", o.device);
    return new Tensor(native.to(this._h, o.dtype, device, o.nonBlocking === true));
  }
  /** A copy in page-locked host memory, from which copies to a CUDA device need not block. */
  pinMemory(): Tensor {
    return new Tensor(native.pin_memory(this._h));
  }
  isPinned(): boolean {
    return native.is_pinned(this._h) as boolean;
  }
  float(): Tensor {
    return this.to("float32");
  }
  double(): Tensor {
    return this.to("float64");
  }
  long(): Tensor {
    return this.to("int64");
  }
  bool(): Tensor {
    return this.to("bool");
  }
  cpu(): Tensor {
    return this.to("cpu");
  }
  cuda(): Tensor {
    return this.to("cuda");
  }
  clone(): Tensor {
    return new Tensor(native.clone(this._h));
  }
  contiguous(): Tensor {
    return new Tensor(native.contiguous(this._h));
  }

  // ---- arithmetic (broadcasting) -----------------------------------------------------------------
  add(other: Operand, alpha = 1): Tensor {
    if (alpha !== 1) other = typeof other === "number" ? other * alpha : other.mul(alpha);
    return new Tensor(native.add(this._h, h(other)));
  }
  sub(other: Operand): Tensor {
    return new Tensor(native.sub(this._h, h(other)));
  }
  /** other - this (PyTorch's rsub), for number - tensor. */
  rsub(other: number): Tensor {
    return new Tensor(native.rsub_scalar(this._h, other));
  }
  mul(other: Operand): Tensor {
    return new Tensor(native.mul(this._h, h(other)));
  }
  div(other: Operand): Tensor {
    return new Tensor(native.div(this._h, h(other)));
  }
  pow(exponent: Operand): Tensor {
    return new Tensor(native.pow(this._h, h(exponent)));
  }
  remainder(other: Operand): Tensor {
    return new Tensor(native.remainder(this._h, h(other)));
  }
  maximum(other: Tensor): Tensor {
    return new Tensor(native.maximum(this._h, other._h));
  }
  minimum(other: Tensor): Tensor {
    return new Tensor(native.minimum(this._h, other._h));
  }
  clamp(min?: number, max?: number): Tensor {
    return new Tensor(native.clamp(this._h, min, max));
  }
  lerp(end: Tensor, weight: number): Tensor {
    return new Tensor(native.lerp(this._h, end._h, weight));
  }
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this._h, other._h));
  }
  mm(other: Tensor): Tensor {
    return new Tensor(native.mm(this._h, other._h));
  }
  bmm(other: Tensor): Tensor {
    return new Tensor(native.bmm(this._h, other._h));
  }

  // ---- comparison and logic ----------------------------------------------------------------------
  eq(other: Operand): Tensor {
    return new Tensor(native.eq(this._h, h(other)));
  }
  ne(other: Operand): Tensor {
    return new Tensor(native.ne(this._h, h(other)));
  }
  lt(other: Operand): Tensor {
    return new Tensor(native.lt(this._h, h(other)));
  }
  le(other: Operand): Tensor {
    return new Tensor(native.le(this._h, h(other)));
  }
  gt(other: Operand): Tensor {
    return new Tensor(native.gt(this._h, h(other)));
  }
  ge(other: Operand): Tensor {
    return new Tensor(native.ge(this._h, h(other)));
  }
  logicalAnd(other: Tensor): Tensor {
    return new Tensor(native.logical_and(this._h, other._h));
  }
  logicalOr(other: Tensor): Tensor {
    return new Tensor(native.logical_or(this._h, other._h));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logical_not(this._h));
  }
  isnan(): Tensor {
    return new Tensor(native.isnan(this._h));
  }
  isfinite(): Tensor {
    return new Tensor(native.isfinite(this._h));
  }
  allclose(other: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
    return native.allclose(this._h, other._h, rtol, atol);
  }

  // ---- unary functions ---------------------------------------------------------------------------
  neg(): Tensor {
    return new Tensor(native.neg(this._h));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this._h));
  }
  log(): Tensor {
    return new Tensor(native.log(this._h));
  }
  log1p(): Tensor {
    return new Tensor(native.log1p(this._h));
  }
  expm1(): Tensor {
    return new Tensor(native.expm1(this._h));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this._h));
  }
  rsqrt(): Tensor {
    return new Tensor(native.rsqrt(this._h));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this._h));
  }
  sign(): Tensor {
    return new Tensor(native.sign(this._h));
  }
  square(): Tensor {
    return new Tensor(native.square(this._h));
  }
  reciprocal(): Tensor {
    return new Tensor(native.reciprocal(this._h));
  }
  floor(): Tensor {
    return new Tensor(native.floor(this._h));
  }
  ceil(): Tensor {
    return new Tensor(native.ceil(this._h));
  }
  round(): Tensor {
    return new Tensor(native.round(this._h));
  }
  sin(): Tensor {
    return new Tensor(native.sin(this._h));
  }
  cos(): Tensor {
    return new Tensor(native.cos(this._h));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this._h));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this._h));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this._h));
  }
  softmax(dim: number): Tensor {
    return new Tensor(native.softmax(this._h, dim));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(native.log_softmax(this._h, dim));
  }

  // ---- reductions --------------------------------------------------------------------------------
  sum(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.sum(this._h, dim, keepdim));
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.mean(this._h, dim, keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.prod(this._h, dim, keepdim));
  }
  /** max over everything (no dim) or the values along dim (see maxDim for the indices too). */
  max(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.amax(this._h, dim, keepdim));
  }
  min(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.amin(this._h, dim, keepdim));
  }
  /** PyTorch's max(dim) returning [values, indices]. */
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.max_dim(this._h, dim, keepdim);
    return [new Tensor(v), new Tensor(i)];
  }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.min_dim(this._h, dim, keepdim);
    return [new Tensor(v), new Tensor(i)];
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this._h, dim, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this._h, dim, keepdim));
  }
  /** p-norm over everything or over dims. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.norm(this._h, p, dim, keepdim));
  }
  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return new Tensor(native.var(this._h, dim, unbiased, keepdim));
  }
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return new Tensor(native.std(this._h, dim, unbiased, keepdim));
  }
  logsumexp(dim?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.logsumexp(this._h, dim, keepdim));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this._h, dim));
  }
  all(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.all(this._h, dim, keepdim));
  }
  any(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.any(this._h, dim, keepdim));
  }
  sort(dim = -1, descending = false): [Tensor, Tensor] {
    const [v, i] = native.sort(this._h, dim, descending);
    return [new Tensor(v), new Tensor(i)];
  }
  argsort(dim = -1, descending = false): Tensor {
    return new Tensor(native.argsort(this._h, dim, descending));
  }
  topk(k: number, dim = -1, largest = true): [Tensor, Tensor] {
    const [v, i] = native.topk(this._h, k, dim, largest);
    return [new Tensor(v), new Tensor(i)];
  }

  // ---- shape -------------------------------------------------------------------------------------
  reshape(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.reshape(this._h, flatShape(shape)));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.view(this._h, flatShape(shape)));
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return new Tensor(native.permute(this._h, flatShape(dims)));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return new Tensor(native.transpose(this._h, dim0, dim1));
  }
  /** The transpose of a 2-d tensor. */
  t(): Tensor {
    if (this.ndim !== 2) throw new Error(`t: expected a 2-d tensor, got shape [${this.shape.join(", ")}]`);
    return this.transpose(0, 1);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return new Tensor(native.flatten(this._h, startDim, endDim));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this._h, dim));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this._h, dim));
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return new Tensor(native.expand(this._h, flatShape(shape)));
  }
  expandAs(other: Tensor): Tensor {
    return new Tensor(native.expand_as(this._h, other._h));
  }
  repeat(...times: number[] | [number[]]): Tensor {
    return new Tensor(native.repeat(this._h, flatShape(times)));
  }
  repeatInterleave(repeats: number | Tensor, dim?: number): Tensor {
    return new Tensor(native.repeat_interleave(this._h, h(repeats), dim));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this._h, dim, start, length));
  }
  /** Python's t[start:end:step] along dim; negative and omitted bounds as in Python. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return new Tensor(native.slice(this._h, dim, start, end, step));
  }
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this._h, dim, index));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.index_select(this._h, dim, index._h));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this._h, dim, index._h));
  }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.scatter(this._h, dim, index._h, src._h));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.scatter_add(this._h, dim, index._h, src._h));
  }
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(native.masked_select(this._h, mask._h));
  }
  maskedFill(mask: Tensor, value: Operand): Tensor {
    return new Tensor(native.masked_fill(this._h, mask._h, h(value)));
  }
  nonzero(): Tensor {
    return new Tensor(native.nonzero(this._h));
  }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return (native.split(this._h, sizeOrSizes, dim) as NativeTensor[]).map((x) => new Tensor(x));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return (native.chunk(this._h, chunks, dim) as NativeTensor[]).map((x) => new Tensor(x));
  }
  unbind(dim = 0): Tensor[] {
    return (native.unbind(this._h, dim) as NativeTensor[]).map((x) => new Tensor(x));
  }
  diag(diagonal = 0): Tensor {
    return new Tensor(native.diag(this._h, diagonal));
  }
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor {
    return new Tensor(native.diagonal(this._h, offset, dim1, dim2));
  }
  tril(diagonal = 0): Tensor {
    return new Tensor(native.tril(this._h, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return new Tensor(native.triu(this._h, diagonal));
  }
  flip(dims: number[]): Tensor {
    return new Tensor(native.flip(this._h, dims));
  }
  roll(shifts: number[], dims: number[]): Tensor {
    return new Tensor(native.roll(this._h, shifts, dims));
  }

  // ---- in-place (optimisers, initialisers, running statistics) ----------------------------------
  add_(other: Operand, alpha = 1): this {
    native.add_(this._h, h(other), alpha);
    return this;
  }
  mul_(other: Operand): this {
    native.mul_(this._h, h(other));
    return this;
  }
  div_(other: Operand): this {
    native.div_(this._h, h(other));
    return this;
  }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    native.addcmul_(this._h, t1._h, t2._h, value);
    return this;
  }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    native.addcdiv_(this._h, t1._h, t2._h, value);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    native.lerp_(this._h, end._h, weight);
    return this;
  }
  copy_(src: Tensor): this {
    native.copy_(this._h, src._h);
    return this;
  }
  /** relu in place (PyTorch's relu_): for a non-leaf whose backward does not need it, e.g. a BatchNorm output. */
  relu_(): this {
    native.relu_(this._h);
    return this;
  }
  zero_(): this {
    native.zero_(this._h);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this._h, value);
    return this;
  }
  uniform_(low = 0, high = 1): this {
    native.uniform_(this._h, low, high);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native.normal_(this._h, mean, std);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    native.clamp_(this._h, min, max);
    return this;
  }
  sqrt_(): this {
    native.sqrt_(this._h);
    return this;
  }
}

function flatShape(args: number[] | [number[]]): number[] {
  return Array.isArray(args[0]) ? (args[0] as number[]) : (args as number[]);
}

/** Wraps a native handle (for modules of this folder). */
export function wrap(handle: NativeTensor): Tensor {
  return new Tensor(handle);
}

// Exporters for every layer of src/nn/layers.ts and for Sequential, reproducing eval-mode forward.
import type * as F from "../nn/functional.js";
import * as nn from "../nn/index.js";
import type { Module } from "../nn/module.js";
import { float, type GraphBuilder, int, ints, normDim, registerExporter } from "./graph.js";
import type { Dim } from "./onnx-proto.js";

function tuple(v: number | number[] | undefined, n: number, fallback: number): number[] {
  if (v === undefined) return new Array(n).fill(fallback);
  if (typeof v === "number") return new Array(n).fill(v);
  if (v.length !== n) throw new Error(`expected ${n} values, got [${v.join(", ")}]`);
  return [...v];
}

/** Checks the input is [N, C, ...spatial] with `spatial` dims and `channels` channels (when given). */
function spatialInput(b: GraphBuilder, m: Module, x: string, spatial: number, channels?: number): Dim[] {
  const s = b.shapeOf(x);
  if (s.length !== spatial + 2) b.fail(m, `expects a ${spatial + 2}-d input, got [${s.join(", ")}]`);
  if (channels !== undefined && s[1] !== channels)
    b.fail(m, `expects ${channels} channels, got [${s.join(", ")}]`);
  for (const d of s.slice(2))
    if (typeof d !== "number") b.fail(m, `needs static spatial sizes, got [${s.join(", ")}]`);
  return s;
}

/** PyTorch's output size of a convolution or pooling window along one dimension. */
export function windowOutputSize(
  m: Module,
  b: GraphBuilder,
  size: number,
  k: number,
  s: number,
  p: number,
  d: number,
  ceil: boolean,
): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  if (span < 0)
    b.fail(m, `window of ${d * (k - 1) + 1} (after padding ${p}) is larger than the input size ${size}`);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: with ceil_mode, the last window must start inside the input or its left padding.
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

function exportConv(dims: 2 | 3) {
  return (b: GraphBuilder, m: nn.Conv2d | nn.Conv3d, x: string): string => {
    const inShape = spatialInput(b, m, x, dims, m.inChannels);
    const o = m.options;
    const k = m.weight.shape.slice(2);
    const stride = tuple(o.stride, dims, 1);
    const pad = tuple(o.padding, dims, 0);
    const dil = tuple(o.dilation, dims, 1);
    const groups = o.groups ?? 1;
    const out: Dim[] = [inShape[0], m.outChannels];
    for (let i = 0; i < dims; i++)
      out.push(windowOutputSize(m, b, inShape[i + 2] as number, k[i], stride[i], pad[i], dil[i], false));
    const inputs = [x, b.addTensor("weight", m.weight)];
    if (m.bias) inputs.push(b.addTensor("bias", m.bias));
    return b.op("Conv", inputs, out, {
      kernel_shape: ints(k),
      strides: ints(stride),
      pads: ints([...pad, ...pad]),
      dilations: ints(dil),
      group: int(groups),
    });
  };
}
registerExporter(nn.Conv2d, exportConv(2));
registerExporter(nn.Conv3d, exportConv(3));

registerExporter(nn.Linear, (b, m, x) => {
  const s = b.shapeOf(x);
  if (s.length < 1 || s[s.length - 1] !== m.inFeatures)
    b.fail(m, `expects ${m.inFeatures} input features, got [${s.join(", ")}]`);
  const out: Dim[] = [...s.slice(0, -1), m.outFeatures];
  if (s.length === 2) {
    // y = x W^T + b in one Gemm.
    const inputs = [x, b.addTensor("weight", m.weight)];
    if (m.bias) inputs.push(b.addTensor("bias", m.bias));
    return b.op("Gemm", inputs, out, { transB: int(1) });
  }
  const wt = m.weight.t();
  try {
    const y = b.op("MatMul", [x, b.addTensor("weight_t", wt)], out);
    return m.bias ? b.op("Add", [y, b.addTensor("bias", m.bias)], out) : y;
  } finally {
    wt.dispose();
  }
});

function exportBatchNorm(
  b: GraphBuilder,
  m: nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d,
  x: string,
): string {
  const s = b.shapeOf(x);
  if (!m.expectedDims.includes(s.length) || s[1] !== m.numFeatures) {
    b.fail(
      m,
      `expects a ${m.expectedDims.join(" or ")}-d input with ${m.numFeatures} channels, got [${s.join(", ")}]`,
    );
  }
  const c = m.numFeatures;
  const scale = m.weight
    ? b.addTensor("weight", m.weight)
    : b.addFloats("weight", [c], new Float32Array(c).fill(1));
  const bias = m.bias ? b.addTensor("bias", m.bias) : b.addFloats("bias", [c], new Float32Array(c));
  const mean = b.addTensor("running_mean", m.runningMean);
  const variance = b.addTensor("running_var", m.runningVar);
  const eps = m.options.eps ?? 1e-5;
  if (s.length !== 2)
    return b.op("BatchNormalization", [x, scale, bias, mean, variance], s, { epsilon: float(eps) });
  // [N, C]: normalise as [N, C, 1] so every runtime accepts the rank.
  const x3 = b.op("Reshape", [x, b.addInt64s("shape_in", [0, c, 1])], [s[0], c, 1]);
  const y3 = b.op("BatchNormalization", [x3, scale, bias, mean, variance], [s[0], c, 1], {
    epsilon: float(eps),
  });
  return b.op("Reshape", [y3, b.addInt64s("shape_out", [0, c])], s);
}
registerExporter(nn.BatchNorm1d, exportBatchNorm);
registerExporter(nn.BatchNorm2d, exportBatchNorm);
registerExporter(nn.BatchNorm3d, exportBatchNorm);

function exportPool(kind: "max" | "avg", dims: 2 | 3) {
  return (
    b: GraphBuilder,
    m: Module & { kernelSize: number | number[]; options: F.PoolOptions },
    x: string,
  ): string => {
    const inShape = spatialInput(b, m, x, dims);
    const o = m.options;
    const k = tuple(m.kernelSize, dims, 1);
    const stride = o.stride === undefined ? k : tuple(o.stride, dims, 1);
    const pad = tuple(o.padding, dims, 0);
    // Average pooling has no dilation in mimmx (nor PyTorch); only max pooling reads it.
    const dil = kind === "max" ? tuple(o.dilation, dims, 1) : new Array(dims).fill(1);
    const ceil = o.ceilMode ?? false;
    const out: Dim[] = [inShape[0], inShape[1]];
    for (let i = 0; i < dims; i++)
      out.push(windowOutputSize(m, b, inShape[i + 2] as number, k[i], stride[i], pad[i], dil[i], ceil));
    // PyTorch's ceil_mode drops a last window that would start in the right padding; onnxruntime's
    // does not always (AveragePool). So ceil_mode is never emitted: the output size computed above is
    // reached with extra end padding, which pooling ignores (max) or does not count (avg, see below).
    const extra = out.slice(2).map((n, i) => {
      const needed = ((n as number) - 1) * stride[i] + dil[i] * (k[i] - 1) + 1;
      return Math.max(0, needed - ((inShape[i + 2] as number) + 2 * pad[i]));
    });
    const base = { kernel_shape: ints(k), strides: ints(stride), ceil_mode: int(0) };
    if (kind === "max") {
      return b.op("MaxPool", [x], out, {
        ...base,
        pads: ints([...pad, ...pad.map((p, i) => p + extra[i])]),
        dilations: ints(dil),
      });
    }
    const includePad = o.countIncludePad ?? true;
    if (!includePad || extra.every((e) => e === 0)) {
      return b.op("AveragePool", [x], out, {
        ...base,
        pads: ints([...pad, ...pad.map((p, i) => p + extra[i])]),
        count_include_pad: int(includePad ? 1 : 0),
      });
    }
    // count_include_pad with windows hanging past the padding: PyTorch divides by the cells of the
    // window inside input + padding, onnxruntime by the whole kernel. Pool without counting padding
    // (both agree: the mean of the real cells), then rescale each output position by
    // realCells / PyTorch's divisor, a constant. (Zero-padding with a Pad node instead would be
    // folded into the pool by onnxruntime's optimiser, losing the padding cells.)
    const outSizes = out.slice(2) as number[];
    const perDim = outSizes.map((n, i) => {
      const size = inShape[i + 2] as number;
      return Array.from({ length: n }, (_, j) => {
        const start = j * stride[i] - pad[i];
        const real = Math.min(start + k[i], size) - Math.max(start, 0);
        const divisor = Math.min(start + k[i], size + pad[i]) - start;
        return real / divisor;
      });
    });
    const factor = new Float32Array(outSizes.reduce((a, c) => a * c, 1));
    factor.forEach((_, flat) => {
      let f = 1;
      let rem = flat;
      for (let i = dims - 1; i >= 0; i--) {
        f *= perDim[i][rem % outSizes[i]];
        rem = Math.floor(rem / outSizes[i]);
      }
      factor[flat] = f;
    });
    const mean = b.op("AveragePool", [x], out, {
      ...base,
      pads: ints([...pad, ...pad.map((p, i) => p + extra[i])]),
      count_include_pad: int(0),
    });
    return b.op("Mul", [mean, b.addFloats("pad_scale", outSizes, factor)], out);
  };
}
registerExporter(nn.MaxPool2d, exportPool("max", 2));
registerExporter(nn.MaxPool3d, exportPool("max", 3));
registerExporter(nn.AvgPool2d, exportPool("avg", 2));
registerExporter(nn.AvgPool3d, exportPool("avg", 3));

function exportAdaptiveAvg(dims: 2 | 3) {
  return (b: GraphBuilder, m: nn.AdaptiveAvgPool2d | nn.AdaptiveAvgPool3d, x: string): string => {
    const s = spatialInput(b, m, x, dims);
    const size = tuple(m.outputSize, dims, 1);
    if (size.some((v) => v !== 1)) {
      b.fail(m, `only output size 1 (global average pooling) can be exported, got [${size.join(", ")}]`);
    }
    return globalAveragePool(b, x, s);
  };
}
registerExporter(nn.AdaptiveAvgPool2d, exportAdaptiveAvg(2));
registerExporter(nn.AdaptiveAvgPool3d, exportAdaptiveAvg(3));

/** GlobalAveragePool: [N, C, ...] -> [N, C, 1, ...]. */
export function globalAveragePool(b: GraphBuilder, x: string, s: Dim[] = b.shapeOf(x)): string {
  return b.op("GlobalAveragePool", [x], [s[0], s[1], ...s.slice(2).map(() => 1)]);
}

registerExporter(nn.Flatten, (b, m, x) => {
  const s = b.shapeOf(x);
  if (s.length === 0) return b.op("Reshape", [x, b.addInt64s("shape", [1])], [1]);
  const start = normDim(m.startDim, s.length);
  const end = normDim(m.endDim, s.length);
  if (start > end)
    b.fail(m, `start_dim ${m.startDim} comes after end_dim ${m.endDim} for a ${s.length}-d input`);
  if (start === end) return x;
  const merged = s.slice(start, end + 1);
  const static_ = merged.every((d) => typeof d === "number");
  // A merged batch dimension stays symbolic ("N*12").
  const prod: Dim = static_ ? (merged as number[]).reduce((a, c) => a * c, 1) : merged.join("*");
  const out: Dim[] = [...s.slice(0, start), prod, ...s.slice(end + 1)];
  if (start === 1 && end === s.length - 1) return b.op("Flatten", [x], out, { axis: int(1) });
  // Reshape: 0 copies a leading dimension, -1 takes the (possibly batch-dependent) merged size.
  const rest = s.slice(end + 1);
  if (rest.some((d) => typeof d !== "number"))
    b.fail(m, `cannot flatten [${s.join(", ")}] with a symbolic dimension after end_dim`);
  const target = [...s.slice(0, start).map(() => 0), static_ ? (prod as number) : -1, ...(rest as number[])];
  return b.op("Reshape", [x, b.addInt64s("shape", target)], out);
});

const unary = (opType: string) => (b: GraphBuilder, _m: Module, x: string) => b.op(opType, [x], b.shapeOf(x));
registerExporter(nn.ReLU, unary("Relu"));
registerExporter(nn.Sigmoid, unary("Sigmoid"));
registerExporter(nn.Tanh, unary("Tanh"));
registerExporter(nn.LeakyReLU, (b, m, x) =>
  b.op("LeakyRelu", [x], b.shapeOf(x), { alpha: float(m.negativeSlope) }),
);
registerExporter(nn.ELU, (b, m, x) => b.op("Elu", [x], b.shapeOf(x), { alpha: float(m.alpha) }));
// Identity in eval mode: no node at all.
registerExporter(nn.Dropout, (_b, _m, x) => x);
registerExporter(nn.Identity, (_b, _m, x) => x);

registerExporter(nn.Sequential, (b, m, x) => {
  let h = x;
  m.layers.forEach((layer, i) => {
    h = b.emit(layer, h, String(i));
  });
  return h;
});

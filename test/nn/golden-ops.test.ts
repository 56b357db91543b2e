// Forward values and input gradients of mimmx's ops against PyTorch 1.13 (test/fixtures/golden/ops.json,
// written by scripts/make-golden.py). Each case rebuilds the exact inputs, runs the op, back-propagates
// the recorded upstream gradient and compares output, gradients and (batch norm) running statistics.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nn from "../../src/nn/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertTensorClose } from "../helpers/assert.js";
import { fromJson, type JsonTensor, loadGolden } from "../helpers/golden.js";

const F = nn.F;

interface GoldenCase {
  name: string;
  op: string;
  // biome-ignore lint/suspicious/noExplicitAny: kwargs are whatever the Python case recorded
  kwargs: Record<string, any>;
  inputs: Record<string, JsonTensor>;
  out: JsonTensor;
  upstream?: JsonTensor;
  grads?: Record<string, JsonTensor>;
  extra?: Record<string, JsonTensor>;
}

type Inputs = Record<string, Tensor>;
// biome-ignore lint/suspicious/noExplicitAny: see GoldenCase.kwargs
type OpFn = (i: Inputs, kw: Record<string, any>) => Tensor;

const conv = (kw: Record<string, unknown>) => ({
  stride: kw.stride as number | number[] | undefined,
  padding: kw.padding as number | number[] | undefined,
  dilation: kw.dilation as number | number[] | undefined,
  groups: kw.groups as number | undefined,
});
const poolOpts = (kw: Record<string, unknown>) => ({
  stride: (kw.stride ?? undefined) as number | undefined,
  padding: kw.padding as number | undefined,
  dilation: kw.dilation as number | undefined,
  ceilMode: kw.ceil_mode as boolean | undefined,
  countIncludePad: kw.count_include_pad as boolean | undefined,
});

const OPS: Record<string, OpFn> = {
  conv2d: (i, kw) => F.conv2d(i.x, i.w, i.b ?? null, conv(kw)),
  conv3d: (i, kw) => F.conv3d(i.x, i.w, i.b ?? null, conv(kw)),
  linear: (i) => F.linear(i.x, i.w, i.b ?? null),
  // running stats are the caller's tensors (updated in place in training mode): see runCase
  batch_norm: (i, kw) =>
    F.batchNorm(i.x, i.running_mean, i.running_var, {
      weight: i.weight ?? null,
      bias: i.bias ?? null,
      training: kw.training,
      momentum: kw.momentum,
      eps: kw.eps,
    }),
  max_pool2d: (i, kw) => F.maxPool2d(i.x, kw.kernel, poolOpts(kw)),
  max_pool3d: (i, kw) => F.maxPool3d(i.x, kw.kernel, poolOpts(kw)),
  avg_pool2d: (i, kw) => F.avgPool2d(i.x, kw.kernel, poolOpts(kw)),
  avg_pool3d: (i, kw) => F.avgPool3d(i.x, kw.kernel, poolOpts(kw)),
  adaptive_avg_pool2d: (i, kw) => F.adaptiveAvgPool2d(i.x, kw.output_size),
  adaptive_avg_pool3d: (i, kw) => F.adaptiveAvgPool3d(i.x, kw.output_size),
  softmax: (i, kw) => F.softmax(i.x, kw.dim),
  log_softmax: (i, kw) => F.logSoftmax(i.x, kw.dim),
  logsumexp: (i, kw) => i.x.logsumexp(kw.dim),
  leaky_relu: (i, kw) => F.leakyRelu(i.x, kw.slope),
  elu: (i, kw) => F.elu(i.x, kw.alpha),
  gelu: (i) => F.gelu(i.x),
  softplus: (i, kw) => F.softplus(i.x, kw.beta, kw.threshold),
  logsigmoid: (i) => F.logsigmoid(i.x),
  sigmoid_tanh_relu: (i) => F.sigmoid(i.x).mul(F.tanh(i.x)).add(F.relu(i.x)),
  layer_norm: (i) => F.layerNorm(i.x, [4], i.w, i.b),
  cross_entropy: (i, kw) =>
    F.crossEntropy(i.logits, i.target, {
      weight: i.weight ?? null,
      reduction: kw.reduction,
      ignoreIndex: kw.ignore_index,
      labelSmoothing: kw.label_smoothing,
    }),
  nll_loss: (i, kw) =>
    F.nllLoss(i.logp, i.target, {
      weight: i.weight ?? null,
      reduction: kw.reduction,
      ignoreIndex: kw.ignore_index,
    }),
  bce_with_logits: (i, kw) =>
    F.binaryCrossEntropyWithLogits(i.x, i.y, {
      weight: i.weight,
      posWeight: i.pos_weight,
      reduction: kw.reduction,
    }),
  mse_loss: (i, kw) => F.mseLoss(i.x, i.y, kw.reduction),
  l1_loss: (i, kw) => F.l1Loss(i.x, i.y, kw.reduction),
  interpolate: (i, kw) => F.interpolate(i.x, kw.size, kw.mode, kw.align_corners ?? false),
  var: (i, kw) => i.x.var(kw.dim, kw.unbiased, kw.keepdim ?? false),
  std: (i, kw) => i.x.std(kw.dim, kw.unbiased, kw.keepdim ?? false),
  norm: (i, kw) => i.x.norm(kw.p, kw.dim, kw.keepdim ?? false),
  matmul: (i) => i.a.matmul(i.b),
  bmm: (i) => i.a.bmm(i.b),
  gather: (i, kw) => i.x.gather(kw.dim, i.index),
  index_select: (i, kw) => i.x.indexSelect(kw.dim, i.index),
  masked_fill: (i, kw) => i.x.maskedFill(i.mask, kw.value),
  cumsum: (i, kw) => i.x.cumsum(kw.dim),
  repeat_interleave: (i, kw) => i.x.repeatInterleave(i.repeats ?? kw.repeats, kw.dim),
  scatter_add: (i, kw) => i.x.scatterAdd(kw.dim, i.index, i.src),
  where: (i) => torch.where(i.cond, i.a, i.b),
  arith: (i) => i.a.mul(i.b).sub(i.c).div(i.b).add(i.a.pow(2).mul(i.c)),
  prod: (i, kw) => i.x.prod(kw.dim),
  max_dim: (i, kw) => i.x.maxDim(kw.dim)[0],
  pad: (i, kw) => F.pad(i.x, kw.pad, kw.value),
};

const golden = loadGolden<{ torch: string; cases: GoldenCase[] }>("ops.json");

function runCase(c: GoldenCase): void {
  torch.tidy(() => {
    const gradNames = Object.keys(c.grads ?? {});
    const inputs: Inputs = {};
    for (const [k, j] of Object.entries(c.inputs))
      inputs[k] = fromJson(j, { requiresGrad: gradNames.includes(k) });
    const out = OPS[c.op](inputs, c.kwargs);
    const tol = c.out.dtype === "float64" ? { rtol: 1e-10, atol: 1e-12 } : { rtol: 2e-5, atol: 2e-5 };
    assert.equal(out.dtype, c.out.dtype, `${c.name}: output dtype`);
    assertTensorClose(out, c.out, `${c.name}: forward`, tol);
    if (c.grads && c.upstream) {
      const names = Object.keys(c.grads);
      const grads = torch.grad(
        out.mul(fromJson(c.upstream)).sum(),
        names.map((n) => inputs[n]),
      );
      names.forEach((n, k) => {
        const g = grads[k];
        assert.ok(g, `${c.name}: no gradient for ${n}`);
        assertTensorClose(g, c.grads![n], `${c.name}: d/d${n}`, tol);
      });
    }
    for (const [k, v] of Object.entries(c.extra ?? {})) {
      assertTensorClose(inputs[k], v, `${c.name}: ${k} after the call`, tol);
    }
  });
}

describe(`golden ops against PyTorch ${golden.torch}`, () => {
  it("has a mimmx implementation for every recorded op", () => {
    const missing = [...new Set(golden.cases.map((c) => c.op))].filter((op) => !(op in OPS));
    assert.deepEqual(missing, []);
    assert.ok(golden.cases.length >= 80, `only ${golden.cases.length} golden cases`);
  });
  for (const c of golden.cases) {
    it(c.name, () => runCase(c));
  }
  it("the comparison is sharp: a perturbed conv2d weight fails it", () => {
    const c = golden.cases.find((x) => x.op === "conv2d")!;
    const bad: GoldenCase = structuredClone(c);
    (bad.inputs.w.data as number[])[0] += 1e-3;
    assert.throws(() => runCase(bad), /forward: element/);
  });
});

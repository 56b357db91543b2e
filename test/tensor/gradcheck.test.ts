// Every differentiable op of Tensor, the torch.* free functions and nn.F, checked against central finite
// differences in float64 (test/helpers/gradcheck.ts). Inputs are tiny, kept away from kinks and ties.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nn from "../../src/nn/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertAllClose } from "../helpers/assert.js";
import { awayFromZero, gradcheck, uniform } from "../helpers/gradcheck.js";

const F = nn.F;
const u = uniform;
const pos = (shape: number[], seed: number) => uniform(shape, seed, 0.5, 2);
const long = (data: number[], shape?: number[]) => torch.tensor(data, { dtype: "int64", shape });
const bool = (data: boolean[], shape: number[]) => torch.tensor(data, { shape });
/** distinct values (no ties for max/sort/pool): a shuffled ramp */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = u([n], seed).argsort().toArray();
  return torch.tensor(
    Float64Array.from(perm, (p) => (p - n / 2) * 0.13),
    { shape, dtype: "float64" },
  );
}

type Case = [
  string,
  (...xs: Tensor[]) => Tensor,
  () => Tensor[],
  { wrt?: number[]; atol?: number; eps?: number }?,
];

const arithmetic: Case[] = [
  ["add broadcast [2,3]+[3]", (a, b) => a.add(b), () => [u([2, 3], 1), u([3], 2)]],
  ["add alpha", (a, b) => a.add(b, -2.5), () => [u([2, 3], 1), u([2, 1], 2)]],
  ["add scalar", (a) => a.add(3), () => [u([4], 1)]],
  ["sub broadcast [2,1]-[1,3]", (a, b) => a.sub(b), () => [u([2, 1], 3), u([1, 3], 4)]],
  ["rsub", (a) => a.rsub(2), () => [u([3], 5)]],
  ["mul broadcast", (a, b) => a.mul(b), () => [u([2, 3], 6), u([3], 7)]],
  ["div broadcast", (a, b) => a.div(b), () => [u([2, 3], 8), pos([2, 1], 9)]],
  ["div scalar", (a) => a.div(0.7), () => [u([3], 8)]],
  ["pow tensor exponent", (a, b) => a.pow(b), () => [pos([2, 3], 10), u([3], 11)]],
  ["pow scalar exponent", (a) => a.pow(3), () => [u([2, 3], 12)]],
  ["powScalar", (e) => torch.powScalar(2.5, e), () => [u([4], 13)]],
  ["remainder (grad 1 w.r.t. self)", (a) => a.remainder(1.5), () => [uniform([4], 14, 0.1, 1.4)]],
  ["maximum", (a, b) => a.maximum(b), () => [distinct([2, 3], 15), distinct([2, 3], 16).add(0.05)]],
  ["minimum", (a, b) => torch.minimum(a, b), () => [distinct([2, 3], 17), distinct([2, 3], 18).add(0.05)]],
  ["clamp both", (a) => a.clamp(-0.45, 0.55), () => [awayFromZero([6], 19)]],
  ["clamp min only", (a) => a.clamp(0.05), () => [awayFromZero([6], 20)]],
  ["lerp", (a, b) => a.lerp(b, 0.3), () => [u([3], 21), u([3], 22)]],
  [
    "where tensor/tensor",
    (a, b) => torch.where(bool([true, false, true], [3]), a, b),
    () => [u([3], 23), u([1], 24)],
  ],
  ["where tensor/number", (a) => torch.where(bool([true, false], [2]), a, 2), () => [u([2], 25)]],
];

const unary: Case[] = [
  ["neg", (a) => a.neg(), () => [u([3], 30)]],
  ["exp", (a) => a.exp(), () => [u([3], 31)]],
  ["log", (a) => a.log(), () => [pos([3], 32)]],
  ["log1p", (a) => a.log1p(), () => [pos([3], 33)]],
  ["expm1", (a) => a.expm1(), () => [u([3], 34)]],
  ["sqrt", (a) => a.sqrt(), () => [pos([3], 35)]],
  ["rsqrt", (a) => a.rsqrt(), () => [pos([3], 36)]],
  ["abs", (a) => a.abs(), () => [awayFromZero([4], 37)]],
  ["sign (zero gradient)", (a) => a.sign().mul(a), () => [awayFromZero([4], 38)]],
  ["square", (a) => a.square(), () => [u([3], 39)]],
  ["reciprocal", (a) => a.reciprocal(), () => [pos([3], 40)]],
  [
    "floor/ceil/round (zero gradient) + identity",
    (a) => a.floor().add(a.ceil()).add(a.round()).add(a),
    () => [u([3], 41).mul(3)],
  ],
  ["sin", (a) => a.sin(), () => [u([3], 42)]],
  ["cos", (a) => a.cos(), () => [u([3], 43)]],
  ["relu", (a) => a.relu(), () => [awayFromZero([5], 44)]],
  // In place on a non-leaf (nn.ReLU(true) after a BatchNorm): the same gradient through the overwrite.
  ["relu_ on a non-leaf", (a) => a.mul(1.5).relu_(), () => [awayFromZero([5], 45)]],
  ["sigmoid", (a) => a.sigmoid(), () => [u([3], 45)]],
  ["tanh", (a) => a.tanh(), () => [u([3], 46)]],
  ["softmax dim 0", (a) => a.softmax(0), () => [u([3, 2], 47)]],
  ["logSoftmax dim -1", (a) => a.logSoftmax(-1), () => [u([2, 3], 48)]],
  ["F.leakyRelu", (a) => F.leakyRelu(a, 0.2), () => [awayFromZero([5], 49)]],
  ["F.elu", (a) => F.elu(a, 1.3), () => [awayFromZero([5], 50)]],
  ["F.gelu", (a) => F.gelu(a), () => [u([5], 51).mul(2)]],
  ["F.softplus", (a) => F.softplus(a, 2, 1.5), () => [uniform([5], 52, -1, 0.7)]],
  ["F.logsigmoid", (a) => F.logsigmoid(a), () => [u([5], 53).mul(3)]],
  [
    "F.sigmoid/F.tanh/F.relu",
    (a) => F.sigmoid(a).add(F.tanh(a)).add(F.relu(a)),
    () => [awayFromZero([4], 54)],
  ],
];

const reductions: Case[] = [
  ["sum all", (a) => a.sum(), () => [u([2, 3], 60)]],
  ["sum dims keepdim", (a) => a.sum([0, 2], true), () => [u([2, 3, 2], 61)]],
  ["mean dim", (a) => a.mean(1), () => [u([2, 3], 62)]],
  ["mean all", (a) => a.mean(), () => [u([2, 3], 62)]],
  ["prod dim", (a) => a.prod(1), () => [u([2, 3], 63)]],
  ["prod all", (a) => a.prod(), () => [u([4], 64)]],
  ["max all", (a) => a.max(), () => [distinct([2, 3], 65)]],
  ["max dim keepdim", (a) => a.max(1, true), () => [distinct([2, 3], 66)]],
  ["min dim", (a) => a.min(0), () => [distinct([2, 3], 67)]],
  ["maxDim values", (a) => a.maxDim(1)[0], () => [distinct([3, 3], 68)]],
  ["minDim values", (a) => a.minDim(0)[0], () => [distinct([3, 3], 69)]],
  ["norm 2 all", (a) => a.norm(), () => [u([2, 3], 70)]],
  ["norm 1 dim", (a) => a.norm(1, 1), () => [awayFromZero([2, 3], 71)]],
  ["norm 3 dims keepdim", (a) => a.norm(3, [0, 1], true), () => [awayFromZero([2, 3], 72)]],
  ["var unbiased dim", (a) => a.var(1), () => [u([2, 4], 73)]],
  ["var biased all", (a) => a.var(undefined, false), () => [u([2, 4], 74)]],
  ["std dims keepdim", (a) => a.std([0, 1], true, true), () => [u([2, 3, 2], 75)]],
  ["logsumexp dim", (a) => a.logsumexp(1), () => [u([2, 3], 76)]],
  ["logsumexp all", (a) => a.logsumexp(), () => [u([2, 3], 77)]],
  ["cumsum", (a) => a.cumsum(1), () => [u([2, 3], 78)]],
  ["sort values", (a) => a.sort(-1, true)[0], () => [distinct([2, 4], 79)]],
  ["topk values", (a) => a.topk(2, 1)[0], () => [distinct([2, 4], 80)]],
];

const shape: Case[] = [
  ["reshape", (a) => a.reshape(3, 2), () => [u([2, 3], 90)]],
  ["view", (a) => a.view([6]), () => [u([2, 3], 91)]],
  ["permute", (a) => a.permute(2, 0, 1), () => [u([2, 3, 2], 92)]],
  ["transpose", (a) => a.transpose(0, 2), () => [u([2, 3, 2], 93)]],
  ["t", (a) => a.t(), () => [u([2, 3], 94)]],
  ["flatten", (a) => a.flatten(1), () => [u([2, 2, 2], 95)]],
  ["squeeze/unsqueeze", (a) => a.squeeze(1).unsqueeze(0), () => [u([2, 1, 3], 96)]],
  ["squeeze all", (a) => a.squeeze(), () => [u([1, 3, 1], 96)]],
  ["expand", (a) => a.expand(2, 3), () => [u([1, 3], 97)]],
  ["expandAs", (a, b) => a.expandAs(b), () => [u([2, 1], 98), u([2, 3], 99)], { wrt: [0] }],
  ["repeat", (a) => a.repeat(2, 3), () => [u([2, 1], 100)]],
  ["repeatInterleave number", (a) => a.repeatInterleave(2, 0), () => [u([3], 101)]],
  ["repeatInterleave tensor", (a) => a.repeatInterleave(long([2, 0, 1]), 0), () => [u([3, 2], 102)]],
  ["narrow", (a) => a.narrow(1, 1, 2), () => [u([2, 4], 103)]],
  ["slice with step", (a) => a.slice(1, 0, undefined, 2), () => [u([2, 5], 104)]],
  ["slice negative bounds", (a) => a.slice(0, -3, -1), () => [u([5], 105)]],
  ["select", (a) => a.select(1, 2), () => [u([2, 4], 106)]],
  ["indexSelect repeats", (a) => a.indexSelect(0, long([2, 0, 2])), () => [u([3, 2], 107)]],
  ["gather", (a) => a.gather(1, long([0, 2, 1, 1], [2, 2])), () => [u([2, 3], 108)]],
  [
    "scatter (self and src)",
    (a, s) => a.scatter(1, long([2, 0], [2, 1]), s),
    () => [u([2, 3], 109), u([2, 1], 110)],
  ],
  [
    "scatterAdd",
    (a, s) => a.scatterAdd(0, long([1, 0, 1, 1], [2, 2]), s),
    () => [u([2, 2], 111), u([2, 2], 112)],
  ],
  ["maskedSelect", (a) => a.maskedSelect(bool([true, false, false, true], [2, 2])), () => [u([2, 2], 113)]],
  ["maskedFill", (a) => a.maskedFill(bool([true, false, false, true], [2, 2]), 3), () => [u([2, 2], 114)]],
  [
    "split sizes",
    (a) => {
      const [x, y] = a.split([1, 2], 1);
      return x.mul(2).sum(1).add(y.sum(1));
    },
    () => [u([2, 3], 115)],
  ],
  [
    "chunk",
    (a) => {
      const [x, y] = a.chunk(2, 0);
      return x.mul(y);
    },
    () => [u([4, 2], 116)],
  ],
  [
    "unbind",
    (a) => {
      const [x, y, z] = a.unbind(1);
      return x.mul(y).add(z);
    },
    () => [u([2, 3], 117)],
  ],
  ["diag of vector", (a) => a.diag(1), () => [u([3], 118)]],
  ["diagonal", (a) => a.diagonal(0, 0, 1), () => [u([3, 3], 119)]],
  ["tril", (a) => a.tril(), () => [u([3, 3], 120)]],
  ["triu offset", (a) => a.triu(1), () => [u([3, 3], 121)]],
  ["flip", (a) => a.flip([0, 1]), () => [u([2, 3], 122)]],
  ["roll", (a) => a.roll([1], [1]), () => [u([2, 3], 123)]],
  ["contiguous of transpose", (a) => a.t().contiguous(), () => [u([2, 3], 124)]],
  ["clone", (a) => a.clone().mul(a), () => [u([3], 125)]],
  ["cat dim 1", (a, b) => torch.cat([a, b], 1), () => [u([2, 1], 126), u([2, 3], 127)]],
  ["stack dim 1", (a, b) => torch.stack([a, b], 1), () => [u([2, 3], 128), u([2, 3], 129)]],
  ["F.pad", (a) => F.pad(a, [1, 2, 0, 1], 0.5), () => [u([1, 2, 2], 130)]],
  [
    "to float64 -> float32 -> float64",
    (a) => a.float().mul(2).double(),
    () => [u([3], 131)],
    { atol: 1e-3, eps: 1e-3 },
  ],
];

const linalg: Case[] = [
  ["matmul 2-d", (a, b) => a.matmul(b), () => [u([2, 3], 140), u([3, 2], 141)]],
  ["matmul vector-matrix", (a, b) => torch.matmul(a, b), () => [u([3], 142), u([3, 2], 143)]],
  ["matmul batched broadcast", (a, b) => a.matmul(b), () => [u([2, 1, 2, 3], 144), u([3, 3, 2], 145)]],
  ["mm", (a, b) => a.mm(b), () => [u([2, 3], 146), u([3, 2], 147)]],
  ["bmm", (a, b) => a.bmm(b), () => [u([2, 2, 3], 148), u([2, 3, 2], 149)]],
  ["outer", (a, b) => torch.outer(a, b), () => [u([3], 150), u([2], 151)]],
  ["cdist p=2", (a, b) => torch.cdist(a, b), () => [u([3, 2], 152), u([2, 2], 153)]],
  ["F.linear with bias", (x, w, b) => F.linear(x, w, b), () => [u([2, 3], 154), u([4, 3], 155), u([4], 156)]],
  ["F.linear 3-d input no bias", (x, w) => F.linear(x, w), () => [u([2, 2, 3], 157), u([2, 3], 158)]],
];

const conv: Case[] = [
  ["conv2d", (x, w, b) => F.conv2d(x, w, b), () => [u([1, 2, 4, 4], 160), u([2, 2, 2, 2], 161), u([2], 162)]],
  [
    "conv2d stride/padding/dilation",
    (x, w) => F.conv2d(x, w, null, { stride: [2, 1], padding: 1, dilation: [1, 2] }),
    () => [u([1, 1, 4, 5], 163), u([2, 1, 2, 2], 164)],
  ],
  [
    "conv2d groups",
    (x, w) => F.conv2d(x, w, null, { groups: 2 }),
    () => [u([1, 4, 3, 3], 165), u([2, 2, 2, 2], 166)],
  ],
  [
    "conv3d",
    (x, w, b) => F.conv3d(x, w, b, { padding: 1, stride: 2 }),
    () => [u([1, 1, 3, 3, 3], 167), u([2, 1, 2, 2, 2], 168), u([2], 169)],
  ],
];

const pools: Case[] = [
  ["maxPool2d", (x) => F.maxPool2d(x, 2), () => [distinct([1, 2, 4, 4], 170)]],
  [
    "maxPool2d stride/padding",
    (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
    () => [distinct([1, 1, 5, 5], 171)],
  ],
  ["maxPool3d", (x) => F.maxPool3d(x, 2), () => [distinct([1, 1, 2, 4, 4], 172)]],
  ["avgPool2d", (x) => F.avgPool2d(x, 2, { stride: 1 }), () => [u([1, 2, 3, 3], 173)]],
  [
    "avgPool2d exclude pad ceil",
    (x) => F.avgPool2d(x, 2, { padding: 1, countIncludePad: false, ceilMode: true }),
    () => [u([1, 1, 3, 3], 174)],
  ],
  ["avgPool3d", (x) => F.avgPool3d(x, 2), () => [u([1, 1, 2, 4, 4], 175)]],
  ["adaptiveAvgPool2d", (x) => F.adaptiveAvgPool2d(x, [2, 3]), () => [u([1, 1, 3, 5], 176)]],
  ["adaptiveAvgPool3d", (x) => F.adaptiveAvgPool3d(x, 2), () => [u([1, 1, 3, 3, 3], 177)]],
];

const norm: Case[] = [
  [
    "batchNorm training (x, weight, bias)",
    (x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }),
    () => [u([3, 2, 2], 180), u([2], 181), u([2], 182)],
    { atol: 1e-4 },
  ],
  [
    "batchNorm eval with running stats",
    (x, w, b, rm, rv) => F.batchNorm(x, rm, rv, { weight: w, bias: b, training: false }),
    () => [u([3, 2, 2, 2], 183), u([2], 184), u([2], 185), u([2], 186), pos([2], 187)],
    { wrt: [0, 1, 2] },
  ],
  ["layerNorm", (x, w, b) => F.layerNorm(x, [3], w, b), () => [u([2, 3], 188), u([3], 189), u([3], 190)]],
  ["dropout p=0 in training is the identity", (x) => F.dropout(x, 0, true), () => [u([4], 191)]],
  ["dropout in eval is the identity", (x) => F.dropout(x, 0.7, false), () => [u([4], 192)]],
];

const losses: Case[] = [
  ["crossEntropy mean", (x) => F.crossEntropy(x, long([0, 2, 1])), () => [u([3, 4], 200)]],
  [
    "crossEntropy weight + ignoreIndex + labelSmoothing",
    (x, w) => F.crossEntropy(x, long([0, 2, 1, 3]), { weight: w, ignoreIndex: 1, labelSmoothing: 0.1 }),
    () => [u([4, 4], 201), pos([4], 202)],
    { wrt: [0] },
  ],
  ["crossEntropy sum", (x) => F.crossEntropy(x, long([0, 2]), { reduction: "sum" }), () => [u([2, 3], 203)]],
  [
    "crossEntropy none",
    (x) => F.crossEntropy(x, long([0, 2]), { reduction: "none" }),
    () => [u([2, 3], 204)],
  ],
  ["nllLoss", (x) => F.nllLoss(x, long([1, 0, 2]), { reduction: "mean" }), () => [u([3, 3], 205)]],
  [
    "bce with logits, weight and posWeight",
    (x, w, pw) =>
      F.binaryCrossEntropyWithLogits(
        x,
        torch.tensor(
          [
            [1, 0, 1],
            [0, 0, 1],
          ],
          { dtype: "float64" },
        ),
        { weight: w, posWeight: pw },
      ),
    () => [u([2, 3], 206), pos([2, 3], 207), pos([3], 208)],
    { wrt: [0] },
  ],
  ["mseLoss (both sides)", (x, y) => F.mseLoss(x, y), () => [u([2, 3], 209), u([2, 3], 210)]],
  ["mseLoss sum", (x, y) => F.mseLoss(x, y, "sum"), () => [u([2, 3], 211), u([2, 3], 212)]],
  ["l1Loss", (x, y) => F.l1Loss(x, y, "none"), () => [u([2, 3], 213), u([2, 3], 214).add(0.01)]],
];

const resize: Case[] = [
  ["interpolate bilinear", (x) => F.interpolate(x, [4, 5], "bilinear", false), () => [u([1, 1, 2, 3], 220)]],
  [
    "interpolate bilinear align corners",
    (x) => F.interpolate(x, [3, 5], "bilinear", true),
    () => [u([1, 2, 2, 3], 221)],
  ],
  ["interpolate trilinear", (x) => F.interpolate(x, [3, 3, 4], "trilinear"), () => [u([1, 1, 2, 2, 3], 222)]],
  [
    "interpolate trilinear align corners",
    (x) => F.interpolate(x, [3, 2, 3], "trilinear", true),
    () => [u([1, 1, 2, 2, 2], 223)],
  ],
  ["interpolate nearest 2-d", (x) => F.interpolate(x, [4, 5], "nearest"), () => [u([1, 1, 2, 3], 224)]],
  ["interpolate nearest 3-d", (x) => F.interpolate(x, [2, 4, 4], "nearest"), () => [u([1, 1, 1, 2, 2], 225)]],
];

const suites: [string, Case[]][] = [
  ["arithmetic", arithmetic],
  ["unary and activations", unary],
  ["reductions", reductions],
  ["shape and indexing", shape],
  ["linear algebra", linalg],
  ["convolution", conv],
  ["pooling", pools],
  ["normalisation and dropout", norm],
  ["losses", losses],
  ["interpolation", resize],
];

for (const [suite, cases] of suites) {
  describe(`gradcheck: ${suite}`, () => {
    for (const [name, fn, make, opts] of cases) {
      it(name, () => {
        const inputs = make();
        gradcheck(name, fn, inputs, opts);
        for (const t of inputs) t.dispose();
      });
    }
  });
}

describe("gradcheck: autograd extras", () => {
  it("gradReverse is the identity forward and -lambda * upstream backward", () => {
    torch.tidy(() => {
      const x = torch.tensor([0.5, -1, 2], { dtype: "float64", requiresGrad: true });
      const y = torch.gradReverse(x, 0.3);
      assert.deepEqual(y.toArray(), [0.5, -1, 2]);
      const up = torch.tensor([1, 2, -4], { dtype: "float64" });
      const [g] = torch.grad(y.mul(up).sum(), x);
      assertAllClose(g!.toArray(), [-0.3, -0.6, 1.2], "gradReverse gradient", { rtol: 0, atol: 1e-15 });
      // default lambda = 1, composed with another op: d/dx sum(grl(x)^2) = -2x
      const [g2] = torch.grad(torch.gradReverse(x).square().sum(), x);
      assertAllClose(g2!.toArray(), [-1, 2, -4], "gradReverse default lambda", { rtol: 0, atol: 1e-15 });
    });
  });
  it("second-order gradients through createGraph", () => {
    torch.tidy(() => {
      const x = torch.tensor([0.3, -0.7], { dtype: "float64", requiresGrad: true });
      const [g] = torch.grad(x.pow(3).sum(), x, { createGraph: true });
      const [h] = torch.grad(g!.sum(), x);
      assertAllClose(h!.toArray(), [6 * 0.3, 6 * -0.7], "d2/dx2 x^3", { rtol: 1e-12, atol: 0 });
    });
  });
  it("backward accumulates into .grad; noGrad records nothing", () => {
    torch.tidy(() => {
      const x = torch.tensor([1, 2], { dtype: "float64", requiresGrad: true });
      x.mul(3).sum().backward();
      x.square().sum().backward();
      assert.deepEqual(x.grad!.toArray(), [3 + 2, 3 + 4]);
      const y = torch.noGrad(() => x.mul(2));
      assert.equal(y.requiresGrad, false);
      assert.equal(torch.isGradEnabled(), true);
      torch.noGrad(() => assert.equal(torch.enableGrad(() => x.mul(2)).requiresGrad, true));
    });
  });
  it("the checker is sharp: a wrong gradient fails it", () => {
    // gradReverse's gradient is -upstream, so treating it as the identity must fail finite differences.
    assert.throws(
      () => gradcheck("grl", (a) => torch.gradReverse(a), [u([3], 230)]),
      /autograd .* vs finite differences/,
    );
  });
});

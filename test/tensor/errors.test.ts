// Bad input raises a JS Error naming the op and the shapes (or the argument) and the process survives:
// every test below keeps running after the error and uses the engine again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nn from "../../src/nn/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertThrowsWith } from "../helpers/assert.js";

const F = nn.F;
const z = (...shape: number[]) => torch.zeros(shape);

/** After an error the engine still computes correctly. */
function stillWorks(): void {
  const s = torch.tidy(() =>
    torch
      .ones([2, 2])
      .matmul(torch.ones([2, 2]))
      .sum()
      .item(),
  );
  assert.equal(s, 8);
}

describe("errors: wrong shapes", () => {
  it("matmul of incompatible matrices names matmul and both shapes", () => {
    assertThrowsWith(
      () => z(2, 3).matmul(z(4, 5)),
      ["matmul", "[2, 3] float32 cpu", "[4, 5] float32 cpu", "2x3 and 4x5"],
    );
    assertThrowsWith(() => z(2, 2, 3).bmm(z(2, 4, 5)), ["bmm", "[2, 2, 3]", "[2, 4, 5]"]);
    assertThrowsWith(() => z(2, 3).mm(z(2, 3)), ["mm", "[2, 3]"]);
    stillWorks();
  });
  it("conv2d with a 3-d input names conv2d, the expected layout and the shape", () => {
    assertThrowsWith(
      () => F.conv2d(z(3, 8, 8), z(2, 3, 3, 3)),
      ["conv2d", "4-d", "[N, C, H, W]", "[3, 8, 8]"],
    );
    assertThrowsWith(() => F.conv3d(z(1, 3, 8, 8), z(2, 3, 3, 3, 3)), ["conv3d", "5-d", "[1, 3, 8, 8]"]);
    // channel mismatch: libtorch's message plus both shapes
    assertThrowsWith(
      () => F.conv2d(z(1, 2, 5, 5), z(4, 3, 3, 3)),
      ["conv2d", "[1, 2, 5, 5]", "[4, 3, 3, 3]"],
    );
    assertThrowsWith(
      () => F.conv2d(z(1, 3, 5, 5), z(4, 3, 3, 3), null, { stride: [1, 1, 1] }),
      ["conv2d", "stride", "2 values"],
    );
    assertThrowsWith(() => F.maxPool2d(z(4, 4), 2), ["max_pool2d", "[4, 4]"]);
    stillWorks();
  });
  it("linear with the wrong number of features names the layer and the shape", () => {
    const lin = new nn.Linear(3, 2);
    assertThrowsWith(() => lin.forward(z(4, 5)), ["Linear(3, 2)", "5 features", "[4, 5]"]);
    assertThrowsWith(() => F.linear(z(4, 5), z(2, 3)), ["linear", "[4, 5]", "[2, 3]"]);
    stillWorks();
  });
  it("cat / stack of mismatched tensors name the op and every shape", () => {
    assertThrowsWith(
      () => torch.cat([z(2, 3), z(2, 4)]),
      ["cat", "[2, 3] float32 cpu", "[2, 4] float32 cpu"],
    );
    assertThrowsWith(() => torch.stack([z(2), z(3)]), ["stack", "[2]", "[3]"]);
    assertThrowsWith(() => torch.cat([]), ["cat"]);
    stillWorks();
  });
  it("broadcasting failures, bad reshape/view, out-of-range dims", () => {
    assertThrowsWith(() => z(2, 3).add(z(4)), ["add", "[2, 3]", "[4]"]);
    assertThrowsWith(() => z(2, 3).reshape(4, 2), ["reshape", "[2, 3]"]);
    assertThrowsWith(() => z(2, 3).t().view(6), ["view", "contiguous"]);
    assertThrowsWith(() => z(2, 3).sum(5), ["sum", "[2, 3]"]);
    assertThrowsWith(() => z(2, 3).size(2), ["size", "dim 2", "[2, 3]"]);
    assertThrowsWith(() => z(2, 3, 4).t(), ["t:", "[2, 3, 4]"]);
    assertThrowsWith(() => z(2, 3).item(), ["item", "[2, 3]"]);
    assertThrowsWith(() => F.mseLoss(z(2, 3), z(3, 2)), ["mse_loss", "[2, 3]", "[3, 2]"]);
    assertThrowsWith(
      () => F.binaryCrossEntropyWithLogits(z(2, 3), z(2)),
      ["binary_cross_entropy_with_logits", "[2, 3]", "[2]"],
    );
    assertThrowsWith(
      () => F.interpolate(z(1, 1, 2, 2), [3, 3, 3], "trilinear"),
      ["interpolate", "3 entries", "4-d"],
    );
    assertThrowsWith(
      () => F.interpolate(z(1, 1, 2, 2), [3, 3], "bicubic" as "bilinear"),
      ["interpolate", "bicubic"],
    );
    stillWorks();
  });
  it("copy_ with different shapes names copy_ and both shapes", () => {
    assertThrowsWith(() => z(2, 3).copy_(z(3, 2)), ["copy_", "[2, 3] float32 cpu", "[3, 2] float32 cpu"]);
    stillWorks();
  });
  it("batch norm in training with one value per channel", () => {
    assertThrowsWith(() => F.batchNorm(z(1, 3), null, null, { training: true }), ["batch_norm", "[1, 3]"]);
    const bn = new nn.BatchNorm2d(3);
    assertThrowsWith(() => bn.forward(z(2, 4, 2, 2)), ["BatchNorm2d(3)", "[2, 4, 2, 2]"]);
    stillWorks();
  });
});

describe("errors: wrong dtype", () => {
  it("cross_entropy / nll_loss with float targets", () => {
    assertThrowsWith(
      () => F.crossEntropy(z(2, 3), torch.tensor([0, 1])),
      ["cross_entropy", "int64", "[2, 3] float32", "[2] float32"],
    );
    assertThrowsWith(() => F.nllLoss(z(2, 3), torch.tensor([0, 1])), ["nll_loss", "int64"]);
    assertThrowsWith(
      () => F.crossEntropy(z(2, 3), torch.tensor([0, 1, 2], { dtype: "int64" })),
      ["cross_entropy", "[2, 3]", "[3] int64"],
    );
    assertThrowsWith(
      () => F.crossEntropy(z(2, 3), torch.tensor([0, 7], { dtype: "int64" })),
      ["cross_entropy"],
    );
    stillWorks();
  });
  it("unknown dtypes, requiresGrad on integers, matmul of mixed dtypes", () => {
    assertThrowsWith(
      () => torch.zeros([2], { dtype: "float16" as "float32" }),
      ["zeros", "unknown dtype 'float16'"],
    );
    assertThrowsWith(
      () => torch.zeros([2], { dtype: "int64", requiresGrad: true }),
      ["requiresGrad", "float"],
    );
    assertThrowsWith(
      () => z(2, 2).matmul(torch.zeros([2, 2], { dtype: "float64" })),
      ["matmul", "float32", "float64"],
    );
    assertThrowsWith(
      () => torch.tensor(new Float32Array(3), { shape: [2, 2] }),
      ["from_buffer", "4 elements", "3"],
    );
    assertThrowsWith(() => torch.tensor([[1, 2], [3]]), ["ragged"]);
    stillWorks();
  });
});

describe("errors: devices", () => {
  it("cuda without CUDA and unknown devices name the device", () => {
    if (!torch.cudaIsAvailable()) {
      assertThrowsWith(() => z(2).to("cuda"), ["to:", "'cuda'", "no CUDA", "[2] float32 cpu"]);
      assertThrowsWith(() => z(2).cuda(), ["'cuda'"]);
      assertThrowsWith(() => torch.zeros([2], { device: "cuda:0" }), ["zeros", "'cuda:0'"]);
      assertThrowsWith(() => new nn.Linear(2, 2).to("cuda"), ["'cuda'"]);
    }
    assertThrowsWith(() => torch.zeros([2], { device: "tpu" as "cpu" }), ["zeros", "unknown device 'tpu'"]);
    assertThrowsWith(() => z(2).to("tpu" as "cpu"), ["to", "unknown device 'tpu'"]);
    assertThrowsWith(() => torch.tensor([1, 2], { device: "tpu" as "cpu" }), ["from_buffer", "'tpu'"]);
    stillWorks();
  });
});

describe("errors: freed tensors, integers, autograd misuse", () => {
  it("a freed tensor used again names the op and says it was freed", () => {
    const x = torch.ones([2, 3]);
    const y = torch.ones([2, 3]);
    x.dispose();
    assert.equal(x.isDisposed, true);
    assertThrowsWith(() => x.add(1), ["add", "freed"]);
    assertThrowsWith(() => y.add(x), ["add", "freed", "[2, 3] float32 cpu"]);
    assertThrowsWith(() => torch.cat([y, x]), ["cat", "freed"]);
    assertThrowsWith(() => x.toArray(), ["freed"]);
    assertThrowsWith(() => x.dtype, ["dtype", "freed"]);
    assertThrowsWith(() => x.item(), ["item", "freed"]);
    x.dispose(); // a second dispose is harmless
    assert.equal(String(x), "Tensor(<freed>)");
    assert.deepEqual(y.add(1).toArray(), [2, 2, 2, 2, 2, 2]);
    stillWorks();
  });
  it("non-integer dims and sizes name the op and the argument", () => {
    assertThrowsWith(() => z(2, 3).sum(0.5), ["sum", "integer", "[2, 3]"]);
    assertThrowsWith(() => z(2, 3).reshape(2.5, 2), ["reshape", "integer"]);
    assertThrowsWith(() => torch.zeros([2.5]), ["zeros", "integer"]);
    assertThrowsWith(() => z(2, 3).transpose(0, 1.5), ["transpose", "integer"]);
    assertThrowsWith(() => z(2, 3).softmax(Number.NaN), ["softmax", "integer"]);
    assertThrowsWith(() => torch.zeros([-1]), ["zeros"]);
    stillWorks();
  });
  it("backward on a non-scalar or a tensor without grad", () => {
    const x = torch.ones([2, 3], { requiresGrad: true });
    assertThrowsWith(() => x.mul(2).backward(), ["backward", "scalar", "[2, 3] float32 cpu"]);
    assertThrowsWith(() => z(2).sum().backward(), ["backward", "does not require grad"]);
    assertThrowsWith(() => torch.grad(x.mul(2), x), ["grad", "scalar", "[2, 3]"]);
    const y = torch.ones([2], { requiresGrad: true });
    assertThrowsWith(() => torch.grad(x.sum(), y), ["grad"]);
    assert.deepEqual(torch.grad(x.sum(), [x, y], { allowUnused: true })[1], null);
    // with an explicit upstream gradient a non-scalar backward is fine
    const out = x.mul(2);
    out.backward(torch.ones([2, 3]));
    assert.deepEqual(x.grad!.toArray(), [2, 2, 2, 2, 2, 2]);
    stillWorks();
  });
  it("invalid arguments of nn and optim name the function", () => {
    assertThrowsWith(() => new nn.Dropout(1.5), ["Dropout", "1.5"]);
    assertThrowsWith(() => F.dropout(z(2), -0.1), ["dropout", "[0, 1]"]);
    assertThrowsWith(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), ["Conv2d", "groups=2"]);
    assertThrowsWith(
      () => F.crossEntropy(z(2, 3), torch.tensor([0, 1], { dtype: "int64" }), { reduction: "avg" as "mean" }),
      ["cross_entropy", "unknown reduction 'avg'"],
    );
    assertThrowsWith(() => z(2).clamp(), ["clamp", "min"]);
    stillWorks();
  });
});

// nn.Module and layers: PyTorch's default initialisation, PyTorch-style parameter/buffer names,
// train/eval behaviour of BatchNorm and Dropout, state dict round trip and its errors, Module.to.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nn from "../../src/nn/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertAllClose, assertThrowsWith } from "../helpers/assert.js";

function stats(t: Tensor): { min: number; max: number; mean: number; sd: number } {
  const v = t.toArray();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { min: Math.min(...v), max: Math.max(...v), mean, sd };
}

/** U(-bound, bound): inside the bounds, filling them, with the uniform's mean and sd. */
function assertUniform(t: Tensor, bound: number, what: string): void {
  const s = stats(t);
  assert.ok(s.min >= -bound && s.max <= bound, `${what}: range [${s.min}, ${s.max}] exceeds ±${bound}`);
  assert.ok(
    s.min < -0.9 * bound && s.max > 0.9 * bound,
    `${what}: range [${s.min}, ${s.max}] does not fill ±${bound}`,
  );
  const sd = bound / Math.sqrt(3);
  assert.ok(Math.abs(s.sd - sd) < 0.08 * sd, `${what}: sd ${s.sd}, expected ${sd}`);
  assert.ok(Math.abs(s.mean) < 0.1 * bound, `${what}: mean ${s.mean}`);
}

class Net extends nn.Module {
  features = this.registerModule(
    "features",
    new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
    ),
  );
  head = this.registerModule("head", new nn.Linear(16, 3));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x).flatten(1));
  }
}

describe("default initialisation (PyTorch's)", () => {
  it("Linear: weight and bias ~ U(±1/sqrt(fan_in))", () => {
    torch.manualSeed(0);
    const lin = new nn.Linear(100, 300);
    assert.deepEqual(lin.weight.shape, [300, 100]);
    assertUniform(lin.weight, 1 / Math.sqrt(100), "Linear.weight");
    assertUniform(new nn.Linear(100, 3000).bias!, 1 / Math.sqrt(100), "Linear.bias");
    assert.equal(new nn.Linear(4, 2, false).bias, null);
  });
  it("Conv2d/Conv3d: bounds from fan_in = in/groups * kernel volume", () => {
    torch.manualSeed(1);
    const c = new nn.Conv2d(8, 64, 3, { groups: 2 });
    assert.deepEqual(c.weight.shape, [64, 4, 3, 3]);
    assertUniform(c.weight, 1 / Math.sqrt(4 * 9), "Conv2d.weight");
    const c3 = new nn.Conv3d(2, 500, [3, 2, 2]);
    assert.deepEqual(c3.weight.shape, [500, 2, 3, 2, 2]);
    assertUniform(c3.weight, 1 / Math.sqrt(24), "Conv3d.weight");
    assertUniform(c3.bias!, 1 / Math.sqrt(24), "Conv3d.bias");
    assert.equal(new nn.Conv2d(1, 1, 1, { bias: false }).bias, null);
  });
  it("BatchNorm: weight ones, bias zeros, running mean 0, var 1, num_batches_tracked 0 (int64)", () => {
    const bn = new nn.BatchNorm1d(5);
    assert.deepEqual(bn.weight!.toArray(), [1, 1, 1, 1, 1]);
    assert.deepEqual(bn.bias!.toArray(), [0, 0, 0, 0, 0]);
    assert.deepEqual(bn.runningMean.toArray(), [0, 0, 0, 0, 0]);
    assert.deepEqual(bn.runningVar.toArray(), [1, 1, 1, 1, 1]);
    assert.equal(bn.numBatchesTracked.dtype, "int64");
    assert.equal(bn.numBatchesTracked.item(), 0);
    assert.equal(new nn.BatchNorm2d(3, { affine: false }).weight, null);
  });
  it("init helpers: kaimingNormal_ std, xavierUniform_ bound, fans", () => {
    torch.manualSeed(2);
    const w = torch.empty([400, 50]);
    nn.init.kaimingNormal_(w);
    const s = stats(w);
    assert.ok(Math.abs(s.sd - Math.sqrt(2 / 50)) < 0.03 * Math.sqrt(2 / 50), `kaimingNormal sd ${s.sd}`);
    nn.init.xavierUniform_(w);
    assertUniform(w, Math.sqrt(6 / 450), "xavierUniform_");
    assert.deepEqual(nn.init.fans(torch.empty([6, 2, 3, 3])), { fanIn: 18, fanOut: 54 });
    assert.throws(() => nn.init.fans(torch.empty([3])), /fans.*\[3\]/);
  });
});

describe("parameters and names", () => {
  it("Sequential names children 0, 1, ...; buffers use PyTorch's snake_case names", () => {
    const seq = new nn.Sequential(
      new nn.Conv2d(1, 2, 3),
      new nn.BatchNorm2d(2),
      new nn.ReLU(),
      new nn.Flatten(),
      new nn.Linear(8, 2),
    );
    assert.deepEqual(
      [...seq.namedParameters()].map(([k]) => k),
      ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"],
    );
    assert.deepEqual(
      [...seq.namedBuffers()].map(([k]) => k),
      ["1.running_mean", "1.running_var", "1.num_batches_tracked"],
    );
    assert.equal(seq.parameters().length, 6);
    assert.equal(seq.parameterCount(), 2 * 9 + 2 + 2 + 2 + 16 + 2);
    assert.ok(seq.parameters().every((p) => p.requiresGrad && p.isLeaf));
    assert.ok(seq.buffers().every((b) => !b.requiresGrad));
  });
  it("nested modules give dotted names; namedModules lists every module", () => {
    const net = new Net();
    assert.deepEqual([...net.stateDict().keys()].sort(), [
      "features.0.bias",
      "features.0.weight",
      "features.1.bias",
      "features.1.num_batches_tracked",
      "features.1.running_mean",
      "features.1.running_var",
      "features.1.weight",
      "head.bias",
      "head.weight",
    ]);
    assert.deepEqual(
      [...net.namedModules()].map(([k]) => k),
      ["", "features", "features.0", "features.1", "features.2", "features.3", "head"],
    );
    assert.deepEqual(
      [...net.namedChildren()].map(([k]) => k),
      ["features", "head"],
    );
    const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 1)]);
    assert.deepEqual(
      [...list.namedParameters("m")].map(([k]) => k),
      ["m.0.weight", "m.0.bias", "m.1.weight", "m.1.bias"],
    );
    assert.throws(() => list.forward(), /ModuleList has no forward/);
  });
  it("parameters survive tidy scopes; zeroGrad clears gradients", () => {
    const lin = torch.tidy(() => new nn.Linear(3, 2));
    assert.equal(lin.weight.isDisposed, false);
    torch.tidy(() =>
      lin
        .forward(torch.ones([1, 3]))
        .sum()
        .backward(),
    );
    assert.ok(lin.weight.grad !== null);
    lin.zeroGrad();
    assert.equal(lin.weight.grad, null);
  });
});

describe("train / eval", () => {
  it("BatchNorm: training normalises with batch statistics and updates running stats; eval uses them", () => {
    const bn = new nn.BatchNorm1d(2, { momentum: 0.5 });
    const x = torch.tensor([
      [1, 10],
      [3, 20],
      [5, 60],
    ]);
    assert.equal(bn.training, true);
    const y = bn.forward(x);
    // batch mean [3, 30], biased var [8/3, 1400/3]; running var uses the unbiased var [4, 700]
    const yy = y.toArray();
    assertAllClose(
      [yy[0], yy[2], yy[4]],
      [-2, 0, 2].map((v) => v / Math.sqrt(8 / 3 + 1e-5)),
      "train output",
      { rtol: 1e-5 },
    );
    assertAllClose(bn.runningMean.toArray(), [1.5, 15], "running_mean");
    assertAllClose(bn.runningVar.toArray(), [0.5 + 2, 0.5 + 350], "running_var", { rtol: 1e-6 });
    assert.equal(bn.numBatchesTracked.item(), 1);
    bn.eval();
    assert.equal(bn.training, false);
    const e = bn.forward(torch.tensor([[1.5, 15]])).toArray();
    assertAllClose(e, [0, 0], "eval output at the running mean");
    const e2 = bn.forward(torch.tensor([[2.5, 15]])).toArray();
    assertAllClose(e2, [1 / Math.sqrt(2.5 + 1e-5), 0], "eval output");
    assert.equal(bn.numBatchesTracked.item(), 1, "eval does not count batches");
    assertAllClose(bn.runningMean.toArray(), [1.5, 15], "eval leaves running_mean");
    // eval works with a batch of one; training does not
    bn.train();
    assert.throws(() => bn.forward(torch.tensor([[1, 2]])), /batch_norm.*more than 1 value/);
  });
  it("Dropout: zeros ~p of the values and scales the rest by 1/(1-p) in training; identity in eval", () => {
    torch.manualSeed(3);
    const d = new nn.Dropout(0.25);
    const x = torch.ones([4000]);
    const v = d.forward(x).toArray();
    const zeros = v.filter((a) => a === 0).length;
    assert.ok(Math.abs(zeros / 4000 - 0.25) < 0.03, `dropped fraction ${zeros / 4000}`);
    assert.ok(v.every((a) => a === 0 || Math.abs(a - 1 / 0.75) < 1e-6));
    const seq = new nn.Sequential(new nn.Linear(2, 2), d).eval();
    assert.equal(d.training, false, "eval() reaches children");
    assert.deepEqual(d.forward(x).toArray(), x.toArray());
    seq.train();
    assert.equal(d.training, true);
  });
});

describe("state dict", () => {
  it("round trip: a second model loaded from the first computes the same outputs", () => {
    torch.manualSeed(4);
    const a = new Net();
    torch.tidy(() => a.forward(torch.randn([3, 1, 4, 4]))); // moves BN running stats away from defaults
    const b = new Net();
    const res = b.loadStateDict(a.stateDict());
    assert.deepEqual(res, { missing: [], unexpected: [] });
    for (const [k, v] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toArray(), v.toArray(), k);
    a.eval();
    b.eval();
    const x = torch.randn([2, 1, 4, 4]);
    assert.deepEqual(b.forward(x).toArray(), a.forward(x).toArray());
    // loading copies: later changes to a do not reach b
    torch.noGrad(() => a.head.weight.add_(1));
    assert.notDeepEqual(b.head.weight.toArray(), a.head.weight.toArray());
    // b's parameter objects are still the ones its layers use
    assert.equal(b.stateDict().get("head.weight"), b.head.weight);
  });
  it("accepts a plain object and converts dtypes", () => {
    const lin = new nn.Linear(2, 1);
    lin.loadStateDict({
      weight: torch.tensor([[1, 2]], { dtype: "float64" }),
      bias: torch.tensor([0.5], { dtype: "float64" }),
    });
    assert.equal(lin.weight.dtype, "float32");
    assert.deepEqual(lin.forward(torch.tensor([[1, 1]])).toArray(), [3.5]);
  });
  it("errors name the key and both shapes; strict=false reports missing/unexpected", () => {
    const lin = new nn.Linear(3, 2);
    assertThrowsWith(
      () => lin.loadStateDict({ weight: torch.zeros([2, 4]), bias: torch.zeros([2]) }),
      ["loadStateDict", "weight", "[2, 3]", "[2, 4]"],
    );
    assertThrowsWith(
      () => lin.loadStateDict({ weight: torch.zeros([2, 3]) }),
      ["loadStateDict", "missing: bias"],
    );
    assertThrowsWith(
      () =>
        lin.loadStateDict({ weight: torch.zeros([2, 3]), bias: torch.zeros([2]), extra: torch.zeros([1]) }),
      ["unexpected: extra"],
    );
    const r = lin.loadStateDict({ weight: torch.ones([2, 3]), other: torch.zeros([1]) }, false);
    assert.deepEqual(r, { missing: ["bias"], unexpected: ["other"] });
    assert.deepEqual(lin.weight.toArray(), [1, 1, 1, 1, 1, 1]);
  });
});

describe("Module.to", () => {
  it('to("cpu") keeps the parameters and the module usable', () => {
    const net = new Net();
    const before = net.head.weight;
    assert.equal(net.to("cpu"), net);
    assert.equal(net.head.weight, before);
    assert.ok(net.parameters().every((p) => p.device === "cpu" && p.requiresGrad));
    assert.deepEqual(net.forward(torch.zeros([2, 1, 4, 4])).shape, [2, 3]);
  });
  it("to(cuda) on a machine without CUDA raises naming the device", {
    skip: torch.cudaIsAvailable() ? "CUDA present" : false,
  }, () => {
    assert.throws(() => new nn.Linear(2, 2).to("cuda"), /cuda/);
  });
  it("to(cuda) moves parameters and buffers when CUDA is present", {
    skip: torch.cudaIsAvailable() ? false : "no CUDA here",
  }, () => {
    const net = new Net().to("cuda");
    assert.ok([...net.parameters(), ...net.buffers()].every((p) => p.device.startsWith("cuda")));
    assert.equal(net.head.weight.device.startsWith("cuda"), true);
    assert.equal(
      net.features.layers[1] instanceof nn.BatchNorm2d &&
        (net.features.layers[1] as nn.BatchNorm2d).runningMean.device.startsWith("cuda"),
      true,
    );
    const out = net.forward(torch.zeros([2, 1, 4, 4], { device: "cuda" }));
    assert.deepEqual(out.shape, [2, 3]);
  });
});

describe("layers forward", () => {
  it("pooling, activations, flatten and identity layers do what their functional forms do", () => {
    const x = torch.tensor([
      [
        [
          [1, -2, 3, -4],
          [5, -6, 7, -8],
          [0, 1, 0, 1],
          [2, 2, 2, 2],
        ],
      ],
    ]);
    assert.deepEqual(new nn.MaxPool2d(2).forward(x).toArray(), [5, 7, 2, 2]);
    assert.deepEqual(new nn.AvgPool2d(2).forward(x).toArray(), [-0.5, -0.5, 1.25, 1.25]);
    assert.deepEqual(new nn.AdaptiveAvgPool2d(1).forward(x).toArray(), [x.mean().item()]);
    assert.deepEqual(new nn.Flatten().forward(x).shape, [1, 16]);
    assert.equal(new nn.Identity().forward(x), x);
    assert.deepEqual(new nn.ReLU().forward(torch.tensor([-1, 2])).toArray(), [0, 2]);
    // inplace (PyTorch's ReLU(inplace=True)): the input itself is overwritten and returned.
    const negatives = torch.tensor([-1, 2, -3]);
    assert.equal(new nn.ReLU(true).forward(negatives), negatives);
    assert.deepEqual(negatives.toArray(), [0, 2, 0]);
    assertAllClose(new nn.LeakyReLU(0.1).forward(torch.tensor([-1, 2])).toArray(), [-0.1, 2], "LeakyReLU");
    assertAllClose(new nn.ELU().forward(torch.tensor([-1, 2])).toArray(), [Math.exp(-1) - 1, 2], "ELU");
    assertAllClose(new nn.Sigmoid().forward(torch.tensor([0])).toArray(), [0.5], "Sigmoid");
    assertAllClose(new nn.Tanh().forward(torch.tensor([0.5])).toArray(), [Math.tanh(0.5)], "Tanh");
    const x3 = torch.ones([1, 1, 2, 2, 2]);
    assert.deepEqual(new nn.MaxPool3d(2).forward(x3).shape, [1, 1, 1, 1, 1]);
    assert.deepEqual(new nn.AvgPool3d(2).forward(x3).toArray(), [1]);
    assert.deepEqual(new nn.AdaptiveAvgPool3d([1, 2, 1]).forward(x3).shape, [1, 1, 1, 2, 1]);
  });
});

// Optimizers against PyTorch: SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW on fixed
// gradient sequences in float64 (test/fixtures/golden/optim.json), parameter groups, a parameter that
// misses gradients, LR schedulers, and a small CNN trained 3 steps with Adam and with SGD-momentum
// (test/fixtures/golden/cnn.json).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nn from "../../src/nn/index.js";
import { Adam, AdamW, CosineAnnealingLR, type Optimizer, SGD, StepLR } from "../../src/optim/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertAllClose, assertThrowsWith } from "../helpers/assert.js";
import { buildCnn, cnnBatch } from "../helpers/cnn.js";
import { fromJson, type JsonTensor, loadGolden } from "../helpers/golden.js";

interface OptOpts {
  kind: "SGD" | "Adam" | "AdamW";
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
}
interface OptimGolden {
  torch: string;
  init: { w: JsonTensor; b: JsonTensor };
  grads: { w: JsonTensor; b: JsonTensor }[];
  cases: {
    name: string;
    opts: OptOpts;
    groups: Record<string, number>[] | null;
    skip: number[];
    trajectory: { w: number[]; b: number[] }[];
  }[];
  schedulers: { name: string; kind: "StepLR" | "CosineAnnealingLR"; args: number[]; lrs: number[][] }[];
}
const golden = loadGolden<OptimGolden>("optim.json");

function makeOptimizer(
  params: Tensor[] | { params: Tensor[]; [k: string]: unknown }[],
  o: OptOpts,
): Optimizer {
  const p = params as Tensor[];
  if (o.kind === "SGD") {
    return new SGD(p, {
      lr: o.lr,
      momentum: o.momentum,
      dampening: o.dampening,
      nesterov: o.nesterov,
      weightDecay: o.weightDecay,
    });
  }
  const opts = { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay };
  return o.kind === "Adam" ? new Adam(p, opts) : new AdamW(p, opts);
}

describe(`optimizer trajectories against PyTorch ${golden.torch} (float64)`, () => {
  for (const c of golden.cases) {
    it(c.name, () => {
      const w = fromJson(golden.init.w, { requiresGrad: true });
      const b = fromJson(golden.init.b, { requiresGrad: true });
      const params = c.groups ? c.groups.map((g, i) => ({ params: [i === 0 ? w : b], ...g })) : [w, b];
      const opt = makeOptimizer(params, c.opts);
      c.trajectory.forEach((expected, step) => {
        torch.tidy(() => {
          w.grad = fromJson(golden.grads[step].w);
          b.grad = c.skip.includes(step) ? null : fromJson(golden.grads[step].b);
          opt.step();
        });
        const tol = { rtol: 1e-12, atol: 1e-14 };
        assertAllClose(w.toArray(), expected.w, `${c.name}: w after step ${step + 1}`, tol);
        assertAllClose(b.toArray(), expected.b, `${c.name}: b after step ${step + 1}`, tol);
      });
      w.dispose();
      b.dispose();
    });
  }
  it("the comparison is sharp: Adam with another eps leaves the trajectory", () => {
    const c = golden.cases.find((x) => x.name === "adam")!;
    const w = fromJson(golden.init.w, { requiresGrad: true });
    const opt = new Adam([w], { lr: 0.01, eps: 1e-3 });
    w.grad = fromJson(golden.grads[0].w);
    opt.step();
    assert.throws(() => assertAllClose(w.toArray(), c.trajectory[0].w, "w", { rtol: 1e-12, atol: 1e-14 }));
  });
});

describe("optimizer API", () => {
  it("zeroGrad clears gradients; parameters without a gradient are not moved", () => {
    const p = torch.tensor([1, 2], { requiresGrad: true });
    const q = torch.tensor([3], { requiresGrad: true });
    const opt = new SGD([p, q], { lr: 0.5 });
    p.grad = torch.tensor([1, 1]);
    opt.step();
    assert.deepEqual(p.toArray(), [0.5, 1.5]);
    assert.deepEqual(q.toArray(), [3]);
    opt.zeroGrad();
    assert.equal(p.grad, null);
  });
  it("rejects bad configurations naming the optimizer", () => {
    const p = torch.zeros([1], { requiresGrad: true });
    assertThrowsWith(() => new SGD([p], { lr: 0.1, nesterov: true }), ["SGD", "Nesterov"]);
    assertThrowsWith(() => new SGD([p], { lr: -1 }), ["SGD", "lr"]);
    assertThrowsWith(() => new Adam([p], { betas: [1, 0.9] }), ["Adam", "beta1"]);
    assertThrowsWith(() => new Adam([{ params: [] }]), ["Adam", "group 0"]);
    assertThrowsWith(() => new Adam([{ params: [p] }, { params: [p] }]), ["Adam", "more than one group"]);
  });
  it("state dict round trip in memory gives the same continuation (Adam and SGD-momentum)", () => {
    for (const make of [
      (ps: Tensor[]) => new Adam(ps, { lr: 0.05 }),
      (ps: Tensor[]) => new SGD(ps, { lr: 0.05, momentum: 0.9 }),
    ]) {
      const g = fromJson(golden.grads[0].w);
      const a = fromJson(golden.init.w, { requiresGrad: true });
      const optA = make([a]);
      for (let i = 0; i < 2; i++) {
        a.grad = g;
        optA.step();
      }
      const b = a.detach().clone().requiresGrad_(true);
      const optB = make([b]);
      optB.loadStateDict(optA.stateDict());
      for (let i = 0; i < 2; i++) {
        a.grad = g.mul(i + 1);
        b.grad = g.mul(i + 1);
        optA.step();
        optB.step();
      }
      assert.deepEqual(b.toArray(), a.toArray());
      assert.equal(optB.stateDict().state[0].step, 4);
    }
  });
  it("loadStateDict errors name the optimizer and the mismatch", () => {
    const p = torch.zeros([2], { requiresGrad: true });
    const opt = new Adam([p]);
    p.grad = torch.ones([2]);
    opt.step();
    const sd = opt.stateDict();
    assertThrowsWith(
      () => new Adam([torch.zeros([3], { requiresGrad: true })]).loadStateDict(sd),
      ["Adam.loadStateDict", "[3]", "[2]"],
    );
    assertThrowsWith(
      () =>
        new Adam([
          torch.zeros([2], { requiresGrad: true }),
          torch.zeros([2], { requiresGrad: true }),
        ]).loadStateDict(sd),
      ["Adam.loadStateDict", "1 parameters saved, 2 here"],
    );
  });
});

describe(`LR schedulers against PyTorch ${golden.torch}`, () => {
  for (const s of golden.schedulers) {
    it(s.name, () => {
      const p = torch.zeros([1], { requiresGrad: true });
      const q = torch.zeros([1], { requiresGrad: true });
      const opt = new SGD(
        [
          { params: [p], lr: 0.1 },
          { params: [q], lr: 0.01 },
        ],
        { lr: 0.1 },
      );
      const sched =
        s.kind === "StepLR"
          ? new StepLR(opt, s.args[0], s.args[1])
          : new CosineAnnealingLR(opt, s.args[0], s.args[1]);
      s.lrs.forEach((expected, epoch) => {
        sched.step();
        assertAllClose(sched.currentLrs(), expected, `${s.name}: epoch ${epoch + 1}`, {
          rtol: 1e-12,
          atol: 1e-15,
        });
        assert.deepEqual(
          opt.paramGroups.map((g) => g.lr),
          sched.currentLrs(),
        );
      });
    });
  }
  it("closed forms: StepLR base*gamma^floor(e/s); cosine eta_min + (base-eta_min)(1+cos(pi e/T))/2", () => {
    const p = torch.zeros([1], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.2 });
    const step = new StepLR(opt, 4, 0.3);
    for (let e = 1; e <= 12; e++) {
      step.step();
      assertAllClose(step.currentLrs(), [0.2 * 0.3 ** Math.floor(e / 4)], `StepLR epoch ${e}`, {
        rtol: 1e-12,
        atol: 0,
      });
    }
    const opt2 = new SGD([p], { lr: 0.2 });
    const cos = new CosineAnnealingLR(opt2, 6, 0.02);
    for (let e = 1; e <= 6; e++) {
      cos.step();
      const want = 0.02 + ((0.2 - 0.02) * (1 + Math.cos((Math.PI * e) / 6))) / 2;
      assertAllClose(cos.currentLrs(), [want], `cosine epoch ${e}`, { rtol: 1e-12, atol: 1e-15 });
    }
    // state dict: a fresh scheduler resumes at the saved epoch
    const opt3 = new SGD([p], { lr: 0.2 });
    const resumed = new CosineAnnealingLR(opt3, 6, 0.02);
    resumed.loadStateDict(cos.stateDict());
    assert.deepEqual(resumed.currentLrs(), cos.currentLrs());
    assertThrowsWith(() => new StepLR(opt3, 0), ["StepLR", "stepSize"]);
  });
});

interface ParamSample {
  shape: number[];
  stride: number;
  data: number[];
  sum?: number;
  abs_sum?: number;
}
interface CnnGolden {
  torch: string;
  labels: number[];
  initial_logits: number[];
  adam: { losses: number[]; final_loss: number; params: Record<string, ParamSample> };
  sgd: { losses: number[]; final_loss: number; params: Record<string, ParamSample> };
}
const cnn = loadGolden<CnnGolden>("cnn.json");

describe(`small CNN, 3 optimizer steps, against PyTorch ${cnn.torch}`, () => {
  const { x, y } = cnnBatch(cnn.labels);
  x.keep();
  y.keep();
  it("the initial logits match", () => {
    const net = buildCnn();
    const logits = torch.tidy(() => net.forward(x).toArray());
    assertAllClose(logits, cnn.initial_logits, "initial logits", { rtol: 1e-5, atol: 1e-6 });
  });
  for (const which of ["adam", "sgd"] as const) {
    it(`${which === "adam" ? "Adam(lr 1e-3)" : "SGD(lr 0.01, momentum 0.9)"}: losses and parameters after 3 steps`, () => {
      const want = cnn[which];
      const net = buildCnn();
      const opt =
        which === "adam"
          ? new Adam(net.parameters(), { lr: 1e-3 })
          : new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
      const losses: number[] = [];
      for (let s = 0; s < 3; s++) {
        losses.push(
          torch.tidy(() => {
            opt.zeroGrad();
            const loss = nn.F.crossEntropy(net.forward(x), y);
            loss.backward();
            opt.step();
            return loss.item();
          }),
        );
      }
      assertAllClose(losses, want.losses, `${which} losses`, { rtol: 1e-5, atol: 1e-6 });
      const final = torch.tidy(() => nn.F.crossEntropy(net.forward(x), y).item());
      assertAllClose([final], [want.final_loss], `${which} loss after 3 steps`, { rtol: 1e-5, atol: 1e-6 });
      const params = new Map(net.namedParameters());
      assert.deepEqual([...params.keys()], Object.keys(want.params));
      for (const [name, sample] of Object.entries(want.params)) {
        const p = params.get(name)!;
        assert.deepEqual(p.shape, sample.shape, name);
        const all = p.toArray();
        const picked = all.filter((_, i) => i % sample.stride === 0);
        assertAllClose(picked, sample.data, `${which}: ${name}`, { rtol: 1e-4, atol: 2e-6 });
        if (sample.sum !== undefined) {
          assertAllClose([all.reduce((a, b) => a + b, 0)], [sample.sum], `${which}: sum of ${name}`, {
            rtol: 1e-5,
            atol: 1e-4,
          });
          assertAllClose(
            [all.reduce((a, b) => a + Math.abs(b), 0)],
            [sample.abs_sum!],
            `${which}: |sum| of ${name}`,
            { rtol: 1e-6, atol: 0 },
          );
        }
      }
    });
  }
});

// Keep the Tensor type import used in every build configuration.
export type { Tensor };

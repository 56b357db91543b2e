// The optimiser factory behind train.optimizer / train.scheduler, clipGradNorm_ (PyTorch's
// clip_grad_norm_) and clipping inside Optimizer.step(), checked against values computed by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  clipGradNorm_,
  makeOptimizer,
  makeScheduler,
  SGD,
  StepLR,
} from "../../src/optim/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertAllClose, assertThrowsWith } from "../helpers/assert.js";

const f64 = (v: number[], shape?: number[]) =>
  torch.tensor(v, { dtype: "float64", shape: shape ?? [v.length], requiresGrad: true });

describe("makeOptimizer / makeScheduler", () => {
  it("builds the named optimiser with its hyper-parameters (AdamW decays by 1e-2 by default)", () => {
    const p = f64([1, 2]);
    const adam = makeOptimizer([p], { name: "adam", lr: 0.01, weightDecay: 0.5 });
    assert.ok(adam instanceof Adam && !(adam instanceof AdamW));
    assert.equal(adam.paramGroups[0].lr, 0.01);
    assert.equal(adam.paramGroups[0].weightDecay, 0.5);
    const adamw = makeOptimizer([p], { name: "adamw", lr: 0.01 });
    assert.ok(adamw instanceof AdamW);
    assert.equal(adamw.paramGroups[0].weightDecay, 0.01);
    const sgd = makeOptimizer([p], { name: "sgd", lr: 0.1, momentum: 0.9, nesterov: true });
    assert.ok(sgd instanceof SGD);
    assert.equal(sgd.paramGroups[0].momentum, 0.9);
    assert.equal(sgd.paramGroups[0].nesterov, true);
    assert.equal(sgd.maxGradNorm, 0);
    assert.equal(makeOptimizer([p], { maxGradNorm: 2 }).maxGradNorm, 2);
    assertThrowsWith(() => makeOptimizer([p], { name: "rmsprop" as never }), ["rmsprop", "adam, adamw, sgd"]);
    assert.equal(makeScheduler(sgd, { name: "none" }), null);
    assert.ok(makeScheduler(sgd, { name: "step", stepSize: 2 }) instanceof StepLR);
    assert.ok(makeScheduler(sgd, { name: "cosine", tMax: 5 }) instanceof CosineAnnealingLR);
  });

  it("SGD with momentum and weight decay follows the hand-computed trajectory", () => {
    // loss = 0.5 |x|^2 + c.x, so grad = x + c; with L2 decay wd: g = x + c + wd x.
    // PyTorch's SGD: buf_0 = g_0, buf_t = mu buf_{t-1} + g_t, x -= lr buf.
    const lr = 0.1;
    const mu = 0.9;
    const wd = 0.01;
    const c = [0.5, 0.25];
    const x = f64([1, -2]);
    const opt = makeOptimizer([x], { name: "sgd", lr, momentum: mu, weightDecay: wd });
    const want = [1, -2];
    let buf: number[] | null = null;
    const cT = torch.tensor(c, { dtype: "float64" });
    for (let t = 0; t < 4; t++) {
      opt.zeroGrad();
      torch.tidy(() => x.square().sum().mul(0.5).add(x.mul(cT).sum()).backward());
      opt.step();
      const g = want.map((v, i) => v + c[i] + wd * v);
      buf = buf ? buf.map((b, i) => mu * b + g[i]) : g;
      for (let i = 0; i < 2; i++) want[i] -= lr * (buf as number[])[i];
      assertAllClose(x.toArray(), want, `step ${t + 1}`, { rtol: 1e-12, atol: 1e-12 });
    }
    // The first two steps written out: x1 = x0 - lr g0; x2 = x1 - lr (mu g0 + g1).
    const g0 = [1 + 0.5 + 0.01, -2 + 0.25 - 0.02];
    const x1 = [1 - lr * g0[0], -2 - lr * g0[1]];
    const g1 = x1.map((v, i) => v + c[i] + wd * v);
    const x2 = x1.map((v, i) => v - lr * (mu * g0[i] + g1[i]));
    const y = f64([1, -2]);
    const opt2 = makeOptimizer([y], { name: "sgd", lr, momentum: mu, weightDecay: wd });
    for (let t = 0; t < 2; t++) {
      opt2.zeroGrad();
      torch.tidy(() => y.square().sum().mul(0.5).add(y.mul(cT).sum()).backward());
      opt2.step();
    }
    assertAllClose(y.toArray(), x2, "x2 by hand", { rtol: 1e-12, atol: 1e-12 });
  });

  it("scheduler state carries the base lrs, so a restored schedule ignores the optimiser's current lr", () => {
    const p = f64([0]);
    const opt = makeOptimizer([p], { name: "sgd", lr: 0.2 });
    const s = makeScheduler(opt, { name: "step", stepSize: 2, gamma: 0.5 })!;
    for (let e = 0; e < 3; e++) s.step();
    assert.deepEqual(s.stateDict(), { lastEpoch: 3, baseLrs: [0.2] });
    assert.equal(opt.paramGroups[0].lr, 0.1);
    // A fresh optimiser that already holds a decayed lr (as after loading its state) and a fresh schedule.
    const opt2 = makeOptimizer([p], { name: "sgd", lr: 0.05 });
    const s2 = makeScheduler(opt2, { name: "step", stepSize: 2, gamma: 0.5 })!;
    s2.loadStateDict(s.stateDict());
    assert.equal(opt2.paramGroups[0].lr, 0.1);
    s2.step();
    assert.equal(opt2.paramGroups[0].lr, 0.05); // epoch 4: 0.2 * 0.5^2
  });
});

describe("clipGradNorm_", () => {
  it("matches clip_grad_norm_: total norm returned, gradients scaled by max/(total + 1e-6)", () => {
    const a = f64([0, 0]);
    const b = f64([0], [1, 1]);
    a.grad = torch.tensor([3, 4], { dtype: "float64" });
    b.grad = torch.tensor([12], { dtype: "float64", shape: [1, 1] });
    const total = clipGradNorm_([a, b], 6.5);
    assert.equal(total, 13); // sqrt(9 + 16 + 144)
    const coef = 6.5 / (13 + 1e-6);
    assertAllClose(a.grad!.toArray(), [3 * coef, 4 * coef], "a.grad", { rtol: 1e-12, atol: 0 });
    assertAllClose(b.grad!.toArray(), [12 * coef], "b.grad", { rtol: 1e-12, atol: 0 });
    // The clipped global norm is max_norm (up to the 1e-6 of the denominator).
    const after = Math.hypot(...a.grad!.toArray(), ...b.grad!.toArray());
    assert.ok(Math.abs(after - 6.5) < 1e-6, `norm after clipping ${after}`);
    // Below the threshold nothing changes.
    assert.ok(Math.abs(clipGradNorm_([a, b], 100) - after) < 1e-12);
    assertAllClose(a.grad!.toArray(), [3 * coef, 4 * coef], "unchanged", { rtol: 0, atol: 0 });
  });

  it("infinity norm, parameters without gradient, bad arguments", () => {
    const a = f64([0, 0]);
    const none = f64([0]);
    a.grad = torch.tensor([3, -4], { dtype: "float64" });
    assert.equal(clipGradNorm_([a, none], 1, Number.POSITIVE_INFINITY), 4);
    assertAllClose(a.grad!.toArray(), [3 / (4 + 1e-6), -4 / (4 + 1e-6)], "inf-clipped", {
      rtol: 1e-12,
      atol: 0,
    });
    assert.equal(clipGradNorm_([none], 1), 0);
    assertThrowsWith(() => clipGradNorm_([a], -1), ["maxNorm"]);
    assertThrowsWith(() => clipGradNorm_([a], 1, 1), ["normType"]);
  });

  it("an optimiser with maxGradNorm clips all its parameters' gradients before the update", () => {
    const a = f64([0, 0]);
    const b = f64([0]);
    const opt = makeOptimizer([a, b], { name: "sgd", lr: 1, momentum: 0, maxGradNorm: 1 });
    a.grad = torch.tensor([3, 0], { dtype: "float64" });
    b.grad = torch.tensor([4], { dtype: "float64" });
    opt.step();
    assert.equal(opt.lastGradNorm, 5);
    const k = 1 / (5 + 1e-6);
    assertAllClose(a.toArray(), [-3 * k, 0], "a", { rtol: 1e-12, atol: 0 });
    assertAllClose(b.toArray(), [-4 * k], "b", { rtol: 1e-12, atol: 0 });
  });
});

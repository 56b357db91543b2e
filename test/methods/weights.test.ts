import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfounderAttention, GradNormWeights } from "../../src/methods/index.js";
import { buildPairEstimators, miPairs } from "../../src/mi/index.js";
import { Adam } from "../../src/optim/index.js";
import * as torch from "../../src/tensor/index.js";

torch.setNumThreads(1);

describe("GradNorm loss weights", () => {
  it("move toward equal gradient norms when one loss is scaled 100x", () => {
    torch.manualSeed(0);
    // Shared layer W: 4 -> 2; term k regresses output k. Term 1 is scaled by 100.
    const W = torch.randn([2, 4]).mul(0.1).keep().requiresGrad_(true);
    const x = torch.randn([64, 4]).keep();
    const t = torch.randn([64, 2]).keep();
    const gn = new GradNormWeights(["a", "b"], [true, true], { alpha: 1.5, lr: 0.05 });
    const normsAt = () =>
      torch.tidy(() => {
        const out = x.matmul(W.t());
        const l0 = out.select(1, 0).sub(t.select(1, 0)).square().mean();
        const l1 = out.select(1, 1).sub(t.select(1, 1)).square().mean().mul(100);
        const g0 = torch.grad(l0, W, { retainGraph: true })[0]!.norm().item();
        const g1 = torch.grad(l1, W)[0]!.norm().item();
        return { norms: [g0, g1], losses: [l0.item(), l1.item()] };
      });
    const first = normsAt();
    const ratioBefore = (gn.w[1] * first.norms[1]) / (gn.w[0] * first.norms[0]);
    let last = first;
    for (let s = 0; s < 300; s++) {
      last = normsAt();
      gn.update(last.norms, last.losses);
    }
    const ratioAfter = (gn.w[1] * last.norms[1]) / (gn.w[0] * last.norms[0]);
    assert.ok(gn.w[1] < gn.w[0], `weights ${gn.w}`);
    assert.ok(
      Math.abs(Math.log(ratioAfter)) < Math.abs(Math.log(ratioBefore)) / 2,
      `G ratio ${ratioBefore} -> ${ratioAfter}`,
    );
    assert.ok(Math.abs(gn.w[0] + gn.w[1] - 2) < 1e-9, "weights sum to the number of terms");
  });
});

describe("Confounder Attention Weighter", () => {
  it("weights sum to N, respect the floor, favour the leakier spurion", () => {
    const att = new ConfounderAttention(2, { tau: 0.1, floor: 0.25, ema: 0.9 });
    att.observe([0.5, 0.05]);
    const a = att.weights();
    assert.ok(Math.abs(a[0] + a[1] - 2) < 1e-9);
    assert.ok(a[0] > a[1] && a[1] >= 0.25);
  });

  it("puts the larger weight on the spurion planted in f_y (real estimators)", () => {
    torch.manualSeed(0);
    const k = 2;
    const pairs = miPairs(3, "all").filter((p) => p.spurion !== null);
    const est = buildPairEstimators(pairs, k, "joint-64-k8");
    const opt = new Adam(est.module.parameters(), { lr: 3e-3 });
    const att = new ConfounderAttention(2, { tau: 0.1, floor: 0.25, ema: 0.9 });
    const sample = () => {
      const z0 = torch.randint(0, 2, [128]).float().unsqueeze(1);
      const z1 = torch.randint(0, 2, [128]).float().unsqueeze(1);
      const noise = () => torch.randn([128, k]).mul(0.3);
      // f_y carries z0 (the planted shortcut) and nothing of z1.
      return [z0.expand(128, k).add(noise()), z0.expand(128, k).add(noise()), z1.expand(128, k).add(noise())];
    };
    for (let s = 0; s < 200; s++) {
      torch.tidy(() => {
        opt.zeroGrad();
        const { surrogates, estimates } = est.terms(sample());
        att.observe(estimates);
        surrogates.sum().neg().backward();
        opt.step();
      });
    }
    const a = att.weights();
    assert.ok(a[0] > 1.2 && a[1] < 0.8, `attention ${a}, leakage ${att.u}`);
  });
});

describe("gradient reversal", () => {
  it("flips the sign of the gradient and scales it by lambda", () => {
    const x = torch.tensor([1, 2, 3]).requiresGrad_(true);
    torch
      .gradReverse(x, 0.5)
      .mul(torch.tensor([1, 1, 2]))
      .sum()
      .backward();
    assert.deepEqual(x.grad!.toArray(), [-0.5, -0.5, -1]);
  });
});

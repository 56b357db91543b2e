// SyncBatchNorm's arithmetic in one process (no process group: the all-reduce is the identity),
// against the native batch norm it replaces: output, gradients (autograd) and running statistics.
// The 2-process tests check the collective part.
import assert from "node:assert/strict";
import { test } from "node:test";
import { syncBatchNormForward } from "../../src/dist/sync-batchnorm.js";
import * as nn from "../../src/nn/index.js";
import * as torch from "../../src/tensor/index.js";

function maxDiff(a: torch.Tensor, b: torch.Tensor): number {
  return a.sub(b).abs().max().item();
}

for (const [name, make, shape] of [
  ["BatchNorm2d", () => new nn.BatchNorm2d(3, { momentum: 0.3 }), [6, 3, 4, 5]],
  ["BatchNorm1d", () => new nn.BatchNorm1d(4), [7, 4]],
] as const) {
  test(`${name}: global-batch normalisation equals batch_norm (output, input/weight/bias gradients, running stats)`, () => {
    torch.tidy(() => {
      torch.manualSeed(3);
      const x = torch
        .randn([...shape])
        .mul(2)
        .add(0.5);
      const upstream = torch.randn([...shape]);
      const results = [false, true].map((sync) => {
        const bn = make();
        torch.noGrad(() => {
          bn.weight?.copy_(torch.linspace(0.5, 1.5, bn.numFeatures));
          bn.bias?.copy_(torch.linspace(-0.2, 0.2, bn.numFeatures));
        });
        const xi = x.clone().requiresGrad_();
        bn.train();
        const y = sync ? syncBatchNormForward(bn, xi) : bn.forward(xi);
        y.mul(upstream).sum().backward();
        return {
          y,
          gx: xi.grad as torch.Tensor,
          gw: bn.weight?.grad as torch.Tensor,
          gb: bn.bias?.grad as torch.Tensor,
          bn,
        };
      });
      const [ref, sync] = results;
      assert.ok(maxDiff(ref.y, sync.y) < 1e-5, `output ${maxDiff(ref.y, sync.y)}`);
      assert.ok(maxDiff(ref.gx, sync.gx) < 1e-5, `input grad ${maxDiff(ref.gx, sync.gx)}`);
      assert.ok(maxDiff(ref.gw, sync.gw) < 1e-4, `weight grad ${maxDiff(ref.gw, sync.gw)}`);
      assert.ok(maxDiff(ref.gb, sync.gb) < 1e-4, `bias grad ${maxDiff(ref.gb, sync.gb)}`);
      assert.ok(maxDiff(ref.bn.runningMean, sync.bn.runningMean) < 1e-6);
      assert.ok(maxDiff(ref.bn.runningVar, sync.bn.runningVar) < 1e-5);
      // the statistics did move (unbiased variance, momentum): the comparison can fail
      assert.ok(maxDiff(sync.bn.runningVar, torch.ones([sync.bn.numFeatures])) > 0.05);
    });
  });
}

test("a BatchNorm with syncStats set uses it in training and not in eval", () => {
  torch.tidy(() => {
    const bn = new nn.BatchNorm1d(2);
    let calls = 0;
    bn.syncStats = (m, x) => {
      calls++;
      return syncBatchNormForward(m, x);
    };
    bn.train().forward(torch.randn([4, 2]));
    bn.eval().forward(torch.randn([4, 2]));
    assert.equal(calls, 1);
  });
});

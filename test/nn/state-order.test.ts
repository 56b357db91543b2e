// State dict keys come in PyTorch's order (per module: parameters, buffers, then children), so a
// checkpoint lists tensors exactly as torch's model.state_dict() would.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as nn from "../../src/nn/index.js";
import { SGD } from "../../src/optim/index.js";
import { CosineAnnealingLR } from "../../src/optim/scheduler.js";
import * as torch from "../../src/tensor/index.js";

test("stateDict keys follow PyTorch's module order", () => {
  const m = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.Linear(2, 2));
  assert.deepEqual(
    [...m.stateDict().keys()],
    [
      "0.weight",
      "0.bias",
      "1.weight",
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
      "2.weight",
      "2.bias",
    ],
  );
});

test("CosineAnnealingLR follows PyTorch's closed form past tMax", () => {
  const p = torch.zeros([1], { requiresGrad: true });
  const opt = new SGD([p], { lr: 0.1 });
  const sched = new CosineAnnealingLR(opt, 10, 0.01);
  const lrs: number[] = [];
  for (let e = 0; e < 15; e++) {
    sched.step();
    lrs.push(opt.paramGroups[0].lr);
  }
  // epoch 10 is the minimum; epoch 15 is halfway back up: 0.01 + 0.09 * (1 + cos(1.5 pi)) / 2
  assert.ok(Math.abs(lrs[9] - 0.01) < 1e-12);
  assert.ok(Math.abs(lrs[14] - (0.01 + (0.09 * (1 + Math.cos(1.5 * Math.PI))) / 2)) < 1e-12);
  assert.ok(lrs[14] > lrs[9]);
});

test("a disposed tensor's shape raises like any other use", () => {
  const t = torch.zeros([2, 3]);
  assert.deepEqual(t.shape, [2, 3]);
  t.dispose();
  assert.throws(() => t.shape, /freed/);
});

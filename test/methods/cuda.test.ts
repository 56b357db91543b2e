// CUDA against the CPU (issue 11, item 1): ops, one training step, and memory over many steps.
// Skipped where the libtorch this process loaded has no CUDA (Debian's 1.13 is CPU-only); where it
// has, every test runs. The CPU results are the reference: the same seed builds the same CPU
// initialisation, which the CUDA method then moves (methods build on the CPU, then move).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Batch } from "../../src/methods/batch.js";
import { toBatch } from "../../src/methods/batch.js";
import { createMethod, type Method, type MethodConfig } from "../../src/methods/index.js";
import { buildPairEstimators } from "../../src/mi/pair-estimators.js";
import * as nn from "../../src/nn/index.js";
import * as torch from "../../src/tensor/index.js";
import { gatherBatch } from "../../src/train/data.js";
import { mimmxOptions, shortcutDataset, TASK_NAMES, TASKS } from "./helpers.js";

torch.setNumThreads(1);
const skip = torch.cudaIsAvailable() ? false : "this libtorch has no CUDA";

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  assert.ok(worst <= tol, `${what}: max relative difference ${worst} > ${tol}`);
}

const values = (t: torch.Tensor) => Array.from(t.cpu().dataSync() as Float32Array);

describe("CUDA matches the CPU", { skip }, () => {
  const data = shortcutDataset(16, 2);
  const rows = Int32Array.from({ length: 16 }, (_, i) => i);
  const batchOn = (device: torch.Device): Batch => toBatch(gatherBatch(data, rows, 784), TASK_NAMES, device);

  it("ops: conv2d, batch norm, linear, cross-entropy and their gradients", () => {
    torch.tidy(() => {
      torch.manualSeed(1);
      const x = torch.randn([4, 3, 9, 9]);
      const w = torch.randn([5, 3, 3, 3]);
      const lw = torch.randn([2, 5 * 7 * 7]);
      const y = torch.tensor([0, 1, 1, 0], { dtype: "int64" });
      const run = (device: torch.Device) => {
        const [xd, wd, lwd] = [x, w, lw].map((t) => t.to(device).clone().requiresGrad_(true));
        const h = nn.F.conv2d(xd, wd).relu();
        const n = nn.F.batchNorm(h, null, null, { training: true });
        const logits = nn.F.linear(n.flatten(1), lwd);
        const loss = nn.F.crossEntropy(logits, y.to(device));
        loss.backward();
        return [logits, xd.grad!, wd.grad!, lwd.grad!].map(values);
      };
      const cpu = run("cpu");
      const cuda = run("cuda");
      for (const [i, what] of ["logits", "dx", "dw", "dlinear"].entries()) {
        assertClose(cuda[i], cpu[i], 1e-4, what);
      }
    });
  });

  it("the fused stacked critic's ATen path scores and trains like the CPU kernel", () => {
    torch.tidy(() => {
      const pairs = [
        { name: "y;z0", a: [0], c: [1], spurion: 0 },
        { name: "y;z1", a: [0], c: [2], spurion: 1 },
      ];
      const run = (device: torch.Device) => {
        torch.manualSeed(4);
        // One hidden layer of float32: the CPU runs the hand-written kernel, CUDA the ATen path.
        const est = buildPairEstimators(pairs, [3, 3, 3], {
          critic: "joint",
          hidden: [8],
          firstLayer: "split",
          negatives: "all",
        });
        est.module.to(device);
        torch.manualSeed(5);
        const parts = [0, 1, 2].map(() => torch.randn([12, 3]).to(device));
        const terms = est.terms(parts);
        terms.surrogates.sum().backward();
        return { estimates: terms.estimates, grads: est.module.parameters().flatMap((p) => values(p.grad!)) };
      };
      const cpu = run("cpu");
      const cuda = run("cuda");
      assertClose(cuda.estimates, cpu.estimates, 1e-4, "estimates");
      assertClose(cuda.grads, cpu.grads, 1e-4, "critic gradients");
    });
  });

  for (const name of ["erm", "groupdro", "mimmx"] as const) {
    it(`one ${name} step on CUDA equals the CPU step`, () => {
      const step = (device: torch.Device): number[] => {
        torch.manualSeed(0);
        // mimmxOptions uses all B - 1 negatives: sampled ones would come from each device's generator.
        const extra = name === "mimmx" ? mimmxOptions() : {};
        const m = createMethod({
          method: name,
          tasks: TASKS,
          encoder: { name: "small-cnn" },
          partSize: 2,
          device,
          ...extra,
        } as MethodConfig);
        torch.tidy(() => m.update(batchOn(device)));
        return m.model.parameters().flatMap(values);
      };
      assertClose(step("cuda"), step("cpu"), 1e-3, `${name} parameters after one step`);
    });
  }

  it("memory stays flat over many CUDA steps", () => {
    torch.manualSeed(0);
    const m: Method = createMethod({
      method: "mimmx",
      tasks: TASKS,
      encoder: { name: "small-cnn" },
      partSize: 2,
      device: "cuda",
      ...mimmxOptions(),
    } as MethodConfig);
    let handles = 0;
    for (let s = 0; s < 40; s++) {
      torch.tidy(() => m.update(batchOn("cuda")));
      if (s === 4) handles = torch.liveTensorCount();
    }
    assert.ok(torch.liveTensorCount() <= handles, `handles ${handles} -> ${torch.liveTensorCount()}`);
  });
});

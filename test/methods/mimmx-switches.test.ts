// The MIMM-X switches added for the shortcut experiments: GradNorm without the MI term, MI warm-up and
// lambda ramp, y-only penalty, spurion gradients kept out of the shared trunk.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Mimmx } from "../../src/methods/mimmx.js";
import * as torch from "../../src/tensor/index.js";
import { asBatch, mimmxOptions, shortcutDataset, TASKS } from "./helpers.js";

torch.setNumThreads(1);

const common = { tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2, lr: 3e-3 } as const;

describe("MIMM-X experiment switches", () => {
  const batch = asBatch(shortcutDataset(32, 5));

  it("gradNormMi false: GradNorm weighs the CE terms only", () => {
    torch.manualSeed(0);
    const m = new Mimmx({ ...common, ...mimmxOptions({ gradNormMi: false }) });
    assert.deepEqual(m.gradNorm?.names, ["ce/y", "ce/z0", "ce/z1"]);
    const logs = torch.tidy(() => m.update(batch));
    assert.ok(!("w/mi" in logs) && Number.isFinite(logs["w/ce/y"]) && Number.isFinite(logs.loss));
  });

  it("miWarmup and lambdaRamp: lambda 0, then a linear ramp to cfg.lambda", () => {
    torch.manualSeed(0);
    const m = new Mimmx({ ...common, ...mimmxOptions({ lambda: 2, miWarmup: 2, lambdaRamp: 4 }) });
    const lambdas = [0, 1, 2, 3, 4, 5, 6].map(() => torch.tidy(() => m.update(batch)).lambda);
    assert.deepEqual(lambdas, [0, 0, 0.5, 1, 1.5, 2, 2]);
  });

  it("penalise y: only the y-z_i pairs", () => {
    const m = new Mimmx({ ...common, ...mimmxOptions({ penalise: "y" }) });
    assert.deepEqual(
      m.pairs.map((p) => p.name),
      ["y;z0", "y;z1"],
    );
  });

  for (const spurionGrad of ["trunk", "lastLayer"] as const) {
    it(`spurionGrad ${spurionGrad}: CE_z trains W's z rows, the trunk only with "trunk"`, () => {
      torch.manualSeed(0);
      // With y's head zeroed, CE_y sends no gradient to f_y: only the spurion terms could move the trunk.
      const m = new Mimmx({ ...common, ...mimmxOptions({ spurionGrad, lambda: 0, gradNorm: false }) });
      const W = m.model.encoder.lastSharedWeight();
      const trunk = m.model.encoder.parameters().filter((p) => p !== W);
      torch.noGrad(() => m.model.heads.parameters()[0].zero_());
      const snap = (ps: torch.Tensor[]) => ps.map((p) => Array.from(p.dataSync() as Float32Array));
      const before = snap(trunk);
      const [W0] = snap([W]);
      torch.tidy(() => m.update(batch));
      const [W1] = snap([W]);
      const rowLen = W0.length / 6;
      assert.ok(
        W0.slice(2 * rowLen).some((v, i) => v !== W1[2 * rowLen + i]),
        "W's z rows did not move",
      );
      const after = snap(trunk);
      const moved = after.some((a, i) => a.some((v, j) => v !== before[i][j]));
      assert.equal(moved, spurionGrad === "trunk");
    });
  }
});

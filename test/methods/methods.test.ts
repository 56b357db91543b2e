import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMethod, Jtt, METHOD_NAMES, type MethodConfig, Reweight } from "../../src/methods/index.js";
import * as torch from "../../src/tensor/index.js";
import { asBatch, shortcutDataset, TASKS } from "./helpers.js";

torch.setNumThreads(1);

const common = { tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2, lr: 3e-3 } as const;

describe("every method trains on tiny synthetic data", () => {
  const data = shortcutDataset(32, 3);
  const batch = asBatch(data);
  for (const name of METHOD_NAMES) {
    it(`${name} lowers its primary loss`, () => {
      torch.manualSeed(0);
      const method = createMethod({ method: name, ...common } as MethodConfig);
      // Peers fitted from the whole training split before training (src/run/peers.ts does this).
      if (method instanceof Reweight) method.fitGroups([data.labels.y, data.labels.z0, data.labels.z1]);
      if (method instanceof Jtt) method.setErrorSet(Int32Array.of(0, 5, 9), data.length);
      const ceY: number[] = [];
      let afterWarmup = 0;
      for (let s = 0; s < 25; s++) {
        const losses = torch.tidy(() => method.update(batch));
        ceY.push(losses["ce/y"]);
        // After the first steps (which create optimiser state), the handle count must stay flat.
        if (s === 2) afterWarmup = torch.liveTensorCount();
      }
      assert.ok(
        torch.liveTensorCount() - afterWarmup <= 0,
        `leaked ${torch.liveTensorCount() - afterWarmup} handles`,
      );
      const first = ceY.slice(0, 3).reduce((a, b) => a + b) / 3;
      const last = ceY.slice(-3).reduce((a, b) => a + b) / 3;
      assert.ok(last < first, `${name}: ce/y ${first} -> ${last}`);
      const logits = torch.tidy(() => method.predict(batch.x).map((l) => l.shape));
      assert.deepEqual(logits[0], [32, 2]);
      const f = torch.tidy(() => method.features(batch.x).shape);
      assert.equal(f[0], 32);
    });
  }

  it("MIMM-X logs weights, attention, scale and per-pair MI every step", () => {
    torch.manualSeed(0);
    const method = createMethod({ method: "mimmx", ...common });
    const losses = torch.tidy(() => method.update(batch));
    for (const key of [
      "w/ce/y",
      "w/mi",
      "att/z0",
      "att/z1",
      "scale",
      "mi/y;z0",
      "mi/y;z1",
      "mi/z0;z1",
      "critic_mi/y;z0",
      "loss",
    ]) {
      assert.ok(Number.isFinite(losses[key]), `missing or non-finite ${key}: ${losses[key]}`);
    }
  });

  it("MIMM-X switches: published fresh schedule, exact encoder scaling, chain pairs, conditional", () => {
    torch.manualSeed(0);
    const method = createMethod({
      method: "mimmx",
      ...common,
      criticData: "fresh",
      scalingScope: "encoder",
      pairs: "chain",
      conditional: true,
      gradNorm: false,
      attention: false,
      estimator: "separable-cosine",
    });
    const logs = [0, 1, 2].map(() => torch.tidy(() => method.update(batch)));
    assert.ok("ce/y" in logs[0] && "scale" in logs[0]);
    assert.ok("critic_mi/y;z0,z1" in logs[1] && !("ce/y" in logs[1]));
  });
});

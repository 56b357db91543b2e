import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createMethod,
  Jtt,
  METHOD_NAMES,
  type MethodConfig,
  Mimmx,
  Reweight,
} from "../../src/methods/index.js";
import { miGradients } from "../../src/methods/mimmx/mi-gradient.js";
import type { EncoderStepPieces } from "../../src/methods/mimmx/pieces.js";
import * as torch from "../../src/tensor/index.js";
import { asBatch, mimmOptions, mimmxOptions, shortcutDataset, TASKS } from "./helpers.js";

torch.setNumThreads(1);

const common = { tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2, lr: 3e-3 } as const;

/** Each method's own switches at the run configuration's defaults. */
const SWITCHES: Partial<Record<string, object>> = { mimmx: mimmxOptions(), mimm: mimmOptions() };

describe("every method trains on tiny synthetic data", () => {
  const data = shortcutDataset(32, 3);
  const batch = asBatch(data);
  for (const name of METHOD_NAMES) {
    it(`${name} lowers its primary loss`, () => {
      torch.manualSeed(0);
      const method = createMethod({ method: name, ...common, ...SWITCHES[name] } as MethodConfig);
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
    const method = createMethod({ method: "mimmx", ...common, ...mimmxOptions() });
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
      ...mimmxOptions({
        criticData: "fresh",
        scalingScope: "encoder",
        pairs: "chain",
        conditional: true,
        gradNorm: false,
        attention: false,
        estimator: "separable-cosine",
      }),
    });
    const logs = [0, 1, 2].map(() => torch.tidy(() => method.update(batch)));
    assert.ok("ce/y" in logs[0] && "scale" in logs[0]);
    assert.ok("critic_mi/y;z0,z1" in logs[1] && !("ce/y" in logs[1]));
  });
  it("MIMM-X's encoder step lowers the MI it penalises; a zeroed or flipped MI gradient does not", () => {
    // First step: the EMA starts at this batch's value, so the corrected gradient is the DV
    // estimate's own. Plain SGD with a small step on an MLP (features with healthy spread, so the
    // critics' BatchNorm keeps the estimate smooth): the sum of the pair estimates on this batch,
    // same critics, must fall to first order, by about lr * lambda * ||grad||^2.
    const b = 64;
    torch.manualSeed(5);
    const labels = [0, 1, 2].map(() => torch.randint(0, 2, [b]));
    const x = torch
      .randn([b, 16])
      .add(torch.cat([...labels.map((t) => t.float().unsqueeze(1)), torch.zeros([b, 13])], 1));
    const mlpBatch = { x, y: labels[0], z: labels.slice(1) };
    const miChange = (pieces: Partial<EncoderStepPieces>) =>
      torch.tidy(() => {
        torch.manualSeed(0);
        const m = new Mimmx(
          {
            tasks: TASKS,
            encoder: { name: "mlp", inputDim: 16, hidden: [16] },
            partSize: 4,
            lr: 1e-3,
            optimizer: { name: "sgd" },
            ...mimmxOptions({ lambda: 10, adaptiveScaling: false, gradNorm: false, attention: false }),
          },
          pieces,
        );
        const mi = () => {
          const f = torch.noGrad(() => m.model.forward(x));
          return Object.values(m.estimatePairs(f)).reduce((acc, v) => acc + v, 0);
        };
        const before = mi();
        m.encoderStep(mlpBatch);
        return mi() - before;
      });
    const mutated = (mutate: (g: torch.Tensor) => torch.Tensor): Partial<EncoderStepPieces> => ({
      miGradients: (loss, f, W) => {
        const g = miGradients(loss, f, W);
        return { f: g.f && mutate(g.f), W: g.W && mutate(g.W) };
      },
    });
    const real = miChange({});
    const zeroed = miChange(mutated((g) => g.mul(0)));
    const flipped = miChange(mutated((g) => g.neg()));
    assert.ok(real < 0, `MI estimate rose by ${real} after a descent step`);
    assert.ok(flipped > 0, `flipped MI gradient: MI estimate changed by ${flipped}`);
    // Without the MI gradient only the CE terms move f: a change well short of the real one's.
    assert.ok(Math.abs(zeroed) < Math.abs(real) / 4, `zeroed ${zeroed} vs real ${real}`);
    // First order: flipping the MI gradient flips the change.
    assert.ok(Math.abs(real + flipped) < Math.abs(real) / 4, `real ${real} vs flipped ${flipped}`);
  });
});

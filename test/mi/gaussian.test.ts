import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitGaussian } from "../../bench/mi-gaussian.js";
import type { EstimatorPreset } from "../../src/mi/index.js";
import * as torch from "../../src/tensor/index.js";

torch.setNumThreads(1);

// d = 2, rho = 0.8: I = -(2/2) ln(1 - 0.64) = 1.0217 nats.
const TRUTH = -Math.log(1 - 0.64);
const budget = { steps: 400, batch: 128, evalBatches: 10, lr: 1e-3, seed: 1 };

describe("estimators on correlated Gaussians with known MI", () => {
  const cases: [EstimatorPreset, number][] = [
    ["joint-64-k8", 0.12],
    ["separable-tanh", 0.25],
  ];
  for (const [preset, tol] of cases) {
    it(`${preset} converges near ${TRUTH.toFixed(3)} nats`, () => {
      const { estimate } = fitGaussian(preset, 2, TRUTH, budget);
      assert.ok(Math.abs(estimate - TRUTH) < tol, `${preset}: ${estimate} vs ${TRUTH}`);
    });
  }

  it("independent inputs give about 0", () => {
    const { estimate } = fitGaussian("joint-64-k8", 2, 1e-9, { ...budget, steps: 200 });
    assert.ok(Math.abs(estimate) < 0.06, `estimate ${estimate}`);
  });
});

// MI audit against known MI: f_y against a spurion label that it encodes (I = ln 2 for a balanced
// binary label read without error) or ignores (I = 0), and a part pair of correlated Gaussians.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { miAudit } from "../../src/eval/mi-audit.js";
import * as torch from "../../src/tensor/index.js";
import { Rng } from "../../src/util/random.js";

torch.setNumThreads(1);

describe("miAudit", () => {
  const n = 2000;
  const k = 2;
  const rng = new Rng(3);
  const z = Int32Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
  const rho = 0.8;
  // f_y: coordinate 0 carries z (noise 0.1), coordinate 1 is a Gaussian correlated with f_z's coordinate 0.
  const fy = new Float32Array(n * k);
  const fz = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const g = rng.normal();
    fy[i * k] = 2 * z[i] - 1 + 0.1 * rng.normal();
    fy[i * k + 1] = g;
    fz[i * k] = rho * g + Math.sqrt(1 - rho * rho) * rng.normal();
    fz[i * k + 1] = rng.normal();
  }
  const unrelated = Int32Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));

  it("measures f_y against labels and part pairs, in nats", () => {
    torch.manualSeed(0);
    const pairs = miAudit([fy, fz], k, ["y", "z"], { hidden: 64, layers: 1, steps: 600, batchSize: 128 }, [
      { name: "z", values: z, numClasses: 2 },
      { name: "coin", values: unrelated, numClasses: 2 },
    ]);
    const est = Object.fromEntries(pairs.map((p) => [p.pair, p.estimate]));
    assert.deepEqual(Object.keys(est), ["f_y ; f_z", "f_y ; z (label)", "f_y ; coin (label)"]);
    const gauss = -0.5 * Math.log(1 - rho * rho); // 0.51 nats
    assert.ok(Math.abs(est["f_y ; f_z"] - gauss) < 0.12, `part pair ${est["f_y ; f_z"]} vs ${gauss}`);
    assert.ok(
      Math.abs(est["f_y ; z (label)"] - Math.LN2) < 0.08,
      `label z ${est["f_y ; z (label)"]} vs ln 2`,
    );
    assert.ok(Math.abs(est["f_y ; coin (label)"]) < 0.05, `unrelated label ${est["f_y ; coin (label)"]}`);
  });

  it("refuses a label that is not a class index, naming the row", () => {
    const bad = Int32Array.from(z);
    bad[5] = 2;
    assert.throws(
      () => miAudit([fy, fz], k, ["y", "z"], { steps: 1 }, [{ name: "z", values: bad, numClasses: 2 }]),
      /label 2 at row 5/,
    );
  });
});

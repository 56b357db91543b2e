import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitLogistic } from "../../src/eval/logistic.js";
import { linearProbe, probeTable } from "../../src/eval/probe.js";
import { Rng } from "../../src/util/random.js";

/** n rows of dim Gaussian features; `signal(i)` is added to column 0 of row i. */
function gaussianFeatures(
  n: number,
  dim: number,
  seed: number,
  signal: (i: number) => number[] = () => [],
): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) x[i * dim + j] = rng.normal();
    signal(i).forEach((v, j) => {
      x[i * dim + j] += v;
    });
  }
  return x;
}

describe("logistic regression", () => {
  it("recovers a known separating direction and converges", () => {
    const n = 400;
    const rng = new Rng(1);
    const x = new Float64Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      x[2 * i] = rng.normal();
      x[2 * i + 1] = rng.normal();
      // True logit 3 * x0 - 3 * x1: the weights for class 1 minus class 0 should point along (1, -1).
      y[i] = rng.next() < 1 / (1 + Math.exp(-(3 * x[2 * i] - 3 * x[2 * i + 1]))) ? 1 : 0;
    }
    const m = fitLogistic(x, 2, y, 2, { l2: 0 });
    assert.ok(m.converged);
    const w0 = m.weights[1] - m.weights[0];
    const w1 = m.weights[3] - m.weights[2];
    assert.ok(w0 > 2 && w0 < 4.5, `w0 = ${w0}`);
    assert.ok(w1 < -2 && w1 > -4.5, `w1 = ${w1}`);
    assert.ok(Math.abs(w0 / w1 + 1) < 0.25, `ratio ${w0 / w1}`);
  });
});

describe("linear probe", () => {
  const n = 600;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  it("reaches ~100% where the label is linearly recoverable", () => {
    const x = gaussianFeatures(n, 8, 2, (i) => [labels[i] ? 4 : -4]);
    const r = linearProbe(x, 8, labels, { seed: 0 });
    assert.ok(r.accuracy > 0.97, `accuracy ${r.accuracy}`);
    assert.ok(r.balancedAccuracy > 0.97);
    assert.equal(r.ciCoversChance, false);
    assert.equal(r.nTest, 300);
    assert.equal(r.chance.majority, 0.5);
    assert.equal(r.chance.uniform, 0.5);
  });
  it("stays near chance, with the interval covering it, where features are independent of the label", () => {
    const x = gaussianFeatures(n, 8, 3);
    const r = linearProbe(x, 8, labels, { seed: 0 });
    assert.ok(Math.abs(r.accuracy - 0.5) < 0.08, `accuracy ${r.accuracy}`);
    assert.ok(r.ciCoversChance, JSON.stringify(r.accuracyCi));
    assert.ok(r.balancedAccuracyCi!.low <= 0.5 && r.balancedAccuracyCi!.high >= 0.5);
  });
  it("reports both chance levels on an unbalanced split and handles 3 classes with k-fold", () => {
    const y = Int32Array.from({ length: 300 }, (_, i) => (i % 10 < 6 ? 0 : i % 10 < 8 ? 1 : 2));
    const x = gaussianFeatures(300, 4, 4, (i) => [y[i] * 5, -y[i] * 5]);
    const r = linearProbe(x, 4, y, { split: { folds: 5 } });
    assert.equal(r.nTest, 300);
    assert.equal(r.numClasses, 3);
    assert.ok(Math.abs(r.chance.majority - 0.6) < 1e-12);
    assert.ok(Math.abs(r.chance.uniform - 1 / 3) < 1e-12);
    assert.ok(r.accuracy > 0.95, `accuracy ${r.accuracy}`);
  });
  it("is deterministic for a seed", () => {
    const x = gaussianFeatures(200, 3, 5, (i) => [labels[i] * 0.7]);
    const y = labels.subarray(0, 200);
    assert.deepEqual(linearProbe(x, 3, y, { seed: 9 }), linearProbe(x, 3, y, { seed: 9 }));
  });
});

describe("probe table", () => {
  it("finds leakage of z into f_y and none elsewhere", () => {
    const n = 400;
    const k = 4;
    const rng = new Rng(7);
    const y = Int32Array.from({ length: n }, () => rng.int(2));
    const z1 = Int32Array.from({ length: n }, () => rng.int(2));
    const z2 = Int32Array.from({ length: n }, () => rng.int(2));
    // Parts: f_y encodes y AND z1 (a leaky model); f_z1 encodes z1; f_z2 encodes z2.
    const x = gaussianFeatures(n, 3 * k, 8, (i) => {
      const v = new Array(3 * k).fill(0);
      v[0] = y[i] ? 4 : -4;
      v[1] = z1[i] ? 4 : -4;
      v[k] = z1[i] ? 4 : -4;
      v[2 * k] = z2[i] ? 4 : -4;
      return v;
    });
    const rows = probeTable(
      { features: x, partSize: k, y, z: [z1, z2], names: { y: "y", z: ["sex", "site"] }, includeOwn: true },
      { bootstrap: 0 },
    );
    const get = (s: string, t: string) => rows.find((r) => r.source === s && r.target === t)!;
    assert.deepEqual(
      rows.map((r) => `${r.source}->${r.target}`),
      [
        "f_y->sex",
        "f_y->site",
        "f_sex->y",
        "f_site->y",
        "f_sex->site",
        "f_site->sex",
        "f_y->y",
        "f_sex->sex",
        "f_site->site",
      ],
    );
    assert.ok(get("f_y", "sex").accuracy > 0.9, "leak detected");
    assert.ok(get("f_y", "site").ciCoversChance || get("f_y", "site").accuracy < 0.6);
    assert.ok(get("f_sex", "y").accuracy < 0.62);
    assert.ok(get("f_site", "sex").accuracy < 0.62);
    assert.equal(get("f_y", "y").kind, "own");
    assert.ok(get("f_site", "site").accuracy > 0.9);
  });
  it("rejects a feature matrix of the wrong width", () => {
    assert.throws(
      () =>
        probeTable({
          features: new Float32Array(10 * 7),
          partSize: 3,
          y: new Int32Array(10),
          z: [new Int32Array(10)],
        }),
      /expected 10 x 2 x 3/,
    );
  });
});

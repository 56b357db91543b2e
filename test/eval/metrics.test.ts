import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  accuracy,
  balancedAccuracy,
  binaryAuc,
  bootstrapInterval,
  confusionMatrix,
  distributionGap,
  evaluateTask,
  groupAccuracies,
  normalQuantile,
  predictClasses,
  rocAuc,
  wilsonInterval,
  worstGroupAccuracy,
} from "../../src/eval/metrics.js";

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b} (tol ${tol})`);

describe("ROC-AUC", () => {
  it("matches the hand-computed example", () => {
    // Pairs (pos, neg): (0.35,0.1) yes, (0.35,0.4) no, (0.8,0.1) yes, (0.8,0.4) yes -> 3/4.
    close(binaryAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  });
  it("counts ties as one half", () => {
    // pos 0.5 vs neg 0.5 tie (0.5), pos 0.5 vs neg 0.2 win (1), pos 0.9 vs both wins (2) -> 3.5 / 4.
    close(binaryAuc([0.5, 0.2, 0.5, 0.9], [0, 0, 1, 1]), 0.875);
    // All scores equal: exactly 0.5.
    close(binaryAuc([0.3, 0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1, 1]), 0.5);
  });
  it("is 1 for a perfect ranking, 0 for a reversed one, NaN with one class", () => {
    close(binaryAuc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
    close(binaryAuc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
    assert.ok(Number.isNaN(binaryAuc([1, 2], [1, 1])));
  });
  it("uses s1 - s0 for two columns, so logits and probabilities agree", () => {
    const labels = Int32Array.from([0, 0, 1, 1]);
    const probs = Float32Array.from([0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8]);
    const logits = Float32Array.from([2, -1, 0.5, 0.1, 0.3, -0.4, -1, 1]);
    close(rocAuc(probs, labels), 0.75);
    // logit differences: -3, -0.4, -0.7, 2 -> pos (-0.7, 2) vs neg (-3, -0.4): 3 of 4 pairs.
    close(rocAuc(logits, labels), 0.75);
  });
  it("macro-averages one-vs-rest AUCs for three classes", () => {
    // Class 0 ranked perfectly (1), class 1 perfectly (1), class 2 worst (0 of 4 pairs right).
    const probs = Float32Array.from([
      0.8,
      0.1,
      0.1, //
      0.7,
      0.1,
      0.2, //
      0.1,
      0.8,
      0.1, //
      0.1,
      0.7,
      0.2, //
      0.5,
      0.4,
      0.1, //
      0.4,
      0.55,
      0.05,
    ]);
    const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);
    // class 0: pos {0.8,0.7} vs neg {0.1,0.1,0.5,0.4} -> 1; class 1: pos {0.8,0.7} vs {0.1,0.1,0.4,0.55} -> 1;
    // class 2: pos {0.1,0.05} vs neg {0.1,0.2,0.1,0.2}: 0.1 ties 0.1 twice (1), beats none -> 1/8.
    close(rocAuc(probs, labels), (1 + 1 + 1 / 8) / 3);
  });
});

describe("accuracy and friends", () => {
  const pred = Int32Array.from([0, 0, 0, 0, 0, 1, 0, 1]);
  const y = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1]);
  it("accuracy, balanced accuracy and confusion matrix", () => {
    close(accuracy(pred, y), 6 / 8);
    // recall class 0 = 5/6, class 1 = 1/2
    close(balancedAccuracy(pred, y), (5 / 6 + 1 / 2) / 2);
    assert.deepEqual(Array.from(confusionMatrix(pred, y)), [5, 1, 1, 1]);
  });
  it("predicting the majority class everywhere gets balanced accuracy 0.5", () => {
    close(balancedAccuracy(new Int32Array(8), y), 0.5);
  });
  it("thresholds a single score column at 0.5 for probabilities and 0 for logits", () => {
    assert.deepEqual(Array.from(predictClasses(Float32Array.from([0.2, 0.7, 0.5]), 3)), [0, 1, 0]);
    assert.deepEqual(Array.from(predictClasses(Float32Array.from([-2, 0.3, 1.5]), 3)), [0, 1, 1]);
  });
  it("rejects mismatched lengths", () => {
    assert.throws(
      () => accuracy(Int32Array.from([1]), Int32Array.from([1, 0])),
      /1 predictions for 2 labels/,
    );
    assert.throws(() => predictClasses(new Float32Array(5), 2), /do not form 2 rows/);
  });
});

describe("groups", () => {
  // A shortcut model: predicts z instead of y. Correct where y == z, wrong where y != z.
  const y = Int32Array.from([0, 0, 0, 1, 1, 1, 0, 1]);
  const z = Int32Array.from([0, 0, 0, 1, 1, 1, 1, 0]);
  const pred = z;
  it("per-group accuracy over (y, z)", () => {
    const g = groupAccuracies(pred, y, [z], ["sex"]);
    assert.deepEqual(
      g.map((s) => [s.label, s.n, s.accuracy]),
      [
        ["y=0, sex=0", 3, 1],
        ["y=0, sex=1", 1, 0],
        ["y=1, sex=0", 1, 0],
        ["y=1, sex=1", 3, 1],
      ],
    );
  });
  it("worst-group accuracy exposes the shortcut that mean accuracy hides", () => {
    const z2 = Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]);
    const r = worstGroupAccuracy(pred, y, [z, z2], { names: ["sex", "site"] });
    close(accuracy(pred, y), 0.75);
    assert.equal(r.worstAccuracy, 0);
    assert.equal(r.perFactor[0].worst.label, "y=0, sex=1");
    // The two errors (rows 6 and 7) fall in (y=0, site=0) and (y=1, site=1), each 2 of 3 right.
    close(r.perFactor[1].worst.accuracy, 2 / 3);
    assert.equal(r.perFactor[1].worst.label, "y=0, site=0");
    assert.equal(r.joint.groups.length, 6);
    assert.ok(r.jointWorstAccuracy <= r.worstAccuracy);
  });
  it("skips groups below the minimum size when choosing the worst", () => {
    const r = worstGroupAccuracy(pred, y, [z], { minGroupSize: 2 });
    assert.equal(r.worstAccuracy, 1);
  });
  it("gap between in-distribution and inverted accuracy", () => {
    const g = distributionGap(0.98, 0.03);
    close(g.gap, 0.95);
  });
});

describe("intervals", () => {
  it("normal quantile", () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-8);
    close(normalQuantile(0.5), 0, 1e-12);
    close(normalQuantile(0.001), -3.090232306167813, 1e-7);
  });
  it("Wilson interval matches a textbook value and stays inside [0, 1]", () => {
    // 8 of 10 at 95%: [0.4902, 0.9433] (e.g. Newcombe 1998, method 3).
    const w = wilsonInterval(8, 10);
    close(w.low, 0.4902, 1e-4);
    close(w.high, 0.9433, 1e-4);
    const z = wilsonInterval(0, 20);
    assert.equal(z.low, 0);
    close(z.high, 0.1611, 1e-4);
    assert.equal(wilsonInterval(20, 20).high, 1);
  });
  it("bootstrap is seeded and brackets the estimate", () => {
    const values = Float64Array.from({ length: 200 }, (_, i) => (i % 10) / 10);
    const mean = (idx: Int32Array) => idx.reduce((s, i) => s + values[i], 0) / idx.length;
    const a = bootstrapInterval(200, mean, { seed: 3, resamples: 400 });
    const b = bootstrapInterval(200, mean, { seed: 3, resamples: 400 });
    assert.deepEqual(a, b);
    assert.ok(a.low < 0.45 && a.high > 0.45, JSON.stringify(a));
    // standard error of the mean = sd / sqrt(n) ~ 0.287 / 14.1 = 0.020 -> width about 0.08
    assert.ok(a.high - a.low > 0.05 && a.high - a.low < 0.11, JSON.stringify(a));
  });
  it("evaluateTask reports every metric with intervals", () => {
    const n = 400;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const scores = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      // Correct for 3 of every 4 rows of each class.
      const right = i % 8 < 6;
      const p1 = (labels[i] === 1) === right ? 0.8 : 0.2;
      scores[2 * i] = 1 - p1;
      scores[2 * i + 1] = p1;
    }
    const e = evaluateTask(scores, labels, { bootstrap: 200, factors: [labels], factorNames: ["z"] });
    close(e.accuracy, 0.75);
    close(e.balancedAccuracy, 0.75);
    // P(pos above neg) = 0.75 * 0.75, ties (both 0.8 or both 0.2) = 2 * 0.75 * 0.25, counted half.
    close(e.auc, 0.75 * 0.75 + 0.5 * (2 * 0.75 * 0.25));
    assert.ok(e.accuracyCi.low < 0.75 && e.accuracyCi.high > 0.75);
    assert.ok(e.balancedAccuracyCi!.low < 0.75 && e.balancedAccuracyCi!.high > 0.75);
    assert.deepEqual(e.confusion, [150, 50, 50, 150]);
    assert.doesNotThrow(() => JSON.stringify(e));
  });
});

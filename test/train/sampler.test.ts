// The weighted sampler of the group-balanced peers: weightedDraw's frequencies, and the batch source
// that draws each epoch's rows by weight (the same rows for the same epoch, so resume holds).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as torch from "../../src/tensor/index.js";
import { arraySource } from "../../src/train/index.js";
import { weightedDraw } from "../../src/util/random.js";
import { shortcutDataset, TASK_NAMES } from "../methods/helpers.js";

torch.setNumThreads(1);

describe("weightedDraw", () => {
  it("draws each row with probability w_i / sum w (200,000 draws, within 4 standard errors)", () => {
    const w = [1, 0, 3, 0.5, 5.5];
    const n = 200_000;
    const counts = new Array(w.length).fill(0);
    for (const r of weightedDraw(w, n, 11)) counts[r]++;
    const total = w.reduce((a, b) => a + b, 0);
    w.forEach((wi, i) => {
      const p = wi / total;
      const se = Math.sqrt((p * (1 - p)) / n);
      assert.ok(Math.abs(counts[i] / n - p) <= 4 * se + 1e-12, `row ${i}: ${counts[i] / n} vs ${p}`);
    });
    assert.equal(counts[1], 0, "a row of weight 0 is never drawn");
    assert.equal(counts[3] > 0, true);
  });

  it("is a function of the seed", () => {
    const w = Array.from({ length: 50 }, (_, i) => 1 + (i % 7));
    assert.deepEqual(weightedDraw(w, 100, 3), weightedDraw(w, 100, 3));
    assert.notDeepEqual(weightedDraw(w, 100, 3), weightedDraw(w, 100, 4));
  });

  it("refuses negative, non-finite and all-zero weights, naming the row", () => {
    assert.throws(() => weightedDraw([1, -1], 3, 0), /weight 1 is -1/);
    assert.throws(() => weightedDraw([Number.NaN, 1], 3, 0), /weight 0 is NaN/);
    assert.throws(() => weightedDraw([0, 0], 3, 0), /sum to 0/);
  });
});

describe("arraySource with sampleWeights", () => {
  const ds = shortcutDataset(64, 5);
  // rows 0..15 weigh 0, the rest 1: no batch may hold one of the first 16 rows
  const w = Float64Array.from({ length: ds.length }, (_, r) => (r < 16 ? 0 : 1));
  const source = arraySource(ds, { batchSize: 16, tasks: TASK_NAMES, seed: 5, sampleWeights: w });
  const rowsOf = (epoch: number): number[] =>
    [...(source(epoch) as Iterable<() => { rows?: Int32Array }>)].flatMap((b) => [...(b().rows ?? [])]);

  it("an epoch has the split's length in rows, drawn only where the weight is positive", () => {
    const rows = rowsOf(0);
    assert.equal(rows.length, ds.length);
    assert.ok(
      rows.every((r) => r >= 16),
      "a row of weight 0 was drawn",
    );
    // with replacement: 64 draws from 48 rows repeat some (probability of none ~ 1e-12)
    assert.ok(new Set(rows).size < rows.length);
  });

  it("the same epoch gives the same rows (resume), another epoch other rows", () => {
    assert.deepEqual(rowsOf(2), rowsOf(2));
    assert.notDeepEqual(rowsOf(2), rowsOf(3));
  });

  it("under DDP every rank draws the same global order and takes its share of each batch", () => {
    const batchesOf = (shard?: { rank: number; worldSize: number }) =>
      [
        ...(arraySource(ds, { batchSize: 16, tasks: TASK_NAMES, seed: 5, sampleWeights: w, shard })(
          1,
        ) as Iterable<() => { rows?: Int32Array }>),
      ].map((b) => [...(b().rows ?? [])]);
    const whole = batchesOf();
    const r0 = batchesOf({ rank: 0, worldSize: 2 });
    const r1 = batchesOf({ rank: 1, worldSize: 2 });
    assert.equal(r0.length, whole.length);
    whole.forEach((rows, i) => {
      assert.deepEqual(
        [...r0[i], ...r1[i]].sort((a, b) => a - b),
        [...rows].sort((a, b) => a - b),
        `batch ${i}`,
      );
    });
  });

  it("refuses weights of another length", () => {
    assert.throws(
      () => arraySource(ds, { batchSize: 16, tasks: TASK_NAMES, sampleWeights: new Float64Array(3) }),
      /3 sample weights for a split of 64 rows/,
    );
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { apportion, interleave } from "../../src/data/splits/apportion.js";
import { type ConfoundedConfig, makeConfoundedSplits } from "../../src/data/splits/confounded.js";
import { countsToMarkdown } from "../../src/data/splits/counts.js";
import { Rng } from "../../src/util/random.js";

/** A pool with a natural binary spurion "sex": n rows per (y, sex) cell given by `cells`. */
function pool(cells: number[][]): { y: Int32Array; spurions: { sex: Int32Array } } {
  const y: number[] = [];
  const sex: number[] = [];
  cells.forEach((row, yy) => {
    row.forEach((n, s) => {
      for (let k = 0; k < n; k++) {
        y.push(yy);
        sex.push(s);
      }
    });
  });
  // Shuffle so the builder cannot depend on the row order.
  const idx = new Rng(1).shuffle(y.map((_, i) => i));
  return { y: Int32Array.from(idx, (i) => y[i]), spurions: { sex: Int32Array.from(idx, (i) => sex[i]) } };
}

test("apportion and interleave are exact", () => {
  assert.deepEqual(apportion(10, [1, 1, 1]), [4, 3, 3]);
  assert.deepEqual(apportion(450, [0.9, 0.1]), [405, 45]);
  const seq = interleave([3, 1]);
  assert.deepEqual(Array.from(seq).sort(), [0, 0, 0, 1]);
});

test("natural spurion: train/val at the ratio, inverted and balanced tests, exact counts, disjoint rows", () => {
  const cfg: ConfoundedConfig = {
    primary: { name: "y", numClasses: 2 },
    spurions: [{ name: "sex", numClasses: 2, ratio: 0.8, kind: "natural" }],
    pools: {
      all: pool([
        [700, 700],
        [700, 700],
      ]),
    },
    splits: [
      { name: "train", pool: "all", size: 1000, mode: "ratio" },
      { name: "val", pool: "all", size: 200, mode: "ratio" },
      { name: "test_inverted", pool: "all", size: 400, mode: "inverted" },
      { name: "test_balanced", pool: "all", size: 400, mode: "balanced" },
    ],
    seed: 7,
  };
  const [train, val, inv, bal] = makeConfoundedSplits(cfg);
  assert.deepEqual(train.counts.spurions[0].table, [
    [400, 100],
    [100, 400],
  ]);
  assert.equal(train.counts.spurions[0].pairedFraction, 0.8);
  assert.deepEqual(val.counts.spurions[0].table, [
    [80, 20],
    [20, 80],
  ]);
  assert.deepEqual(inv.counts.spurions[0].table, [
    [40, 160],
    [160, 40],
  ]);
  assert.deepEqual(bal.counts.spurions[0].table, [
    [100, 100],
    [100, 100],
  ]);
  // Rows really have the labels the split claims, and no row is in two splits.
  const p = cfg.pools.all;
  const seen = new Set<number>();
  for (const s of [train, val, inv, bal]) {
    s.rows.forEach((r, i) => {
      assert.equal(p.y[r], s.labels.y[i]);
      assert.equal(p.spurions!.sex[r], s.labels.sex[i]);
      assert.ok(!seen.has(r), `row ${r} reused in ${s.name}`);
      seen.add(r);
    });
  }
  // Deterministic given the seed; a different seed draws different rows.
  const again = makeConfoundedSplits(cfg);
  assert.deepEqual(again[0].rows, train.rows);
  const other = makeConfoundedSplits({ ...cfg, seed: 8 });
  assert.notDeepEqual(other[0].rows, train.rows);
  const md = countsToMarkdown(train.counts);
  assert.match(md, /\| 0 \| 400 \| 100 \| 500 \|/);
  assert.deepEqual(JSON.parse(JSON.stringify(train.counts)), train.counts);
});

test("infeasible ratio is refused with the counts that make it impossible; oversampling allows it", () => {
  const cfg: ConfoundedConfig = {
    primary: { name: "y", numClasses: 2 },
    spurions: [{ name: "sex", numClasses: 2, ratio: 0.9, kind: "natural" }],
    pools: {
      all: pool([
        [500, 30],
        [30, 500],
      ]),
    },
    splits: [{ name: "test_inverted", pool: "all", size: 400, mode: "inverted" }],
    seed: 0,
  };
  assert.throws(
    () => makeConfoundedSplits(cfg),
    (e: Error) => {
      assert.match(e.message, /split 'test_inverted'/);
      assert.match(e.message, /y=0, sex=1: needs 180, available 30/);
      assert.match(e.message, /y=1, sex=0: needs 180, available 30/);
      assert.match(e.message, /largest size these ratios allow: ~66/);
      return true;
    },
  );
  const [s] = makeConfoundedSplits({ ...cfg, oversample: true });
  assert.equal(s.rows.length, 400);
  assert.equal(s.oversampledRows, 300);
  assert.equal(s.counts.spurions[0].pairedFraction, 0.1);
});

test("multi-class and synthetic spurions: paired value gets the ratio, the rest is spread evenly; joint is near-product", () => {
  const y = new Int32Array(3000).map((_, i) => i % 2);
  const [s] = makeConfoundedSplits({
    primary: { name: "y", numClasses: 2 },
    spurions: [
      { name: "site", numClasses: 3, ratio: 0.7, kind: "synthetic", pairing: [2, 0] },
      { name: "tag", numClasses: 2, ratio: 0.9, kind: "synthetic" },
    ],
    pools: { p: { y } },
    splits: [{ name: "train", pool: "p", size: 1000, mode: "ratio" }],
    seed: 1,
  });
  assert.deepEqual(s.counts.spurions[0].table, [
    [75, 75, 350],
    [350, 75, 75],
  ]);
  assert.deepEqual(s.counts.spurions[1].table, [
    [450, 50],
    [50, 450],
  ]);
  // y=0, site=2 (paired), tag=0 (paired): 500 * 0.7 * 0.9 = 315.
  const cell = s.counts.joint.find((j) => j.y === 0 && j.z[0] === 2 && j.z[1] === 0);
  assert.ok(cell && Math.abs(cell.count - 315) <= 1, `joint cell ${cell?.count}`);
  assert.equal(new Set(s.rows).size, 1000);
});

test("pool problems are reported clearly", () => {
  assert.throws(
    () =>
      makeConfoundedSplits({
        primary: { name: "y", numClasses: 2 },
        spurions: [{ name: "sex", numClasses: 2, ratio: 0.9, kind: "natural" }],
        pools: { p: { y: [0, 1] } },
        splits: [{ name: "a", pool: "p", size: 2, mode: "ratio" }],
        seed: 0,
      }),
    /pool 'p' has no values for natural spurion 'sex'/,
  );
  assert.throws(
    () =>
      makeConfoundedSplits({
        primary: { name: "y", numClasses: 2 },
        spurions: [],
        pools: { p: { y: [0, 1] } },
        splits: [{ name: "a", pool: "q", size: 2, mode: "ratio" }],
        seed: 0,
      }),
    /unknown pool 'q'/,
  );
});

/** Rows per y whose spurions all agree with y, all disagree, and the share with a_0 = a_1. */
function agreement(split: { labels: Record<string, Int32Array> }, names: string[]) {
  const y = split.labels.y;
  let same01 = 0;
  const perZ = names.map(() => 0);
  let all = 0;
  let none = 0;
  for (let r = 0; r < y.length; r++) {
    const a = names.map((n) => split.labels[n][r] === y[r]);
    a.forEach((v, i) => {
      if (v) perZ[i]++;
    });
    if (a[0] === a[1]) same01++;
    if (a.every(Boolean)) all++;
    if (a.every((v) => !v)) none++;
  }
  return { perZ: perZ.map((k) => k / y.length), same01: same01 / y.length, all, none };
}

test("coupled spurions: the inverted test flips every agreement with y and keeps their agreement with each other", () => {
  const names = ["z0", "z1", "z2"];
  const cfg = (coupling: number): ConfoundedConfig => ({
    primary: { name: "y", numClasses: 2 },
    spurions: names.map((name) => ({ name, numClasses: 2, ratio: 0.9, kind: "synthetic" as const })),
    pools: { train: { y: Int32Array.from({ length: 4000 }, (_, i) => i % 2) } },
    splits: [
      { name: "train", pool: "train", size: 2000, mode: "ratio" },
      { name: "test_inverted", pool: "train", size: 1000, mode: "inverted" },
      { name: "test_balanced", pool: "train", size: 1000, mode: "balanced" },
    ],
    seed: 3,
    coupling,
  });
  const [train, inv, bal] = makeConfoundedSplits(cfg(0.8));
  const [itrain, iinv] = makeConfoundedSplits(cfg(0));
  const t = agreement(train, names);
  const i = agreement(inv, names);
  const b = agreement(bal, names);
  // Marginals are exact in every mode: 0.9 in train, 0.1 inverted, 0.5 balanced.
  for (const s of train.counts.spurions) assert.equal(s.pairedFraction, 0.9);
  for (const s of inv.counts.spurions) assert.equal(s.pairedFraction, 0.1);
  for (const s of bal.counts.spurions)
    assert.deepEqual(s.table, [
      [250, 250],
      [250, 250],
    ]);
  // Per y = 1000 train rows: 800 coupled (720 agree on all three, 80 on none) + 200 independent
  // (180 agreeing per spurion, spread as a product: ~146 on all, ~0 .. 1 on none).
  assert.ok(t.all >= 2 * (720 + 140) && t.all <= 2 * (720 + 150), `train rows agreeing on all: ${t.all}`);
  // Inverted (half the size): the same with agreement and disagreement swapped.
  assert.ok(Math.abs(i.none - t.all / 2) <= 4, `inverted none ${i.none} vs train all ${t.all} / 2`);
  assert.ok(Math.abs(i.all - t.none / 2) <= 4, `inverted all ${i.all} vs train none ${t.none} / 2`);
  // P(a_0 = a_1): 0.8 + 0.2 * (0.81 + 0.01) = 0.964, kept by the inversion; independent: 0.82.
  assert.ok(Math.abs(t.same01 - 0.964) < 0.01, `train P(a0 = a1) = ${t.same01}`);
  assert.ok(Math.abs(i.same01 - t.same01) < 0.01, `inverted ${i.same01} vs train ${t.same01}`);
  // Balanced keeps the coupling too: z_i uniform given y, but z_0 = z_1 in 0.8 + 0.2 * 0.5 of rows.
  assert.ok(Math.abs(b.same01 - 0.9) < 0.01, `balanced P(a0 = a1) = ${b.same01}`);
  const ti = agreement(itrain, names);
  assert.ok(Math.abs(ti.same01 - 0.82) < 0.01 && Math.abs(agreement(iinv, names).same01 - 0.82) < 0.01);
  // Joint counts: the inverted joint table is the train table (halved) with every z flipped.
  const key = (y: number, z: number[]) => `${y}|${z.join(",")}`;
  const trainJoint = new Map(train.counts.joint.map((j) => [key(j.y, j.z), j.count]));
  for (const j of inv.counts.joint) {
    const mirrored =
      trainJoint.get(
        key(
          j.y,
          j.z.map((v) => 1 - v),
        ),
      ) ?? 0;
    assert.ok(Math.abs(j.count - mirrored / 2) <= 2, `${key(j.y, j.z)}: ${j.count} vs ${mirrored / 2}`);
  }
  assert.throws(() => makeConfoundedSplits({ ...cfg(1.5) }), /coupling must be in \[0,1\], got 1.5/);
});

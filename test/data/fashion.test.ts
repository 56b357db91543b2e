import assert from "node:assert/strict";
import { test } from "node:test";
import { fashionConfounded } from "../../src/data/benchmarks/fashion-confounded.js";
import { loadFashionMnist } from "../../src/data/io/fashion-mnist.js";
import { fashionMnistDataset } from "../../src/data/sources/fashion-mnist.js";
import { applySpurions } from "../../src/data/spurions/compose.js";
import { hashSeed, hashString } from "../../src/util/random.js";

test("Fashion-MNIST: counts, first labels, pixel range, class balance", () => {
  const tr = loadFashionMnist("train");
  const te = loadFashionMnist("test");
  assert.equal(tr.count, 60000);
  assert.equal(te.count, 10000);
  assert.equal(tr.height, 28);
  assert.equal(tr.width, 28);
  assert.equal(tr.labels[0], 9);
  assert.equal(te.labels[0], 9);
  assert.equal(tr.images.length, 60000 * 784);
  let mn = 255;
  let mx = 0;
  for (const v of tr.images) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  assert.equal(mn, 0);
  assert.equal(mx, 255);
  const perClass = new Array(10).fill(0);
  for (const l of tr.labels) perClass[l]++;
  assert.deepEqual(perClass, new Array(10).fill(6000));
});

test("Fashion-MNIST dataset: class subset is relabelled and scaled to [0,1]", () => {
  const ds = fashionMnistDataset("test", { classes: [5, 7] });
  assert.equal(ds.length, 2000);
  assert.deepEqual(ds.itemShape, [1, 28, 28]);
  assert.ok(ds.labels.y.every((v) => v === 0 || v === 1));
  assert.equal(Math.max(...ds.images.subarray(0, 784 * 20)), 1);
});

test("fashion-confounded: exact group counts, ratios, disjoint pools, images carry the spurions", () => {
  const b = fashionConfounded({
    trainSize: 4000,
    valSize: 1000,
    oracleSize: 4000,
    testInvertedSize: 1000,
    testBalancedSize: 1000,
  });
  const byName = Object.fromEntries(b.counts.map((c) => [c.split, c]));
  for (const s of ["train", "val"]) {
    const c = byName[s];
    for (const sp of c.spurions) {
      assert.equal(sp.pairedFraction, 0.9);
      const half = c.size / 2;
      assert.deepEqual(sp.table, [
        [half * 0.9, half * 0.1],
        [half * 0.1, half * 0.9],
      ]);
    }
  }
  for (const sp of byName.test_inverted.spurions) assert.equal(sp.pairedFraction, 0.1);
  for (const sp of byName.test_balanced.spurions)
    assert.deepEqual(sp.table, [
      [250, 250],
      [250, 250],
    ]);
  // Joint of the balanced test: every (y, z0, z1) cell has 1000/8 rows.
  assert.ok(byName.test_balanced.joint.every((j) => j.count === 125));
  for (const sp of byName.train_oracle.spurions) assert.equal(sp.pairedFraction, 0.5);

  const tr = new Set(b.splits.train.sourceIndex);
  const va = new Set(b.splits.val.sourceIndex);
  assert.equal(tr.size, 4000, "no train row used twice");
  assert.ok(
    [...va].every((r) => !tr.has(r)),
    "train and val are disjoint",
  );
  assert.ok(
    [...b.splits.train_oracle.sourceIndex!].every((r) => !va.has(r)),
    "oracle never uses val rows",
  );

  // The marker patch is there exactly when z0 = 1.
  const ds = b.splits.train;
  for (let i = 0; i < ds.length; i++) {
    let full = true;
    for (let y = 1; y < 5; y++)
      for (let x = 1; x < 5; x++) if (ds.images[i * 784 + y * 28 + x] !== 1) full = false;
    assert.equal(full, ds.labels.z0[i] === 1, `item ${i}`);
  }
  // Pixels are reproducible from the raw image, the labels and the seed.
  const raw = loadFashionMnist("train");
  for (const i of [0, 17, 999]) {
    const r = ds.sourceIndex![i];
    const src = Float32Array.from(raw.images.subarray(r * 784, (r + 1) * 784), (v) => v / 255);
    const img = applySpurions(
      { data: src, shape: [1, 28, 28] },
      b.config.spurions,
      [ds.labels.z0[i], ds.labels.z1[i]],
      hashSeed(0, hashString("train"), i),
    );
    assert.deepEqual(Array.from(img.data), Array.from(ds.images.subarray(i * 784, (i + 1) * 784)));
    // y agrees with the Fashion-MNIST class (Pullover = 2 -> 0, Coat = 4 -> 1).
    assert.equal(raw.labels[r], ds.labels.y[i] === 0 ? 2 : 4);
  }
  assert.deepEqual(
    b.tasks.map((t) => t.name),
    ["y", "z0", "z1"],
  );
  JSON.parse(JSON.stringify({ counts: b.counts, config: b.config }));
});

test("fashion-confounded: same seed -> same data, other seed -> other rows; impossible sizes are refused", () => {
  const small = {
    trainSize: 400,
    valSize: 100,
    oracleSize: 400,
    testInvertedSize: 200,
    testBalancedSize: 200,
  };
  const a = fashionConfounded({ ...small, seed: 3 });
  const b = fashionConfounded({ ...small, seed: 3 });
  const c = fashionConfounded({ ...small, seed: 4 });
  assert.deepEqual(a.splits.train.images, b.splits.train.images);
  assert.deepEqual(a.splits.val.labels, b.splits.val.labels);
  assert.notDeepEqual(a.splits.train.sourceIndex, c.splits.train.sourceIndex);
  assert.throws(
    () => fashionConfounded({ ...small, trainSize: 12000, valSize: 2000 }),
    /split 'val'.*cannot be met[\s\S]*needs 1000, available 0/,
  );
});

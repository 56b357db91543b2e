import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { DataLoader } from "../../src/data/loader.js";
import type { FileDataset } from "../../src/data/pipeline.js";
import type { Batch, InMemoryDataset } from "../../src/data/types.js";
import { pngGray, tempDir, writeFile } from "./helpers.js";

function memDataset(n: number): InMemoryDataset {
  const images = new Float32Array(n * 4).map((_, i) => Math.floor(i / 4));
  return {
    name: "m",
    images,
    itemShape: [1, 2, 2],
    labels: { y: Int32Array.from({ length: n }, (_, i) => i % 3) },
    length: n,
  };
}

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test("in-memory loader: every item once per epoch, labels follow items, order = f(seed, epoch)", () => {
  const ds = memDataset(103);
  const l = new DataLoader(ds, { batchSize: 10, seed: 5 });
  assert.equal(l.numBatches, 11);
  const e0 = [...l.epochSync(0)];
  const seen = e0.flatMap((b) => Array.from(b.indices));
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 103 }, (_, i) => i),
  );
  for (const b of e0)
    b.indices.forEach((i, k) => {
      assert.equal(b.images[k * 4], i);
      assert.equal(b.labels.y[k], i % 3);
    });
  assert.deepEqual(e0[10].shape, [3, 1, 2, 2]);
  // Same seed + epoch -> same order (resume); another epoch or seed -> another order.
  const again = new DataLoader(ds, { batchSize: 10, seed: 5 });
  assert.deepEqual(again.order(3), l.order(3));
  assert.notDeepEqual(l.order(3), l.order(4));
  assert.notDeepEqual(new DataLoader(ds, { batchSize: 10, seed: 6 }).order(3), l.order(3));
  assert.equal(new DataLoader(ds, { batchSize: 10, dropLast: true }).numBatches, 10);
  assert.deepEqual(
    new DataLoader(ds, { batchSize: 10, shuffle: false }).order(0).subarray(0, 3),
    Int32Array.from([0, 1, 2]),
  );
  // Seeded augmentation on in-memory data is reproducible too.
  const aug = { batchSize: 10, seed: 1, augment: [{ type: "randomFlip" as const, axes: [1], p: 0.5 }] };
  assert.deepEqual([...new DataLoader(ds, aug).epochSync(2)], [...new DataLoader(ds, aug).epochSync(2)]);
});

function fileDataset(n: number): { ds: FileDataset; dir: string } {
  const dir = tempDir();
  const items = [];
  for (let i = 0; i < n; i++) {
    const px = Array.from({ length: 12 * 10 }, (_, k) => (k * 3 + i * 11) % 256);
    items.push({
      path: writeFile(dir, `i${i}.png`, pngGray(10, 12, px)),
      labels: { y: i % 2, z: i % 3 === 0 ? 1 : 0 },
    });
  }
  const ds: FileDataset = {
    name: "files",
    items,
    itemShape: [1, 16, 16],
    labelNames: ["y", "z"],
    pipeline: {
      transforms: [
        { type: "padToSquare" },
        { type: "resize", size: [16, 16] },
        { type: "randomFlip", axes: [1] },
        { type: "randomAffine", maxDegrees: 10 },
        { type: "intensityJitter", brightness: 0.1 },
      ],
      onError: "skip",
    },
  };
  return { ds, dir };
}

test("worker loader yields exactly the batches of the main-thread loader; cache avoids re-decoding", async () => {
  const { ds, dir } = fileDataset(23);
  const plain = new DataLoader(ds, { batchSize: 5, seed: 9 });
  const workers = new DataLoader(ds, { batchSize: 5, seed: 9, numWorkers: 2, prefetch: 3 });
  try {
    const a0 = await collect(plain.epoch(0));
    const b0 = await collect(workers.epoch(0));
    assert.equal(a0.length, 5);
    assert.deepEqual(b0, a0);
    // Delete every file: epoch 1 must come from the caches, with fresh augmentation.
    rmSync(dir, { recursive: true });
    const a1 = await collect(plain.epoch(1));
    const b1 = await collect(workers.epoch(1));
    assert.deepEqual(b1, a1);
    assert.equal(workers.summary().skipped.length, 0, "nothing was decoded again");
    assert.notDeepEqual(a1[0].images, a0[0].images);
    for (const b of a1)
      b.indices.forEach((i, k) => {
        assert.equal(b.labels.y[k], i % 2);
      });
  } finally {
    await workers.close();
  }
});

test("file loader without cache reports unreadable files once each and keeps going", async () => {
  const { ds, dir } = fileDataset(6);
  rmSync(`${dir}/i2.png`);
  const l = new DataLoader(ds, { batchSize: 4, shuffle: false, cache: false });
  const b = await collect(l.epoch(0));
  assert.deepEqual(
    b.map((x) => x.indices.length),
    [3, 2],
  );
  await collect(l.epoch(1));
  assert.deepEqual(
    l.summary().skipped.map((s) => s.index),
    [2],
  );
  assert.match(l.summary().skipped[0].error, /i2\.png: cannot read file \(ENOENT\)/);
  const fatal = new DataLoader(
    { ...ds, pipeline: { ...ds.pipeline, onError: "fatal" } },
    { batchSize: 4, shuffle: false },
  );
  await assert.rejects(collect(fatal.epoch(0)), /i2\.png/);
});

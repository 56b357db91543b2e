import assert from "node:assert/strict";
import { readdirSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DataLoader, defaultWorkerCount } from "../../src/data/loader.js";
import type { FileDataset } from "../../src/data/pipeline.js";
import { resolveCacheDir } from "../../src/data/prepared-cache.js";
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

test("default worker count: the cores divided by the processes per node (torchrun's env)", () => {
  assert.equal(defaultWorkerCount({}, 16), 16);
  assert.equal(
    defaultWorkerCount({ LOCAL_WORLD_SIZE: "4", WORLD_SIZE: "8" }, 16),
    4,
    "LOCAL_WORLD_SIZE wins",
  );
  assert.equal(defaultWorkerCount({ WORLD_SIZE: "3" }, 16), 5);
  assert.equal(defaultWorkerCount({ WORLD_SIZE: "8" }, 2), 1, "never below one");
  assert.throws(
    () => defaultWorkerCount({ LOCAL_WORLD_SIZE: "two" }, 4),
    /LOCAL_WORLD_SIZE must be a positive integer.*"two"/,
  );
  assert.throws(
    () => new DataLoader(fileDataset(1).ds, { batchSize: 2, numWorkers: -1 }),
    /numWorkers must be an integer >= 0 or "auto", got -1/,
  );
});

/** Every entry file under the cache folder (no temp files may be left). */
function cacheFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

test("disk cache: two loaders with two workers each fill one cache at once; every entry whole, then all hits", async () => {
  const { ds } = fileDataset(24);
  const cacheDir = tempDir("mimmx-cache-");
  const fixed: FileDataset = {
    ...ds,
    pipeline: { ...ds.pipeline, transforms: ds.pipeline.transforms.slice(0, 2) },
  };
  const reference = await collect(new DataLoader(fixed, { batchSize: 6, shuffle: false }).epoch(0));
  const writers = [0, 1].map(
    () =>
      new DataLoader(fixed, {
        batchSize: 6,
        shuffle: false,
        numWorkers: 2,
        cache: false,
        diskCache: cacheDir,
      }),
  );
  try {
    const [a, b] = await Promise.all(writers.map((l) => collect(l.epoch(0))));
    assert.deepEqual(a, reference);
    assert.deepEqual(b, reference);
  } finally {
    await Promise.all(writers.map((l) => l.close()));
  }
  const files = cacheFiles(cacheDir);
  assert.equal(files.length, 24, `one entry per image, no temp files: ${files.filter((f) => /tmp/.test(f))}`);
  assert.ok(files.every((f) => f.endsWith(".f32")));
  const reader = new DataLoader(fixed, { batchSize: 6, shuffle: false, diskCache: cacheDir });
  assert.deepEqual(await collect(reader.epoch(0)), reference);
  assert.equal(reader.summary().diskCacheHits, 24);
  // Random transforms after the cached prefix still run every epoch, seeded as without the cache.
  const aug = new DataLoader(ds, { batchSize: 6, seed: 4, diskCache: cacheDir });
  assert.deepEqual(
    await collect(aug.epoch(3)),
    await collect(new DataLoader(ds, { batchSize: 6, seed: 4 }).epoch(3)),
  );
  assert.equal(aug.summary().diskCacheHits, 24);
});

test("disk cache never returns a stale entry: same size and restored mtime still miss; partial entries are misses", async () => {
  const { ds } = fileDataset(3);
  const cacheDir = tempDir("mimmx-cache-");
  const opts = { batchSize: 3, shuffle: false, cache: false, diskCache: cacheDir } as const;
  const fixed: FileDataset = {
    ...ds,
    pipeline: { ...ds.pipeline, transforms: ds.pipeline.transforms.slice(0, 2) },
  };
  // A whole-second mtime, so putting it back below restores it to the nanosecond.
  const path = ds.items[1].path;
  const mtime = new Date(1_700_000_000_000);
  utimesSync(path, mtime, mtime);
  const first = await collect(new DataLoader(fixed, opts).epoch(0));
  // Rewrite item 1 with other pixels of the same size and put its old mtime back (as rsync -t
  // would): only the status-change time (ctime) tells the two versions apart.
  const { size } = statSync(path);
  const mtimeNs = statSync(path, { bigint: true }).mtimeNs;
  let replacement: Buffer | undefined;
  for (let s = 1; s < 2000 && !replacement; s++) {
    const candidate = pngGray(
      10,
      12,
      Array.from({ length: 120 }, (_, k) => (k * s + 5) % 256),
    );
    if (candidate.length === size) replacement = candidate;
  }
  assert.ok(replacement, "found other pixels with the same PNG size");
  writeFileSync(path, replacement);
  utimesSync(path, mtime, mtime);
  assert.equal(statSync(path).size, size);
  assert.equal(statSync(path, { bigint: true }).mtimeNs, mtimeNs, "mtime restored exactly");
  const l = new DataLoader(fixed, opts);
  const second = await collect(l.epoch(0));
  assert.equal(l.summary().diskCacheHits, 2, "only the unchanged files hit");
  const fresh = await collect(new DataLoader(fixed, { batchSize: 3, shuffle: false }).epoch(0));
  assert.deepEqual(second, fresh);
  assert.notDeepEqual(second[0].images.subarray(256, 512), first[0].images.subarray(256, 512));
  // Truncate every entry (a writer that died mid-write without the rename protocol): all misses,
  // same values, and the entries are rewritten whole.
  for (const f of cacheFiles(cacheDir)) truncateSync(f, 100);
  const third = new DataLoader(fixed, opts);
  assert.deepEqual(await collect(third.epoch(0)), fresh);
  assert.equal(third.summary().diskCacheHits, 0);
  const fourth = new DataLoader(fixed, opts);
  assert.deepEqual(await collect(fourth.epoch(0)), fresh);
  assert.equal(fourth.summary().diskCacheHits, 3);
});

test("disk cache: another pipeline is another key; an unwritable folder is reported once and loading goes on", async () => {
  const { ds } = fileDataset(4);
  const cacheDir = tempDir("mimmx-cache-");
  const fixed = (size: number): FileDataset => ({
    ...ds,
    itemShape: [1, size, size],
    pipeline: {
      ...ds.pipeline,
      transforms: [{ type: "padToSquare" }, { type: "resize", size: [size, size] }],
    },
  });
  await collect(new DataLoader(fixed(16), { batchSize: 4, diskCache: cacheDir }).epoch(0));
  const other = new DataLoader(fixed(8), { batchSize: 4, diskCache: cacheDir });
  const b = await collect(other.epoch(0));
  assert.equal(other.summary().diskCacheHits, 0);
  assert.deepEqual(b[0].shape, [4, 1, 8, 8]);
  assert.equal(cacheFiles(cacheDir).length, 8);
  const blocked = join(cacheDir, "a-file");
  writeFileSync(blocked, "not a folder");
  const l = new DataLoader(fixed(16), { batchSize: 2, shuffle: false, diskCache: join(blocked, "cache") });
  const got = await collect(l.epoch(0));
  assert.equal(got.length, 2);
  assert.equal(l.summary().warnings.length, 1);
  assert.match(l.summary().warnings[0], /data cache: cannot write to .*a-file\/cache.*continuing without/);
});

test("cache folder: off switch, explicit folder, MIMMX_CACHE_DIR, else the user's XDG cache", () => {
  assert.equal(resolveCacheDir(false, "/data", { MIMMX_CACHE_DIR: "/fast" }), false);
  assert.equal(resolveCacheDir("/x/c", "/data", {}), "/x/c");
  assert.equal(resolveCacheDir("c", "/data", {}), "/data/c");
  assert.equal(resolveCacheDir(true, "/data", { MIMMX_CACHE_DIR: "/fast" }), "/fast");
  // by default the user's cache, never the data folder (XDG base directories; a relative
  // XDG_CACHE_HOME is invalid there and ignored)
  assert.equal(resolveCacheDir(undefined, "/data", {}, "/home/u"), "/home/u/.cache/mimmx");
  assert.equal(resolveCacheDir(true, "/data", { XDG_CACHE_HOME: "/xdg" }, "/home/u"), "/xdg/mimmx");
  assert.equal(resolveCacheDir(true, "/data", { XDG_CACHE_HOME: "rel" }, "/home/u"), "/home/u/.cache/mimmx");
});

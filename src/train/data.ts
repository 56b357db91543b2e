// Where the training loop gets its batches. A BatchSource must give the same batches for the same
// epoch every time it is asked (data order is a function of seed and epoch): resume relies on it to
// skip to the exact batch where a run stopped.

import { perRankBatchSize, rankShare, type Shard } from "../dist/sampler.js";
import { type Batch, type DataBatch, type TaskNames, toBatch } from "../methods/batch.js";
import type { Device } from "../tensor/tensor.js";
import { hashSeed, permutation, weightedDraw } from "../util/random.js";

/** Batches of one epoch; called once per epoch. Batches are converted to tensors lazily, per step. */
export type BatchSource = (epoch: number) => Iterable<() => Batch> | AsyncIterable<() => Batch>;

/** An in-memory split (the data layer's InMemoryDataset, restated). */
export interface ArrayDataset {
  images: Float32Array;
  /** shape of one item, without N */
  itemShape: number[];
  labels: Record<string, Int32Array>;
  length: number;
}

export interface ArraySourceOptions {
  batchSize: number;
  tasks: TaskNames;
  /** data-order seed (default 0) */
  seed?: number;
  shuffle?: boolean;
  /** drop a last batch smaller than batchSize (default true: BatchNorm and MI need full batches) */
  dropLast?: boolean;
  /**
   * Random augmentation of each item (training data only), e.g. the data layer's Compose. Its
   * seed is a function of (seed, epoch, row), so an epoch's batches are the same every time they
   * are asked for (resume) and the dataset itself is never changed.
   */
  augment?: Augmentation;
  /**
   * Distributed training: this rank's strided share of each global batch of batchSize rows
   * (src/dist/sampler.ts); batchSize stays the global batch, the same for every world size.
   */
  shard?: Shard;
  /** where the batches' tensors go: the method's device (Method.device); default "cpu" */
  device?: Device;
  /**
   * Weighted sampling (group-balanced peers): each epoch draws `length` rows with replacement,
   * row i with probability sampleWeights[i] / sum (torch's WeightedRandomSampler), a fresh draw per
   * epoch from (seed, epoch). Without it every row is seen once per epoch in shuffled order.
   */
  sampleWeights?: ArrayLike<number>;
}

/** A per-item transform drawn from a seed, such as src/data/transforms' Compose. */
export interface Augmentation {
  apply(img: { data: Float32Array; shape: number[] }, seed: number): { data: Float32Array; shape: number[] };
}

/** Salt of the augmentation seeds, so they differ from the data-order seeds of the same epoch. */
const AUGMENT_SALT = 0xa06e;

/** The seed of row `row`'s augmentation in `epoch`. */
export function augmentSeed(seed: number, epoch: number, row: number): number {
  return hashSeed(seed, epoch, row, AUGMENT_SALT);
}

/** Salt of the weighted draws, so they differ from the shuffle of the same epoch. */
const SAMPLER_SALT = 0x5a3b;

/**
 * Shuffled mini-batches of an in-memory split; the order of epoch e is permutation(hashSeed(seed, e)),
 * or with sampleWeights the weighted draw weightedDraw(w, length, hashSeed(seed, e, SAMPLER_SALT)).
 */
export function arraySource(ds: ArrayDataset, o: ArraySourceOptions): BatchSource {
  if (o.shard) perRankBatchSize(o.batchSize, o.shard);
  const weights = o.sampleWeights;
  if (weights && weights.length !== ds.length)
    throw new Error(`arraySource: ${weights.length} sample weights for a split of ${ds.length} rows`);
  const itemSize = ds.itemShape.reduce((a, b) => a * b, 1);
  return function* (epoch: number) {
    const order = weights
      ? weightedDraw(weights, ds.length, hashSeed(o.seed ?? 0, epoch, SAMPLER_SALT))
      : o.shuffle === false
        ? Int32Array.from({ length: ds.length }, (_, i) => i)
        : permutation(ds.length, hashSeed(o.seed ?? 0, epoch));
    const dropLast = o.dropLast ?? true;
    for (let start = 0; start < ds.length; start += o.batchSize) {
      const idx = order.subarray(start, Math.min(ds.length, start + o.batchSize));
      if (dropLast && idx.length < o.batchSize) break;
      const rows = o.shard ? rankShare(idx, o.shard.rank, o.shard.worldSize) : idx;
      yield () => {
        const b = gatherBatch(ds, rows, itemSize);
        if (o.augment)
          augmentBatch(b, ds.itemShape, o.augment, (row) => augmentSeed(o.seed ?? 0, epoch, row));
        return toBatch(b, o.tasks, o.device ?? "cpu");
      };
    }
  };
}

/** Copies the rows idx of a dataset into one data-layer batch. */
export function gatherBatch(ds: ArrayDataset, idx: Int32Array, itemSize: number): DataBatch {
  const images = new Float32Array(idx.length * itemSize);
  idx.forEach((r, i) => {
    images.set(ds.images.subarray(r * itemSize, (r + 1) * itemSize), i * itemSize);
  });
  const labels: Record<string, Int32Array> = {};
  for (const [name, col] of Object.entries(ds.labels)) labels[name] = Int32Array.from(idx, (r) => col[r]);
  return { images, shape: [idx.length, ...ds.itemShape], labels, indices: Int32Array.from(idx) };
}

/** Replaces every item of a gathered batch by its augmented version (same shape), in place. */
function augmentBatch(
  b: DataBatch,
  itemShape: number[],
  augment: Augmentation,
  seedOf: (row: number) => number,
): void {
  const size = itemShape.reduce((a, c) => a * c, 1);
  const rows = b.indices;
  for (let i = 0; i < rows.length; i++) {
    const item = { data: b.images.slice(i * size, (i + 1) * size), shape: itemShape.slice() };
    const out = augment.apply(item, seedOf(rows[i]));
    if (out.data.length !== size)
      throw new Error(`augmentation changed the item shape [${itemShape}] to [${out.shape}]`);
    b.images.set(out.data, i * size);
  }
}

/** Adapts any per-epoch iterable of data-layer batches (e.g. the data layer's loader). */
export function dataBatchSource(
  batches: (epoch: number) => Iterable<DataBatch> | AsyncIterable<DataBatch>,
  tasks: TaskNames,
  device: Device = "cpu",
): BatchSource {
  return (epoch) => {
    const src = batches(epoch);
    if (Symbol.asyncIterator in src) {
      return (async function* () {
        for await (const b of src as AsyncIterable<DataBatch>) yield () => toBatch(b, tasks, device);
      })();
    }
    return (function* () {
      for (const b of src as Iterable<DataBatch>) yield () => toBatch(b, tasks, device);
    })();
  };
}

// Turning one file-backed item into its final array: read -> deterministic transforms (cached) ->
// random transforms (seeded per epoch and item). The same class runs on the main thread and inside
// loader workers, which is why batches are identical with and without workers.

import { hashSeed, Rng } from "../util/random.js";
import { ImageDecodeError } from "./io/errors.js";
import { type ReadOptions, readImage } from "./io/read.js";
import { applyTransform, Compose, type TransformSpec } from "./transforms/compose.js";
import type { ImageArray, TaskInfo } from "./types.js";

export interface FileItem {
  path: string;
  /** Label per task name; -1 = unknown (masked). */
  labels: Record<string, number>;
  /** Transforms applied before the dataset-wide ones (e.g. which slice of a volume this item is). */
  pre?: TransformSpec[];
}

export interface PipelineSpec {
  read?: ReadOptions;
  transforms: TransformSpec[];
  /** What an unreadable image does: "skip" drops it and counts it in the summary; "fatal" throws. */
  onError?: "skip" | "fatal";
}

/** A dataset whose images are decoded on demand (see loader.ts and materialize()). */
export interface FileDataset {
  name: string;
  items: FileItem[];
  /** Shape every item has after the pipeline (without N); checked per item. */
  itemShape: number[];
  labelNames: string[];
  pipeline: PipelineSpec;
  tasks?: TaskInfo[];
}

export type ItemResult =
  | { index: number; data: Float32Array }
  | { index: number; error: string; path: string };

export class ItemProcessor {
  private readonly cache = new Map<number, ImageArray>();
  private readonly cacheable: TransformSpec[];
  private readonly perEpoch: TransformSpec[];

  constructor(
    private readonly ds: Pick<FileDataset, "items" | "itemShape" | "pipeline">,
    private readonly seed: number,
    private readonly useCache: boolean,
  ) {
    const split = new Compose(ds.pipeline.transforms).splitCacheable();
    this.cacheable = split.cacheable;
    this.perEpoch = split.perEpoch;
  }

  /** Decodes and preprocesses item `index` for `epoch`. Never throws for a bad file: returns the error. */
  process(index: number, epoch: number): ItemResult {
    const item = this.ds.items[index];
    let base = this.cache.get(index);
    try {
      if (!base) {
        let img = readImage(item.path, this.ds.pipeline.read);
        const rng = new Rng(hashSeed(this.seed, index));
        for (const t of item.pre ?? []) img = applyTransform(img, t, rng);
        for (const t of this.cacheable) img = applyTransform(img, t, rng);
        base = img;
        if (this.useCache) this.cache.set(index, base);
      }
      let img = base;
      if (this.perEpoch.length) {
        const rng = new Rng(hashSeed(this.seed, epoch, index, 0xa06));
        for (const t of this.perEpoch) img = applyTransform(img, t, rng);
      }
      const want = this.ds.itemShape;
      if (img.shape.length !== want.length || img.shape.some((s, i) => s !== want[i])) {
        throw new ImageDecodeError(
          item.path,
          `pipeline produced shape [${img.shape}], the dataset expects [${want}]`,
        );
      }
      // Always hand out a copy: the cached array must not be transferred or mutated by a consumer.
      // Also copy views into larger buffers, so a worker can transfer each item's buffer on its own.
      const d = img.data;
      const shared =
        (img === base && this.useCache) || d.byteOffset !== 0 || d.buffer.byteLength !== d.byteLength;
      return { index, data: shared ? new Float32Array(d) : d };
    } catch (e) {
      const msg = (e as Error).message;
      return { index, path: item.path, error: msg.includes(item.path) ? msg : `${item.path}: ${msg}` };
    }
  }

  get cachedCount(): number {
    return this.cache.size;
  }
}

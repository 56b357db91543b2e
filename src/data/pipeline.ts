// Turning one file-backed item into its final array: read (PNG/JPEG through sharp) -> deterministic
// transforms (cached in memory and, optionally, on disk) -> random transforms (seeded per epoch and
// item). The same class runs on the main thread and inside
// loader workers, which is why batches are identical with and without workers.

import { hashSeed, Rng } from "../util/random.js";
import { ImageDecodeError } from "./io/errors.js";
import type { ReadOptions } from "./io/read.js";
import { readImageFast } from "./io/sharp-decode.js";
import { fileIdentity, PreparedCache, sameIdentity } from "./prepared-cache.js";
import { applyTransform, Compose, isRandom, type TransformSpec } from "./transforms/compose.js";
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
  | { index: number; data: Float32Array; fromDiskCache?: boolean; warning?: string }
  | { index: number; error: string; path: string };

export interface ProcessorOptions {
  /** Keep prepared items in memory across epochs. */
  memoryCache: boolean;
  /** Folder of the on-disk cache of prepared items (prepared-cache.ts); false = off. */
  diskCache?: string | false;
}

export class ItemProcessor {
  private readonly cache = new Map<number, ImageArray>();
  private readonly cacheable: TransformSpec[];
  private readonly perEpoch: TransformSpec[];
  private disk: PreparedCache | null;
  private diskWarning: string | null = null;

  constructor(
    private readonly ds: Pick<FileDataset, "items" | "itemShape" | "pipeline">,
    private readonly seed: number,
    private readonly opts: ProcessorOptions,
  ) {
    const split = new Compose(ds.pipeline.transforms).splitCacheable();
    this.cacheable = split.cacheable;
    this.perEpoch = split.perEpoch;
    this.disk = opts.diskCache
      ? new PreparedCache(opts.diskCache, { read: ds.pipeline.read ?? {}, transforms: this.cacheable })
      : null;
  }

  /** Decodes and preprocesses item `index` for `epoch`. Never rejects for a bad file: returns the error. */
  async process(index: number, epoch: number): Promise<ItemResult> {
    const item = this.ds.items[index];
    try {
      let base = this.cache.get(index);
      let fromDiskCache = false;
      if (!base) {
        const prepared = await this.prepare(index);
        base = prepared.img;
        fromDiskCache = prepared.fromDisk;
        if (this.opts.memoryCache) this.cache.set(index, base);
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
        (img === base && this.opts.memoryCache) || d.byteOffset !== 0 || d.buffer.byteLength !== d.byteLength;
      const out: ItemResult = { index, data: shared ? new Float32Array(d) : d };
      if (fromDiskCache) out.fromDiskCache = true;
      if (this.diskWarning) {
        out.warning = this.diskWarning;
        this.diskWarning = null;
      }
      return out;
    } catch (e) {
      const msg = (e as Error).message;
      return { index, path: item.path, error: msg.includes(item.path) ? msg : `${item.path}: ${msg}` };
    }
  }

  /**
   * Processes `indices` with at most `inFlight` items at once (in the order given): enough decodes
   * overlap on libuv's thread pool to keep it busy, while a batch of large originals (a 2500x2000
   * 16-bit X-ray is 10 MB raw) is not all held in memory at the same time.
   */
  async processMany(indices: ArrayLike<number>, epoch: number, inFlight = 4): Promise<ItemResult[]> {
    const out = new Array<ItemResult>(indices.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < indices.length) {
        const k = next++;
        out[k] = await this.process(indices[k], epoch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, indices.length) }, lane));
    return out;
  }

  /** The item after decoding, its own transforms and the cacheable ones: from disk, or computed. */
  private async prepare(index: number): Promise<{ img: ImageArray; fromDisk: boolean }> {
    const item = this.ds.items[index];
    // Items run concurrently and a failed write turns the cache off for all: hold this one's view.
    const disk = this.disk;
    const before = disk ? fileIdentity(item.path) : null;
    // An item's own random transforms draw from (seed, index), so those belong to its key too.
    const pre = item.pre ?? [];
    const own = pre.some(isRandom) ? { pre, seed: this.seed, index } : { pre };
    const key = disk && before ? disk.key(item.path, before, own) : null;
    if (disk && key) {
      const hit = disk.get(key);
      if (hit) return { img: hit, fromDisk: true };
    }
    let img = await readImageFast(item.path, this.ds.pipeline.read);
    const rng = new Rng(hashSeed(this.seed, index));
    for (const t of pre) img = applyTransform(img, t, rng);
    for (const t of this.cacheable) img = applyTransform(img, t, rng);
    // Written only if the file did not change while it was read (else the entry could mix versions).
    const after = disk && key ? fileIdentity(item.path) : null;
    if (disk && key && before && after && sameIdentity(before, after) && this.disk) {
      try {
        disk.put(key, img);
      } catch (e) {
        // A read-only or full disk must not stop the run: say so once and stop caching.
        this.diskWarning = `data cache: cannot write to ${disk.dir} (${(e as Error).message}); continuing without the on-disk cache`;
        this.disk = null;
      }
    }
    return { img, fromDisk: false };
  }

  get cachedCount(): number {
    return this.cache.size;
  }
}

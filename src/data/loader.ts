// Batches for the training loop.
//
// - In-memory datasets (the whole split is one Float32Array): a batch is a copy of the selected
//   items on the main thread; that costs microseconds, so no workers are involved.
// - File-backed datasets: items are decoded and preprocessed by `node:worker_threads` workers, a
//   few batches ahead of the consumer (prefetch queue), so training does not wait on decoding.
//   Item i always goes to worker i mod W, which keeps its preprocessed result in a cache: from
//   epoch 2 on only the random (augmentation) transforms run again. With numWorkers = 0 the same
//   ItemProcessor runs on the main thread; the batches are identical either way. Each worker
//   keeps a few of its items in flight at once (sharp works on libuv's thread pool), so decoding
//   overlaps with the transforms of the items before. "auto" workers = the cores divided by the training
//   processes on this machine (defaultWorkerCount), so data preparation beside multi-process
//   training does not oversubscribe the cores.
// - Optionally an on-disk cache of prepared items (prepared-cache.ts), shared by all workers and
//   processes, so a later run skips decoding.
// - Order: a permutation that depends only on (seed, epoch), so a run resumed at epoch e sees
//   exactly the batches it would have seen.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { epochPermutation, hashSeed, Rng } from "../util/random.js";
import type { WorkerRequest, WorkerResponse } from "./loader-worker.js";
import { type FileDataset, ItemProcessor, type ItemResult } from "./pipeline.js";
import { applyTransform, isRandom, type TransformSpec } from "./transforms/compose.js";
import { type Batch, type InMemoryDataset, numel } from "./types.js";

export interface LoaderOptions {
  batchSize: number;
  /** Default true. When false, items come in dataset order every epoch. */
  shuffle?: boolean;
  seed?: number;
  /** Drop a last, smaller batch (keeps BatchNorm statistics sane). Default false. */
  dropLast?: boolean;
  /**
   * File-backed datasets only: worker threads (0 = decode on the main thread; "auto" =
   * defaultWorkerCount()). Default 0.
   */
  numWorkers?: number | "auto";
  /** Batches requested ahead of the consumer. Default 2. */
  prefetch?: number;
  /** Keep preprocessed items in memory across epochs. Default true. */
  cache?: boolean;
  /** In-memory datasets only: random transforms applied per item on the main thread. */
  augment?: TransformSpec[];
  /** File-backed datasets only: folder of the on-disk cache of prepared items; false/unset = off. */
  diskCache?: string | false;
}

/**
 * Worker threads that leave room for the other training processes on this machine: the cores
 * divided by the processes per node, read from torchrun's contract (LOCAL_WORLD_SIZE, else
 * WORLD_SIZE, else 1), at least 1.
 */
export function defaultWorkerCount(
  env: NodeJS.ProcessEnv = process.env,
  cores: number = availableParallelism(),
): number {
  let procs = 1;
  for (const name of ["LOCAL_WORLD_SIZE", "WORLD_SIZE"]) {
    const v = env[name];
    if (v === undefined || v === "") continue;
    const n = Number(v);
    if (!(Number.isInteger(n) && n >= 1))
      throw new Error(
        `${name} must be a positive integer (processes of a torchrun-style launch), got ${JSON.stringify(v)}`,
      );
    procs = n;
    break;
  }
  return Math.max(1, Math.floor(cores / procs));
}

export interface SkippedItem {
  index: number;
  path: string;
  error: string;
}

export interface LoaderSummary {
  items: number;
  /** Items that could not be read (policy "skip"), each reported once. */
  skipped: SkippedItem[];
  /** Items served from the on-disk cache (counted every time). */
  diskCacheHits: number;
  /** Problems that did not stop loading (e.g. a cache folder that cannot be written), once each. */
  warnings: string[];
}

function isInMemory(ds: InMemoryDataset | FileDataset): ds is InMemoryDataset {
  return (ds as InMemoryDataset).images instanceof Float32Array;
}

export class DataLoader {
  readonly length: number;
  private readonly opts: Required<Omit<LoaderOptions, "augment" | "numWorkers" | "diskCache">> & {
    augment: TransformSpec[];
    numWorkers: number;
    diskCache: string | false;
  };
  private workers: Worker[] = [];
  private local: ItemProcessor | null = null;
  private readonly skipped = new Map<number, SkippedItem>();
  private readonly warnings = new Set<string>();
  private diskCacheHits = 0;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void }
  >();
  private inflight = 0;

  constructor(
    readonly dataset: InMemoryDataset | FileDataset,
    opts: LoaderOptions,
  ) {
    if (!(opts.batchSize >= 1)) throw new Error(`DataLoader: batchSize must be >= 1, got ${opts.batchSize}`);
    this.opts = {
      batchSize: opts.batchSize,
      shuffle: opts.shuffle ?? true,
      seed: opts.seed ?? 0,
      dropLast: opts.dropLast ?? false,
      numWorkers: isInMemory(dataset)
        ? 0
        : opts.numWorkers === "auto"
          ? defaultWorkerCount()
          : (opts.numWorkers ?? 0),
      prefetch: Math.max(1, opts.prefetch ?? 2),
      cache: opts.cache ?? true,
      augment: opts.augment ?? [],
      diskCache: opts.diskCache ?? false,
    };
    if (!(Number.isInteger(this.opts.numWorkers) && this.opts.numWorkers >= 0))
      throw new Error(`DataLoader: numWorkers must be an integer >= 0 or "auto", got ${opts.numWorkers}`);
    this.length = isInMemory(dataset) ? dataset.length : dataset.items.length;
  }

  /** Number of batches per epoch. */
  get numBatches(): number {
    const b = this.opts.batchSize;
    return this.opts.dropLast ? Math.floor(this.length / b) : Math.ceil(this.length / b);
  }

  /** Item order of an epoch (a pure function of seed and epoch). */
  order(epoch: number): Int32Array {
    if (this.opts.shuffle) return epochPermutation(this.length, this.opts.seed, epoch);
    const o = new Int32Array(this.length);
    for (let i = 0; i < o.length; i++) o[i] = i;
    return o;
  }

  private batchIndices(epoch: number): Int32Array[] {
    const ord = this.order(epoch);
    const out: Int32Array[] = [];
    for (let b = 0; b < this.numBatches; b++)
      out.push(ord.subarray(b * this.opts.batchSize, Math.min(ord.length, (b + 1) * this.opts.batchSize)));
    return out;
  }

  /** In-memory datasets: the batches of one epoch, synchronously. */
  *epochSync(epoch: number): Generator<Batch> {
    const ds = this.dataset;
    if (!isInMemory(ds))
      throw new Error("DataLoader.epochSync needs an in-memory dataset; use epoch() for files");
    const item = numel(ds.itemShape);
    for (const idx of this.batchIndices(epoch)) {
      const images = new Float32Array(idx.length * item);
      for (let k = 0; k < idx.length; k++) {
        const src = ds.images.subarray(idx[k] * item, (idx[k] + 1) * item);
        if (this.opts.augment.length === 0) images.set(src, k * item);
        else {
          const rng = new Rng(hashSeed(this.opts.seed, epoch, idx[k], 0xa06));
          let img = { data: src, shape: ds.itemShape };
          for (const t of this.opts.augment) img = applyTransform(img, t, rng);
          images.set(img.data, k * item);
        }
      }
      const labels: Record<string, Int32Array> = {};
      for (const [name, vals] of Object.entries(ds.labels)) {
        const l = new Int32Array(idx.length);
        for (let k = 0; k < idx.length; k++) l[k] = vals[idx[k]];
        labels[name] = l;
      }
      yield { images, shape: [idx.length, ...ds.itemShape], labels, indices: Int32Array.from(idx) };
    }
  }

  /** The batches of one epoch. File-backed datasets are decoded ahead of the consumer. */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    if (isInMemory(this.dataset)) {
      yield* this.epochSync(epoch);
      return;
    }
    const batches = this.batchIndices(epoch);
    const queue: Promise<ItemResult[]>[] = [];
    let next = 0;
    const fill = (): void => {
      while (next < batches.length && queue.length < this.opts.prefetch)
        queue.push(this.fetchItems(batches[next++], epoch));
    };
    fill();
    while (queue.length > 0) {
      const results = await queue.shift()!;
      fill();
      const batch = this.assemble(results);
      if (batch) yield batch;
    }
  }

  summary(): LoaderSummary {
    return {
      items: this.length,
      skipped: [...this.skipped.values()].sort((a, b) => a.index - b.index),
      diskCacheHits: this.diskCacheHits,
      warnings: [...this.warnings],
    };
  }

  /** Stops the workers. Safe to call more than once; a later epoch() restarts them. */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private assemble(results: ItemResult[]): Batch | null {
    const ds = this.dataset as FileDataset;
    const ok: { index: number; data: Float32Array }[] = [];
    for (const r of results) {
      if ("data" in r) {
        ok.push(r);
        if (r.fromDiskCache) this.diskCacheHits++;
        if (r.warning) this.warnings.add(r.warning);
      } else if ((ds.pipeline.onError ?? "fatal") === "fatal") {
        throw new Error(`unreadable image (item ${r.index}): ${r.error}`);
      } else if (!this.skipped.has(r.index))
        this.skipped.set(r.index, { index: r.index, path: r.path, error: r.error });
    }
    if (ok.length === 0) return null;
    const item = numel(ds.itemShape);
    const images = new Float32Array(ok.length * item);
    const labels: Record<string, Int32Array> = {};
    for (const name of ds.labelNames) labels[name] = new Int32Array(ok.length);
    ok.forEach((r, k) => {
      images.set(r.data, k * item);
      for (const name of ds.labelNames) labels[name][k] = ds.items[r.index].labels[name] ?? -1;
    });
    return {
      images,
      shape: [ok.length, ...ds.itemShape],
      labels,
      indices: Int32Array.from(ok, (r) => r.index),
    };
  }

  private fetchItems(indices: Int32Array, epoch: number): Promise<ItemResult[]> {
    const ds = this.dataset as FileDataset;
    const w = this.opts.numWorkers;
    if (w === 0) {
      this.local ??= new ItemProcessor(ds, this.opts.seed, {
        memoryCache: this.opts.cache,
        diskCache: this.opts.diskCache,
      });
      const proc = this.local;
      // Start on a later turn of the event loop so the consumer's awaits interleave fairly.
      return new Promise((resolve) => setImmediate(resolve)).then(() => proc.processMany(indices, epoch));
    }
    this.startWorkers();
    const shares: number[][] = Array.from({ length: w }, () => []);
    for (const i of indices) shares[i % w].push(i);
    const parts = shares.map((share, k) =>
      share.length ? this.request(k, { id: this.nextId++, epoch, indices: share }) : Promise.resolve([]),
    );
    return Promise.all(parts).then((lists) => {
      // Back into batch order: the order of `indices`, not of the workers.
      const byIndex = new Map<number, ItemResult>();
      for (const l of lists) for (const r of l) byIndex.set(r.index, r);
      return Array.from(indices, (i) => byIndex.get(i)!);
    });
  }

  private request(worker: number, req: WorkerRequest): Promise<ItemResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve: (r) => resolve(r.results), reject });
      this.setInflight(+1);
      this.workers[worker].postMessage(req);
    });
  }

  // Workers are unref'd while idle so a forgotten close() does not keep the process alive, and
  // ref'd while a request is in flight so the process does not exit under an awaiting consumer.
  private setInflight(delta: number): void {
    this.inflight += delta;
    for (const w of this.workers) {
      if (this.inflight > 0) w.ref();
      else w.unref();
    }
  }

  private startWorkers(): void {
    if (this.workers.length > 0) return;
    const ds = this.dataset as FileDataset;
    const data = {
      dataset: { items: ds.items, itemShape: ds.itemShape, pipeline: ds.pipeline },
      seed: this.opts.seed,
      options: { memoryCache: this.opts.cache, diskCache: this.opts.diskCache },
    };
    for (let k = 0; k < this.opts.numWorkers; k++) {
      const w = new Worker(new URL("./loader-worker.js", import.meta.url), { workerData: data });
      w.on("message", (r: WorkerResponse) => {
        const cb = this.pending.get(r.id);
        this.pending.delete(r.id);
        this.setInflight(-1);
        cb?.resolve(r);
      });
      w.on("error", (e) => {
        // A crashed worker must not leave the consumer waiting forever: fail every open request.
        const err = new Error(`data loader worker ${k} failed: ${e.message}`);
        for (const [id, cb] of this.pending) {
          this.pending.delete(id);
          this.setInflight(-1);
          cb.reject(err);
        }
      });
      this.workers.push(w);
    }
    this.setInflight(0);
  }
}

/**
 * Decodes a file-backed dataset once into an in-memory one (deterministic transforms only), e.g.
 * for small cohorts or evaluation splits. Unreadable items follow the pipeline's onError policy.
 */
export async function materialize(
  ds: FileDataset,
  opts: {
    numWorkers?: number | "auto";
    batchSize?: number;
    prefetch?: number;
    diskCache?: string | false;
  } = {},
): Promise<{ dataset: InMemoryDataset; summary: LoaderSummary }> {
  // Random transforms are dropped: a materialised split is the preprocessed data, not one draw.
  const fixed: FileDataset = {
    ...ds,
    pipeline: { ...ds.pipeline, transforms: ds.pipeline.transforms.filter((t) => !isRandom(t)) },
  };
  const loader = new DataLoader(fixed, {
    batchSize: opts.batchSize ?? 64,
    shuffle: false,
    numWorkers: opts.numWorkers ?? 0,
    prefetch: opts.prefetch,
    cache: false,
    diskCache: opts.diskCache,
  });
  const parts: Batch[] = [];
  try {
    for await (const b of loader.epoch(0)) parts.push(b);
  } finally {
    await loader.close();
  }
  const n = parts.reduce((a, b) => a + b.indices.length, 0);
  const item = numel(ds.itemShape);
  const images = new Float32Array(n * item);
  const labels: Record<string, Int32Array> = {};
  for (const name of ds.labelNames) labels[name] = new Int32Array(n);
  const sourceIndex = new Int32Array(n);
  let o = 0;
  for (const b of parts) {
    images.set(b.images, o * item);
    for (const name of ds.labelNames) labels[name].set(b.labels[name], o);
    sourceIndex.set(b.indices, o);
    o += b.indices.length;
  }
  return {
    dataset: {
      name: ds.name,
      images,
      itemShape: ds.itemShape.slice(),
      labels,
      length: n,
      tasks: ds.tasks,
      sourceIndex,
    },
    summary: loader.summary(),
  };
}

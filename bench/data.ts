// Data-layer throughput: images per second decoded and prepared.
//  - "xray_jpeg": 320x390 gray JPEG X-ray-like images (one component, as CheXpert ships them;
//    generated with sharp into a temp dir), read -> gray -> pad to square -> resize 224 -> min-max
//    -> CLAHE, measured
//      cold: no cache of any kind, every epoch decodes every file (what a first epoch or a run
//            without the cache pays), on the main thread and with worker threads;
//      warm: the on-disk cache of prepared items filled by an earlier pass (a second run).
//    Wall-clock rates depend on what else the machine runs; cpu_ms_per_image (all threads of this
//    process) is the steadier figure.
//  - "fashion_confounded": building the benchmark (select rows, write spurions) per image, and
//    in-memory batching per image.
// The CLI (`mimmx bench data --json`) wraps benchData.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { fashionConfounded } from "../src/data/benchmarks/fashion-confounded.js";
import { DataLoader, defaultWorkerCount } from "../src/data/loader.js";
import type { FileDataset } from "../src/data/pipeline.js";
import { chexpertTransforms } from "../src/data/sources/chexpert.js";
import { Rng } from "../src/util/random.js";

export interface BenchDataOptions {
  /** Number of generated JPEGs. Default 96. */
  jpegCount?: number;
  /** Worker threads for the JPEG pipeline run with workers. Default: defaultWorkerCount(). */
  workers?: number;
  /** Fashion-confounded train size for the benchmark build. Default 10000. */
  fashionTrainSize?: number;
  batchSize?: number;
  /** Least seconds each timed configuration runs (whole epochs). Default 2. */
  minSeconds?: number;
}

async function xrayLike(w: number, h: number, rng: Rng): Promise<Buffer> {
  const d = Buffer.alloc(w * h);
  const cx = w / 2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // Two dark "lungs" in a brighter body, plus noise: enough texture to make JPEG work.
      const lung = Math.exp(
        -(((Math.abs(x - cx) - w * 0.2) / (w * 0.12)) ** 2) - ((y - h * 0.45) / (h * 0.25)) ** 2,
      );
      d[y * w + x] = Math.max(0, Math.min(255, 200 - 140 * lung + 12 * rng.normal()));
    }
  return sharp(d, { raw: { width: w, height: h, channels: 1 } })
    .toColourspace("b-w")
    .jpeg({ quality: 90 })
    .toBuffer();
}

interface Rate {
  images_per_sec: number;
  cpu_ms_per_image: number;
  disk_cache_hits: number;
}

/** Whole epochs until minSeconds have passed, after one untimed warm-up epoch. */
async function timeLoader(
  ds: FileDataset,
  workers: number,
  batchSize: number,
  diskCache: string | false,
  minSeconds: number,
): Promise<Rate> {
  const loader = new DataLoader(ds, {
    batchSize,
    shuffle: false,
    numWorkers: workers,
    cache: false,
    diskCache,
    prefetch: 4,
  });
  try {
    // Warm-up (worker start-up, JIT; fills the disk cache when it is on) is not timed.
    for await (const _ of loader.epoch(0));
    const hitsBefore = loader.summary().diskCacheHits;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    for (let e = 1; n === 0 || performance.now() - t0 < minSeconds * 1000; e++)
      for await (const b of loader.epoch(e)) n += b.indices.length;
    const sec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      images_per_sec: Math.round(n / sec),
      cpu_ms_per_image: Number(((cpu.user + cpu.system) / 1000 / n).toFixed(3)),
      disk_cache_hits: loader.summary().diskCacheHits - hitsBefore,
    };
  } finally {
    await loader.close();
  }
}

export async function benchData(opts: BenchDataOptions = {}): Promise<object> {
  const count = opts.jpegCount ?? 96;
  const workers = opts.workers ?? defaultWorkerCount();
  const batchSize = opts.batchSize ?? 32;
  const minSeconds = opts.minSeconds ?? 2;
  const dir = mkdtempSync(join(tmpdir(), "mimmx-bench-data-"));
  try {
    const rng = new Rng(1);
    const items = [];
    for (let i = 0; i < count; i++) {
      const p = join(dir, `x${i}.jpg`);
      writeFileSync(p, await xrayLike(320, 390, rng));
      items.push({ path: p, labels: { y: i % 2 } });
    }
    const ds: FileDataset = {
      name: "bench-xray",
      items,
      itemShape: [1, 224, 224],
      labelNames: ["y"],
      pipeline: { transforms: chexpertTransforms(224), onError: "fatal" },
    };
    const coldMain = await timeLoader(ds, 0, batchSize, false, minSeconds);
    const coldWorkers = await timeLoader(ds, workers, batchSize, false, minSeconds);
    const warm = await timeLoader(ds, workers, batchSize, join(dir, "cache"), minSeconds);

    const trainSize = opts.fashionTrainSize ?? 10000;
    const t0 = performance.now();
    const b = fashionConfounded({ trainSize, oracleSize: trainSize });
    const built = Object.values(b.splits).reduce((a, s) => a + s.length, 0);
    const buildSec = (performance.now() - t0) / 1000;
    const loader = new DataLoader(b.splits.train, { batchSize: 128, seed: 0 });
    const t1 = performance.now();
    let n = 0;
    for (const batch of loader.epochSync(0)) n += batch.indices.length;
    const batchSec = (performance.now() - t1) / 1000;
    return {
      xray_jpeg_320x390_to_224: {
        images: count,
        pipeline: chexpertTransforms(224).map((t) => t.type),
        workers,
        cold_main_thread: coldMain,
        cold_workers: coldWorkers,
        warm_disk_cache: warm,
      },
      fashion_confounded: {
        images_built: built,
        build_images_per_sec: Math.round(built / buildSec),
        batching_images_per_sec: Math.round(n / batchSec),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

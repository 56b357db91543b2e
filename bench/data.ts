// Data-layer throughput: images per second decoded and prepared.
//  - "xray_jpeg": 320x390 gray JPEG X-ray-like images (generated with jpeg-js into a temp dir),
//    read -> gray -> pad to square -> resize 224 -> min-max -> CLAHE, with and without workers,
//    uncached (first-epoch cost, which is what decoding-bound training pays).
//  - "fashion_confounded": building the benchmark (select rows, write spurions) per image, and
//    in-memory batching per image.
// The CLI (`mimmx bench data --json`) wraps benchData.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { fashionConfounded } from "../src/data/benchmarks/fashion-confounded.js";
import { DataLoader } from "../src/data/loader.js";
import type { FileDataset } from "../src/data/pipeline.js";
import { chexpertTransforms } from "../src/data/sources/chexpert.js";
import { Rng } from "../src/util/random.js";

export interface BenchDataOptions {
  /** Number of generated JPEGs. Default 96. */
  jpegCount?: number;
  /** Worker threads for the JPEG pipeline run with workers. Default 2. */
  workers?: number;
  /** Fashion-confounded train size for the benchmark build. Default 10000. */
  fashionTrainSize?: number;
  batchSize?: number;
}

function xrayLike(w: number, h: number, rng: Rng): Buffer {
  const d = Buffer.alloc(w * h * 4);
  const cx = w / 2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // Two dark "lungs" in a brighter body, plus noise: enough texture to make JPEG work.
      const lung = Math.exp(
        -(((Math.abs(x - cx) - w * 0.2) / (w * 0.12)) ** 2) - ((y - h * 0.45) / (h * 0.25)) ** 2,
      );
      const v = Math.max(0, Math.min(255, 200 - 140 * lung + 12 * rng.normal()));
      const i = 4 * (y * w + x);
      d[i] = v;
      d[i + 1] = v;
      d[i + 2] = v;
      d[i + 3] = 255;
    }
  return jpeg.encode({ data: d, width: w, height: h }, 90).data;
}

async function timeLoader(ds: FileDataset, workers: number, batchSize: number): Promise<number> {
  const loader = new DataLoader(ds, {
    batchSize,
    shuffle: false,
    numWorkers: workers,
    cache: false,
    prefetch: 4,
  });
  try {
    // Warm-up batch (worker start-up, JIT) is excluded from the timing.
    const warm = loader.epoch(0);
    await warm.next();
    await warm.return(undefined);
    const t0 = performance.now();
    let n = 0;
    for await (const b of loader.epoch(1)) n += b.indices.length;
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await loader.close();
  }
}

export async function benchData(opts: BenchDataOptions = {}): Promise<object> {
  const count = opts.jpegCount ?? 96;
  const workers = opts.workers ?? 2;
  const batchSize = opts.batchSize ?? 32;
  const dir = mkdtempSync(join(tmpdir(), "mimmx-bench-data-"));
  try {
    const rng = new Rng(1);
    const items = [];
    for (let i = 0; i < count; i++) {
      const p = join(dir, `x${i}.jpg`);
      writeFileSync(p, xrayLike(320, 390, rng));
      items.push({ path: p, labels: { y: i % 2 } });
    }
    const ds: FileDataset = {
      name: "bench-xray",
      items,
      itemShape: [1, 224, 224],
      labelNames: ["y"],
      pipeline: { transforms: chexpertTransforms(224), onError: "fatal" },
    };
    const mainThread = await timeLoader(ds, 0, batchSize);
    const withWorkers = await timeLoader(ds, workers, batchSize);

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
        images_per_sec_main_thread: Math.round(mainThread),
        images_per_sec_workers: Math.round(withWorkers),
        workers,
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

// The suite's "user cohort": Fashion-MNIST images written as 8-bit PNG files with a CSV manifest,
// so the benchmark reads them the way a user's data arrives (manifest source, metadata columns).
// Every image gets metadata values drawn uniformly and independently of its class (exactly half
// per class and value), and the artefact each value stands for is drawn into its pixels: the
// correlation with y is then made by the split builder selecting rows, as with real metadata.
//
// The folder is written once per definition under the OS temp folder and reused (the CSV is
// written last, through a rename, so a folder without it is incomplete and written again).
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pngjs from "pngjs";
import type { SpurionConfig } from "../../src/config/index.js";
import { FASHION_CLASSES, loadFashionMnist } from "../../src/data/io/fashion-mnist.js";
import { interleave } from "../../src/data/splits/apportion.js";
import { applySpurions } from "../../src/data/spurions/compose.js";
import { syntheticSpurion } from "../../src/run/data.js";
import { hashSeed, hashString, Rng } from "../../src/util/random.js";

export interface CohortSpec {
  classes: [number, number];
  /** One metadata spurion per column: its column, the value meaning "present" (positive[0]), the other. */
  columns: { column: string; present: string; absent: string; drawn: SpurionConfig["kind"] }[];
  /** Images per class (at most 6,000: the Fashion-MNIST training set's). */
  perClass: number;
  /** Folder; default a folder under the OS temp folder named after the spec. */
  dir?: string;
}

export interface Cohort {
  root: string;
  csv: string;
  /** Label column ("label"), its values are the class names. */
  labelColumn: string;
  classNames: [string, string];
  rows: number;
}

// Named "y": train.select_by's criteria read val/<metric>/y (src/run/train-method.ts), whatever the
// primary task is called; a manifest task column of another name fails there.
const LABEL_COLUMN = "y";

function pngOf(pixels: Float32Array, h: number, w: number): Buffer {
  const png = new pngjs.PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const gray = Buffer.alloc(h * w);
  for (let i = 0; i < h * w; i++) gray[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  png.data = gray;
  return pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}

/** Writes (or finds) the cohort of `spec`. */
export function writeCohort(spec: CohortSpec): Cohort {
  const key = hashString(JSON.stringify([LABEL_COLUMN, spec.classes, spec.columns, spec.perClass])) >>> 0;
  const root = spec.dir ?? join(tmpdir(), `mimmx-suite-cohort-${key.toString(16)}`);
  const csv = join(root, "manifest.csv");
  const classNames = spec.classes.map((c) => FASHION_CLASSES[c]) as [string, string];
  if (existsSync(csv)) return { root, csv, labelColumn: LABEL_COLUMN, classNames, rows: 2 * spec.perClass };

  const train = loadFashionMnist("train");
  const px = train.height * train.width;
  const drawn = spec.columns.map((c) => syntheticSpurion({ name: c.column, kind: c.drawn, ratio: 0.5 }));
  mkdirSync(join(root, "images"), { recursive: true });
  const lines = [[LABEL_COLUMN, ...spec.columns.map((c) => c.column), "path"].join(",")];
  const rng = new Rng(hashSeed(key, 1));
  spec.classes.forEach((cls, y) => {
    const rows: number[] = [];
    for (let i = 0; i < train.labels.length && rows.length < spec.perClass; i++)
      if (train.labels[i] === cls) rows.push(i);
    if (rows.length < spec.perClass)
      throw new Error(
        `bench suite cohort: class ${cls} has ${rows.length} training images, ${spec.perClass} asked`,
      );
    // Exactly half of each class per value, in an order independent across columns.
    const values = spec.columns.map(() =>
      rng.shuffle(Array.from(interleave([rows.length - (rows.length >> 1), rows.length >> 1]))),
    );
    const one = new Float32Array(px);
    rows.forEach((row, k) => {
      for (let p = 0; p < px; p++) one[p] = train.images[row * px + p] / 255;
      const z = values.map((v) => v[k]);
      const img = applySpurions(
        { data: one, shape: [1, train.height, train.width] },
        drawn,
        z,
        hashSeed(key, y, k),
      );
      const file = `images/${y}_${String(k).padStart(5, "0")}.png`;
      writeFileSync(join(root, file), pngOf(img.data, train.height, train.width));
      lines.push(
        [classNames[y], ...spec.columns.map((c, j) => (z[j] === 1 ? c.present : c.absent)), file].join(","),
      );
    });
  });
  writeFileSync(`${csv}.part`, `${lines.join("\n")}\n`);
  renameSync(`${csv}.part`, csv);
  return { root, csv, labelColumn: LABEL_COLUMN, classNames, rows: 2 * spec.perClass };
}

// The FORMATS config keys, end to end through prepareData: data.delimiter (a TSV manifest),
// data.reorient (cohorts stored in different orientations give identical items), data.spacing,
// and the window keys' validation.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import { prepareData } from "../../src/run/data.js";
import { tempDir, writeFile } from "./helpers.js";

const VARIANTS = ["ras_sform", "las_qform", "pir_sform", "pir_qform", "sla_qform", "ail_sform_bad_qform"].map(
  (v) => resolve(`test/fixtures/data/nifti/${v}.nii.gz`),
);

/** A tab-separated manifest cycling through the six orientation variants of one volume. */
function manifest(extra: string): string {
  const dir = tempDir();
  const lines = ["path\ty\ts"];
  for (let i = 0; i < 48; i++) lines.push(`${VARIANTS[i % 6]}\t${i % 2}\t${(i >> 1) % 2}`);
  writeFile(dir, "participants.tsv", `${lines.join("\r\n")}\r\n`);
  return `name: orient
data:
  source: manifest
  root: ${dir}
  csv: participants.tsv
  task: { column: y }
  spurions: [{ name: s, kind: metadata, column: s, ratio: 0.75 }]
  splits: { train: 16, validation: 8, test_inverted: 8, test_balanced: 8 }
  transforms: { normalize: false }
${extra}
model: { encoder: cnn3d, in_channels: 1 }
`;
}

function distinctItems(images: Float32Array, n: number): number {
  const size = images.length / n;
  const seen = new Set<string>();
  for (let i = 0; i < n; i++)
    seen.add(Buffer.from(images.buffer, images.byteOffset + i * size * 4, size * 4).toString("base64"));
  return seen.size;
}

test("data.reorient (default true): six orientations of one volume in a TSV manifest give one item", async () => {
  const data = await prepareData(parseConfig(manifest("  image_size: [16, 16, 16]")));
  const train = data.splits.train;
  assert.deepEqual(train.itemShape, [1, 16, 16, 16]);
  assert.equal(train.length, 16);
  assert.equal(distinctItems(train.images, train.length), 1);
  // As stored, the same volume is six different inputs: a cohort signal the model could use.
  const raw = await prepareData(parseConfig(manifest("  image_size: [16, 16, 16]\n  reorient: false")));
  assert.ok(distinctItems(raw.splits.train.images, 16) > 1);
});

test("data.spacing resamples every volume before the resize", async () => {
  // 2 mm isotropic from 4 x 3 x 2 mm (z, y, x): a 15 x 14 x 12 grid (checked against nibabel in
  // nifti.test.ts), then resized to 16^3; so the items differ from the unresampled run's.
  const plain = await prepareData(parseConfig(manifest("  image_size: [16, 16, 16]")));
  const data = await prepareData(parseConfig(manifest("  image_size: [16, 16, 16]\n  spacing: [2, 2, 2]")));
  const a = data.splits.train.images;
  assert.equal(distinctItems(a, 16), 1);
  const b = plain.splits.train.images;
  let diff = 0;
  for (let i = 0; i < a.length / 16; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  assert.ok(diff > 1e-3, `resampled and plain items differ by at most ${diff}`);
  assert.throws(
    () => parseConfig(manifest("  image_size: [16, 16, 16]\n  spacing: [2, 0, 2]")),
    /data\.spacing/,
  );
});

test("window keys: fixed needs centre and width; centre/width without fixed is an error", () => {
  const base =
    "name: w\ndata: {source: manifest, root: /d, csv: m.csv, task: y, spurions: [{name: s, kind: metadata, column: s}]";
  assert.throws(
    () => parseConfig(`${base}, window: fixed, window_center: 40}\n`),
    /data\.window_width.*required with window: fixed/s,
  );
  assert.throws(
    () => parseConfig(`${base}, window_center: 40}\n`),
    /data\.window_center.*only used with window: fixed/s,
  );
  assert.throws(() => parseConfig(`${base}, delimiter: ":"}\n`), /data\.delimiter/);
  const ok = parseConfig(`${base}, window: fixed, window_center: 40, window_width: 400, delimiter: tab}\n`);
  assert.equal(ok.data.window_width, 400);
  assert.equal(ok.data.reorient, true);
});

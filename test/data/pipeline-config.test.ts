// The image-pipeline keys of a run config (data.workers, data.prefetch, data.cache) as prepareData
// uses them: the decoding pass before training runs in workers and fills the on-disk cache, a
// second pass reads every image from it with the same arrays, and `cache: false` writes nothing.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import { CHEXPERT_COLUMNS, CHEXPERT_OBSERVATIONS } from "../../src/data/sources/chexpert.js";
import { prepareData } from "../../src/run/data.js";
import { Rng } from "../../src/util/random.js";
import { configErrorOf } from "../helpers/config.js";
import { pngGray, tempDir } from "./helpers.js";

/** A CheXpert-layout cohort of small PNGs; returns its root. */
function cohort(n: number): string {
  const root = tempDir("mimmx-pipe-");
  const base = "CheXpert-v1.0-small";
  const rng = new Rng(2);
  const lines = [CHEXPERT_COLUMNS.map((c) => (c.includes("/") || c.includes(" ") ? `"${c}"` : c)).join(",")];
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    const rel = `${base}/train/patient${i}/study1/view1_frontal.png`;
    mkdirSync(join(root, rel, ".."), { recursive: true });
    const px = Array.from({ length: 30 * 24 }, (_, k) =>
      Math.min(255, (k % 30) * 4 + (y ? 60 : 0) + rng.int(30)),
    );
    writeFileSync(join(root, rel), pngGray(30, 24, px));
    const row: Record<string, string> = {
      Path: rel,
      Sex: rng.next() < 0.5 ? "Male" : "Female",
      Age: String(30 + rng.int(50)),
      "Frontal/Lateral": "Frontal",
      "AP/PA": "AP",
    };
    for (const o of CHEXPERT_OBSERVATIONS) row[o] = o === "Pleural Effusion" ? (y ? "1.0" : "0.0") : "";
    lines.push(CHEXPERT_COLUMNS.map((c) => row[c]).join(","));
  }
  writeFileSync(join(root, base, "train.csv"), `${lines.join("\n")}\n`);
  return root;
}

const config = (root: string, extra: string) =>
  parseConfig(`name: t
data:
  source: chexpert
  root: ${root}
  csv: CheXpert-v1.0-small/train.csv
  task: { column: Pleural Effusion }
  spurions:
    - { name: sex, kind: metadata, column: Sex, ratio: 0.8 }
  image_size: 28
  splits: { train: 16, validation: 8, test_inverted: 8, test_balanced: 8 }
${extra}`);

test("data.workers / prefetch / cache: defaults, and errors that name the key", () => {
  const c = parseConfig(
    "name: t\ndata:\n  source: fashion-confounded\n  spurions:\n    - { name: m, kind: patch, ratio: 0.9 }\n",
  );
  assert.equal(c.data.workers, 0);
  assert.equal(c.data.prefetch, 4);
  assert.equal(c.data.cache, true);
  const bad = (k: string) =>
    configErrorOf(
      `name: t\ndata:\n  source: fashion-confounded\n  spurions:\n    - { name: m, kind: patch, ratio: 0.9 }\n  ${k}\n`,
    );
  assert.match(bad("workers: -1"), /data\.workers/);
  assert.match(bad("prefetch: 0"), /data\.prefetch/);
  assert.match(bad("cache: 3"), /data\.cache.*true, false or a folder/);
});

test("prepareData: workers fill the cache, a second pass reads every image from it, cache: false writes nothing", async () => {
  const root = cohort(64);
  const cacheDir = join(root, "prepared");
  const logs: string[] = [];
  const progress = { log: (m: string) => logs.push(m) };
  const first = await prepareData(config(root, `  workers: 2\n  prefetch: 2\n  cache: prepared\n`), progress);
  const entries = readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).endsWith(".f32"));
  assert.ok(entries.length >= 32, `${entries.length} cache entries`);
  assert.ok(!logs.some((l) => /from the cache/.test(l)), logs.join("\n"));
  const second = await prepareData(config(root, `  workers: 1\n  cache: prepared\n`), progress);
  assert.ok(
    logs.some((l) => /train: 16 prepared images from the cache/.test(l)),
    logs.join("\n"),
  );
  for (const s of ["train", "validation", "test_inverted", "test_balanced"] as const)
    assert.deepEqual(second.splits[s]?.images, first.splits[s]?.images, s);
  const off = cohort(64);
  const third = await prepareData(config(off, "  workers: 1\n  cache: false\n"), progress);
  assert.ok(!existsSync(join(off, ".cache")));
  assert.deepEqual(third.splits.train.images, first.splits.train.images);
});

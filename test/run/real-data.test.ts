// End to end on real file formats: a CheXpert-layout CSV with PNG and JPEG X-rays, and two brain-MRI
// cohorts (metadata CSVs + NIfTI volumes, .nii and .nii.gz) are written to a temp folder; then
// `mimmx train` (in-process) trains one epoch and `mimmx eval` re-evaluates the run folder.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";
import { run } from "../../src/cli/main.js";
import { parseConfig } from "../../src/config/index.js";
import { CHEXPERT_COLUMNS, CHEXPERT_OBSERVATIONS } from "../../src/data/sources/chexpert.js";
import { prepareData } from "../../src/run/data.js";
import { Rng } from "../../src/util/random.js";
import { jpegGray, niftiFloat32, pngGray, tempDir } from "../data/helpers.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = tempDir("mimmx-e2e-");
  dirs.push(d);
  return d;
}

/** Runs the CLI in-process with its output captured. */
async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  process.stderr.write = ((s: string) => {
    out.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await run(argv), out: out.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

const TINY_EVAL = `eval:
  bootstrap: 20
  probes: { max_iter: 30 }
  tsne: { max_points: 40, iterations: 60, perplexity: 5 }
  mi_audit: { steps: 20, hidden: 8, layers: 1, batch_size: 16 }
`;

/** What a finished run folder must hold, and its primary-task accuracies in [0, 1]. */
function checkRunFolder(dir: string, method: string, tasks: string[]): void {
  for (const f of ["config.yaml", "run.json", "splits.json", "splits.md", "summary.json", "report.html"])
    assert.ok(existsSync(join(dir, f)), `missing ${f}`);
  const mdir = join(dir, "methods", method);
  for (const f of ["last.safetensors", "metrics.jsonl", "train.json", "eval.json"])
    assert.ok(existsSync(join(mdir, f)), `missing methods/${method}/${f}`);
  // The resolved config: every default filled in, and valid as a config again.
  const resolved = parseYaml(readFileSync(join(dir, "config.yaml"), "utf8"));
  // MIMM-X's default preset keeps the best validation worst-group epoch; other methods the schema's "last".
  assert.equal(resolved.train.select_by, method === "mimmx" ? "val_worst_group" : "last");
  assert.equal(resolved.model.in_channels, 1);
  assert.ok(resolved.eval.splits.length === 3 && typeof resolved.output_dir === "string");
  parseConfig(readFileSync(join(dir, "config.yaml"), "utf8"), "config.yaml");
  const splits = JSON.parse(readFileSync(join(dir, "splits.json"), "utf8"));
  assert.deepEqual(
    splits.tasks.map((t: { name: string }) => t.name),
    tasks,
  );
  assert.deepEqual(splits.counts.map((c: { split: string }) => c.split).sort(), [
    "test_balanced",
    "test_inverted",
    "train",
    "validation",
  ]);
  const metrics = readFileSync(join(mdir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.ok(metrics.some((r) => r.type === "step" && Number.isFinite(r.loss)));
  assert.equal(metrics.filter((r) => r.type === "epoch").length, 1);
  assert.equal(JSON.parse(readFileSync(join(mdir, "train.json"), "utf8")).status, "completed");
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  for (const split of ["validation", "test_inverted", "test_balanced"]) {
    const a = summary.methods[0].primary[split].accuracy;
    assert.ok(a >= 0 && a <= 1, `${split} accuracy ${a}`);
  }
}

/** eval.json: every task's accuracy on every evaluated split, all in [0, 1]. */
function evalAccuracies(dir: string, method: string): number[] {
  const ev = JSON.parse(readFileSync(join(dir, "methods", method, "eval.json"), "utf8"));
  const out: number[] = [];
  for (const s of ev.splits)
    for (const t of Object.values(s.tasks) as { accuracy: number }[]) out.push(t.accuracy);
  return out;
}

describe("end to end on real formats", () => {
  it("CheXpert: CSV + PNG/JPEG X-rays -> mimmx train (1 epoch) -> mimmx eval", async () => {
    const root = tmp();
    const base = "CheXpert-v1.0-small";
    const rng = new Rng(1);
    const header = CHEXPERT_COLUMNS;
    const lines = [header.map((c) => (c.includes("/") || c.includes(" ") ? `"${c}"` : c)).join(",")];
    for (let i = 0; i < 240; i++) {
      const y = rng.next() < 0.5 ? 1 : 0;
      const male = rng.next() < 0.5;
      const age = 25 + rng.int(65);
      const lateral = i % 20 === 19;
      const rel = `${base}/train/patient${String(i).padStart(5, "0")}/study1/view1_${lateral ? "lateral" : "frontal"}`;
      const w = 40;
      const h = 32;
      // A brighter lower lobe for effusion; noise everywhere.
      const pix = (x: number, yy: number) =>
        60 + 40 * Math.sin(x / 5) + (y && yy > 20 ? 80 : 0) + 20 * rng.next();
      let file: string;
      mkdirSync(join(root, rel, ".."), { recursive: true });
      if (i % 4 === 0) {
        file = `${rel}.jpg`;
        writeFileSync(join(root, file), jpegGray(w, h, pix));
      } else {
        file = `${rel}.png`;
        const px = new Array<number>(w * h);
        for (let yy = 0; yy < h; yy++)
          for (let x = 0; x < w; x++) px[yy * w + x] = Math.min(255, Math.round(pix(x, yy)));
        writeFileSync(join(root, file), pngGray(w, h, px));
      }
      // Effusion cells as CheXpert writes them: 1.0 / 0.0, a few uncertain (-1.0) and blanks (= negative).
      const cell = i % 17 === 0 ? "-1.0" : y === 0 && i % 5 === 0 ? "" : y ? "1.0" : "0.0";
      const row: Record<string, string> = {
        Path: file,
        Sex: male ? "Male" : "Female",
        Age: String(age),
        "Frontal/Lateral": lateral ? "Lateral" : "Frontal",
        "AP/PA": lateral ? "" : rng.next() < 0.5 ? "AP" : "PA",
      };
      for (const o of CHEXPERT_OBSERVATIONS)
        row[o] = o === "Pleural Effusion" ? cell : rng.next() < 0.2 ? "1.0" : "";
      lines.push(header.map((c) => row[c]).join(","));
    }
    writeFileSync(join(root, base, "train.csv"), `${lines.join("\n")}\n`);
    const dir = join(root, "run");
    const config = join(root, "cx.yaml");
    writeFileSync(
      config,
      `name: cx-e2e
seed: 0
data:
  source: chexpert
  root: ${root}
  csv: ${base}/train.csv
  task: { column: Pleural Effusion }
  uncertain_labels: zeros
  spurions:
    - { name: sex, kind: metadata, column: Sex, ratio: 0.8 }
    - { name: age, kind: metadata, column: Age, threshold: 60, ratio: 0.8 }
  image_size: 28
  splits: { train: 32, validation: 16, test_inverted: 16, test_balanced: 16 }
  transforms: { hflip: true, intensity_jitter: 0.1 }
model: { encoder: small-cnn, feature_dim: 4, dropout: 0.1 }
method: { name: mimmx, n_mi: 1, estimator: { hidden: 8, layers: 1, negatives: 4 } }
train: { epochs: 1, batch_size: 8, log_every: 1, scheduler: cosine, grad_clip: 5 }
${TINY_EVAL}`,
    );
    const r = await cli("train", "--config", config, "--out", dir, "--quiet");
    assert.equal(r.code, 0, r.out);
    checkRunFolder(
      dir,
      "mimmx",
      ["y", "sex", "age"].map((n, i) => (i === 0 ? "Pleural Effusion" : n)),
    );
    // The X-rays became 28x28 single-channel images; lateral views were filtered out.
    const data = await prepareData(parseConfig(readFileSync(config, "utf8")));
    assert.deepEqual(data.splits.train.itemShape, [1, 28, 28]);
    assert.equal(data.splits.train.length, 32);
    const again = await cli("eval", "--run", dir, "--quiet");
    assert.equal(again.code, 0, again.out);
    const acc = evalAccuracies(dir, "mimmx");
    assert.equal(acc.length, 9); // 3 splits x (effusion, sex, age)
    for (const a of acc) assert.ok(a >= 0 && a <= 1, `accuracy ${a}`);
  });

  it("brain MRI: two cohorts of NIfTI volumes (.nii, .nii.gz) -> mimmx train (cnn3d) -> mimmx eval", async () => {
    const root = tmp();
    const rng = new Rng(2);
    const volume = (older: boolean) => {
      const v = new Float32Array(8 * 8 * 8);
      for (let k = 0; k < v.length; k++) v[k] = 100 + 30 * rng.next() + (older && k % 8 < 3 ? 40 : 0);
      return niftiFloat32(8, 8, 8, v, [2, 2, 2]);
    };
    mkdirSync(join(root, "ukb", "vols"), { recursive: true });
    mkdirSync(join(root, "nako"), { recursive: true });
    const ukb = ["eid,path,age,sex"];
    const nako = ["id,file,Age,Sex,site"];
    for (let i = 0; i < 150; i++) {
      const age = 40 + rng.int(40);
      const sex = rng.next() < 0.5 ? "F" : "M";
      writeFileSync(join(root, "ukb", "vols", `sub-${i}.nii`), volume(age >= 60));
      ukb.push(`${1000 + i},vols/sub-${i}.nii,${age},${sex}`);
      const age2 = 40 + rng.int(40);
      const sex2 = rng.next() < 0.5 ? "Female" : "Male";
      writeFileSync(join(root, "nako", `n${i}.nii.gz`), gzipSync(volume(age2 >= 60)));
      nako.push(`${i},n${i}.nii.gz,${age2},${sex2},site${i % 3}`);
    }
    writeFileSync(join(root, "ukb", "participants.csv"), `${ukb.join("\n")}\n`);
    writeFileSync(join(root, "nako", "meta.csv"), `${nako.join("\n")}\n`);
    const dir = join(root, "run");
    const config = join(root, "mri.yaml");
    writeFileSync(
      config,
      `name: mri-e2e
seed: 0
data:
  source: mri
  root: ${root}
  task: { column: age, threshold: 60 }
  spurions:
    - { name: sex, kind: metadata, column: sex, ratio: 0.8 }
    - { name: cohort, kind: metadata, column: cohort, ratio: 0.8 }
  image_size: [16, 16, 16]
  splits: { train: 32, validation: 16, test_inverted: 16, test_balanced: 16 }
  transforms: { crop_padding: 1, rotate_deg: 10 }
  mri:
    cohorts:
      - { name: ukb, root: ukb, csv: participants.csv }
      - { name: nako, root: nako, csv: meta.csv, path_column: file, age_column: Age, sex_column: Sex }
model: { encoder: cnn3d, feature_dim: 4 }
method: { name: mtl }
train: { epochs: 1, batch_size: 8, log_every: 1, optimizer: sgd, momentum: 0.9, lr: 0.01 }
${TINY_EVAL}`,
    );
    const r = await cli("train", "--config", config, "--out", dir, "--quiet");
    assert.equal(r.code, 0, r.out);
    checkRunFolder(dir, "mtl", ["age", "sex", "cohort"]);
    const splits = JSON.parse(readFileSync(join(dir, "splits.json"), "utf8"));
    assert.deepEqual(
      splits.tasks.map((t: { classNames?: string[] }) => t.classNames),
      [
        ["<60", ">=60"],
        ["female", "male"],
        ["ukb", "nako"],
      ],
    );
    const again = await cli("eval", "--run", dir, "--quiet");
    assert.equal(again.code, 0, again.out);
    const acc = evalAccuracies(dir, "mtl");
    assert.equal(acc.length, 9);
    for (const a of acc) assert.ok(a >= 0 && a <= 1, `accuracy ${a}`);
  });

  it("brain MRI, one cohort from data.csv, as 2-D slices", async () => {
    const root = tmp();
    const rng = new Rng(3);
    const rows = ["subject,path,age,sex,site"];
    for (let i = 0; i < 80; i++) {
      const v = Float32Array.from({ length: 6 * 10 * 12 }, () => rng.next());
      writeFileSync(join(root, `s${i}.nii`), niftiFloat32(12, 10, 6, v));
      rows.push(
        `${i},s${i}.nii,${40 + rng.int(40)},${rng.next() < 0.5 ? "0" : "1"},${rng.next() < 0.5 ? "a" : "b"}`,
      );
    }
    writeFileSync(join(root, "subjects.csv"), `${rows.join("\n")}\n`);
    const cfg = parseConfig(`name: slices
data:
  source: mri
  root: ${root}
  csv: subjects.csv
  task: sex
  spurions: [{ name: site, kind: metadata, column: site, ratio: 0.8 }]
  image_size: 28
  splits: { train: 16, validation: 8, test_inverted: 8, test_balanced: 8 }
  mri: { slice_axis: 0, slices: [0.5] }
`);
    const data = await prepareData(cfg);
    assert.deepEqual(data.splits.train.itemShape, [1, 28, 28]);
    assert.equal(data.splits.train.length, 16);
    assert.deepEqual(
      data.tasks.map((t) => t.name),
      ["sex", "site"],
    );
    // z-scored per image (data.transforms.normalize)
    const first = data.splits.train.images.subarray(0, 784);
    assert.ok(Math.abs(first.reduce((a, b) => a + b, 0) / 784) < 1e-4);
  });
});

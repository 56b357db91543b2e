// Natural shift on a generated PNG cohort: the dataset's own split column (train / valid / test)
// and external test cohorts (another CSV, or the rows of one site). Each image carries its CSV row
// number in two pixels, so every decoded item can be traced back to the row it came from and its
// split, labels and site checked against what the CSV says.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type DeepPartial, parseConfig, type RunConfig, resolveDefaults } from "../../src/config/index.js";
import { CHEXPERT_COLUMNS, CHEXPERT_OBSERVATIONS } from "../../src/data/sources/chexpert.js";
import type { InMemoryDataset } from "../../src/data/types.js";
import { prepareData } from "../../src/run/data.js";
import { reevaluateRun, runExperiment } from "../../src/run/index.js";
import { Rng } from "../../src/util/random.js";
import { niftiFloat32, pngGray, tempDir, writeFile } from "../data/helpers.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Row {
  y: number;
  scanner: number;
  split: string;
  site: string;
}

/**
 * A 28x28 image whose pixel 0 is black and pixel 1 white (so min-max scaling keeps the rest exact),
 * pixels 2 and 3 the row id (low, high byte), and the diagnosis visible in the top half.
 */
function image(id: number, y: number): Buffer {
  const px = new Array(784).fill(0).map((_, p) => (y && p >= 28 && p < 392 ? 200 : 30) + (p % 7));
  px[0] = 0;
  px[1] = 255;
  px[2] = id % 256;
  px[3] = Math.floor(id / 256);
  return pngGray(28, 28, px);
}

/** The row id each item of a decoded split carries (see `image`). */
function ids(ds: InMemoryDataset): number[] {
  const size = ds.itemShape.reduce((a, b) => a * b, 1);
  return Array.from({ length: ds.length }, (_, i) => {
    const px = ds.images.subarray(i * size, i * size + 4);
    return Math.round(px[2] * 255) + 256 * Math.round(px[3] * 255);
  });
}

/**
 * 600 rows: split train 340 / valid 80 / test 180 (by row), site B on every 10th row, scanner
 * agreeing with the diagnosis in 60% of the rows; plus ext/external.csv, 60 rows of another cohort.
 */
function cohort(opts: { splitValues?: (i: number) => string } = {}) {
  const root = tempDir("mimmx-natural-");
  dirs.push(root);
  const rng = new Rng(5);
  const rows: Row[] = [];
  const lines = ["file,Diagnosis,scanner,split,site"];
  for (let i = 0; i < 600; i++) {
    const y = rng.next() < 0.5 ? 1 : 0;
    const scanner = rng.next() < 0.6 ? y : 1 - y;
    const split = opts.splitValues?.(i) ?? (i < 340 ? "train" : i < 420 ? "valid" : "test");
    const site = i % 10 === 3 ? "B" : "A";
    rows.push({ y, scanner, split, site });
    writeFile(root, `img${i}.png`, image(i, y));
    lines.push(`img${i}.png,${y ? "disease" : "healthy"},${scanner ? "S2" : "S1"},${split},${site}`);
  }
  writeFile(root, "manifest.csv", lines.join("\n"));
  const ext: Row[] = [];
  const extLines = ["file\tDiagnosis\tscanner\tsplit\tsite"];
  for (let i = 0; i < 60; i++) {
    const y = i % 2;
    const scanner = i % 3 === 0 ? 1 - y : y;
    ext.push({ y, scanner, split: "", site: "C" });
    writeFile(root, `ext-${i}.png`, image(1000 + i, y));
    extLines.push(`ext-${i}.png\t${y ? "disease" : "healthy"}\t${scanner ? "S2" : "S1"}\tx\tC`);
  }
  writeFile(root, "external.tsv", extLines.join("\n"));
  return { root, rows, ext };
}

function config(root: string, data: DeepPartial<RunConfig["data"]> = {}, rest: DeepPartial<RunConfig> = {}) {
  return resolveDefaults(
    {
      name: "natural",
      seed: 2,
      data: {
        source: "manifest",
        root,
        csv: "manifest.csv",
        task: { column: "Diagnosis", positive: ["disease"], negative: ["healthy"] },
        spurions: [{ name: "scanner", kind: "metadata", column: "scanner", positive: ["S2"], ratio: 0.8 }],
        image_size: [28, 28],
        transforms: { normalize: false },
        cache: false,
        splits: { train: 80, validation: 24, test_inverted: 16, test_balanced: 16 },
        ...data,
      },
      model: { feature_dim: 4 },
      train: { epochs: 1, batch_size: 20 },
      eval: {
        bootstrap: 0,
        probes: { enabled: true, max_iter: 30 },
        tsne: { enabled: false },
        mi_audit: { enabled: false },
      },
      ...rest,
    } as DeepPartial<RunConfig>,
    "test",
  );
}

const SPLIT = { column: "split", train: ["train"], validation: ["valid"], test: ["test"] };
const quiet = { quiet: true, log: () => {} };

/** Every item's labels are its CSV row's, and its row is one of `allowed`. */
function checkItems(
  ds: InMemoryDataset,
  rows: Row[],
  allowed: (r: Row, id: number) => boolean,
  base = 0,
): number[] {
  const got = ids(ds);
  got.forEach((id, i) => {
    const r = rows[id - base];
    assert.ok(r, `${ds.name}: item ${i} carries row id ${id}, not a row of this table`);
    assert.ok(allowed(r, id), `${ds.name}: row ${id} (${JSON.stringify(r)}) does not belong here`);
    assert.equal(ds.labels.Diagnosis[i], r.y, `${ds.name}: Diagnosis of row ${id}`);
    assert.equal(ds.labels.scanner[i], r.scanner, `${ds.name}: scanner of row ${id}`);
  });
  return got;
}

describe("natural shift: the dataset's own split and external test cohorts", () => {
  it("split_column as it is: every train / valid row used once with its own labels; tests from the test rows; a site held out", async () => {
    const c = cohort();
    const data = await prepareData(
      config(c.root, {
        split_column: SPLIT,
        external_tests: [{ name: "site_B", column: "site", values: ["B"] }],
      }),
    );
    const own = (split: string) => (r: Row) => r.split === split && r.site === "A";
    const train = checkItems(data.splits.train, c.rows, own("train"));
    const val = checkItems(data.splits.validation, c.rows, own("valid"));
    // As they are: every row of the dataset's train (and valid) value outside site B, once.
    const expected = (split: string) =>
      c.rows.flatMap((r, i) => (own(split)(r) ? [i] : [])).sort((a, b) => a - b);
    assert.deepEqual(
      [...train].sort((a, b) => a - b),
      expected("train"),
    );
    assert.deepEqual(
      [...val].sort((a, b) => a - b),
      expected("valid"),
    );
    // The induced-shift tests: only test rows, and balanced / inverted as the protocol asks.
    const tb = data.splits.test_balanced as InMemoryDataset;
    const ti = data.splits.test_inverted as InMemoryDataset;
    checkItems(tb, c.rows, own("test"));
    checkItems(ti, c.rows, own("test"));
    const agree = (ds: InMemoryDataset) =>
      ds.labels.scanner.filter((z, i) => z === ds.labels.Diagnosis[i]).length / ds.length;
    assert.equal(agree(tb), 0.5);
    assert.equal(agree(ti), 4 / 16);
    // The held-out site: every site-B row of any split value, and no other.
    assert.equal(data.external.length, 1);
    assert.equal(data.external[0].from, "site = B");
    const b = checkItems(data.external[0].dataset, c.rows, (r) => r.site === "B");
    assert.deepEqual(
      [...b].sort((x, y) => x - y),
      c.rows.flatMap((r, i) => (r.site === "B" ? [i] : [])),
    );
    // Counts name every split with the sizes it holds.
    const sizes = Object.fromEntries(data.counts.map((k) => [k.split, k.size]));
    assert.deepEqual(sizes, {
      test_balanced: 16,
      test_inverted: 16,
      validation: expected("valid").length,
      train: expected("train").length,
      site_B: 60,
    });
  });

  it("split_column confounded: train and validation drawn from their own rows at the configured ratio", async () => {
    const c = cohort();
    const data = await prepareData(
      config(c.root, { split_column: { ...SPLIT, confound: true } }),
      undefined,
      {
        oracle: true,
      },
    );
    assert.equal(data.splits.train.length, 80);
    checkItems(data.splits.train, c.rows, (r) => r.split === "train");
    checkItems(data.splits.validation, c.rows, (r) => r.split === "valid");
    const agree = (ds: InMemoryDataset) =>
      ds.labels.scanner.filter((z, i) => z === ds.labels.Diagnosis[i]).length / ds.length;
    assert.equal(agree(data.splits.train), 0.8);
    assert.ok(Math.abs(agree(data.splits.validation) - 0.8) < 0.05);
    // The oracle: uncorrelated, from the train rows only.
    const oracle = data.splits.train_oracle as InMemoryDataset;
    checkItems(oracle, c.rows, (r) => r.split === "train");
    assert.equal(agree(oracle), 0.5);
  });

  it("a split value listed nowhere is an error naming it, its count and lines; no test value skips the induced tests", async () => {
    const c = cohort({ splitValues: (i) => (i === 7 || i === 9 ? "holdout" : i < 400 ? "train" : "valid") });
    await assert.rejects(prepareData(config(c.root, { split_column: SPLIT })), (e: Error) => {
      assert.match(
        e.message,
        /^data\.split_column: column 'split' holds values listed under none of train, validation and test:/,
      );
      assert.ok(
        e.message.includes(
          `'holdout' (2 rows; lines ${join(c.root, "manifest.csv")}:9, ${join(c.root, "manifest.csv")}:11)`,
        ),
        e.message,
      );
      return true;
    });
    const said: string[] = [];
    const data = await prepareData(
      config(c.root, { split_column: { ...SPLIT, train: ["train", "holdout"], test: [] } }),
      { log: (m) => said.push(m) },
    );
    assert.equal(data.splits.test_inverted, undefined);
    assert.equal(data.splits.test_balanced, undefined);
    assert.ok(
      said.some((m) =>
        /no usable row has a test value \(none listed in column 'split'\), so the induced-shift tests test_inverted and test_balanced are skipped/.test(
          m,
        ),
      ),
      said.join("\n"),
    );
    assert.equal(data.splits.train.length, 400);
  });

  it("config rules: a test given two ways, a clash with a split name, synthetic spurions as they are", () => {
    const c = { root: "/nonexistent" };
    assert.throws(
      () => config(c.root, { external_tests: [{ name: "x", csv: "a.csv", column: "site", values: ["B"] }] }),
      /data\.external_tests\[0\].*give either csv \(another table\) or column and values/s,
    );
    assert.throws(
      () => config(c.root, { external_tests: [{ name: "validation", column: "site", values: ["B"] }] }),
      /data\.external_tests\[0\]\.name.*is a split of the protocol/s,
    );
    assert.throws(
      () =>
        config(c.root, {
          split_column: SPLIT,
          spurions: [{ name: "marker", kind: "patch", ratio: 0.9 }],
        }),
      /data\.spurions\[0\]\.kind.*split_column\.confound is false/s,
    );
  });

  it("a run trains on site A, reports the induced tests beside a held-out site and an external CSV; eval re-renders them", async () => {
    const c = cohort();
    const cfg = config(c.root, {
      split_column: { ...SPLIT, confound: true },
      external_tests: [
        { name: "site_B", column: "site", values: ["B"] },
        { name: "cohort_C", csv: "external.tsv" },
      ],
    });
    const out = join(c.root, "run");
    const r = await runExperiment(cfg, { ...quiet, outDir: out, methods: ["erm", "mimmx"], maxSteps: 3 });
    assert.equal(r.status, "completed");
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    assert.deepEqual(summary.data.external, [
      { name: "site_B", from: "site = B" },
      { name: "cohort_C", from: "external.tsv" },
    ]);
    assert.equal(summary.data.sizes.site_B, 60);
    assert.equal(summary.data.sizes.cohort_C, 60);
    for (const m of summary.methods) {
      for (const t of ["site_B", "cohort_C"]) {
        const x = m.external[t];
        assert.ok(x.accuracy >= 0 && x.accuracy <= 1, `${m.key} ${t}`);
        assert.equal(x.accuracy, m.primary[t].accuracy);
        assert.ok(typeof x.worstGroupAccuracy === "number", `${m.key} ${t} worst group`);
        assert.ok(
          x.probes.some(
            (p: { source: string; target: string }) => p.source === "f_Diagnosis" && p.target === "scanner",
          ),
        );
      }
      assert.ok(m.primary.test_inverted, "the induced tests are still there");
    }
    // eval.json: the external cohorts evaluated as they come, with the true test sizes.
    const ev = JSON.parse(readFileSync(join(out, "methods", "erm", "eval.json"), "utf8"));
    assert.deepEqual(
      ev.splits.map((s: { split: string; n: number }) => [s.split, s.n]),
      [
        ["validation", 24],
        ["test_inverted", 16],
        ["test_balanced", 16],
        ["site_B", 60],
        ["cohort_C", 60],
      ],
    );
    // The cohort-C accuracy is the fraction of its 60 images classified right: a multiple of 1/60.
    const accC = ev.splits[4].tasks.Diagnosis.accuracy;
    assert.ok(Math.abs(accC * 60 - Math.round(accC * 60)) < 1e-9);
    for (const file of ["report.md", "report.html"]) {
      const text = readFileSync(join(out, file), "utf8");
      assert.match(text, /Natural shift: external test cohorts/, file);
      assert.ok(text.includes("site = B") && text.includes("external.tsv"), file);
    }
    const again = await reevaluateRun(out, { quiet: true, log: () => {} });
    assert.deepEqual(Object.keys(again.summary?.methods[0].external ?? {}), ["site_B", "cohort_C"]);
  });

  it("without test values a run evaluates validation and the external test, and the probes move to it", async () => {
    const c = cohort({ splitValues: (i) => (i < 450 ? "train" : "valid") });
    const cfg = config(c.root, {
      split_column: { ...SPLIT, test: [] },
      external_tests: [{ name: "cohort_C", csv: "external.tsv" }],
    });
    const out = join(c.root, "run");
    const r = await runExperiment(cfg, { ...quiet, outDir: out, methods: ["mimmx"], maxSteps: 2 });
    assert.equal(r.status, "completed");
    const ev = JSON.parse(readFileSync(join(out, "methods", "mimmx", "eval.json"), "utf8"));
    assert.deepEqual(
      ev.splits.map((s: { split: string }) => s.split),
      ["validation", "cohort_C"],
    );
    assert.equal(ev.probes.split, "cohort_C");
    const md = readFileSync(join(out, "report.md"), "utf8");
    assert.match(md, /cohort_C \(external\.tsv\)/);
  });

  it("the README's snippets parse; its two-cohort MRI study holds NAKO out whole and splits UKB by its own column", async () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### Bringing your own cohorts"));
    const blocks = [...section.slice(0, section.indexOf("\n## ")).matchAll(/```yaml\n([\s\S]*?)```/g)].map(
      (m) => m[1],
    );
    assert.equal(blocks.length, 2);
    const [chex, mri] = blocks.map((b, i) => parseConfig(b, `README.md block ${i + 1}`));
    assert.deepEqual(chex.data.external_tests, [
      { name: "chexpert_valid", csv: "CheXpert-v1.0-small/valid.csv" },
    ]);
    assert.equal(mri.data.split_column?.column, "split");
    assert.deepEqual(mri.data.split_column?.test, ["test", ""]);
    // The MRI snippet on generated cohorts: UKB (TSV, with a split column) and NAKO (CSV, without).
    const root = tempDir("mimmx-natural-mri-");
    dirs.push(root);
    mkdirSync(join(root, "ukb"));
    mkdirSync(join(root, "nako"));
    const rng = new Rng(4);
    const volume = (older: boolean) =>
      niftiFloat32(
        8,
        8,
        8,
        Float32Array.from({ length: 512 }, (_, k) => 100 + 30 * rng.next() + (older && k % 8 < 3 ? 40 : 0)),
        [2, 2, 2],
      );
    const ukb = ["eid\tpath\tage\tsex\tsplit"];
    const ukbSplit: string[] = [];
    for (let i = 0; i < 160; i++) {
      const age = 40 + rng.int(40);
      const split = i < 90 ? "train" : i < 110 ? "val" : i % 15 === 0 ? "" : "test";
      ukbSplit.push(split);
      writeFileSync(join(root, "ukb", `sub-${i}.nii`), volume(age >= 60));
      ukb.push(`${i}\tsub-${i}.nii\t${age}\t${rng.next() < 0.5 ? "F" : "M"}\t${split}`);
    }
    const nako = ["id,file,Age,Sex"];
    let nakoOlder = 0;
    for (let i = 0; i < 40; i++) {
      const age = 40 + rng.int(40);
      if (age >= 60) nakoOlder++;
      writeFileSync(join(root, "nako", `n${i}.nii`), volume(age >= 60));
      nako.push(`${i},n${i}.nii,${age},${rng.next() < 0.5 ? "Female" : "Male"}`);
    }
    writeFileSync(join(root, "ukb", "participants.tsv"), `${ukb.join("\n")}\n`);
    writeFileSync(join(root, "nako", "meta.csv"), `${nako.join("\n")}\n`);
    const cfg = parseConfig(
      blocks[1]
        .replace("root: data/mri", `root: ${root}`)
        .replace("[96, 96, 96]", "[16, 16, 16]")
        .replace(
          "data:\n",
          "data:\n  splits: { train: 40, validation: 10, test_inverted: 8, test_balanced: 8 }\n  cache: false\n",
        ),
      "README.md block 2",
    );
    const data = await prepareData(cfg);
    assert.equal(data.splits.train.length, 90, "every UKB train row, as it is");
    assert.equal(data.splits.validation.length, 20, "every UKB val row, as it is");
    assert.equal(data.external.length, 1);
    assert.equal(data.external[0].dataset.name, "nako");
    assert.equal(data.external[0].dataset.length, 40, "every NAKO subject, held out whole");
    assert.equal(data.splits.test_balanced?.length, 8);
    // The oracle of a metadata source: from UKB's train rows only, or a clear error before training.
    await assert.rejects(
      prepareData(cfg, undefined, { oracle: true }),
      /method "oracle" needs an uncorrelated training split \(train_oracle: 90 rows, every spurion independent of age\)/,
    );
    const split = cfg.data.split_column as NonNullable<RunConfig["data"]["split_column"]>;
    const withOracle = await prepareData(
      { ...cfg, data: { ...cfg.data, split_column: { ...split, confound: true } } },
      undefined,
      { oracle: true },
    );
    const oracle = withOracle.splits.train_oracle as InMemoryDataset;
    const groups = [0, 0, 0, 0];
    for (let i = 0; i < oracle.length; i++) groups[2 * oracle.labels.age[i] + oracle.labels.sex[i]]++;
    assert.deepEqual(groups, [10, 10, 10, 10]);
    // NAKO as it comes: its own share of subjects aged 60 or more.
    const counts = data.counts.find((c) => c.split === "nako");
    assert.deepEqual(counts?.yTotals, [40 - nakoOlder, nakoOlder]);
    assert.equal(
      data.counts.find((c) => c.split === "train")?.yTotals.reduce((a, b) => a + b, 0),
      ukbSplit.filter((v) => v === "train").length,
    );
  });

  it("the README's CheXpert copy: trained from train.csv, its valid.csv evaluated as it comes", async () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const block = /### Bringing your own cohorts[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    const root = tempDir("mimmx-natural-cx-");
    dirs.push(root);
    const base = "CheXpert-v1.0-small";
    const rng = new Rng(8);
    const header = CHEXPERT_COLUMNS.map((c) => (c.includes("/") || c.includes(" ") ? `"${c}"` : c)).join(",");
    /** Writes one CSV of the published layout; returns the effusion class of every frontal row. */
    const write = (split: "train" | "valid", n: number): number[] => {
      const lines = [header];
      const ys: number[] = [];
      for (let i = 0; i < n; i++) {
        const y = rng.next() < 0.5 ? 1 : 0;
        const lateral = i % 10 === 9;
        const file = `${base}/${split}/patient${i}/study1/view1_${lateral ? "lateral" : "frontal"}.png`;
        mkdirSync(join(root, file, ".."), { recursive: true });
        const px = Array.from({ length: 32 * 32 }, (_, p) => (y && p > 600 ? 200 : 60) + (p % 11));
        writeFileSync(join(root, file), pngGray(32, 32, px));
        const row: Record<string, string> = {
          Path: file,
          Sex: rng.next() < 0.5 ? "Male" : "Female",
          Age: String(30 + rng.int(50)),
          "Frontal/Lateral": lateral ? "Lateral" : "Frontal",
          "AP/PA": lateral ? "" : "AP",
        };
        for (const o of CHEXPERT_OBSERVATIONS) row[o] = o === "Pleural Effusion" ? (y ? "1.0" : "0.0") : "";
        lines.push(CHEXPERT_COLUMNS.map((c) => row[c]).join(","));
        if (!lateral) ys.push(y);
      }
      writeFileSync(join(root, base, `${split}.csv`), `${lines.join("\n")}\n`);
      return ys;
    };
    write("train", 240);
    const valid = write("valid", 50);
    const cfg = parseConfig(
      block
        .replace("root: data/chexpert", `root: ${root}`)
        .replace("data:\n", "data:\n  image_size: [64, 64]\n  cache: false\n")
        .replace(
          "{ train: 8000, validation: 1000, test_inverted: 500, test_balanced: 500 }",
          "{ train: 60, validation: 20, test_inverted: 16, test_balanced: 16 }",
        ),
      "README.md block 1",
    );
    const data = await prepareData(cfg);
    const test = data.external[0];
    assert.equal(test.dataset.name, "chexpert_valid");
    assert.equal(test.from, `${base}/valid.csv`);
    // Every frontal view of valid.csv, with its own effusion labels in file order.
    assert.deepEqual([...test.dataset.labels["Pleural Effusion"]], valid);
    assert.equal(data.splits.train.length, 60);
  });
});

// The suite's definitions, tables, resume and files cohort (fast: no training; the quick tier's
// shortcut check trains, in suite-quick.test.ts).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SUITE_BENCHMARKS, selectBenchmarks, TIERS } from "../../bench/suite/benchmarks.js";
import { writeCohort } from "../../bench/suite/cohort.js";
import {
  configHash,
  failedRow,
  normalizeMethodSpec,
  parseMethodSpec,
  readRows,
  rowFromRun,
  runSuite,
  SUITE_SELECT_BY,
  suiteConfig,
  suiteMethods,
} from "../../bench/suite/runner.js";
import {
  FAILED_ACCURACY,
  grid,
  type SuiteRow,
  shortcutGaps,
  stat,
  suiteHtml,
  suiteMarkdown,
  summarize,
} from "../../bench/suite/tables.js";
import { DEFAULT_PRESET, METHODS, resolveDefaults } from "../../src/config/index.js";
import { loadFashionMnist } from "../../src/data/io/fashion-mnist.js";
import { decodePng } from "../../src/data/io/png.js";
import { applySpurions } from "../../src/data/spurions/compose.js";
import { Table } from "../../src/data/table/csv.js";
import { prepareData, syntheticSpurion } from "../../src/run/data.js";
import { DEMO_METHODS, demoConfigs } from "../../src/run/demo.js";
import { tempDir } from "../data/helpers.js";

function row(
  bench: string,
  method: string,
  seed: number,
  inverted: number,
  extra: Partial<SuiteRow> = {},
): SuiteRow {
  return {
    bench,
    method,
    seed,
    tier: "quick",
    config: "0",
    validation: 0.9,
    inverted,
    balanced: inverted + 0.1,
    worst_group: inverted - 0.1,
    max_probe: 0.6,
    seconds: 10,
    train_seconds: 8,
    epochs: 4,
    status: "completed",
    ...extra,
  };
}

test("the suite spans the protocol: >= 8 benchmarks, distinct class pairs, every kind, N = 1..4, ratios 0.9..0.98", () => {
  assert.ok(SUITE_BENCHMARKS.length >= 8);
  const pairs = SUITE_BENCHMARKS.map((b) => [...b.classes].sort().join("-"));
  assert.equal(new Set(pairs).size, pairs.length, `class pairs repeat: ${pairs}`);
  const kinds = new Set(
    SUITE_BENCHMARKS.flatMap((b) => [
      ...b.spurions.map((s) => s.kind),
      ...(b.cohort?.columns.map((c) => c.drawn) ?? []),
    ]),
  );
  for (const k of [
    "tag",
    "patch",
    "block",
    "blob",
    "intensity",
    "contrast",
    "noise",
    "rotation",
    "thickness",
    "frame",
    "gradient",
    "metadata",
  ])
    assert.ok(kinds.has(k as never), `no benchmark uses ${k}`);
  const ns = SUITE_BENCHMARKS.map((b) => b.spurions.length);
  assert.equal(Math.min(...ns), 1);
  assert.equal(Math.max(...ns), 4);
  const ratios = SUITE_BENCHMARKS.flatMap((b) => b.spurions.map((s) => s.ratio));
  assert.equal(Math.min(...ratios), 0.9);
  assert.equal(Math.max(...ratios), 0.98);
  assert.ok(
    SUITE_BENCHMARKS.some((b) => (b.coupling ?? 0) > 0),
    "a benchmark with coupled spurions",
  );
  assert.ok(
    SUITE_BENCHMARKS.some((b) => b.source === "files" && b.spurions.every((s) => s.kind === "metadata")),
  );
  assert.deepEqual(
    selectBenchmarks(["patch", "demo"]).map((b) => b.name),
    ["patch", "demo"],
  );
  assert.throws(() => selectBenchmarks(["nope"]), /unknown benchmark "nope" \(benchmarks: demo, patch/);
});

test("every method gets its own defaults and one checkpoint rule; unknown methods are named", () => {
  assert.deepEqual(suiteMethods(), [...METHODS]);
  assert.deepEqual(suiteMethods(["erm", "oracle", "erm"]), ["erm", "oracle"]);
  assert.throws(() => suiteMethods(["erm", "dfrr"]), /unknown method "dfrr" \(methods: erm, mtl/);
  const cohort = { root: "/tmp/x", csv: "/tmp/x/manifest.csv", labelColumn: "label", positive: "Shirt" };
  const defaults = resolveDefaults({
    name: "t",
    data: { source: "fashion-confounded", spurions: [{ name: "a", kind: "patch" }] },
    method: { name: "mimmx" },
  });
  for (const b of SUITE_BENCHMARKS)
    for (const tier of TIERS)
      for (const m of METHODS) {
        const c = suiteConfig(b, tier, 3, m, { cohort });
        assert.equal(c.train.select_by, SUITE_SELECT_BY);
        assert.equal(c.train.epochs, b.tiers[tier].epochs);
        assert.equal(c.seed, 3);
        assert.equal(c.data.splits.train, b.tiers[tier].train);
        assert.deepEqual(c.data.spurions, b.spurions);
        assert.equal(c.data.spurion_coupling, b.coupling ?? 0);
        if (m === "mimmx") {
          assert.deepEqual(c.method, defaults.method, "MIMM-X runs with its defaults");
          assert.deepEqual(c.model, defaults.model);
        }
      }
});

test("method@preset columns: a preset's config, one spelling for the default, bad specs named", () => {
  assert.deepEqual(suiteMethods(["erm", "mimmx@published", "mimmx@kernel-dro"]), [
    "erm",
    DEFAULT_PRESET.mimmx === "published" ? "mimmx" : "mimmx@published",
    DEFAULT_PRESET.mimmx === "kernel-dro" ? "mimmx" : "mimmx@kernel-dro",
  ]);
  assert.equal(normalizeMethodSpec(`mimmx@${DEFAULT_PRESET.mimmx}`), "mimmx");
  assert.deepEqual(parseMethodSpec("mimmx@kernel-dro"), { name: "mimmx", preset: "kernel-dro" });
  assert.throws(
    () => parseMethodSpec("mimmx@nope"),
    /unknown preset "nope" in "mimmx@nope" \(presets: published/,
  );
  assert.throws(() => parseMethodSpec("mimmx@"), /"mimmx@" is not a method or method@preset/);
  assert.throws(() => parseMethodSpec("erm@published"), /preset "published" is for mimmx/);
  const demo = SUITE_BENCHMARKS[0];
  const c = suiteConfig(demo, "full", 0, "mimmx@published");
  assert.equal(c.method.preset, "published");
  assert.equal(c.model.feature_dim, 32);
  assert.equal(c.method.gradnorm.enabled, true);
  // The same run spelled as the default and as its preset hashes alike, so rows carry over.
  assert.equal(
    configHash(demo, "full", 0, `mimmx@${DEFAULT_PRESET.mimmx}`),
    configHash(demo, "full", 0, "mimmx"),
  );
});

test("the demo is the suite's demo benchmark at the full tier, seed 0, each method at its defaults", () => {
  const demo = SUITE_BENCHMARKS.find((b) => b.name === "demo");
  assert.ok(demo);
  const { run, methods } = demoConfigs();
  assert.equal(run.method.name, "mimmx");
  for (const m of DEMO_METHODS) {
    const own = methods[m];
    assert.ok(own, m);
    const suite = suiteConfig(demo, "full", 0, m);
    for (const key of ["seed", "data", "model", "method"] as const)
      assert.deepEqual(own[key], suite[key], `${m}: ${key}`);
    assert.deepEqual({ ...own.train, threads: 0 }, { ...suite.train, threads: 0 }, `${m}: train`);
  }
  assert.deepEqual(DEMO_METHODS, ["erm", "groupdro", "mimmx", "oracle"]);
});

test("summary, grid and gaps: means and sample sd over seeds, per method and per benchmark", () => {
  const rows = [
    row("a", "erm", 0, 0.4),
    row("a", "erm", 1, 0.44),
    row("b", "erm", 0, 0.6),
    row("a", "oracle", 0, 0.8, { max_probe: null }),
    row("a", "oracle", 1, 0.84, { max_probe: null }),
    row("b", "oracle", 0, 0.7, { max_probe: null }),
  ];
  const s = stat([0.4, 0.44]);
  assert.ok(Math.abs(s.mean - 0.42) < 1e-12);
  assert.ok(Math.abs(s.sd - Math.SQRT2 * 0.02) < 1e-12);
  const sum = summarize(rows, ["oracle", "erm"]);
  assert.deepEqual(
    sum.map((x) => x.method),
    ["oracle", "erm"],
  );
  assert.ok(Math.abs(sum[1].inverted_mean - (0.4 + 0.44 + 0.6) / 3) < 1e-12);
  assert.ok(Math.abs(sum[1].balanced_mean - (0.5 + 0.54 + 0.7) / 3) < 1e-12);
  assert.equal(sum[0].max_probe_mean, null);
  assert.equal(sum[1].rows, 3);
  const g = grid(rows, "inverted");
  assert.equal(g.cells.get("a")?.get("erm")?.n, 2);
  assert.ok(Math.abs((g.cells.get("b")?.get("oracle")?.mean ?? 0) - 0.7) < 1e-12);
  const gaps = shortcutGaps(rows);
  assert.equal(gaps.length, 2);
  assert.ok(Math.abs(gaps[0].gap - 40) < 1e-9 && Math.abs(gaps[1].gap - 10) < 1e-9);
  const md = suiteMarkdown({ tier: "quick", seeds: [0, 1], rows, selectBy: "val_worst_group" });
  assert.match(md, /\| a \| 42\.0 ± 2\.8 \| 82\.0 ± 2\.8 \|/);
  assert.match(md, /\| b \| 60\.0 \| 70\.0 \|/, "inverted on b");
  assert.match(md, /\| b \| 50\.0 \| 60\.0 \|/, "worst group on b");
  assert.match(md, /\| a \| 42\.0 \| 82\.0 \| 40\.0 \| yes \|/);
  assert.match(md, /\| b \| 60\.0 \| 70\.0 \| 10\.0 \| no \|/);
  const html = suiteHtml({ tier: "quick", seeds: [0, 1], rows });
  // The best non-oracle method per benchmark is bold (ERM here), never the oracle.
  assert.match(html, /<td><b>42\.0 ± 2\.8<\/b><\/td>\n<td>82\.0 ± 2\.8<\/td>/);
});

test("resume: finished rows in rows.jsonl are not run again; a cut-off line is ignored", async () => {
  const dir = tempDir("mimmx-suite-");
  const demo = SUITE_BENCHMARKS[0];
  const done = row("demo", "erm", 0, 0.47, { tier: "full", config: configHash(demo, "full", 0, "erm") });
  // Same row under another configuration (a changed definition or default): not reused.
  const stale = row("demo", "erm", 0, 0.99, { tier: "full", config: "deadbeef" });
  assert.notEqual(done.config, stale.config);
  assert.equal(configHash(demo, "full", 0, "erm"), configHash(demo, "full", 0, "erm"));
  assert.notEqual(configHash(demo, "full", 0, "erm"), configHash(demo, "full", 1, "erm"));
  assert.notEqual(configHash(demo, "full", 0, "erm"), configHash(demo, "quick", 0, "erm"));
  writeFileSync(
    join(dir, "rows.jsonl"),
    `${JSON.stringify(stale)}\n${JSON.stringify(done)}\n{"bench":"demo","meth`,
  );
  assert.equal(readRows(join(dir, "rows.jsonl")).length, 2);
  const logs: string[] = [];
  const res = await runSuite({
    tier: "full",
    seeds: 1,
    seedOffset: 0,
    methods: ["erm"],
    benchmarks: ["demo"],
    out: dir,
    log: (m) => logs.push(m),
  });
  assert.deepEqual(logs, [], "nothing was trained");
  assert.deepEqual(res.rows, [done]);
  assert.deepEqual(res.seeds, [0]);
  assert.equal(res.summary[0].inverted_mean, 0.47);
  assert.match(readFileSync(res.results.markdown, "utf8"), /\| demo \| 47\.0 \|/);
  assert.match(readFileSync(res.results.html, "utf8"), /<b>47\.0<\/b>/);
});

test("files cohort: PNGs hold the Fashion-MNIST image with the artefact of its metadata value; values half per class", async () => {
  const dir = tempDir("mimmx-cohort-");
  const spec = {
    classes: [3, 6] as [number, number],
    perClass: 80,
    dir,
    columns: [
      { column: "site", present: "B", absent: "A", drawn: "frame" as const },
      { column: "scanner", present: "new", absent: "old", drawn: "patch" as const },
    ],
  };
  const c = writeCohort(spec);
  const table = Table.read(c.csv);
  assert.deepEqual(table.columns, ["y", "site", "scanner", "path"]);
  assert.equal(table.length, 160);
  const col = (n: string) => table.rows.map((r) => r[table.columnIndex(n)]);
  for (const cls of c.classNames) {
    const rows = table.rows.filter((r) => r[0] === cls);
    assert.equal(rows.length, 80);
    assert.equal(rows.filter((r) => r[1] === "B").length, 40);
    assert.equal(rows.filter((r) => r[2] === "new").length, 40);
  }
  // The first Dress image of the training set, redrawn with its row's values, equals the PNG.
  const train = loadFashionMnist("train");
  const first = train.labels.indexOf(3);
  const px = 28 * 28;
  const img = {
    data: Float32Array.from(train.images.subarray(first * px, (first + 1) * px), (v) => v / 255),
    shape: [1, 28, 28],
  };
  const z = [col("site")[0] === "B" ? 1 : 0, col("scanner")[0] === "new" ? 1 : 0];
  const want = applySpurions(
    img,
    spec.columns.map((s) => syntheticSpurion({ name: s.column, kind: s.drawn, ratio: 0.5 })),
    z,
    0,
  );
  const got = decodePng("x", readFileSync(join(dir, col("path")[0])));
  for (let i = 0; i < px; i++)
    assert.ok(Math.abs(got.data[i] - Math.round(want.data[i] * 255) / 255) < 1e-6, `pixel ${i}`);
  // Frame pixels (value 1) appear exactly where site = B.
  for (const [k, site] of col("site").entries()) {
    const p = decodePng("x", readFileSync(join(dir, col("path")[k])));
    assert.equal(
      p.data[0] === 1 && p.data[27] === 1 && p.data[px - 1] === 1,
      site === "B" || p.data[0] === 1,
      `row ${k}`,
    );
  }
  assert.equal(writeCohort(spec).csv, c.csv, "written once, then found");

  // Read through the manifest source with an oracle split: uncorrelated, the other splits unchanged.
  const config = resolveDefaults({
    name: "t",
    seed: 1,
    data: {
      source: "manifest",
      root: dir,
      csv: c.csv,
      task: { column: "y", positive: ["Shirt"] },
      spurions: [
        { name: "site", kind: "metadata", column: "site", positive: ["B"], ratio: 0.75 },
        { name: "scanner", kind: "metadata", column: "scanner", positive: ["new"], ratio: 0.75 },
      ],
      splits: { train: 16, validation: 8, test_inverted: 8, test_balanced: 8 },
      transforms: { normalize: false },
    },
    method: { name: "erm" },
  });
  const logs: string[] = [];
  const withOracle = await prepareData(config, { log: (m) => logs.push(m) }, { oracle: true });
  const without = await prepareData(config, { log: () => {} });
  assert.equal(without.splits.train_oracle, undefined);
  const oracle = withOracle.splits.train_oracle;
  assert.ok(oracle, logs.join("\n"));
  assert.equal(oracle.length, 16);
  // Every spurion at chance given y: half the oracle's rows pair each spurion with y.
  for (const s of ["site", "scanner"]) {
    const y = oracle.labels[withOracle.tasks[0].name];
    const z = oracle.labels[s];
    let paired = 0;
    for (let i = 0; i < oracle.length; i++) if (z[i] === y[i]) paired++;
    assert.equal(paired / oracle.length, 0.5, s);
  }
  assert.deepEqual(
    withOracle.counts.find((x) => x.split === "train")?.spurions.map((s) => s.pairedFraction),
    [0.75, 0.75],
  );
  for (const s of ["validation", "test_inverted", "test_balanced", "train"] as const)
    assert.deepEqual(
      withOracle.splits[s]?.images,
      without.splits[s]?.images,
      `${s} is the same with or without the oracle`,
    );
});

test("config: kinds frame and gradient are drawn by fashion-confounded runs; spurion_coupling is checked", async () => {
  const config = resolveDefaults({
    name: "t",
    data: {
      source: "fashion-confounded",
      classes: [3, 4],
      spurions: [
        { name: "frame", kind: "frame", ratio: 0.9 },
        { name: "ramp", kind: "gradient", ratio: 0.9 },
      ],
      spurion_coupling: 0.5,
      splits: { train: 200, validation: 100, test_inverted: 100, test_balanced: 100 },
    },
    method: { name: "erm" },
  });
  const data = await prepareData(config);
  const ds = data.splits.train;
  const px = 28 * 28;
  for (let i = 0; i < ds.length; i++) {
    const img = ds.images.subarray(i * px, (i + 1) * px);
    const framed = img[0] === 1 && img[27] === 1 && img[27 * 28] === 1 && img[px - 1] === 1;
    assert.equal(framed, ds.labels.frame[i] === 1, `row ${i}: frame ${ds.labels.frame[i]}`);
  }
  // Coupled: the two spurions agree with y together more often than independent ones would (0.82).
  let same = 0;
  for (let i = 0; i < ds.length; i++)
    same += (ds.labels.frame[i] === ds.labels.y[i]) === (ds.labels.ramp[i] === ds.labels.y[i]) ? 1 : 0;
  assert.ok(same / ds.length > 0.88, `P(agreements equal) = ${same / ds.length}`);
  assert.throws(
    () => resolveDefaults({ ...config, data: { ...config.data, spurion_coupling: 1.5 } }),
    /data\.spurion_coupling/,
  );
});

test("a row is read from a finished run folder; DFR's validation is its selection part", () => {
  const dir = mkdtempSync(join(tmpdir(), "mimmx-suite-row-"));
  try {
    const mdir = join(dir, "methods", "dfr");
    mkdirSync(mdir, { recursive: true });
    const task = (accuracy: number, worst?: number) => ({
      y: { accuracy, ...(worst === undefined ? {} : { worstGroup: { worstAccuracy: worst } }) },
      marker: { accuracy: 0.5 },
    });
    writeFileSync(
      join(mdir, "eval.json"),
      JSON.stringify({
        splits: [
          { split: "validation (selection part)", tasks: task(0.9) },
          { split: "test_inverted", tasks: task(0.7) },
          { split: "test_balanced", tasks: task(0.8, 0.6) },
        ],
        probes: {
          rows: [
            { sourcePart: 0, kind: "switched", accuracy: 0.55 },
            { sourcePart: 0, kind: "switched", accuracy: 0.62 },
            { sourcePart: 1, kind: "switched", accuracy: 0.99 },
          ],
        },
      }),
    );
    writeFileSync(join(mdir, "train.json"), JSON.stringify({ status: "completed", epochs: 10, seconds: 12 }));
    const key = { bench: "demo", method: "dfr", seed: 0, tier: "full", config: "abc" };
    const r = rowFromRun(dir, key, 15);
    assert.equal(r.validation, 0.9);
    assert.equal(r.inverted, 0.7);
    assert.equal(r.balanced, 0.8);
    assert.equal(r.worst_group, 0.6);
    assert.equal(r.max_probe, 0.62, "the largest f_y probe; other parts' probes do not count");
    assert.equal(r.seconds, 15);
    assert.throws(
      () => rowFromRun(dir, { ...key, method: "erm" }, 1),
      /methods\/erm\/eval.json is missing \(the run did not finish\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a failed run counts as chance in the means and is marked in the tables", () => {
  const key = { bench: "four", method: "subsample", seed: 1, tier: "quick", config: "0" };
  const failed = failedRow(key, "subsample: the group-balanced subset of train has 4 rows", 3);
  // Written and read back as rows.jsonl does: the NaN accuracies become null.
  const back = JSON.parse(JSON.stringify(failed)) as SuiteRow;
  assert.equal(back.inverted, null);
  const rows = [
    row("four", "subsample", 0, 0.8),
    back,
    row("four", "erm", 0, 0.3),
    row("four", "erm", 1, 0.4),
  ];
  const [sub] = summarize(rows, ["subsample", "erm"]);
  assert.equal(sub.failed, 1);
  assert.equal(sub.rows, 2);
  assert.ok(Math.abs(sub.inverted_mean - (0.8 + FAILED_ACCURACY) / 2) < 1e-12);
  assert.ok(Math.abs(sub.worst_group_mean - (0.7 + FAILED_ACCURACY) / 2) < 1e-12);
  assert.equal(sub.seconds_mean, 10, "a failed run's time is not a training time");
  const g = grid(rows, "inverted", undefined, ["subsample", "erm"]);
  assert.equal(g.cells.get("four")?.get("subsample")?.failed, 1);
  const md = suiteMarkdown({ tier: "quick", seeds: [0, 1], rows });
  assert.match(md, /\| four \| 65\.0 ± 21\.2 \(1 failed\) \|/);
  const onlyFailed = suiteMarkdown({ tier: "quick", seeds: [1], rows: [back] });
  assert.match(onlyFailed, /\| four \| failed \|/);
  assert.match(suiteHtml({ tier: "quick", seeds: [0, 1], rows }), /\(1 failed\)/);
});

test("a key added at its no-op value leaves the row hashes as recorded; another value changes them", () => {
  const demo = SUITE_BENCHMARKS[0];
  // kernel-rw-lin differs from kernel-rw-wide only by estimator.linear: true.
  assert.notEqual(
    configHash(demo, "full", 0, "mimmx@kernel-rw-lin"),
    configHash(demo, "full", 0, "mimmx@kernel-rw-wide"),
  );
  // Recorded in the full tier's rows.jsonl (2026-12-01) before estimator.linear existed: a schema
  // change that moves this hash makes every recorded row run again, so it must be deliberate.
  assert.equal(configHash(demo, "full", 0, "erm"), "7d83d66e");
  // method.balance_by (round 6): kernel-rw pins "loss", its round-5 behaviour, and keeps its hash;
  // kernel-rs differs from it by "sampler" alone; erm does not read the key.
  assert.equal(configHash(demo, "full", 0, "mimmx@kernel-rw"), "0c6ccf3b");
  assert.notEqual(configHash(demo, "full", 0, "mimmx@kernel-rs"), "0c6ccf3b");
});

// `mimmx bench suite`: every method on every benchmark for each seed, each (benchmark, seed, method)
// one run of the experiment machinery `mimmx train --compare` uses (runExperiment), with one
// checkpoint rule for every method. A finished run appends one line to <out>/rows.jsonl at once,
// so an interrupted suite, started again with the same --out, skips the finished rows and resumes
// the interrupted one from its last checkpoint. The tables are rendered from rows.jsonl at the end.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_PRESET,
  type DeepPartial,
  METHODS,
  type MethodName,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  type RunConfig,
  resolveDefaults,
} from "../../src/config/index.js";
import { findSplit } from "../../src/run/evaluate.js";
import { runExperiment } from "../../src/run/experiment.js";
import { METHOD_FILES, methodDir } from "../../src/run/layout.js";
import { hashString } from "../../src/util/random.js";
import { type SuiteBenchmark, selectBenchmarks, type Tier } from "./benchmarks.js";
import { writeCohort } from "./cohort.js";
import { type SuiteRow, suiteHtml, suiteMarkdown, summarize } from "./tables.js";

/** A failure of the suite itself (a bad option, a run that left no result), never a row. */
export class SuiteError extends Error {
  override name = "SuiteError";
}

/** The checkpoint rule of every method in the suite (the same for all, so no method is favoured). */
export const SUITE_SELECT_BY: RunConfig["train"]["select_by"] = "val_worst_group";

export interface SuiteOptions {
  tier: Tier;
  seeds: number;
  seedOffset: number;
  /** default: every method the config knows (METHODS), the oracle included */
  methods?: string[];
  /** default: every benchmark */
  benchmarks?: string[];
  /** results folder; default runs/suite-<tier> */
  out?: string;
  /** intra-op threads per run (0: MIMMX_THREADS or all cores) */
  threads?: number;
  /** stop each run after this many steps (tests) */
  maxSteps?: number;
  /**
   * Runs at once, each a child process with its share of the rows (at 1 thread a run, one per core
   * is the fastest use of the machine: the small CNN gains nothing from a second intra-op thread).
   */
  jobs?: number;
  /** This process runs rows k with k mod count = index only (set for the children of `jobs`). */
  shard?: { index: number; count: number };
  log?: (message: string) => void;
}

export interface SuiteResult {
  bench: "suite";
  tier: Tier;
  benchmarks: string[];
  seeds: number[];
  methods: string[];
  select_by: string;
  summary: ReturnType<typeof summarize>;
  rows: SuiteRow[];
  results: { dir: string; rows: string; markdown: string; html: string };
}

/**
 * One column of the suite: a method at its defaults ("groupdro"), or a method under a named preset
 * ("mimmx@published"), so candidate defaults run beside the peers on the same rows.
 */
export interface MethodSpec {
  name: MethodName;
  preset?: PresetName;
}

/** "name" or "name@preset", checked against the config's method and preset names. */
export function parseMethodSpec(spec: string): MethodSpec {
  const [name, preset, extra] = spec.split("@");
  if (!(METHODS as readonly string[]).includes(name))
    throw new SuiteError(`bench suite: unknown method "${name}" (methods: ${METHODS.join(", ")})`);
  if (extra !== undefined || preset === "")
    throw new SuiteError(`bench suite: "${spec}" is not a method or method@preset`);
  if (preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(preset))
    throw new SuiteError(
      `bench suite: unknown preset "${preset}" in "${spec}" (presets: ${PRESET_NAMES.join(", ")})`,
    );
  if (preset !== undefined && !(PRESETS[preset as PresetName].methods as string[]).includes(name))
    throw new SuiteError(
      `bench suite: preset "${preset}" is for ${PRESETS[preset as PresetName].methods.join(", ")}, not ${name} ("${spec}")`,
    );
  return { name: name as MethodName, preset: preset as PresetName | undefined };
}

/**
 * A spec in its one spelling: "mimmx@<its default preset>" is "mimmx", so the rows of a candidate
 * preset measured before it became the default count as the default's rows (same config hash).
 */
export function normalizeMethodSpec(spec: string): string {
  const { name, preset } = parseMethodSpec(spec);
  return preset === undefined || preset === DEFAULT_PRESET[name] ? name : `${name}@${preset}`;
}

/** The columns to run: `specs` checked (see parseMethodSpec), or every method at its defaults. */
export function suiteMethods(specs?: readonly string[]): string[] {
  if (!specs || specs.length === 0) return [...METHODS];
  return [...new Set(specs.map(normalizeMethodSpec))];
}

/** The run configuration of one (benchmark, seed, method); `cohortRoot` for the files benchmark. */
export function suiteConfig(
  b: SuiteBenchmark,
  tier: Tier,
  seed: number,
  method: string,
  o: { cohort?: { root: string; csv: string; labelColumn: string; positive: string }; threads?: number } = {},
): RunConfig {
  const spec = parseMethodSpec(method);
  const t = b.tiers[tier];
  const data: DeepPartial<RunConfig["data"]> =
    b.source === "fashion"
      ? { source: "fashion-confounded", classes: b.classes, spurions: b.spurions }
      : {
          source: "manifest",
          root: o.cohort?.root,
          csv: o.cohort?.csv,
          task: { column: o.cohort?.labelColumn ?? "label", positive: [o.cohort?.positive ?? ""] },
          spurions: b.spurions,
        };
  const partial: DeepPartial<RunConfig> = {
    name: `suite-${b.name}`,
    seed,
    data: {
      ...data,
      spurion_coupling: b.coupling ?? 0,
      splits: {
        train: t.train,
        validation: t.validation,
        test_inverted: t.test_inverted,
        test_balanced: t.test_balanced,
      },
    },
    // Nothing else of model and method: each method runs with its defaults (or the spec's preset).
    method: { name: spec.name, ...(spec.preset ? { preset: spec.preset } : {}) },
    train: { epochs: t.epochs, select_by: SUITE_SELECT_BY, threads: o.threads ?? 0 },
    // The probes are the suite's leakage number; t-SNE and the MI audit are skipped for time.
    eval: {
      splits: ["validation", "test_inverted", "test_balanced"],
      bootstrap: 0,
      probes: { enabled: true, split: "test_balanced" },
      tsne: { enabled: false },
      mi_audit: { enabled: false },
    },
  };
  return resolveDefaults(partial, `bench suite ${b.name}`);
}

interface EvalFile {
  splits: {
    split: string;
    tasks: Record<string, { accuracy: number; worstGroup?: { worstAccuracy: number } }>;
  }[];
  probes?: { rows: { sourcePart: number; kind: string; accuracy: number }[] };
}

/** The suite's numbers of one finished run folder (eval.json and train.json of its one method). */
export function rowFromRun(
  dir: string,
  key: { bench: string; method: string; seed: number; tier: string; config: string },
  seconds: number,
): SuiteRow {
  const mdir = methodDir(dir, parseMethodSpec(key.method).name);
  const read = <T>(file: string): T => {
    const path = join(mdir, file);
    if (!existsSync(path)) throw new SuiteError(`bench suite: ${path} is missing (the run did not finish)`);
    return JSON.parse(readFileSync(path, "utf8")) as T;
  };
  const ev = read<EvalFile>(METHOD_FILES.eval);
  const train = read<{ status: string; epochs: number; seconds: number }>(METHOD_FILES.train);
  const y = (split: string) => {
    const s = findSplit(ev.splits, split);
    // The primary task is the first key (evaluation writes tasks in the method's order).
    const primary = s ? Object.values(s.tasks)[0] : undefined;
    if (!primary) throw new SuiteError(`bench suite: ${mdir}/${METHOD_FILES.eval} has no split "${split}"`);
    return primary;
  };
  const probes = (ev.probes?.rows ?? []).filter((r) => r.sourcePart === 0 && r.kind === "switched");
  return {
    ...key,
    validation: y("validation").accuracy,
    inverted: y("test_inverted").accuracy,
    balanced: y("test_balanced").accuracy,
    worst_group: y("test_balanced").worstGroup?.worstAccuracy ?? Number.NaN,
    max_probe: probes.length > 0 ? Math.max(...probes.map((p) => p.accuracy)) : null,
    seconds,
    train_seconds: train.seconds,
    epochs: train.epochs,
    status: train.status,
  };
}

/** The row of a run that failed with `error` (its accuracies count as chance in the tables). */
export function failedRow(
  key: { bench: string; method: string; seed: number; tier: string; config: string },
  error: string,
  seconds: number,
): SuiteRow {
  return {
    ...key,
    validation: Number.NaN,
    inverted: Number.NaN,
    balanced: Number.NaN,
    worst_group: Number.NaN,
    max_probe: null,
    seconds,
    train_seconds: 0,
    epochs: 0,
    status: "failed",
    error,
  };
}

/** Rows already in a rows.jsonl (a line that does not parse, e.g. cut off by a kill, is ignored). */
export function readRows(path: string): SuiteRow[] {
  if (!existsSync(path)) return [];
  const rows: SuiteRow[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line) as SuiteRow;
      rows.push({ ...row, method: normalizeMethodSpec(row.method) });
    } catch {
      // an interrupted write: that row runs again
    }
  }
  return rows;
}

/** The `mimmx` command of this build (dist/bench/suite/runner.js -> bin/mimmx.js). */
const MIMMX_BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bin", "mimmx.js");

/** Runs the suite's rows in `jobs` child processes (shards of the same rows.jsonl); throws if one fails. */
async function runShards(
  o: SuiteOptions,
  dir: string,
  seeds: number[],
  benches: SuiteBenchmark[],
  methods: string[],
  jobs: number,
): Promise<void> {
  const args = [
    MIMMX_BIN,
    "bench",
    "suite",
    "--tier",
    o.tier,
    "--seeds",
    String(seeds.length),
    "--seed-offset",
    String(o.seedOffset),
    "--methods",
    methods.join(","),
    "--benchmarks",
    benches.map((b) => b.name).join(","),
    "--out",
    dir,
    "--threads",
    String(o.threads ?? 0),
  ];
  const codes = await Promise.all(
    Array.from(
      { length: jobs },
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const child = spawn(process.execPath, [...args, "--shard", `${i}/${jobs}`], {
            stdio: ["ignore", "ignore", "inherit"],
          });
          child.on("error", reject);
          child.on("exit", (code) => resolve(code ?? 1));
        }),
    ),
  );
  const failed = codes.map((c, i) => (c === 0 ? -1 : i)).filter((i) => i >= 0);
  if (failed.length > 0)
    throw new SuiteError(
      `bench suite: shard(s) ${failed.join(", ")} of ${jobs} failed (see their messages above); run again to resume`,
    );
}

/** The files benchmark's PNGs + CSV (written once, then found). */
function cohortOf(b: SuiteBenchmark): ReturnType<typeof writeCohort> {
  if (!b.cohort) throw new SuiteError(`bench suite: benchmark ${b.name} reads files but defines no cohort`);
  return writeCohort({ classes: b.classes, ...b.cohort });
}

const rowKey = (r: { bench: string; method: string; seed: number; tier: string; config: string }) =>
  `${r.tier}|${r.bench}|${r.seed}|${r.method}|${r.config}`;

/**
 * A hash of everything a row's result depends on: the resolved configuration (the benchmark's
 * definition and the method's defaults) but not the thread count or where the cohort's files are.
 * A row of rows.jsonl (and a run folder's checkpoints) is reused only under the same hash, so a
 * changed definition or default reruns its rows instead of reporting stale ones.
 */
export function configHash(b: SuiteBenchmark, tier: Tier, seed: number, method: string): string {
  const c = suiteConfig(b, tier, seed, method, {
    cohort: { root: "cohort", csv: "cohort/manifest.csv", labelColumn: "y", positive: "1" },
  });
  const stable = {
    ...c,
    data: { ...c.data, root: undefined, csv: undefined },
    train: { ...c.train, threads: 0 },
    method: withoutNoOpKeys(c.method),
  };
  return (hashString(JSON.stringify(stable)) >>> 0).toString(16).padStart(8, "0");
}

/**
 * Keys added to the schema after suite rows were recorded, each with the test of whether it is at a
 * value that reproduces the behaviour from before the key (or is not read by the run's method): there
 * they are left out of the hash, so the rows recorded without them stay valid (any other value
 * changes the hash, as it changes the result).
 */
type MethodSection = RunConfig["method"];
const NO_OP_KEYS: { path: string[]; noOp: (m: MethodSection) => boolean }[] = [
  { path: ["estimator", "linear"], noOp: (m) => m.estimator.linear === false },
  { path: ["estimator", "bandwidth_pairs"], noOp: (m) => m.estimator.bandwidth_pairs === "batch" },
  { path: ["dfr", "features"], noOp: (m) => m.dfr.features === "last_layer" || m.name !== "dfr" },
  {
    path: ["balance_by"],
    noOp: (m) =>
      m.balance_by === "loss" ||
      !(m.name === "reweight" || m.name === "groupdro" || (m.name === "mimmx" && m.y_loss === "reweight")),
  },
];

function withoutNoOpKeys(method: MethodSection): unknown {
  const out = structuredClone(method) as unknown as Record<string, unknown>;
  for (const { path, noOp } of NO_OP_KEYS) {
    if (!noOp(method)) continue;
    const parent = path.slice(0, -1).reduce((o, k) => o[k] as Record<string, unknown>, out);
    delete parent[path[path.length - 1]];
  }
  return out;
}

export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const benches = selectBenchmarks(o.benchmarks);
  const methods = suiteMethods(o.methods);
  if (!(Number.isInteger(o.seeds) && o.seeds >= 1))
    throw new SuiteError(`bench suite: --seeds must be >= 1, got ${o.seeds}`);
  const seeds = Array.from({ length: o.seeds }, (_, i) => o.seedOffset + i);
  const dir = o.out ?? join("runs", `suite-${o.tier}`);
  mkdirSync(dir, { recursive: true });
  const rowsPath = join(dir, "rows.jsonl");
  const done = new Map(readRows(rowsPath).map((r) => [rowKey(r), r]));

  const total = seeds.length * benches.length * methods.length;
  const jobs = o.shard ? 1 : Math.max(1, Math.floor(o.jobs ?? 1));
  if (jobs > 1) {
    // The cohort folder is written here once, not by several children at the same time.
    for (const b of benches) if (b.source === "files") cohortOf(b);
    await runShards(o, dir, seeds, benches, methods, jobs);
    for (const r of readRows(rowsPath)) done.set(rowKey(r), r);
  }
  // Row k of the plan (seed, benchmark, method order); with jobs > 1 the children ran the rows and
  // this loop only finds them done.
  let k = 0;
  for (const seed of seeds)
    for (const b of benches) {
      const cohort = b.source === "files" && jobs === 1 ? cohortOf(b) : undefined;
      for (const method of methods) {
        k++;
        const key = {
          bench: b.name,
          method,
          seed,
          tier: o.tier,
          config: configHash(b, o.tier, seed, method),
        };
        if (jobs > 1 || done.has(rowKey(key))) continue;
        if (o.shard && (k - 1) % o.shard.count !== o.shard.index) continue;
        const config = suiteConfig(b, o.tier, seed, method, {
          threads: o.threads,
          cohort: cohort && {
            root: cohort.root,
            csv: cohort.csv,
            labelColumn: cohort.labelColumn,
            positive: cohort.classNames[1],
          },
        });
        const runDir = join(dir, "runs", b.name, `seed${seed}`, `${method}-${key.config}`);
        const t0 = performance.now();
        let row: SuiteRow;
        try {
          const res = await runExperiment(config, {
            outDir: runDir,
            methods: [config.method.name],
            quiet: true,
            // an interrupted row continues from its checkpoint; a new row starts afresh. The folder
            // is this row's by its config hash, so a config.yaml that differs only by keys added
            // since (NO_OP_KEYS) is the same run: force skips the textual comparison.
            resume: existsSync(join(runDir, "config.yaml")),
            force: true,
            maxSteps: o.maxSteps,
            log,
          });
          if (res.status !== "completed")
            throw new SuiteError(`bench suite: ${b.name} seed ${seed} ${method}: ${res.status}`);
          row = rowFromRun(runDir, key, (performance.now() - t0) / 1000);
        } catch (e) {
          // A method that cannot train on a benchmark (a group-balanced subset smaller than a batch)
          // is a result, not a crash: the row records why, and the tables count it as chance.
          // Only the methods' own errors (plain Error): a TypeError is a bug, and the suite's own
          // SuiteError and the run's ResumeRefusedError are not about the method: they stop the suite.
          if (!(e instanceof Error) || e.constructor !== Error) throw e;
          row = failedRow(key, e.message, (performance.now() - t0) / 1000);
          log(`[${k}/${total}] ${b.name} seed ${seed} ${method}: FAILED: ${e.message}`);
        }
        appendFileSync(rowsPath, `${JSON.stringify(row)}\n`);
        done.set(rowKey(row), row);
        if (row.status !== "failed")
          log(
            `[${k}/${total}] ${b.name} seed ${seed} ${method}: inverted ${(100 * row.inverted).toFixed(1)}% balanced ${(100 * row.balanced).toFixed(1)}% worst ${(100 * row.worst_group).toFixed(1)}% probe ${row.max_probe === null ? "-" : `${(100 * row.max_probe).toFixed(1)}%`} (${row.seconds.toFixed(1)} s)`,
          );
      }
    }

  // The tables and the JSON cover exactly the rows asked for (rows.jsonl may hold others).
  const wanted = new Set(
    seeds.flatMap((seed) =>
      benches.flatMap((b) =>
        methods.map((m) =>
          rowKey({ bench: b.name, method: m, seed, tier: o.tier, config: configHash(b, o.tier, seed, m) }),
        ),
      ),
    ),
  );
  const rows = [...done.values()].filter((r) => wanted.has(rowKey(r)));
  const table = {
    tier: o.tier,
    seeds,
    rows,
    benchOrder: benches.map((b) => b.name),
    methodOrder: methods,
    descriptions: Object.fromEntries(benches.map((b) => [b.name, b.summary])),
    selectBy: SUITE_SELECT_BY,
  };
  const markdown = join(dir, "suite.md");
  const html = join(dir, "suite.html");
  writeFileSync(markdown, suiteMarkdown(table));
  writeFileSync(html, suiteHtml(table));
  return {
    bench: "suite",
    tier: o.tier,
    benchmarks: benches.map((b) => b.name),
    seeds,
    methods,
    select_by: SUITE_SELECT_BY,
    summary: summarize(rows, methods),
    rows,
    results: { dir, rows: rowsPath, markdown, html },
  };
}

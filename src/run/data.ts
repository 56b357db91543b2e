// Config -> in-memory splits. Every source ends in the same shape (PreparedData): the four splits
// of the evaluation protocol (plus the uncorrelated oracle training split where the source has one),
// label columns named after the config's tasks, and the group-count tables of every split.
import { isAbsolute, join } from "node:path";
import type { DataConfig, RunConfig, SpurionConfig } from "../config/index.js";
import {
  applySpurions,
  type ConfoundedSplit,
  type FileDataset,
  fashionConfounded,
  type InMemoryDataset,
  makeConfoundedSplits,
  materialize,
  poolOf,
  type SourceResult,
  type SplitCounts,
  type SplitRequest,
  type SpurionSpec,
  type SyntheticSpurion,
  subsetFileDataset,
  type TaskInfo,
} from "../data/index.js";
import { resolveCacheDir } from "../data/prepared-cache.js";
import type { ItemOrigin } from "../data/sources/manifest.js";
import { pairingOf } from "../data/splits/confounded.js";
import { computeCounts } from "../data/splits/counts.js";
import { hashSeed } from "../util/random.js";
import { loadSource } from "./data-sources.js";
import { maskTo, type PoolName, planRows, type RowPlan } from "./natural.js";
import { checkSkipped, type SkippedFile } from "./skipped.js";
export type SplitName = "train" | "validation" | "train_oracle" | "test_inverted" | "test_balanced";

export interface PreparedData {
  /** primary first, then the spurions in config order (feature-part order) */
  tasks: TaskInfo[];
  /**
   * train and validation always; the induced-shift tests unless a split column leaves no test rows
   * for them; train_oracle when asked for.
   */
  splits: Partial<Record<SplitName, InMemoryDataset>> & Record<"train" | "validation", InMemoryDataset>;
  /** External test cohorts (data.external_tests), as they come: the natural distribution. */
  external: ExternalTest[];
  counts: SplitCounts[];
  /** one sentence for the report */
  description: string;
  /** images that could not be read and were left out (on_unreadable: skip, within max_skipped) */
  skipped: SkippedFile[];
}

export interface ExternalTest {
  /** where its rows came from, e.g. "valid.csv" or "site = B" */
  from: string;
  /** named after the test */
  dataset: InMemoryDataset;
}

export interface PrepareOptions {
  /** also build train_oracle, the uncorrelated training split of method "oracle" */
  oracle?: boolean;
}

export interface DataProgress {
  log(message: string): void;
  /** called per split while decoding file-backed splits */
  step?(split: string, done: number, total: number): void;
}

/** Config spurion kinds -> the data layer's synthetic spurions. */
export function syntheticSpurion(s: SpurionConfig): SyntheticSpurion {
  switch (s.kind) {
    case "patch":
      return { type: "marker", size: 4, margin: 1, intensity: 1, mode: "presence" };
    case "tag":
      // A text-like tag: a smaller mark in the opposite corner, so tag and patch can coexist.
      return {
        type: "marker",
        size: 3,
        margin: 1,
        intensity: 1,
        mode: "presence",
        corners: ["bottom-right"],
      };
    case "blob":
      return { type: "blobs" };
    case "block":
      return { type: "block" };
    case "intensity":
    case "contrast":
    case "noise":
    case "rotation":
    case "thickness":
    case "frame":
    case "gradient":
      return { type: s.kind };
    case "metadata":
      throw new Error(`spurion "${s.name}" is metadata, not written into the image`);
  }
}

export async function prepareData(
  config: RunConfig,
  progress?: DataProgress,
  options: PrepareOptions = {},
): Promise<PreparedData> {
  return config.data.source === "fashion-confounded"
    ? prepareFashion(config)
    : prepareFromFiles(config, progress, options);
}

function prepareFashion(config: RunConfig): PreparedData {
  const d = config.data;
  const b = fashionConfounded({
    classes: [d.classes[0], d.classes[1]],
    spurions: d.spurions.map(syntheticSpurion),
    ratio: d.spurions.map((s) => s.ratio),
    trainSize: d.splits.train,
    valSize: d.splits.validation,
    oracleSize: d.splits.train,
    testInvertedSize: d.splits.test_inverted,
    testBalancedSize: d.splits.test_balanced,
    seed: config.seed,
    coupling: d.spurion_coupling,
  });
  // The benchmark names its spurions z0, z1, ...; the run uses the config's names throughout.
  const rename = new Map(d.spurions.map((s, i) => [`z${i}`, s.name]));
  const tasks = b.tasks.map((t) => ({ ...t, name: rename.get(t.name) ?? t.name }));
  const relabel = (ds: InMemoryDataset, name: string): InMemoryDataset => ({
    ...ds,
    name,
    tasks,
    labels: Object.fromEntries(Object.entries(ds.labels).map(([k, v]) => [rename.get(k) ?? k, v])),
  });
  const counts = b.counts.map((c) => ({
    ...c,
    split: c.split === "val" ? "validation" : c.split,
    spurions: c.spurions.map((s) => ({ ...s, name: rename.get(s.name) ?? s.name })),
  }));
  return {
    tasks,
    splits: {
      train: relabel(b.splits.train, "train"),
      validation: relabel(b.splits.val, "validation"),
      train_oracle: relabel(b.splits.train_oracle, "train_oracle"),
      test_inverted: relabel(b.splits.test_inverted, "test_inverted"),
      test_balanced: relabel(b.splits.test_balanced, "test_balanced"),
    },
    counts,
    skipped: [],
    external: [],
    description: `${tasks[0].description}; spurions ${d.spurions.map((s) => `${s.name} (${s.kind}, ratio ${s.ratio})`).join(", ")}.`,
  };
}

async function prepareFromFiles(
  config: RunConfig,
  progress: DataProgress | undefined,
  options: PrepareOptions,
): Promise<PreparedData> {
  const d = config.data;
  const { src, cohorts } = loadSource(config);
  const primary = src.tasks[0].name;
  const metaNames = d.spurions.filter((s) => s.kind === "metadata").map((s) => s.name);
  const metaTasks = new Map(src.tasks.slice(1).map((t, i) => [metaNames[i] ?? t.name, t]));
  const synthetic = d.spurions.filter((s) => s.kind !== "metadata");
  progress?.log(`data: ${src.summary.rowsKept} of ${src.summary.rowsInTable} rows usable`);
  const full = poolOf(
    src.dataset,
    primary,
    [...metaTasks.values()].map((t) => t.name),
  );
  const tasks: TaskInfo[] = [
    { ...src.tasks[0], role: "primary" },
    ...d.spurions.map((s): TaskInfo => {
      const t = metaTasks.get(s.name);
      return t
        ? { ...t, name: s.name, role: "spurion" }
        : { name: s.name, role: "spurion", numClasses: 2, description: `synthetic ${s.kind}` };
    }),
  ];
  const spurionSpecs: SpurionSpec[] = d.spurions.map((s) => ({
    name: s.name,
    numClasses: tasks.find((t) => t.name === s.name)?.numClasses ?? 2,
    ratio: s.ratio,
    kind: s.kind === "metadata" ? ("natural" as const) : ("synthetic" as const),
  }));
  // Which pool each row is in (one "all", or the split column's train / validation / test), and
  // the rows of the external tests given by a column value (they are in no pool).
  const plan = planRows(d, src, cohorts);
  const poolData = (p: PoolName) => ({
    y: maskTo(full.y, plan, p),
    spurions: Object.fromEntries(
      [...metaTasks.entries()].map(([name, t]) => [name, maskTo(full.spurions[t.name], plan, p)]),
    ),
  });
  const sc = d.split_column;
  const poolNames: PoolName[] = sc ? ["train", "validation", "test"] : ["all"];
  const pools = Object.fromEntries(poolNames.map((p) => [p, poolData(p)]));
  const inPool = (p: PoolName) => countUsable(pools[p], spurionSpecs);
  const requests: SplitRequest[] = [];
  const testPool: PoolName = sc ? "test" : "all";
  if (!sc || inPool("test") > 0)
    requests.push(
      { name: "test_balanced", pool: testPool, size: d.splits.test_balanced, mode: "balanced" },
      { name: "test_inverted", pool: testPool, size: d.splits.test_inverted, mode: "inverted" },
    );
  else
    progress?.log(
      `data: data.split_column: no usable row has a test value (${sc.test.length > 0 ? sc.test.map((v) => `'${v}'`).join(", ") : "none listed"} in column '${sc.column}'), so the induced-shift tests test_inverted and test_balanced are skipped${d.external_tests.length > 0 ? "; the external tests remain" : ""}`,
    );
  if (!sc || sc.confound)
    requests.push(
      { name: "validation", pool: sc ? "validation" : "all", size: d.splits.validation, mode: "ratio" },
      { name: "train", pool: sc ? "train" : "all", size: d.splits.train, mode: "ratio" },
    );
  const splitConfig = {
    primary: { name: primary, numClasses: tasks[0].numClasses },
    spurions: spurionSpecs,
    pools,
    splits: requests,
    seed: config.seed,
    coupling: d.spurion_coupling,
  };
  const splits = requests.length > 0 ? makeConfoundedSplits(splitConfig) : [];
  // split_column.confound false: the dataset's own train and validation rows, as they are.
  if (sc && !sc.confound)
    for (const name of ["validation", "train"] as const)
      splits.push(asIsSplit(name, pools[name], splitConfig.primary, spurionSpecs, sc));
  if (options.oracle) {
    const trainSize = splits.find((s) => s.name === "train")?.rows.length ?? d.splits.train;
    splits.push(oracleSplit(splitConfig, d, sc ? "train" : "all", trainSize));
  }
  const out = {} as PreparedData["splits"];
  const counts: SplitCounts[] = [];
  const skipped: SkippedFile[] = [];
  const countsOf = (name: string, ds: InMemoryDataset) =>
    computeCounts({
      split: name,
      primary,
      y: ds.labels[primary],
      numClasses: tasks[0].numClasses,
      spurions: spurionSpecs.map((sp) => ({
        name: sp.name,
        // External tests carry no synthetic spurion (none is written into their images).
        values: ds.labels[sp.name] ?? new Int32Array(ds.length).fill(-1),
        numClasses: sp.numClasses,
        pairing: pairingOf(sp, tasks[0].numClasses),
      })),
    });
  for (const s of splits) {
    const decoded = await decodeSplit(config, src.dataset, src.origins, s, tasks, synthetic, progress);
    out[s.name as SplitName] = decoded.dataset;
    skipped.push(...decoded.skipped);
    // The counts of what the split holds after unreadable images left it, not of what was planned.
    counts.push(decoded.skipped.length === 0 ? s.counts : countsOf(s.name, decoded.dataset));
  }
  const external: ExternalTest[] = [];
  for (const [k, t] of d.external_tests.entries()) {
    const ownNames = [primary, ...metaNames.map((n) => (metaTasks.get(n) as TaskInfo).name)];
    const test = externalSource(config, k, src, ownNames, plan, tasks);
    const decoded = await decodeSplit(
      config,
      test.source.dataset,
      test.source.origins,
      test.split,
      tasks,
      [],
      progress,
    );
    external.push({ from: test.from, dataset: decoded.dataset });
    skipped.push(...decoded.skipped);
    counts.push(countsOf(t.name, decoded.dataset));
  }
  return {
    tasks,
    splits: out,
    external,
    // train_oracle is a training split, not one of the protocol's tables.
    counts: counts.filter((c) => c.split !== "train_oracle"),
    skipped,
    description: `${d.source} (${d.root}): ${primary} with spurions ${d.spurions.map((s) => `${s.name} (${s.kind}, ratio ${s.ratio})`).join(", ")}${sc ? `; train / validation / test from column '${sc.column}'${sc.confound ? " (confounded to the ratios)" : " (as they are)"}` : ""}${external.length > 0 ? `; external tests ${external.map((e) => `${e.dataset.name} (${e.from})`).join(", ")}` : ""}.`,
  };
}

type PoolArrays = { y: Int32Array; spurions: Record<string, Int32Array> };

/** Rows of a pool the splits can use: a known label and every natural spurion known. */
function usableRows(pool: PoolArrays, specs: readonly SpurionSpec[]): number[] {
  const rows: number[] = [];
  for (let r = 0; r < pool.y.length; r++) {
    if (pool.y[r] < 0) continue;
    if (specs.some((s) => s.kind === "natural" && !(pool.spurions[s.name][r] >= 0))) continue;
    rows.push(r);
  }
  return rows;
}

function countUsable(pool: PoolArrays, specs: readonly SpurionSpec[]): number {
  return usableRows(pool, specs).length;
}

/** Every usable row of a split-column pool, in file order, with its own labels (no resampling). */
function asIsSplit(
  name: "train" | "validation",
  pool: PoolArrays,
  primary: { name: string; numClasses: number },
  specs: readonly SpurionSpec[],
  sc: NonNullable<DataConfig["split_column"]>,
): ConfoundedSplit {
  const rows = Int32Array.from(usableRows(pool, specs));
  if (rows.length === 0)
    throw new Error(
      `data.split_column: no usable ${name} row (${sc[name].map((v) => `'${v}'`).join(", ")} in column '${sc.column}', with a label and every spurion known)`,
    );
  const labels: Record<string, Int32Array> = { [primary.name]: rows.map((r) => pool.y[r]) };
  for (const s of specs) labels[s.name] = rows.map((r) => pool.spurions[s.name][r]);
  return {
    name,
    pool: name,
    mode: "ratio",
    rows,
    labels,
    targetRatios: {},
    counts: computeCounts({
      split: name,
      primary: primary.name,
      y: labels[primary.name],
      numClasses: primary.numClasses,
      spurions: specs.map((s) => ({
        name: s.name,
        values: labels[s.name],
        numClasses: s.numClasses,
        pairing: pairingOf(s, primary.numClasses),
      })),
    }),
    oversampledRows: 0,
  };
}

/**
 * External test k: its source (the data's own, for a column filter; else its CSV read like the
 * data's) and every usable row of it. Its labels must mean what the training labels mean.
 */
function externalSource(
  config: RunConfig,
  k: number,
  own: SourceResult,
  ownNames: string[],
  plan: RowPlan,
  tasks: TaskInfo[],
): { source: SourceResult; from: string; split: Pick<ConfoundedSplit, "name" | "rows" | "labels"> } {
  const d = config.data;
  const t = d.external_tests[k];
  const known = tasks.filter(
    (task) => task.role === "primary" || d.spurions.find((s) => s.name === task.name)?.kind === "metadata",
  );
  if (t.column && t.values) {
    const items = plan.external.get(t.name) ?? [];
    return {
      source: own,
      from: `${t.column} = ${t.values.join(" or ")}`,
      split: splitOf(t.name, own, items, known, ownNames),
    };
  }
  const root = t.root ? (isAbsolute(t.root) ? t.root : join(d.root as string, t.root)) : (d.root as string);
  if (
    d.source === "mri" &&
    tasks.some(
      (task) =>
        d.spurions.find((s) => s.name === task.name)?.column === "cohort" ||
        (task.role === "primary" && d.task?.column === "cohort"),
    )
  )
    throw new Error(
      `data.external_tests[${k}] (${t.name}): a CSV test is one cohort of its own, so the label "cohort" means nothing there; list the cohort in data.mri.cohorts and give the test as column: cohort, values: [its name]`,
    );
  const other = loadSource({
    ...config,
    data: {
      ...d,
      root,
      csv: t.csv,
      mri: { ...d.mri, cohorts: [] },
      split_column: undefined,
      external_tests: [],
    },
  }).src;
  // The same mapping gives the same classes, except where the classes are read from the data.
  other.tasks.forEach((ot, i) => {
    const mine = known[i];
    const same =
      mine &&
      ot.numClasses === mine.numClasses &&
      JSON.stringify(ot.classNames ?? null) === JSON.stringify(mine.classNames ?? null);
    if (!same)
      throw new Error(
        `data.external_tests[${k}] (${t.name}): label ${mine?.name ?? ot.name} has classes ${JSON.stringify(ot.classNames ?? ot.numClasses)} in ${t.csv}, but ${JSON.stringify(mine?.classNames ?? mine?.numClasses)} in the training data; give the label a mapping (positive / values / threshold) so both read alike`,
      );
  });
  return {
    source: other,
    from: t.csv as string,
    split: splitOf(
      t.name,
      other,
      other.dataset.items.map((_, i) => i),
      known,
      other.tasks.map((ot) => ot.name),
    ),
  };
}

/**
 * train_oracle: as many rows as train with every spurion independent of the label (P(z = paired y)
 * = 1 / K_z), drawn after the protocol's splits so they stay as they are; it may reuse train's rows
 * but none of validation or the tests (with a split column: from the train rows only). A pool that
 * cannot supply it is an error here, before any method trains.
 */
function oracleSplit(
  cfg: Parameters<typeof makeConfoundedSplits>[0],
  d: DataConfig,
  pool: PoolName,
  size: number,
): ConfoundedSplit {
  const ratios = Object.fromEntries(cfg.spurions.map((s) => [s.name, 1 / s.numClasses]));
  const earlier = new Set(cfg.splits.map((s) => s.name));
  try {
    const all = makeConfoundedSplits({
      ...cfg,
      splits: [
        ...cfg.splits,
        {
          name: "train_oracle",
          pool,
          size,
          mode: "ratio",
          ratios,
          disjointFrom: ["test_balanced", "test_inverted", "validation"].filter((n) => earlier.has(n)),
        },
      ],
    });
    return all[all.length - 1];
  } catch (e) {
    throw new Error(
      `method "oracle" needs an uncorrelated training split (train_oracle: ${size} rows, every spurion independent of ${cfg.primary.name}), and this data cannot supply it. Lower ${d.split_column && !d.split_column.confound ? "the number of training rows (split_column.confound: true and data.splits.train)" : "data.splits.train"}, or leave oracle out of the methods.\n${(e as Error).message}`,
    );
  }
}

/**
 * A test of the given items with their own labels, under the run's task names (`keys[i]`: the
 * source's name of tasks[i]); rows with an unknown label are left out.
 */
function splitOf(
  name: string,
  src: SourceResult,
  items: number[],
  tasks: TaskInfo[],
  keys: string[],
): Pick<ConfoundedSplit, "name" | "rows" | "labels"> {
  const usable = items.filter((i) => keys.every((k) => (src.dataset.items[i].labels[k] ?? -1) >= 0));
  if (usable.length === 0)
    throw new Error(`external test ${name}: no row with every label known (${items.length} rows in it)`);
  const rows = Int32Array.from(usable);
  const labels = Object.fromEntries(
    tasks.map((t, j) => [t.name, Int32Array.from(usable, (i) => src.dataset.items[i].labels[keys[j]])]),
  );
  return { name, rows, labels };
}

async function decodeSplit(
  config: RunConfig,
  source: FileDataset,
  origins: readonly ItemOrigin[],
  split: Pick<ConfoundedSplit, "name" | "rows" | "labels">,
  tasks: TaskInfo[],
  synthetic: SpurionConfig[],
  progress?: DataProgress,
): Promise<{ dataset: InMemoryDataset; skipped: SkippedFile[] }> {
  progress?.step?.(split.name, 0, split.rows.length);
  const subset = subsetFileDataset(source, split.name, split.rows, split.labels);
  subset.labelNames = Object.keys(split.labels);
  // Every unreadable image of the split is collected (and then judged by on_unreadable and
  // max_skipped), so an error can name them all with their CSV lines.
  subset.pipeline = { ...subset.pipeline, onError: "skip" };
  const d = config.data;
  const { dataset, summary } = await materialize(subset, {
    numWorkers: d.workers === 0 ? "auto" : d.workers,
    prefetch: d.prefetch,
    diskCache: resolveCacheDir(d.cache, d.root ?? "."),
  });
  progress?.step?.(split.name, split.rows.length, split.rows.length);
  const skipped = summary.skipped.map((s): SkippedFile => {
    const origin = origins[split.rows[s.index]];
    // The loader's message starts with the path, which the record holds already.
    // A decoder's message may run over several lines (libvips repeats its warnings); a record is one line.
    const full = s.error.startsWith(`${s.path}: `) ? s.error.slice(s.path.length + 2) : s.error;
    const reason = [...new Set(full.trim().split(/\s*\n\s*/))].join("; ");
    return { split: split.name, path: s.path, csv: origin?.csv ?? "", line: origin?.line ?? 0, reason };
  });
  const warning = checkSkipped(config.data, split.name, split.rows.length, skipped);
  if (warning) progress?.log(warning);
  for (const w of summary.warnings) progress?.log(`data: ${split.name}: ${w}`);
  if (summary.diskCacheHits > 0)
    progress?.log(`data: ${split.name}: ${summary.diskCacheHits} prepared images from the cache`);
  dataset.tasks = tasks;
  dataset.name = split.name;
  if (synthetic.length > 0) writeSyntheticSpurions(config, dataset, synthetic);
  return { dataset, skipped };
}

/** Writes the synthetic spurions of each row into its image (values already assigned by the split). */
function writeSyntheticSpurions(config: RunConfig, ds: InMemoryDataset, spurions: SpurionConfig[]): void {
  const specs = spurions.map(syntheticSpurion);
  const size = ds.itemShape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < ds.length; i++) {
    const img = { data: ds.images.slice(i * size, (i + 1) * size), shape: ds.itemShape };
    const values = spurions.map((s) => ds.labels[s.name][i]);
    const out = applySpurions(img, specs, values, hashSeed(config.seed, i));
    ds.images.set(out.data, i * size);
  }
}

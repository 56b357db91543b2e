// Config -> in-memory splits. Every source ends in the same shape (PreparedData): the four splits
// of the evaluation protocol (plus the uncorrelated oracle training split where the source has one),
// label columns named after the config's tasks, and the group-count tables of every split.
import { basename, isAbsolute, join, resolve } from "node:path";
import type { DataConfig, MriConfig, RunConfig, SpurionConfig } from "../cli/config.js";
import {
  applySpurions,
  type BrainLayout,
  type BrainMriOptions,
  brainMri,
  type ChexpertOptions,
  type ChexpertSpurion,
  type ConfoundedConfig,
  type ConfoundedSplit,
  chexpert,
  chexpertTransforms,
  type FileDataset,
  fashionConfounded,
  fromManifest,
  type InMemoryDataset,
  type LabelSpec,
  type MissingPolicy,
  makeConfoundedSplits,
  materialize,
  poolOf,
  type SourceResult,
  type SplitCounts,
  type SplitRequest,
  type SpurionSpec,
  type SyntheticSpurion,
  subsetFileDataset,
  Table,
  type TaskInfo,
  type TransformSpec,
} from "../data/index.js";
import { hashSeed } from "../util/random.js";

export type SplitName = "train" | "validation" | "train_oracle" | "test_inverted" | "test_balanced";

export interface PreparedData {
  /** primary first, then the spurions in config order (feature-part order) */
  tasks: TaskInfo[];
  splits: Partial<Record<SplitName, InMemoryDataset>> &
    Record<Exclude<SplitName, "train_oracle">, InMemoryDataset>;
  counts: SplitCounts[];
  /** one sentence for the report */
  description: string;
}

export interface DataProgress {
  log(message: string): void;
  /**
   * File sources: also build the uncorrelated oracle training split (train_oracle: every spurion at
   * chance given y, disjoint from validation and the tests). Off by default: it decodes another
   * training-sized split, which only the oracle uses.
   */
  oracle?: boolean;
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

export async function prepareData(config: RunConfig, progress?: DataProgress): Promise<PreparedData> {
  return config.data.source === "fashion-confounded"
    ? prepareFashion(config)
    : prepareFromFiles(config, progress);
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
    description: `${tasks[0].description}; spurions ${d.spurions.map((s) => `${s.name} (${s.kind}, ratio ${s.ratio})`).join(", ")}.`,
  };
}

/** A config label (column + positive values or threshold) as the data layer's LabelSpec. */
function labelSpec(
  table: Table,
  name: string,
  column: string,
  positive?: string[],
  threshold?: number,
): LabelSpec {
  if (threshold !== undefined) return { column, name, bins: [threshold], missing: "skip" };
  if (positive) {
    // "everything else is class 0": every value seen in the column gets a class; blanks stay missing.
    const col = table.columnIndex(column);
    const map: Record<string, number> = {};
    for (const row of table.rows) {
      const v = row[col].trim();
      if (v !== "") map[v] = positive.includes(v) ? 1 : 0;
    }
    return { column, name, map, missing: "skip", classNames: ["other", positive.join("|")] };
  }
  return { column, name, integer: true, missing: "skip" };
}

function imageTransforms(d: DataConfig): TransformSpec[] {
  const t: TransformSpec[] = [{ type: "resize", size: d.image_size }];
  if (d.image_size.length === 2) t.unshift({ type: "padToSquare" });
  t.push(d.transforms.normalize ? { type: "zscore" } : { type: "minMax" });
  return t;
}

/** data.missing_labels as the data layer's policy for a blank label cell. */
function missingPolicy(d: DataConfig): MissingPolicy {
  return d.missing_labels === "drop" ? "skip" : d.missing_labels === "fail" ? "fail" : { fill: 0 };
}

/** Source "chexpert": the published CSV layout (columns validated by the config schema). */
function loadChexpert(config: RunConfig): SourceResult {
  const d = config.data;
  const task = d.task as NonNullable<DataConfig["task"]>;
  const metadata = d.spurions.filter((s) => s.kind === "metadata");
  const age = metadata.find((s) => s.column === "Age");
  const size = d.image_size[0];
  return chexpert({
    root: d.root as string,
    csv: d.csv,
    primary: task.column as ChexpertOptions["primary"],
    spurions: metadata.map((s) => (s.column === "Age" ? "age" : s.column)) as ChexpertSpurion[],
    ageBins: age?.threshold !== undefined ? [age.threshold] : undefined,
    uncertainty: d.uncertain_labels === "drop" ? "ignore" : d.uncertain_labels,
    blank: missingPolicy(d),
    frontalOnly: d.chexpert.frontal_only,
    size,
    transforms: [
      ...chexpertTransforms(size),
      ...(d.transforms.normalize ? [{ type: "zscore" } as const] : []),
    ],
    onError: d.on_unreadable === "fail" ? "fatal" : "skip",
  });
}

/** Source "mri": brain-MRI cohorts (NIfTI + metadata CSV), whole volumes or slices. */
function loadMri(config: RunConfig): SourceResult {
  const d = config.data;
  const m = d.mri;
  const root = d.root as string;
  const task = d.task as NonNullable<DataConfig["task"]>;
  const metadata = d.spurions.filter((s) => s.kind === "metadata");
  const labels = [task, ...metadata];
  const age = labels.find((l) => l.column === "age");
  const under = (base: string, p: string) => (isAbsolute(p) ? p : join(base, p));
  const cohorts: MriConfig["cohorts"] =
    m.cohorts.length > 0 ? m.cohorts : [{ name: basename(resolve(root)) || "mri", csv: d.csv as string }];
  const layout: BrainLayout =
    d.image_size.length === 3
      ? {
          kind: "3d",
          shape: d.image_size as [number, number, number],
          method: m.resize === "crop_or_pad" ? "cropOrPad" : "resample",
        }
      : { kind: "2d", axis: m.slice_axis, fractions: m.slices, size: d.image_size as [number, number] };
  return brainMri({
    cohorts: cohorts.map((c) => {
      const croot = c.root ? under(root, c.root) : root;
      return {
        name: c.name,
        csv: under(croot, c.csv),
        root: croot,
        pathColumn: c.path_column ?? m.path_column,
        ageColumn: c.age_column ?? m.age_column,
        sexColumn: c.sex_column ?? m.sex_column,
        siteColumn: c.site_column ?? m.site_column,
      };
    }),
    primary: task.column as BrainMriOptions["primary"],
    spurions: metadata.map((s) => s.column) as BrainMriOptions["primary"][],
    ageBins: age?.threshold !== undefined ? [age.threshold] : undefined,
    layout,
    normalize: d.transforms.normalize ? "zscore" : "none",
    missing: missingPolicy(d),
    onError: d.on_unreadable === "fail" ? "fatal" : "skip",
  });
}

function loadSource(config: RunConfig): SourceResult {
  const d = config.data;
  if (d.source === "chexpert") return loadChexpert(config);
  if (d.source === "mri") return loadMri(config);
  const root = d.root as string;
  const task = d.task as NonNullable<DataConfig["task"]>;
  const metadata = d.spurions.filter((s) => s.kind === "metadata");
  const onError = d.on_unreadable === "fail" ? "fatal" : "skip";
  const channels = config.model.in_channels;
  const itemShape = [channels, ...d.image_size];
  const csvPath = d.csv ?? "manifest.csv";
  const table = Table.read(csvPath.startsWith("/") ? csvPath : `${root}/${csvPath}`);
  const pathColumn = ["path", "Path", "image", "file", "filename"].find((c) => table.columns.includes(c));
  if (!pathColumn)
    throw new Error(
      `${table.source}: no image path column (expected one of path, Path, image, file, filename)`,
    );
  const labels = [
    labelSpec(table, task.column, task.column, task.positive, task.threshold),
    ...metadata.map((s) => labelSpec(table, s.name, s.column as string, s.positive, s.threshold)),
  ];
  return fromManifest({
    csv: table,
    root,
    pathColumn,
    labels,
    pipeline: { transforms: imageTransforms(d), onError },
    itemShape,
    name: d.source,
  });
}

async function prepareFromFiles(config: RunConfig, progress?: DataProgress): Promise<PreparedData> {
  const d = config.data;
  const src = loadSource(config);
  const primary = src.tasks[0].name;
  const metaNames = d.spurions.filter((s) => s.kind === "metadata").map((s) => s.name);
  const metaTasks = new Map(src.tasks.slice(1).map((t, i) => [metaNames[i] ?? t.name, t]));
  const synthetic = d.spurions.filter((s) => s.kind !== "metadata");
  progress?.log(`data: ${src.summary.rowsKept} of ${src.summary.rowsInTable} rows usable`);
  const pool = poolOf(
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
  const spurionSpecs = d.spurions.map((s) => ({
    name: s.name,
    numClasses: tasks.find((t) => t.name === s.name)?.numClasses ?? 2,
    ratio: s.ratio,
    kind: s.kind === "metadata" ? ("natural" as const) : ("synthetic" as const),
  }));
  const pools = {
    all: {
      y: pool.y,
      spurions: Object.fromEntries(
        [...metaTasks.entries()].map(([name, t]) => [name, pool.spurions[t.name]]),
      ),
    },
  };
  const requests: SplitRequest[] = [
    { name: "test_balanced", pool: "all", size: d.splits.test_balanced, mode: "balanced" },
    { name: "test_inverted", pool: "all", size: d.splits.test_inverted, mode: "inverted" },
    { name: "validation", pool: "all", size: d.splits.validation, mode: "ratio" },
    { name: "train", pool: "all", size: d.splits.train, mode: "ratio" },
  ];
  const splits = makeConfoundedSplits({
    primary: { name: primary, numClasses: tasks[0].numClasses },
    spurions: spurionSpecs,
    pools,
    splits: requests,
    seed: config.seed,
    coupling: d.spurion_coupling,
  });
  if (progress?.oracle) {
    const oracle = oracleSplit(
      spurionSpecs,
      pools,
      requests,
      primary,
      tasks[0].numClasses,
      config.seed,
      d.splits.train,
      d.spurion_coupling,
    );
    if (typeof oracle === "string") progress.log(`data: no train_oracle split: ${oracle}`);
    else splits.push(oracle);
  }
  const out = {} as PreparedData["splits"];
  for (const s of splits) {
    out[s.name as SplitName] = await decodeSplit(config, src.dataset, s, tasks, synthetic, progress);
  }
  return {
    tasks,
    splits: out,
    counts: splits.map((s) => s.counts),
    description: `${d.source} (${d.root}): ${primary} with spurions ${d.spurions.map((s) => `${s.name} (${s.kind}, ratio ${s.ratio})`).join(", ")}.`,
  };
}

/**
 * The oracle's training split of a file source: the same requests again (the builder is deterministic,
 * so validation and tests come out identical) plus train_oracle, with every spurion at chance given
 * y, disjoint from validation and the tests (it may reuse train's rows: it replaces train). Returns
 * why not when the pool cannot hold it.
 */
function oracleSplit(
  spurions: SpurionSpec[],
  pools: ConfoundedConfig["pools"],
  requests: SplitRequest[],
  primary: string,
  numClasses: number,
  seed: number,
  size: number,
  coupling: number,
): ConfoundedSplit | string {
  try {
    const all = makeConfoundedSplits({
      primary: { name: primary, numClasses },
      spurions,
      pools,
      splits: [
        ...requests,
        {
          name: "train_oracle",
          pool: "all",
          size,
          mode: "ratio",
          ratios: Object.fromEntries(spurions.map((s) => [s.name, 1 / s.numClasses])),
          disjointFrom: ["test_balanced", "test_inverted", "validation"],
        },
      ],
      seed,
      coupling,
    });
    return all[all.length - 1];
  } catch (e) {
    return (e as Error).message;
  }
}

async function decodeSplit(
  config: RunConfig,
  source: FileDataset,
  split: ConfoundedSplit,
  tasks: TaskInfo[],
  synthetic: SpurionConfig[],
  progress?: DataProgress,
): Promise<InMemoryDataset> {
  progress?.step?.(split.name, 0, split.rows.length);
  const subset = subsetFileDataset(source, split.name, split.rows, split.labels);
  subset.labelNames = Object.keys(split.labels);
  const { dataset, summary } = await materialize(subset, { numWorkers: 0 });
  progress?.step?.(split.name, split.rows.length, split.rows.length);
  if (summary.skipped.length > 0)
    progress?.log(`data: ${split.name}: skipped ${summary.skipped.length} unreadable images`);
  dataset.tasks = tasks;
  dataset.name = split.name;
  if (synthetic.length > 0) writeSyntheticSpurions(config, dataset, synthetic);
  return dataset;
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

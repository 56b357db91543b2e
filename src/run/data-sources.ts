// Reading the real-data sources of a run config (CheXpert, brain MRI, CSV manifests) into one
// labelled pool: the label mappings, missing-value policies, transforms and decoder options the
// config asks for. data.ts builds the splits from the pool.
import { basename, isAbsolute, join, resolve } from "node:path";
import type { DataConfig, MriConfig, RunConfig } from "../config/index.js";
import {
  type BrainLayout,
  type BrainMriOptions,
  brainMri,
  type ChexpertOptions,
  type ChexpertSpurion,
  chexpert,
  chexpertTransforms,
  fromManifest,
  type LabelSpec,
  type MissingPolicy,
  type SourceResult,
  Table,
  type TransformSpec,
} from "../data/index.js";
import type { ReadOptions } from "../data/io/read.js";

/**
 * A manifest label (column + positive/negative values, a value map or a threshold) as the data
 * layer's LabelSpec. `at` is the label's config path, for the errors that name what to change.
 */
function labelSpec(
  d: DataConfig,
  name: string,
  label: Pick<LabelSpec, "column"> & {
    positive?: string[];
    negative?: string[];
    values?: Record<string, number>;
    threshold?: number;
  },
  at: string,
  missing: MissingPolicy,
): LabelSpec {
  const reading = {
    column: label.column,
    name,
    missing,
    missingValues: d.missing_values,
    caseInsensitive: d.case_insensitive,
  };
  const fix = (how: string) =>
    `${how}, add placeholders for a missing value to data.missing_values${d.case_insensitive ? "" : ", or set data.case_insensitive: true when only the case differs"}`;
  if (label.threshold !== undefined)
    return { ...reading, bins: [label.threshold], fix: fix(`${at}.threshold bins a number column`) };
  if (label.values) return { ...reading, map: label.values, fix: fix(`Add the value to ${at}.values`) };
  if (label.positive)
    return {
      ...reading,
      positive: label.positive,
      negative: label.negative,
      fix: fix(`List the value in ${at}.positive or ${at}.negative`),
    };
  return {
    ...reading,
    integer: true,
    fix: fix(
      `A label column without a mapping must hold class ids 0, 1, ...; for text give ${at}.positive (the values of class 1; ${at}.negative the values of class 0) or ${at}.values ({text: class id}), for numbers ${at}.threshold`,
    ),
  };
}

function imageTransforms(d: DataConfig): TransformSpec[] {
  const t: TransformSpec[] = [{ type: "resize", size: d.image_size }];
  if (d.image_size.length === 2) t.unshift({ type: "padToSquare" });
  t.push(d.transforms.normalize ? { type: "zscore" } : { type: "minMax" });
  return t;
}

/** data.missing_labels as the data layer's policy for a missing primary label. */
function missingPolicy(d: DataConfig): MissingPolicy {
  return d.missing_labels === "drop" ? "skip" : d.missing_labels === "fail" ? "fail" : { fill: 0 };
}

/** A missing spurion label drops its row (it cannot be confounded), or fails with "fail". */
function spurionMissingPolicy(d: DataConfig): MissingPolicy {
  return d.missing_labels === "fail" ? "fail" : "skip";
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
    spurionMissing: spurionMissingPolicy(d),
    missingValues: d.missing_values,
    caseInsensitive: d.case_insensitive,
    frontalOnly: d.chexpert.frontal_only,
    size,
    transforms: [
      ...chexpertTransforms(size),
      ...(d.transforms.normalize ? [{ type: "zscore" } as const] : []),
    ],
    onError: d.on_unreadable === "fail" ? "fatal" : "skip",
  });
}

/**
 * Source "mri": brain-MRI cohorts (NIfTI + metadata CSV), whole volumes or slices. `cohorts` maps
 * each cohort's CSV path to its name (the pseudo column "cohort" of split columns and tests).
 */
function loadMri(config: RunConfig): { src: SourceResult; cohorts: Map<string, string> } {
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
  const csvOf = new Map<string, string>();
  const src = brainMri({
    cohorts: cohorts.map((c) => {
      const croot = c.root ? under(root, c.root) : root;
      csvOf.set(under(croot, c.csv), c.name);
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
    spurionMissing: spurionMissingPolicy(d),
    missingValues: d.missing_values,
    caseInsensitive: d.case_insensitive,
    onError: d.on_unreadable === "fail" ? "fatal" : "skip",
  });
  // FORMATS: orientation, spacing and windowing of the volumes as the config asks.
  src.dataset.pipeline.read = { ...src.dataset.pipeline.read, ...readOptionsOf(d, 3) };
  return { src, cohorts: csvOf };
}

/** FORMATS: the image reader's options from data.reorient / spacing / window / window_*. */
function readOptionsOf(d: DataConfig, spatialDims: 2 | 3): ReadOptions {
  return {
    spatialDims,
    reorient: d.reorient,
    spacing: d.spacing,
    window:
      d.window === "fixed"
        ? { center: d.window_center as number, width: d.window_width as number }
        : d.window,
  };
}

interface LoadedSource {
  src: SourceResult;
  /** mri: cohort name by CSV path */
  cohorts?: Map<string, string>;
}

export function loadSource(config: RunConfig): LoadedSource {
  const d = config.data;
  if (d.source === "chexpert") return { src: loadChexpert(config) };
  if (d.source === "mri") return loadMri(config);
  const root = d.root as string;
  const task = d.task as NonNullable<DataConfig["task"]>;
  const onError = d.on_unreadable === "fail" ? "fatal" : "skip";
  const channels = config.model.in_channels;
  const itemShape = [channels, ...d.image_size];
  const csvPath = d.csv ?? "manifest.csv";
  const table = Table.read(csvPath.startsWith("/") ? csvPath : `${root}/${csvPath}`, {
    delimiter: d.delimiter === "auto" ? undefined : d.delimiter === "tab" ? "\t" : d.delimiter,
  });
  const pathColumn = ["path", "Path", "image", "file", "filename"].find((c) => table.columns.includes(c));
  if (!pathColumn)
    throw new Error(
      `${table.source}: no image path column (expected one of path, Path, image, file, filename)`,
    );
  const labels = [
    labelSpec(d, task.column, task, "data.task", missingPolicy(d)),
    ...d.spurions.flatMap((s, i) =>
      s.kind === "metadata"
        ? [
            labelSpec(
              d,
              s.name,
              { ...s, column: s.column as string },
              `data.spurions[${i}]`,
              spurionMissingPolicy(d),
            ),
          ]
        : [],
    ),
  ];
  const src = fromManifest({
    csv: table,
    root,
    pathColumn,
    labels,
    pipeline: {
      transforms: imageTransforms(d),
      onError,
      read: readOptionsOf(d, d.image_size.length === 2 ? 2 : 3),
    },
    itemShape,
    name: d.source,
  });
  return { src };
}

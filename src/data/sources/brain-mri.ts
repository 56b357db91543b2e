// Brain-MRI cohorts (UK Biobank / NAKO style): one NIfTI volume per subject plus a CSV of subject
// metadata. Several cohorts are merged into one dataset, and the cohort itself becomes a label
// ("cohort"), because site/cohort is exactly the kind of spurion that leaks into age or sex models.
//
// Volumes come out either 3D ([1,D,H,W], resampled trilinearly or centre-cropped/padded to
// `shape`) or as 2D slices ([1,H,W]): chosen slices along one axis, by index or by fraction of the
// axis length, each slice one item.
import type { FileItem, PipelineSpec } from "../pipeline.js";
import { Table } from "../table/csv.js";
import type { TransformSpec } from "../transforms/compose.js";
import type { TaskInfo } from "../types.js";
import {
  binNames,
  DEFAULT_MISSING_VALUES,
  type LabelSpec,
  type MissingPolicy,
  resolveLabels,
} from "./labels.js";
import { type ItemOrigin, resolvePath, type SourceResult } from "./manifest.js";

export interface CohortSpec {
  name: string;
  csv: string | Table;
  root: string;
  pathColumn: string;
  ageColumn?: string;
  sexColumn?: string;
  /** Values of sexColumn -> 0/1. Default F/Female/0 -> 0, M/Male/1 -> 1, in any case. */
  sexMap?: Record<string, number>;
  siteColumn?: string;
}

export type BrainLayout =
  | { kind: "3d"; shape: [number, number, number]; method?: "resample" | "cropOrPad" }
  | { kind: "2d"; axis: 0 | 1 | 2; indices?: number[]; fractions?: number[]; size: [number, number] };

export interface BrainMriOptions {
  cohorts: CohortSpec[];
  /** "age" (binned by ageBins), "sex", "site" or "cohort". */
  primary: "age" | "sex" | "site" | "cohort";
  spurions?: ("age" | "sex" | "site" | "cohort")[];
  ageBins?: number[];
  layout: BrainLayout;
  normalize?: "zscore" | "percentile" | "none";
  /** A missing primary label. Default "skip". */
  missing?: MissingPolicy;
  /** A missing spurion label. Default "skip" (a row without it cannot be confounded). */
  spurionMissing?: MissingPolicy;
  onError?: "skip" | "fatal";
  /** Cells that count as missing in every label column (default DEFAULT_MISSING_VALUES). */
  missingValues?: readonly string[];
  /** Compare label values ignoring case; the default sex coding ignores case anyway. */
  caseInsensitive?: boolean;
}

/** The default sex coding, read ignoring case: F / Female / 0 -> 0, M / Male / 1 -> 1. */
const DEFAULT_SEX: Record<string, number> = { F: 0, M: 1, Female: 0, Male: 1, "0": 0, "1": 1 };

const MISSING_FIX = "add placeholders for a missing value to data.missing_values";

export function brainMri(o: BrainMriOptions): SourceResult {
  const wanted = [o.primary, ...(o.spurions ?? [])];
  const ageBins = o.ageBins ?? [50, 60, 70];
  const sites = new Map<string, number>();
  const items: FileItem[] = [];
  const tableRows: number[] = [];
  const origins: ItemOrigin[] = [];
  const skippedLabels: Record<string, number> = {};
  const filledLabels: Record<string, number> = {};
  let rowsInTable = 0;
  const norm: TransformSpec[] =
    o.normalize === "none"
      ? []
      : o.normalize === "percentile"
        ? [{ type: "percentileClip", lower: 0.5, upper: 99.5 }]
        : [{ type: "zscore" }];
  const L = o.layout;
  const transforms: TransformSpec[] =
    L.kind === "3d"
      ? [
          L.method === "cropOrPad" ? { type: "cropOrPad", size: L.shape } : { type: "resize", size: L.shape },
          ...norm,
        ]
      : [{ type: "resize", size: L.size }, ...norm];
  const slices: TransformSpec[][] =
    L.kind === "3d"
      ? [[]]
      : [
          ...(L.indices ?? []).map((i): TransformSpec[] => [{ type: "slice", axis: L.axis, index: i }]),
          ...(L.fractions ?? []).map((f): TransformSpec[] => [
            { type: "slice", axis: L.axis, index: f, fraction: true },
          ]),
        ];
  if (slices.length === 0) throw new Error("brainMri: 2D layout needs slice indices or fractions");

  o.cohorts.forEach((c, ci) => {
    const table = typeof c.csv === "string" ? Table.read(c.csv) : c.csv;
    rowsInTable += table.length;
    const specs: LabelSpec[] = [];
    const reading = { missingValues: o.missingValues, caseInsensitive: o.caseInsensitive };
    for (const w of wanted) {
      const missing = w === o.primary ? (o.missing ?? "skip") : (o.spurionMissing ?? "skip");
      if (w === "age") {
        if (!c.ageColumn) throw new Error(`cohort '${c.name}': task 'age' needs ageColumn`);
        specs.push({
          column: c.ageColumn,
          name: "age",
          bins: ageBins,
          missing,
          ...reading,
          fix: `age is a number (years); ${MISSING_FIX}`,
        });
      } else if (w === "sex") {
        if (!c.sexColumn) throw new Error(`cohort '${c.name}': task 'sex' needs sexColumn`);
        specs.push({
          column: c.sexColumn,
          name: "sex",
          map: c.sexMap ?? DEFAULT_SEX,
          missing,
          ...reading,
          // The default coding is read ignoring case (f, FEMALE, ...); a cohort's own map is read as given.
          caseInsensitive: c.sexMap ? reading.caseInsensitive : true,
          fix: `source "mri" reads sex as F / Female / 0 (class 0) or M / Male / 1 (class 1), in any case; ${MISSING_FIX}`,
        });
      } else if (w === "site") {
        if (!c.siteColumn) throw new Error(`cohort '${c.name}': task 'site' needs siteColumn`);
        // Site names are namespaced by cohort so "site 1" of two cohorts stays two sites.
        const col = table.columnIndex(c.siteColumn);
        const map: Record<string, number> = {};
        const none = new Set(o.missingValues ?? DEFAULT_MISSING_VALUES);
        for (const r of table.rows) {
          const v = r[col].trim();
          if (none.has(v)) continue;
          const key = `${c.name}/${v}`;
          if (!sites.has(key)) sites.set(key, sites.size);
          map[v] = sites.get(key)!;
        }
        specs.push({ column: c.siteColumn, name: "site", map, missing, missingValues: o.missingValues });
      }
    }
    table.columnIndex(c.pathColumn);
    const lab = resolveLabels(table, specs);
    for (const [k, v] of Object.entries(lab.skipped)) skippedLabels[k] = (skippedLabels[k] ?? 0) + v;
    for (const [k, v] of Object.entries(lab.filled)) filledLabels[k] = (filledLabels[k] ?? 0) + v;
    const pathCol = table.columnIndex(c.pathColumn);
    lab.keep.forEach((r, k) => {
      const labels: Record<string, number> = { cohort: ci };
      for (const l of lab.labels) labels[l.name] = l.values[k];
      for (const pre of slices) {
        items.push({
          path: resolvePath(c.root, table.rows[r][pathCol].trim()),
          labels,
          pre: pre.length ? pre : undefined,
        });
        tableRows.push(r);
        origins.push({ csv: table.source, line: table.line(r) });
      }
    });
  });

  const classes = (w: string): string[] =>
    w === "age"
      ? binNames(ageBins)
      : w === "sex"
        ? ["female", "male"]
        : w === "cohort"
          ? o.cohorts.map((c) => c.name)
          : [...sites.keys()];
  const tasks: TaskInfo[] = wanted.map((w, i) => ({
    name: w,
    role: i === 0 ? "primary" : "spurion",
    numClasses: classes(w).length,
    classNames: classes(w),
  }));
  const pipeline: PipelineSpec = { transforms, onError: o.onError ?? "skip" };
  return {
    dataset: {
      name: `brain-mri(${o.cohorts.map((c) => c.name).join("+")})`,
      items,
      itemShape: L.kind === "3d" ? [1, ...L.shape] : [1, ...L.size],
      labelNames: wanted,
      pipeline,
      tasks,
    },
    tasks,
    summary: {
      rowsInTable,
      rowsKept: items.length,
      skippedLabels,
      filledLabels,
      filtered: {},
      missingFiles: [],
    },
    tableRows,
    origins,
  };
}

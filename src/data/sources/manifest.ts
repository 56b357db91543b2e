// Generic source: a CSV manifest with one image path per row and label columns.
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { FileDataset, PipelineSpec } from "../pipeline.js";
import { Table } from "../table/csv.js";
import type { TaskInfo } from "../types.js";
import { type LabelSpec, resolveLabels } from "./labels.js";

export interface ManifestOptions {
  /** Path of the CSV, or an already parsed Table. */
  csv: string | Table;
  /** Folder relative image paths are resolved against. */
  root: string;
  pathColumn: string;
  /** The first label is the primary task; the others are spurions (or extra tasks). */
  labels: LabelSpec[];
  pipeline: PipelineSpec;
  /** Item shape after the pipeline. */
  itemShape: number[];
  name?: string;
  /** Check up front that every image file exists; missing ones follow pipeline.onError. */
  checkFiles?: boolean;
}

export interface SourceSummary {
  rowsInTable: number;
  rowsKept: number;
  /** Rows dropped by a "skip" missing-label policy, per label. */
  skippedLabels: Record<string, number>;
  filledLabels: Record<string, number>;
  /** Rows dropped by a filter (e.g. lateral views), per filter name. */
  filtered: Record<string, number>;
  /** Image files that do not exist (only with checkFiles), when onError is "skip". */
  missingFiles: string[];
}

/** Where an item came from: its CSV file and line, so a problem with the item can name them. */
export interface ItemOrigin {
  csv: string;
  line: number;
}

export interface SourceResult {
  dataset: FileDataset;
  tasks: TaskInfo[];
  summary: SourceSummary;
  /** Table row of each item. */
  tableRows: number[];
  /** CSV file and line of each item. */
  origins: ItemOrigin[];
}

export function resolvePath(root: string, p: string): string {
  return isAbsolute(p) ? p : join(root, p);
}

/** Shared tail of every table-backed source: labels -> items -> FileDataset. */
export function buildFromTable(
  table: Table,
  rows: number[],
  o: Omit<ManifestOptions, "csv">,
  filtered: Record<string, number>,
): SourceResult {
  const pathCol = table.columnIndex(o.pathColumn);
  const lab = resolveLabels(table, o.labels, rows);
  const missingFiles: string[] = [];
  const items = [];
  const tableRows: number[] = [];
  const origins: ItemOrigin[] = [];
  for (let k = 0; k < lab.keep.length; k++) {
    const r = lab.keep[k];
    const path = resolvePath(o.root, table.rows[r][pathCol].trim());
    if (o.checkFiles && !existsSync(path)) {
      if ((o.pipeline.onError ?? "fatal") === "fatal")
        throw new Error(`${table.source}: line ${table.line(r)}: image file not found: ${path}`);
      missingFiles.push(path);
      continue;
    }
    const labels: Record<string, number> = {};
    for (const l of lab.labels) labels[l.name] = l.values[k];
    items.push({ path, labels });
    tableRows.push(r);
    origins.push({ csv: table.source, line: table.line(r) });
  }
  const tasks: TaskInfo[] = lab.labels.map((l, i) => ({
    name: l.name,
    role: i === 0 ? "primary" : "spurion",
    numClasses: l.numClasses,
    classNames: l.classNames,
    description: `column '${l.column}'`,
  }));
  return {
    dataset: {
      name: o.name ?? table.source,
      items,
      itemShape: o.itemShape,
      labelNames: lab.labels.map((l) => l.name),
      pipeline: o.pipeline,
      tasks,
    },
    tasks,
    summary: {
      rowsInTable: table.length,
      rowsKept: items.length,
      skippedLabels: lab.skipped,
      filledLabels: lab.filled,
      filtered,
      missingFiles,
    },
    tableRows,
    origins,
  };
}

export function fromManifest(o: ManifestOptions): SourceResult {
  const table = typeof o.csv === "string" ? Table.read(o.csv) : o.csv;
  return buildFromTable(
    table,
    table.rows.map((_, i) => i),
    o,
    {},
  );
}

/** Label arrays of a file dataset, in the form the confounded-split builder takes as a pool. */
export function poolOf(
  ds: FileDataset,
  primary: string,
  spurions: readonly string[],
): { y: Int32Array; spurions: Record<string, Int32Array> } {
  const col = (name: string): Int32Array => Int32Array.from(ds.items, (it) => it.labels[name] ?? -1);
  return { y: col(primary), spurions: Object.fromEntries(spurions.map((s) => [s, col(s)])) };
}

/** The items a split selected (by pool row), with the split's labels. */
export function subsetFileDataset(
  ds: FileDataset,
  name: string,
  rows: ArrayLike<number>,
  labels?: Record<string, Int32Array>,
): FileDataset {
  const items = Array.from({ length: rows.length }, (_, i) => {
    const it = ds.items[rows[i]];
    const lab = { ...it.labels };
    if (labels) for (const [k, v] of Object.entries(labels)) lab[k] = v[i];
    return { ...it, labels: lab };
  });
  return { ...ds, name, items };
}

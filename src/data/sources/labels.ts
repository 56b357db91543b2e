// Turning table cells into integer labels, with explicit policies for what real tables contain:
// blanks, unexpected strings, numbers that must be binned.
import type { Table } from "../table/csv.js";

/** What a missing/unparseable label does: drop the row, stop with an error, or use a fixed value. */
export type MissingPolicy = "skip" | "fail" | { fill: number };

export interface LabelSpec {
  /** Column in the table. */
  column: string;
  /** Name of the task in batches (default: the column name). */
  name?: string;
  /** Explicit value -> class map (e.g. {Female: 0, Male: 1}); values outside it count as missing. */
  map?: Record<string, number>;
  /** Numeric column binned by ascending edges: class = number of edges <= value. */
  bins?: number[];
  /** Numeric column holding the class id itself. */
  integer?: boolean;
  /** Default "skip". */
  missing?: MissingPolicy;
  classNames?: string[];
}

export interface ResolvedLabel {
  name: string;
  column: string;
  values: Int32Array;
  numClasses: number;
  classNames: string[];
}

export interface LabelOutcome {
  labels: ResolvedLabel[];
  /** Rows (table indices) that survived every "skip" policy. */
  keep: number[];
  /** Rows dropped, per label name. */
  skipped: Record<string, number>;
  /** Cells replaced by a fill value, per label name. */
  filled: Record<string, number>;
}

/** Class names for binned values, e.g. edges [40, 60] -> ["<40", "40-60", ">=60"]. */
export function binNames(edges: readonly number[]): string[] {
  return [
    `<${edges[0]}`,
    ...edges.slice(1).map((e, i) => `${edges[i]}-${e}`),
    `>=${edges[edges.length - 1]}`,
  ];
}

export function binIndex(v: number, edges: readonly number[]): number {
  let k = 0;
  while (k < edges.length && v >= edges[k]) k++;
  return k;
}

/** Parses one cell into a class id, or null when it is missing/unparseable. */
export function cellToClass(cell: string, spec: LabelSpec, vocab: Map<string, number> | null): number | null {
  const v = cell.trim();
  if (v === "") return null;
  if (spec.map) return v in spec.map ? spec.map[v] : null;
  if (spec.bins) {
    const x = Number(v);
    return Number.isFinite(x) ? binIndex(x, spec.bins) : null;
  }
  if (spec.integer) {
    const x = Number(v);
    return Number.isInteger(x) ? x : null;
  }
  return vocab?.get(v) ?? null;
}

export function resolveLabels(
  table: Table,
  specs: readonly LabelSpec[],
  rows?: readonly number[],
): LabelOutcome {
  const candidate = rows ?? table.rows.map((_, i) => i);
  const skipped: Record<string, number> = {};
  const filled: Record<string, number> = {};
  const perSpec = specs.map((spec) => {
    const col = table.columnIndex(spec.column);
    const name = spec.name ?? spec.column;
    // Plain categorical columns: classes are the sorted distinct non-blank values.
    let vocab: Map<string, number> | null = null;
    if (!spec.map && !spec.bins && !spec.integer) {
      const distinct = [
        ...new Set(candidate.map((r) => table.rows[r][col].trim()).filter((s) => s !== "")),
      ].sort();
      vocab = new Map(distinct.map((s, i) => [s, i]));
    }
    const classNames =
      spec.classNames ??
      (spec.map
        ? Object.entries(spec.map)
            .sort((a, b) => a[1] - b[1])
            .map(([k]) => k)
        : spec.bins
          ? binNames(spec.bins)
          : vocab
            ? [...vocab.keys()]
            : []);
    return { spec, col, name, vocab, classNames };
  });
  const keep: number[] = [];
  const values: number[][] = specs.map(() => []);
  for (const r of candidate) {
    const row: number[] = [];
    let drop = false;
    for (const p of perSpec) {
      let c = cellToClass(table.rows[r][p.col], p.spec, p.vocab);
      if (c === null) {
        const pol = p.spec.missing ?? "skip";
        if (pol === "fail") {
          throw new Error(
            `${table.source}: row ${r + 2}, column '${p.spec.column}': missing or invalid value '${table.rows[r][p.col]}' (missing-label policy: fail)`,
          );
        }
        if (pol === "skip") {
          skipped[p.name] = (skipped[p.name] ?? 0) + 1;
          drop = true;
          break;
        }
        c = pol.fill;
        filled[p.name] = (filled[p.name] ?? 0) + 1;
      }
      row.push(c);
    }
    if (drop) continue;
    keep.push(r);
    row.forEach((c, k) => {
      values[k].push(c);
    });
  }
  const labels = perSpec.map((p, k) => {
    const vals = Int32Array.from(values[k]);
    const maxSeen = vals.reduce((m, v) => Math.max(m, v), -1);
    return {
      name: p.name,
      column: p.spec.column,
      values: vals,
      numClasses: Math.max(p.classNames.length, maxSeen + 1),
      classNames: p.classNames,
    };
  });
  return { labels, keep, skipped, filled };
}

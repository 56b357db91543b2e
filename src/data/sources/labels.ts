// Turning table cells into integer labels. Every distinct value of a label column is one of three
// things: mapped to a class by the spec, missing (one of `missingValues`; then the spec's missing
// policy applies), or an error that names the column, the value, how often it occurs and the first
// CSV lines it is on. Nothing becomes a class by accident: a "Disease" where the spec says
// "disease", a "?" or a "1" among words would otherwise train as the negative class without a word.
import type { Table } from "../table/csv.js";

/** What a missing label does: drop the row, stop with an error, or use a fixed class. */
export type MissingPolicy = "skip" | "fail" | { fill: number };

/** Cells that mean "no value" unless a spec says otherwise (compared after trimming). */
export const DEFAULT_MISSING_VALUES: readonly string[] = ["", "NA", "N/A", "n/a", "nan"];

export interface LabelSpec {
  /** Column in the table. */
  column: string;
  /** Name of the task in batches (default: the column name). */
  name?: string;
  /** Explicit value -> class map (e.g. {Female: 0, Male: 1}); any other non-missing value is an error. */
  map?: Record<string, number>;
  /** Binary columns: the values of class 1. */
  positive?: string[];
  /**
   * With `positive`: the values of class 0; any other non-missing value is an error. Absent: every
   * other value is class 0, except values that look like a slip (a positive value in another case,
   * a number among words or a word among numbers, a cell without a letter or digit), which are errors.
   */
  negative?: string[];
  /** Numeric column binned by ascending edges: class = number of edges <= value. */
  bins?: number[];
  /** Numeric column holding the class id itself (a non-negative integer). */
  integer?: boolean;
  /** Default "skip". */
  missing?: MissingPolicy;
  /** Cells that count as missing (default DEFAULT_MISSING_VALUES). */
  missingValues?: readonly string[];
  /** Compare values, positive/negative lists, map keys and missing values ignoring case. */
  caseInsensitive?: boolean;
  /** How to fix an unmapped value, in the words of the config that made this spec; ends the error. */
  fix?: string;
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

const MISSING = Symbol("missing");
/** A value the spec does not map, and why (the why is shown to the user). */
interface Unmapped {
  why: string;
}
type CellClass = number | typeof MISSING | Unmapped;

const isNumber = (v: string) => v !== "" && Number.isFinite(Number(v));

/** Why a value next to `positive` (without `negative`) must not silently be class 0, or undefined. */
function slip(v: string, positive: readonly string[], fold: (s: string) => string): string | undefined {
  const near = positive.find((p) => p.toLowerCase() === v.toLowerCase() && fold(p) !== fold(v));
  if (near !== undefined) return `differs from the positive value '${near}' only in case`;
  if (!/[\p{L}\p{N}]/u.test(v)) return "has no letter or digit (a placeholder for a missing value?)";
  const numeric = positive.every(isNumber);
  if (numeric && !isNumber(v)) return "is text while the positive values are numbers";
  if (!numeric && positive.every((p) => !isNumber(p)) && isNumber(v))
    return "is a number while the positive values are words (another coding?)";
  return undefined;
}

/** Classifies the distinct values of one column under one spec. */
function classifier(spec: LabelSpec, vocab: Map<string, number> | null): (cell: string) => CellClass {
  const fold = spec.caseInsensitive ? (s: string) => s.toLowerCase() : (s: string) => s;
  const missing = new Set((spec.missingValues ?? DEFAULT_MISSING_VALUES).map((m) => fold(m.trim())));
  const map = spec.map ? new Map(Object.entries(spec.map).map(([k, c]) => [fold(k), c])) : undefined;
  const pos = new Set((spec.positive ?? []).map(fold));
  const neg = spec.negative ? new Set(spec.negative.map(fold)) : undefined;
  return (cell) => {
    const v = cell.trim();
    const key = fold(v);
    if (missing.has(key)) return MISSING;
    if (map)
      return (
        map.get(key) ?? {
          why: `is not among the mapped values ${[...map.keys()].map((k) => `'${k}'`).join(", ")}`,
        }
      );
    if (spec.positive) {
      if (pos.has(key)) return 1;
      if (neg) return neg.has(key) ? 0 : { why: "is neither a positive nor a negative value" };
      const why = slip(v, spec.positive, fold);
      return why ? { why } : 0;
    }
    if (spec.bins) return isNumber(v) ? binIndex(Number(v), spec.bins) : { why: "is not a number" };
    if (spec.integer) {
      const x = Number(v);
      return v !== "" && Number.isInteger(x) && x >= 0
        ? x
        : { why: "is not a class id (a non-negative integer)" };
    }
    return vocab?.get(v) ?? { why: "is not a known value" };
  };
}

/** `'Disease' (12 rows; lines 3, 7, 9, ...)` */
function occurrences(value: string, lines: number[], count: number): string {
  const first = lines.slice(0, 5).join(", ");
  return `'${value}' (${count} row${count === 1 ? "" : "s"}; line${lines.length === 1 ? "" : "s"} ${first}${count > 5 ? ", ..." : ""})`;
}

/** Classifies every value of one label column; throws naming each unmapped value. */
function classifyColumn(
  table: Table,
  spec: LabelSpec,
  col: number,
  rows: readonly number[],
  vocab: Map<string, number> | null,
): CellClass[] {
  const classify = classifier(spec, vocab);
  const byValue = new Map<string, CellClass>();
  const bad = new Map<string, { why: string; lines: number[]; count: number }>();
  const out = rows.map((r) => {
    const cell = table.rows[r][col];
    const v = cell.trim();
    let c = byValue.get(v);
    if (c === undefined) {
      c = classify(cell);
      byValue.set(v, c);
    }
    if (typeof c === "object") {
      const b = bad.get(v) ?? { why: c.why, lines: [], count: 0 };
      b.count++;
      if (b.lines.length < 5) b.lines.push(table.line(r));
      bad.set(v, b);
    }
    return c;
  });
  if (bad.size > 0) {
    const list = [...bad.entries()].map(([v, b]) => `${occurrences(v, b.lines, b.count)} ${b.why}`);
    throw new Error(
      `${table.source}: column '${spec.column}': ${bad.size === 1 ? "a value is" : `${bad.size} values are`} neither mapped to a class nor missing: ${list.join("; ")}.${spec.fix ? ` ${spec.fix}` : ""}`,
    );
  }
  return out;
}

/** A spec's class names, when it gives them or they follow from its mapping. */
function classNamesOf(spec: LabelSpec, vocab: Map<string, number> | null): string[] {
  if (spec.classNames) return spec.classNames;
  if (spec.map)
    return Object.entries(spec.map)
      .filter(([, c]) => c >= 0)
      .sort((a, b) => a[1] - b[1])
      .map(([k]) => k);
  if (spec.positive) return [spec.negative ? spec.negative.join("|") : "other", spec.positive.join("|")];
  if (spec.bins) return binNames(spec.bins);
  return vocab ? [...vocab.keys()] : [];
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
    const overlap = spec.negative?.find((n) => spec.positive?.includes(n));
    if (overlap !== undefined)
      throw new Error(`label '${name}': value '${overlap}' is listed as both positive and negative`);
    // Plain categorical columns: classes are the sorted distinct non-missing values.
    let vocab: Map<string, number> | null = null;
    if (!spec.map && !spec.bins && !spec.integer && !spec.positive) {
      const missing = new Set(spec.missingValues ?? DEFAULT_MISSING_VALUES);
      const distinct = [
        ...new Set(candidate.map((r) => table.rows[r][col].trim()).filter((s) => !missing.has(s))),
      ].sort();
      vocab = new Map(distinct.map((s, i) => [s, i]));
    }
    const classes = classifyColumn(table, spec, col, candidate, vocab);
    const pol = spec.missing ?? "skip";
    if (pol === "fail") {
      const lines: number[] = [];
      const values = new Map<string, number>();
      candidate.forEach((r, k) => {
        if (classes[k] !== MISSING) return;
        if (lines.length < 5) lines.push(table.line(r));
        const v = table.rows[r][col].trim();
        values.set(v, (values.get(v) ?? 0) + 1);
      });
      const n = [...values.values()].reduce((a, b) => a + b, 0);
      if (n > 0)
        throw new Error(
          `${table.source}: column '${spec.column}': ${n} row${n === 1 ? " has" : "s have"} no label (${[...values.entries()].map(([v, c]) => `'${v}' x${c}`).join(", ")}; line${lines.length === 1 ? "" : "s"} ${lines.join(", ")}${n > 5 ? ", ..." : ""}) and the missing-label policy is fail`,
        );
    }
    return { spec, name, classes, classNames: classNamesOf(spec, vocab) };
  });
  const keep: number[] = [];
  const values: number[][] = specs.map(() => []);
  candidate.forEach((r, k) => {
    const row: number[] = [];
    for (const p of perSpec) {
      let c = p.classes[k];
      if (c === MISSING) {
        const pol = p.spec.missing ?? "skip";
        if (pol === "skip" || pol === "fail") {
          skipped[p.name] = (skipped[p.name] ?? 0) + 1;
          return;
        }
        c = pol.fill;
        filled[p.name] = (filled[p.name] ?? 0) + 1;
      }
      row.push(c as number);
    }
    keep.push(r);
    row.forEach((c, j) => {
      values[j].push(c);
    });
  });
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

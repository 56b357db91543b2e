// Natural shift: which rows of a file source go where when the dataset brings its own split
// (data.split_column) or its own test cohorts (data.external_tests given by a column value).
//
// Every item of a source knows the CSV file and line it came from (SourceResult.origins), so a
// column the loader did not read (split, site, ...) is looked up in that file's table. Each item
// ends in one pool ("all" without a split column; "train", "validation" or "test" with one), in one
// external test (a cohort held out for testing must not also be trained on; its rows need no
// split value).
import type { DataConfig } from "../config/index.js";
import type { SourceResult } from "../data/sources/manifest.js";
import { Table, type TableOptions } from "../data/table/csv.js";

export type PoolName = "all" | "train" | "validation" | "test";

export interface RowPlan {
  /** The pool of each item; "" = in none (an external test's row). */
  pool: (PoolName | "")[];
  /** Items of each external test given by a column value, by test name. */
  external: Map<string, number[]>;
}

/** Options to read a source's tables as its loader did (the manifest honours data.delimiter). */
export function tableOptions(d: DataConfig): TableOptions {
  if (d.source !== "manifest" || d.delimiter === "auto") return {};
  return { delimiter: d.delimiter === "tab" ? "\t" : d.delimiter };
}

/**
 * The text of `column` for every item of a source, read from the table and line each item came
 * from. `cohorts` (mri) maps a cohort's CSV to its name, for the pseudo column "cohort".
 */
export function cellsOf(
  src: SourceResult,
  column: string,
  d: DataConfig,
  at: string,
  cohorts?: ReadonlyMap<string, string>,
  only?: (item: number) => boolean,
): string[] {
  if (column === "cohort" && cohorts) {
    return src.origins.map((o) => cohorts.get(o.csv) ?? "");
  }
  const tables = new Map<string, { table: Table; col: number; rowOfLine: Map<number, number> }>();
  const open = (csv: string) => {
    let t = tables.get(csv);
    if (!t) {
      const table = Table.read(csv, tableOptions(d));
      if (!table.columns.includes(column))
        throw new Error(`${at}: ${csv} has no column '${column}' (columns: ${table.columns.join(", ")})`);
      t = {
        table,
        col: table.columnIndex(column),
        rowOfLine: new Map(table.lines.map((line, row) => [line, row])),
      };
      tables.set(csv, t);
    }
    return t;
  };
  return src.origins.map((o, i) => {
    if (only && !only(i)) return "";
    const t = open(o.csv);
    const row = t.rowOfLine.get(o.line);
    if (row === undefined) throw new Error(`internal: ${o.csv}: no table row starts on line ${o.line}`);
    return t.table.rows[row][t.col].trim();
  });
}

/** "'x' (3 rows; lines a.csv:2, a.csv:5, ...)" for the items holding one value. */
function where(src: SourceResult, items: number[]): string {
  const lines = [...new Set(items.map((i) => `${src.origins[i].csv}:${src.origins[i].line}`))];
  return `${items.length} row${items.length === 1 ? "" : "s"}; lines ${lines.slice(0, 5).join(", ")}${lines.length > 5 ? ", ..." : ""}`;
}

/**
 * The pool of every item and the column-filter external tests. A split-column value listed under
 * none of train / validation / test is an error naming it, its count and its first lines.
 */
export function planRows(d: DataConfig, src: SourceResult, cohorts?: ReadonlyMap<string, string>): RowPlan {
  const n = src.dataset.items.length;
  const pool: (PoolName | "")[] = new Array(n).fill("all");
  const external = new Map<string, number[]>();
  const owner: (string | undefined)[] = new Array(n);
  d.external_tests.forEach((t, k) => {
    if (!t.column || !t.values) return;
    const cells = cellsOf(src, t.column, d, `data.external_tests[${k}].column`, cohorts);
    const wanted = new Set(t.values);
    const items: number[] = [];
    cells.forEach((v, i) => {
      if (wanted.has(v)) items.push(i);
    });
    if (items.length === 0) {
      const seen = [...new Set(cells)].slice(0, 12).map((v) => `'${v}'`);
      throw new Error(
        `data.external_tests[${k}] (${t.name}): no row has ${t.values.map((v) => `'${v}'`).join(" or ")} in column '${t.column}' (values there: ${seen.join(", ")}${seen.length === 12 ? ", ..." : ""})`,
      );
    }
    const shared = items.filter((i) => owner[i] !== undefined);
    if (shared.length > 0)
      throw new Error(
        `data.external_tests: ${t.name} and ${owner[shared[0]]} share ${where(src, shared)}; a row belongs to one test`,
      );
    for (const i of items) {
      owner[i] = t.name;
      pool[i] = "";
    }
    external.set(t.name, items);
  });
  const sc = d.split_column;
  if (sc) {
    // Rows an external test holds need no split value (a held-out cohort may have no such column).
    const cells = cellsOf(src, sc.column, d, "data.split_column.column", cohorts, (i) => pool[i] !== "");
    const role = new Map<string, PoolName>();
    for (const v of sc.train) role.set(v, "train");
    for (const v of sc.validation) role.set(v, "validation");
    for (const v of sc.test) role.set(v, "test");
    const unlisted = new Map<string, number[]>();
    cells.forEach((v, i) => {
      if (pool[i] === "") return;
      const r = role.get(v);
      if (r) pool[i] = r;
      else {
        const list = unlisted.get(v);
        if (list) list.push(i);
        else unlisted.set(v, [i]);
      }
    });
    if (unlisted.size > 0) {
      const lines = [...unlisted].map(([v, items]) => `  '${v}' (${where(src, items)})`);
      throw new Error(
        `data.split_column: column '${sc.column}' holds values listed under none of train, validation and test:\n${lines.join("\n")}\nList each under data.split_column.train, .validation or .test.`,
      );
    }
  }
  return { pool, external };
}

/** A copy of `values` with -1 (never used) wherever the item is not in `pool`. */
export function maskTo(values: Int32Array, plan: RowPlan, pool: PoolName): Int32Array {
  return values.map((v, i) => (plan.pool[i] === pool ? v : -1));
}

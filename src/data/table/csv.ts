// CSV (RFC 4180): comma-separated, fields optionally in double quotes, "" inside quotes is a quote,
// quoted fields may contain commas and line breaks; CRLF or LF line ends; a UTF-8 BOM is ignored.
// Written by hand because clinical tables (CheXpert, cohort metadata) do contain quoted commas.
import { readFileSync } from "node:fs";

export function parseCsv(text: string, source = "<csv>"): string[][] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  let line = 1;
  // State: at field start we decide if it is quoted; inside quotes only `"` is special.
  let atFieldStart = true;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const nx = text[i];
        if (nx !== undefined && nx !== "," && nx !== "\n" && nx !== "\r") {
          throw new Error(`${source}:${line}: unexpected character '${nx}' after a closing quote`);
        }
        continue;
      }
      if (ch === "\n") line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && atFieldStart) {
      quoted = true;
      atFieldStart = false;
      i++;
      continue;
    }
    if (ch === ",") {
      row.push(field);
      field = "";
      atFieldStart = true;
      i++;
      continue;
    }
    if (ch === "\r" || ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      atFieldStart = true;
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      continue;
    }
    field += ch;
    atFieldStart = false;
    i++;
  }
  if (quoted) throw new Error(`${source}: unterminated quoted field at end of file`);
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A parsed table with a header row. Column lookups by name fail loudly, listing what exists. */
export class Table {
  readonly columns: string[];
  readonly rows: string[][];
  readonly source: string;
  private readonly index: Map<string, number>;

  constructor(columns: string[], rows: string[][], source = "<table>") {
    this.columns = columns;
    this.rows = rows;
    this.source = source;
    this.index = new Map(columns.map((c, i) => [c, i]));
  }

  static parse(text: string, source = "<csv>"): Table {
    const all = parseCsv(text, source);
    if (all.length === 0) throw new Error(`${source}: empty CSV (no header row)`);
    const [header, ...body] = all;
    const width = header.length;
    // Skip blank lines; pad short rows (trailing empty cells are often omitted by spreadsheet tools).
    const rows = body
      .filter((r) => !(r.length === 1 && r[0] === ""))
      .map((r, k) => {
        if (r.length > width)
          throw new Error(`${source}: row ${k + 2} has ${r.length} fields, the header has ${width}`);
        return r.length < width ? [...r, ...new Array<string>(width - r.length).fill("")] : r;
      });
    return new Table(
      header.map((h) => h.trim()),
      rows,
      source,
    );
  }

  static read(path: string): Table {
    return Table.parse(readFileSync(path, "utf8"), path);
  }

  get length(): number {
    return this.rows.length;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  /** Index of a column; unknown names raise an Error listing the existing columns. */
  columnIndex(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) {
      throw new Error(
        `${this.source}: no column '${name}'; columns are: ${this.columns.map((c) => `'${c}'`).join(", ")}`,
      );
    }
    return i;
  }

  column(name: string): string[] {
    const i = this.columnIndex(name);
    return this.rows.map((r) => r[i]);
  }

  get(row: number, name: string): string {
    return this.rows[row][this.columnIndex(name)];
  }

  filter(pred: (row: number) => boolean): Table {
    return new Table(
      this.columns,
      this.rows.filter((_, i) => pred(i)),
      this.source,
    );
  }
}

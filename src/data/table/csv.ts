// Delimited text tables: CSV (RFC 4180) and its relatives, TSV (BIDS participants.tsv), ";"
// (spreadsheets in locales with a decimal comma) and "|". Fields optionally in double quotes, ""
// inside quotes is a quote, quoted fields may contain the delimiter and line breaks; CRLF or LF line
// ends; a UTF-8 BOM is ignored. Written by hand because clinical tables (CheXpert, cohort metadata)
// do contain quoted commas.
//
// Delimiter: the `delimiter` option if given; else tab for .tsv/.tab files; else sniffed from the
// header line (the candidate that occurs most often outside quotes; a header without any is one
// column, read as CSV).
import { readFileSync } from "node:fs";
import { extname } from "node:path";

export const DELIMITERS = [",", "\t", ";", "|"] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export interface ParsedRows {
  rows: string[][];
  /** 1-based line of the file on which each row starts. */
  lines: number[];
}

/** Parses delimited text into rows of fields, with the file line each row starts on. */
export function parseDelimited(text: string, source = "<csv>", delimiter: string = ","): ParsedRows {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r")
    throw new Error(
      `${source}: delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`,
    );
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: string[][] = [];
  const lines: number[] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
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
        if (nx !== undefined && nx !== delimiter && nx !== "\n" && nx !== "\r") {
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
      quoteLine = line;
      atFieldStart = false;
      i++;
      continue;
    }
    if (ch === delimiter) {
      row.push(field);
      field = "";
      atFieldStart = true;
      i++;
      continue;
    }
    if (ch === "\r" || ch === "\n") {
      row.push(field);
      rows.push(row);
      lines.push(rowLine);
      row = [];
      field = "";
      atFieldStart = true;
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      rowLine = line;
      continue;
    }
    field += ch;
    atFieldStart = false;
    i++;
  }
  if (quoted)
    throw new Error(
      `${source}:${quoteLine}: unterminated quoted field (opened on this line, runs to the end of the file)`,
    );
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
    lines.push(rowLine);
  }
  return { rows, lines };
}

/** CSV rows (comma-delimited); see parseDelimited for other delimiters and line numbers. */
export function parseCsv(text: string, source = "<csv>"): string[][] {
  return parseDelimited(text, source, ",").rows;
}

/** The delimiter a file most likely uses: by extension, else by its header line. */
export function detectDelimiter(text: string, path = ""): Delimiter {
  const ext = extname(path).toLowerCase();
  if (ext === ".tsv" || ext === ".tab") return "\t";
  const counts = new Map<Delimiter, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "\n" || ch === "\r")) break;
    else if (!quoted && counts.has(ch as Delimiter))
      counts.set(ch as Delimiter, counts.get(ch as Delimiter)! + 1);
  }
  let best: Delimiter = ",";
  for (const d of DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

export interface TableOptions {
  /** Field delimiter; default: detected (detectDelimiter). */
  delimiter?: string;
}

/** A parsed table with a header row. Column lookups by name fail loudly, listing what exists. */
export class Table {
  readonly columns: string[];
  readonly rows: string[][];
  readonly source: string;
  /** 1-based file line each row starts on (for messages); row k + 2 when not known. */
  readonly lines: number[];
  /** The delimiter the table was read with. */
  readonly delimiter: string;
  private readonly index: Map<string, number>;

  constructor(columns: string[], rows: string[][], source = "<table>", lines?: number[], delimiter = ",") {
    this.columns = columns;
    this.rows = rows;
    this.source = source;
    this.lines = lines ?? rows.map((_, k) => k + 2);
    this.delimiter = delimiter;
    this.index = new Map(columns.map((c, i) => [c, i]));
  }

  /** Parses a table; the delimiter is `o.delimiter`, else detected from the extension of `source` and the header. */
  static parse(text: string, source = "<csv>", o: TableOptions = {}): Table {
    const delimiter = o.delimiter ?? detectDelimiter(text, source);
    const { rows: all, lines } = parseDelimited(text, source, delimiter);
    if (all.length === 0) throw new Error(`${source}: empty table (no header row)`);
    const [header, ...body] = all;
    const width = header.length;
    const names = header.map((h) => h.trim());
    const seen = new Set<string>();
    for (const c of names) {
      if (seen.has(c) && c !== "")
        throw new Error(`${source}:${lines[0]}: column '${c}' appears twice in the header`);
      seen.add(c);
    }
    // Skip blank lines; pad short rows (trailing empty cells are often omitted by spreadsheet tools).
    const rows: string[][] = [];
    const rowLines: number[] = [];
    body.forEach((r, k) => {
      if (r.length === 1 && r[0] === "") return;
      const line = lines[k + 1];
      if (r.length > width)
        throw new Error(
          `${source}:${line}: row has ${r.length} fields, the header has ${width} (delimiter ${JSON.stringify(delimiter)})`,
        );
      rows.push(r.length < width ? [...r, ...new Array<string>(width - r.length).fill("")] : r);
      rowLines.push(line);
    });
    return new Table(names, rows, source, rowLines, delimiter);
  }

  static read(path: string, o: TableOptions = {}): Table {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new Error(
        `${path}: cannot read table (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    return Table.parse(text, path, o);
  }

  /** The file line row `row` starts on. */
  line(row: number): number {
    return this.lines[row];
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
    const keep = this.rows.map((_, i) => pred(i));
    return new Table(
      this.columns,
      this.rows.filter((_, i) => keep[i]),
      this.source,
      this.lines.filter((_, i) => keep[i]),
      this.delimiter,
    );
  }
}

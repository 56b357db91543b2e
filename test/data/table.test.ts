import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveLabels } from "../../src/data/sources/labels.js";
import { detectDelimiter, parseCsv, parseDelimited, Table } from "../../src/data/table/csv.js";
import { tempDir, writeFile } from "./helpers.js";

test("CSV: RFC 4180 quoting, escaped quotes, embedded commas and line breaks, CRLF, BOM", () => {
  const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"multi\nline",\r\n';
  assert.deepEqual(parseCsv(text), [
    ["a", "b", "c"],
    ["1", "x, y", 'say "hi"'],
    ["2", "multi\nline", ""],
  ]);
  assert.deepEqual(parseCsv("a,b\n1,2"), [
    ["a", "b"],
    ["1", "2"],
  ]);
  assert.throws(() => parseCsv('a\n"open'), /<csv>:2: unterminated quoted field/);
  assert.throws(() => parseCsv('a\n"x"y'), /unexpected character 'y' after a closing quote/);
});

test("Table: unknown column error lists the existing columns; short rows are padded", () => {
  const t = Table.parse("Path,Sex,Age\np1,Male,50\np2,Female\n", "meta.csv");
  assert.deepEqual(t.column("Age"), ["50", ""]);
  assert.throws(
    () => t.column("Sexx"),
    (e: Error) => e.message === "meta.csv: no column 'Sexx'; columns are: 'Path', 'Sex', 'Age'",
  );
  assert.throws(() => Table.parse("a,b\n1,2,3\n", "w.csv"), /w\.csv:2: row has 3 fields, the header has 2/);
});

test("missing-label policy: skip, fail, fill; categorical, map and bins", () => {
  const t = Table.parse("id,sex,age,site\n1,M,35,b\n2,,62,a\n3,F,,a\n4,F,81,c\n", "m.csv");
  const skip = resolveLabels(t, [
    { column: "sex", map: { F: 0, M: 1 } },
    { column: "age", bins: [40, 60, 80] },
    { column: "site" },
  ]);
  assert.deepEqual(skip.keep, [0, 3]);
  assert.deepEqual(Array.from(skip.labels[0].values), [1, 0]);
  assert.deepEqual(Array.from(skip.labels[1].values), [0, 3]);
  assert.deepEqual(skip.labels[1].classNames, ["<40", "40-60", "60-80", ">=80"]);
  assert.deepEqual(Array.from(skip.labels[2].values), [1, 2]);
  assert.deepEqual(skip.labels[2].classNames, ["a", "b", "c"]);
  assert.deepEqual(skip.skipped, { sex: 1, age: 1 });
  const fill = resolveLabels(t, [
    { column: "sex", map: { F: 0, M: 1 }, missing: { fill: -1 } },
    { column: "age", bins: [40, 60, 80], missing: { fill: 1 } },
  ]);
  assert.deepEqual(fill.keep, [0, 1, 2, 3]);
  assert.deepEqual(Array.from(fill.labels[0].values), [1, -1, 0, 0]);
  assert.deepEqual(Array.from(fill.labels[1].values), [0, 2, 1, 3]);
  assert.deepEqual(fill.filled, { sex: 1, age: 1 });
  assert.throws(
    () => resolveLabels(t, [{ column: "sex", map: { F: 0, M: 1 }, missing: "fail" }]),
    /m\.csv: column 'sex': 1 row has no label \('' x1; line 3\) and the missing-label policy is fail/,
  );
});

test("TSV: BIDS participants.tsv by extension, quoted tabs, CRLF, BOM; rows keep their file lines", () => {
  const dir = tempDir();
  const text =
    '\ufeffparticipant_id\tage\tsex\tnote\r\nsub-01\t34\tF\t"has\ttab"\r\n\r\nsub-02\tn/a\tM\t"two\r\nlines"\r\nsub-03\t51\tF\t\r\n';
  const p = writeFile(dir, "participants.tsv", text);
  const t = Table.read(p);
  assert.equal(t.delimiter, "\t");
  assert.deepEqual(t.columns, ["participant_id", "age", "sex", "note"]);
  assert.deepEqual(t.column("note"), ["has\ttab", "two\r\nlines", ""]);
  assert.deepEqual(t.column("age"), ["34", "n/a", "51"]);
  // sub-02 starts on line 4 (after a blank line 3); its quoted field spans to line 5.
  assert.deepEqual(t.lines, [2, 4, 6]);
  assert.deepEqual(t.filter((r) => r !== 0).lines, [4, 6]);
  const wide = writeFile(dir, "bad.tsv", "a\tb\n1\t2\n\n3\t4\t5\n");
  assert.throws(
    () => Table.read(wide),
    (e: Error) => e.message.startsWith(`${wide}:4: row has 3 fields, the header has 2`),
  );
});

test("delimiter: sniffed from the header outside quotes, overridable; errors name file and line", () => {
  assert.equal(detectDelimiter("a,b,c\n1,2,3"), ",");
  assert.equal(detectDelimiter("id\tage\tsex\n1\t2\t3", "meta.csv"), "\t");
  assert.equal(detectDelimiter('"a,b";c;d\n', "export.csv"), ";");
  assert.equal(detectDelimiter("x|y\n"), "|");
  assert.equal(detectDelimiter("only\n1\n"), ",");
  assert.equal(detectDelimiter("a,b\n", "p.tsv"), "\t");
  const semi = Table.parse('path;age;"note; quoted"\nimg1.png;3,5;x\n', "eu.csv");
  assert.deepEqual(semi.columns, ["path", "age", "note; quoted"]);
  assert.deepEqual(semi.column("age"), ["3,5"]);
  // The option wins over sniffing: a one-column table whose values contain tabs.
  const forced = Table.parse("a\tb\nx\ty\n", "t.txt", { delimiter: "," });
  assert.deepEqual(forced.columns, ["a\tb"]);
  assert.throws(() => parseDelimited("a", "x.csv", '"'), /x\.csv: delimiter must be one character/);
  assert.throws(() => Table.parse("a,a\n1,2\n", "d.csv"), /d\.csv:1: column 'a' appears twice/);
  assert.throws(
    () => Table.read("/nonexistent/m.tsv"),
    /\/nonexistent\/m\.tsv: cannot read table \(ENOENT\)/,
  );
  assert.throws(() => parseDelimited('a\tb\n"x"y\tz', "q.tsv", "\t"), /q\.tsv:2: unexpected character 'y'/);
});

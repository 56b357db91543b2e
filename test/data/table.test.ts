import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveLabels } from "../../src/data/sources/labels.js";
import { parseCsv, Table } from "../../src/data/table/csv.js";

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
  assert.throws(() => parseCsv('a\n"open'), /unterminated quoted field/);
  assert.throws(() => parseCsv('a\n"x"y'), /unexpected character 'y' after a closing quote/);
});

test("Table: unknown column error lists the existing columns; short rows are padded", () => {
  const t = Table.parse("Path,Sex,Age\np1,Male,50\np2,Female\n", "meta.csv");
  assert.deepEqual(t.column("Age"), ["50", ""]);
  assert.throws(
    () => t.column("Sexx"),
    (e: Error) => e.message === "meta.csv: no column 'Sexx'; columns are: 'Path', 'Sex', 'Age'",
  );
  assert.throws(() => Table.parse("a,b\n1,2,3\n", "w.csv"), /w\.csv: row 2 has 3 fields, the header has 2/);
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

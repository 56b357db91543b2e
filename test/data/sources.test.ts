// CheXpert-format table with generated images, generic manifests, brain-MRI cohorts, PNG/JPEG
// decoding and unreadable-image policies.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ImageDecodeError } from "../../src/data/io/errors.js";
import { readImage } from "../../src/data/io/read.js";
import { DataLoader, materialize } from "../../src/data/loader.js";
import { brainMri } from "../../src/data/sources/brain-mri.js";
import { CHEXPERT_COLUMNS, chexpert } from "../../src/data/sources/chexpert.js";
import { resolveLabels } from "../../src/data/sources/labels.js";
import { fromManifest, poolOf, subsetFileDataset } from "../../src/data/sources/manifest.js";
import { makeConfoundedSplits } from "../../src/data/splits/confounded.js";
import { Table } from "../../src/data/table/csv.js";
import { jpegGray, pngGray, pngRgba, tempDir, writeFile } from "./helpers.js";

test("PNG 8/16-bit gray, RGB, RGBA and JPEG decode by content with correct values", () => {
  const dir = tempDir();
  const px = Array.from({ length: 12 }, (_, i) => i * 20);
  const g8 = readImage(writeFile(dir, "g8.png", pngGray(4, 3, px)));
  assert.deepEqual(g8.shape, [1, 3, 4]);
  assert.deepEqual(
    Array.from(g8.data),
    px.map((v) => Math.fround(v / 255)),
  );
  const g16 = readImage(
    writeFile(
      dir,
      "g16.png",
      pngGray(
        4,
        3,
        px.map((v) => v * 257 + 1),
        16,
      ),
    ),
    { unitRange: false },
  );
  assert.deepEqual(
    Array.from(g16.data),
    px.map((v) => v * 257 + 1),
  );
  const rgba = Array.from({ length: 4 * 6 }, (_, i) => (i * 11) % 256);
  // Opaque pixels for the RGB file (pngjs composites translucent input onto white when dropping alpha).
  const opaque = rgba.map((v, i) => (i % 4 === 3 ? 255 : v));
  const c3 = readImage(writeFile(dir, "c3.png", pngRgba(3, 2, opaque, false)), { unitRange: false });
  assert.deepEqual(c3.shape, [3, 2, 3]);
  assert.equal(c3.data[6 + 1], rgba[4 * 1 + 1], "G of pixel 1");
  const c4 = readImage(writeFile(dir, "c4.png", pngRgba(3, 2, rgba, true)), { unitRange: false });
  assert.deepEqual(c4.shape, [4, 2, 3]);
  assert.equal(c4.data[18 + 5], rgba[4 * 5 + 3], "alpha of pixel 5");
  // A JPEG saved with a .png name is still read as JPEG.
  const j = readImage(
    writeFile(
      dir,
      "actually-jpeg.png",
      jpegGray(16, 16, (x) => x * 16),
    ),
    { unitRange: false },
  );
  assert.deepEqual(j.shape, [3, 16, 16]);
  assert.ok(Math.abs(j.data[15] - 240) < 6);
  assert.throws(
    () => readImage(writeFile(dir, "junk.png", "hello world")),
    /junk\.png: unknown image format/,
  );
  assert.throws(() => readImage(join(dir, "nope.png")), /nope\.png: cannot read file \(ENOENT\)/);
});

/** A small CheXpert-like folder: CSV in the published layout and generated images. */
function makeChexpert(): { root: string; corrupt: string } {
  const root = tempDir("mimmx-chexpert-");
  const rows: string[][] = [];
  const effusion = ["1.0", "0.0", "-1.0", "", "1.0", "0.0", "1.0", "0.0"];
  for (let i = 0; i < 8; i++) {
    const rel = `CheXpert-v1.0-small/train/patient0000${i}/study1/view1_frontal.${i % 2 ? "png" : "jpg"}`;
    mkdirSync(join(root, rel, ".."), { recursive: true });
    const img =
      i % 2
        ? pngGray(
            39,
            32,
            Array.from({ length: 39 * 32 }, (_, k) => (k * 7 + i) % 256),
          )
        : jpegGray(39, 32, (x, y) => x * 5 + y + i);
    writeFileSync(join(root, rel), img);
    const obs = new Array(14).fill("");
    obs[10] = effusion[i]; // Pleural Effusion
    obs[13] = i % 3 === 0 ? "1.0" : "0.0"; // Support Devices
    rows.push([rel, i % 2 ? "Male" : "Female", `${30 + i * 8}`, "Frontal", i === 5 ? "PA" : "AP", ...obs]);
  }
  // A lateral view (filtered out) and a truncated PNG (unreadable).
  rows.push([
    "CheXpert-v1.0-small/train/patient00008/study1/view2_lateral.jpg",
    "Male",
    "70",
    "Lateral",
    "",
    ...new Array(14).fill("0.0"),
  ]);
  const corruptRel = "CheXpert-v1.0-small/train/patient00009/study1/view1_frontal.png";
  mkdirSync(join(root, corruptRel, ".."), { recursive: true });
  const good = pngGray(39, 32, new Array(39 * 32).fill(100));
  writeFileSync(join(root, corruptRel), good.subarray(0, good.length - 30));
  rows.push([corruptRel, "Female", "44", "Frontal", "AP", ...new Array(10).fill(""), "1.0", "", "", "0.0"]);
  const csv = [
    CHEXPERT_COLUMNS.join(","),
    ...rows.map((r) => r.map((c) => (c.includes(",") ? `"${c}"` : c)).join(",")),
  ].join("\n");
  writeFileSync(join(root, "CheXpert-v1.0-small", "train.csv"), `${csv}\n`);
  return { root, corrupt: join(root, corruptRel) };
}

test("CheXpert: uncertainty/blank policies, frontal filter, age bins, spurions from columns", () => {
  const { root } = makeChexpert();
  const zeros = chexpert({
    root,
    primary: "Pleural Effusion",
    spurions: ["Sex", "age", "AP/PA", "Support Devices"],
    size: 32,
  });
  assert.equal(zeros.summary.filtered.lateral, 1);
  assert.equal(zeros.dataset.items.length, 9);
  const y = zeros.dataset.items.map((it) => it.labels["Pleural Effusion"]);
  assert.deepEqual(y, [1, 0, 0, 0, 1, 0, 1, 0, 1]);
  assert.deepEqual(
    zeros.dataset.items.map((it) => it.labels.Sex),
    [0, 1, 0, 1, 0, 1, 0, 1, 0],
  );
  assert.deepEqual(
    zeros.dataset.items.map((it) => it.labels.age),
    [0, 0, 1, 1, 2, 2, 2, 3, 1],
  );
  assert.deepEqual(
    zeros.dataset.items.map((it) => it.labels["AP/PA"]),
    [0, 0, 0, 0, 0, 1, 0, 0, 0],
  );
  assert.deepEqual(
    zeros.dataset.items.map((it) => it.labels["Support Devices"]),
    [1, 0, 0, 1, 0, 0, 1, 0, 0],
  );
  assert.equal(zeros.summary.filledLabels["Pleural Effusion"], 1, "one blank filled with 0");
  assert.deepEqual(
    zeros.tasks.map((t) => t.name),
    ["Pleural Effusion", "Sex", "age", "AP/PA", "Support Devices"],
  );
  const ones = chexpert({ root, primary: "Pleural Effusion", uncertainty: "ones", blank: "skip", size: 32 });
  assert.deepEqual(
    ones.dataset.items.map((it) => it.labels["Pleural Effusion"]),
    [1, 0, 1, 1, 0, 1, 0, 1],
  );
  assert.equal(ones.summary.skippedLabels["Pleural Effusion"], 1);
  const ign = chexpert({ root, primary: "Pleural Effusion", uncertainty: "ignore", size: 32 });
  assert.equal(ign.dataset.items[2].labels["Pleural Effusion"], -1);
  assert.throws(
    () => chexpert({ root, primary: "Pleural Effusion", blank: "fail" }),
    /column 'Pleural Effusion': 1 row has no label \(.*line 5\)/,
  );
});

test("unreadable image: skipped and reported by path, or fatal, per policy", async () => {
  const { root, corrupt } = makeChexpert();
  const src = chexpert({ root, primary: "Pleural Effusion", spurions: ["Sex"], size: 32, onError: "skip" });
  const { dataset, summary } = await materialize(src.dataset);
  assert.equal(dataset.length, 8);
  assert.deepEqual(dataset.itemShape, [1, 32, 32]);
  assert.equal(summary.skipped.length, 1);
  assert.equal(summary.skipped[0].path, corrupt);
  assert.match(summary.skipped[0].error, /corrupt or truncated PNG/);
  assert.ok(
    dataset.images.every((v) => v >= 0 && v <= 1),
    "CLAHE output in [0,1]",
  );
  const fatal = chexpert({ root, primary: "Pleural Effusion", size: 32, onError: "fatal" });
  await assert.rejects(
    materialize(fatal.dataset),
    (e: Error) => e.message.includes(corrupt) && /truncated PNG/.test(e.message),
  );
  assert.throws(
    () => readImage(corrupt),
    (e: Error) => e instanceof ImageDecodeError && e.path === corrupt,
  );
});

test("generic manifest + confounded split over a natural spurion + loader", async () => {
  const dir = tempDir();
  const lines = ["file,label,scanner"];
  for (let i = 0; i < 40; i++) {
    writeFile(dir, `img${i}.png`, pngGray(8, 8, new Array(64).fill(i * 6)));
    const label = i % 2;
    // Scanner agrees with the label 3 times out of 4.
    const scanner = i % 8 < 6 ? (label ? "B" : "A") : label ? "A" : "B";
    lines.push(`img${i}.png,${label},${scanner}`);
  }
  writeFile(dir, "manifest.csv", lines.join("\n"));
  const src = fromManifest({
    csv: join(dir, "manifest.csv"),
    root: dir,
    pathColumn: "file",
    labels: [{ column: "label", integer: true, name: "y" }, { column: "scanner" }],
    pipeline: { transforms: [] },
    itemShape: [1, 8, 8],
  });
  assert.deepEqual(src.tasks[1].classNames, ["A", "B"]);
  const [bal] = makeConfoundedSplits({
    primary: { name: "y", numClasses: 2 },
    spurions: [{ name: "scanner", numClasses: 2, ratio: 0.75, kind: "natural" }],
    pools: { all: poolOf(src.dataset, "y", ["scanner"]) },
    splits: [{ name: "balanced", pool: "all", size: 16, mode: "balanced" }],
    seed: 0,
  });
  const sub = subsetFileDataset(src.dataset, "balanced", bal.rows, bal.labels);
  const loader = new DataLoader(sub, { batchSize: 16, shuffle: false });
  const batches = [];
  for await (const b of loader.epoch(0)) batches.push(b);
  assert.equal(batches.length, 1);
  const batch = batches[0];
  for (let k = 0; k < 16; k++) {
    const i = bal.rows[k];
    assert.equal(batch.images[k * 64], Math.fround((i * 6) / 255), "item pixels come from the selected row");
    assert.equal(batch.labels.y[k], i % 2);
  }
  assert.deepEqual(bal.counts.spurions[0].table, [
    [4, 4],
    [4, 4],
  ]);
});

test("brain MRI: two cohorts merged with the cohort as a label, 3D resample and 2D slices", async () => {
  const dir = tempDir();
  const nii = "/usr/lib/python3/dist-packages/nibabel/tests/data/anatomical.nii";
  for (const n of ["s1", "s2", "s3"]) copyFileSync(nii, join(dir, `${n}.nii`));
  writeFile(dir, "ukb.csv", "eid,path,age,sex\n1,s1.nii,55,F\n2,s2.nii,72,M\n");
  writeFile(dir, "nako.csv", "id,file,Age,Sex\n9,s3.nii,45,M\n10,missing.nii,,F\n");
  const cohorts = [
    {
      name: "ukb",
      csv: join(dir, "ukb.csv"),
      root: dir,
      pathColumn: "path",
      ageColumn: "age",
      sexColumn: "sex",
    },
    {
      name: "nako",
      csv: join(dir, "nako.csv"),
      root: dir,
      pathColumn: "file",
      ageColumn: "Age",
      sexColumn: "Sex",
    },
  ];
  const vol = brainMri({
    cohorts,
    primary: "age",
    spurions: ["sex", "cohort"],
    layout: { kind: "3d", shape: [16, 16, 16] },
  });
  assert.equal(vol.summary.skippedLabels.age, 1, "blank age skipped");
  assert.deepEqual(
    vol.dataset.items.map((i) => [i.labels.age, i.labels.sex, i.labels.cohort]),
    [
      [1, 0, 0],
      [3, 1, 0],
      [0, 1, 1],
    ],
  );
  const { dataset } = await materialize(vol.dataset);
  assert.deepEqual(dataset.itemShape, [1, 16, 16, 16]);
  const one = dataset.images.subarray(0, 4096);
  const mean = one.reduce((a, b) => a + b, 0) / 4096;
  assert.ok(Math.abs(mean) < 1e-4, "z-scored");
  const sl = brainMri({
    cohorts,
    primary: "sex",
    spurions: ["cohort"],
    layout: { kind: "2d", axis: 0, fractions: [0.5], indices: [3], size: [32, 32] },
  });
  // 4 subjects x 2 slices; the missing file is skipped (2 items) and reported by path.
  assert.equal(sl.dataset.items.length, 8);
  const m2 = await materialize(sl.dataset);
  assert.deepEqual(m2.dataset.itemShape, [1, 32, 32]);
  assert.equal(m2.dataset.length, 6);
  assert.deepEqual(
    m2.summary.skipped.map((s) => s.path),
    [join(dir, "missing.nii"), join(dir, "missing.nii")],
  );
  assert.deepEqual(
    sl.tasks.map((t) => t.classNames),
    [
      ["female", "male"],
      ["ukb", "nako"],
    ],
  );
});

/** A table with an id and a label column `Diagnosis`, rows in the given order (line = index + 2). */
function diagnosisTable(values: string[]): Table {
  return Table.parse(["id,Diagnosis", ...values.map((v, i) => `${i},${v}`)].join("\n"), "dx.csv");
}
const linesOf = (values: string[], v: string) => values.flatMap((x, i) => (x === v ? [i + 2] : []));

test("labels: every value is mapped, missing or an error naming value, count and lines", () => {
  const values = [
    ...Array(6).fill("disease"),
    ...Array(6).fill("healthy"),
    "Disease",
    "n/a",
    "Disease",
    "?",
    "DISEASE",
    "1",
    "Disease",
    "",
  ];
  const table = diagnosisTable(values);
  // positive alone: the slips that used to become class 0 are errors, each with its count and lines.
  assert.throws(
    () => resolveLabels(table, [{ column: "Diagnosis", positive: ["disease"], fix: "FIX-HINT" }]),
    (e: Error) => {
      const m = e.message;
      assert.match(m, /^dx\.csv: column 'Diagnosis': 4 values are neither mapped to a class nor missing/);
      assert.ok(
        m.includes(
          `'Disease' (3 rows; lines ${linesOf(values, "Disease").join(", ")}) differs from the positive value 'disease' only in case`,
        ),
        m,
      );
      assert.ok(m.includes(`'DISEASE' (1 row; line ${linesOf(values, "DISEASE")[0]})`), m);
      assert.ok(m.includes(`'?' (1 row; line ${linesOf(values, "?")[0]}) has no letter or digit`), m);
      assert.ok(
        m.includes(
          `'1' (1 row; line ${linesOf(values, "1")[0]}) is a number while the positive values are words`,
        ),
        m,
      );
      assert.ok(
        !m.includes("'n/a'") && !m.includes("'healthy'"),
        "missing and plain negative values are not errors",
      );
      assert.ok(m.endsWith("FIX-HINT"));
      return true;
    },
  );
  // Case-insensitive, with '?' declared missing and '1' removed: Disease/DISEASE are positive,
  // n/a, '' and '?' are missing (dropped), healthy is class 0.
  const clean = values.filter((v) => v !== "1");
  const r = resolveLabels(diagnosisTable(clean), [
    {
      column: "Diagnosis",
      positive: ["disease"],
      caseInsensitive: true,
      missingValues: ["", "n/a", "?"],
    },
  ]);
  const kept = clean.filter((v) => !["", "n/a", "?"].includes(v));
  assert.deepEqual(
    [...r.labels[0].values],
    kept.map((v) => (v.toLowerCase() === "disease" ? 1 : 0)),
  );
  assert.deepEqual(r.skipped, { Diagnosis: 3 });
  // positive + negative: anything in neither list is an error.
  assert.throws(
    () =>
      resolveLabels(diagnosisTable(["disease", "healthy", "unclear", "unclear"]), [
        { column: "Diagnosis", positive: ["disease"], negative: ["healthy"] },
      ]),
    /'unclear' \(2 rows; lines 4, 5\) is neither a positive nor a negative value/,
  );
  // A value map: multi-class, and unknown values name the mapped ones.
  const three = resolveLabels(diagnosisTable(["mild", "severe", "none", "NA"]), [
    { column: "Diagnosis", map: { none: 0, mild: 1, severe: 2 } },
  ]);
  assert.deepEqual([...three.labels[0].values], [1, 2, 0]);
  assert.deepEqual(three.labels[0].classNames, ["none", "mild", "severe"]);
  assert.throws(
    () =>
      resolveLabels(diagnosisTable(["mild", "moderate"]), [
        { column: "Diagnosis", map: { none: 0, mild: 1 } },
      ]),
    /'moderate' \(1 row; line 3\) is not among the mapped values 'none', 'mild'/,
  );
  // Text in a column read as class ids: a message, not an empty split later.
  assert.throws(
    () => resolveLabels(diagnosisTable(["disease", "healthy"]), [{ column: "Diagnosis", integer: true }]),
    /'disease' \(1 row; line 2\) is not a class id .*'healthy' \(1 row; line 3\)/,
  );
  // missing policy fail names the missing cells; fill replaces them.
  assert.throws(
    () =>
      resolveLabels(diagnosisTable(["1", "NA", "0", ""]), [
        { column: "Diagnosis", integer: true, missing: "fail" },
      ]),
    /column 'Diagnosis': 2 rows have no label \('NA' x1, '' x1; lines 3, 5\) and the missing-label policy is fail/,
  );
  const filled = resolveLabels(diagnosisTable(["1", "nan", "0"]), [
    { column: "Diagnosis", integer: true, missing: { fill: 0 } },
  ]);
  assert.deepEqual([...filled.labels[0].values], [1, 0, 0]);
  assert.deepEqual(filled.filled, { Diagnosis: 1 });
});

test("labels: the CheXpert and MRI codings with their documented defaults", () => {
  const header = CHEXPERT_COLUMNS.map((c) => `"${c}"`).join(",");
  const row = (path: string, sex: string, apPa: string, effusion: string) =>
    CHEXPERT_COLUMNS.map((c) =>
      c === "Path"
        ? path
        : c === "Sex"
          ? sex
          : c === "Age"
            ? "50"
            : c === "Frontal/Lateral"
              ? "Frontal"
              : c === "AP/PA"
                ? apPa
                : c === "Pleural Effusion"
                  ? effusion
                  : "",
    ).join(",");
  const csv = (rows: string[]) => Table.parse([header, ...rows].join("\n"), "train.csv");
  const rows = [
    row("a.png", "Male", "PA", "1"),
    row("b.png", "Female", "AP", "0.0"),
    row("c.png", "Unknown", "AP", "-1"),
    row("d.png", "Male", "LL", ""),
    row("e.png", "Female", "PA", "1.0"),
  ];
  const base = {
    root: "/x",
    primary: "Pleural Effusion" as const,
    spurions: ["Sex" as const, "AP/PA" as const],
  };
  const r = chexpert({ ...base, csv: csv(rows), uncertainty: "ones" });
  // Unknown sex and the lateral code LL are missing (rows dropped); blank effusion = 0 (fill).
  assert.deepEqual(
    r.dataset.items.map((it) => [
      it.path.slice(-5),
      it.labels["Pleural Effusion"],
      it.labels.Sex,
      it.labels["AP/PA"],
    ]),
    [
      ["a.png", 1, 1, 1],
      ["b.png", 0, 0, 0],
      ["e.png", 1, 0, 1],
    ],
  );
  assert.throws(
    () =>
      chexpert({
        ...base,
        csv: csv([...rows, row("f.png", "Male", "PA", "yes"), row("g.png", "M", "PA", "1")]),
      }),
    /column 'Pleural Effusion': a value is neither mapped .*'yes' \(1 row; line 7\).*CheXpert observations are 1, 0, -1/,
  );
  assert.throws(
    () => chexpert({ ...base, csv: csv([...rows, row("g.png", "M", "PA", "1")]) }),
    /column 'Sex': .*'M' \(1 row; line 7\).*Female, Male or Unknown/,
  );
  // MRI sex: F / Female / 0 and M / Male / 1 in any case; anything else is an error.
  const dir = tempDir();
  const mri = (sexes: string[]) => {
    writeFile(dir, "m.csv", ["path,sex", ...sexes.map((s, i) => `v${i}.nii,${s}`)].join("\n"));
    return brainMri({
      cohorts: [{ name: "a", csv: join(dir, "m.csv"), root: dir, pathColumn: "path", sexColumn: "sex" }],
      primary: "sex",
      layout: { kind: "3d", shape: [4, 4, 4] },
    });
  };
  assert.deepEqual(
    mri(["f", "MALE", "Female", "1", "n/a", "m"]).dataset.items.map((it) => it.labels.sex),
    [0, 1, 0, 1, 1],
  );
  assert.throws(() => mri(["F", "U", "U"]), /column 'sex': .*'U' \(2 rows; lines 3, 4\).*F \/ Female \/ 0/);
});

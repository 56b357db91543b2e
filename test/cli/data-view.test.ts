// `mimmx data view`: the values it prints are the fixtures' (pydicom's and nibabel's), not just "some output".
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { run } from "../../src/cli/main.js";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await run(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const close = (a: number, b: number, rel = 1e-6) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

test("data view on a DICOM file prints pydicom's shape, spacing and value range", async () => {
  const fix = JSON.parse(readFileSync("test/fixtures/data/dicom.json", "utf8")).items.find(
    (f: { file: string }) => f.file === "CT_small.dcm",
  );
  const file = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm";
  const r = await cli("data", "view", file, "--json");
  assert.equal(r.code, 0, r.err);
  const v = JSON.parse(r.out);
  assert.equal(v.format, "dicom");
  assert.equal(v.transferSyntax, fix.transferSyntax);
  assert.equal(v.transferSyntaxName, "explicit VR little endian");
  assert.deepEqual(v.shape, fix.shape);
  assert.deepEqual(v.spacing, fix.pixelSpacing);
  assert.equal(v.storedDtype, "int16");
  assert.deepEqual([v.min, v.max], [fix.min, fix.max]);
  assert.ok(close(v.mean, fix.sum / (128 * 128)), `mean ${v.mean}`);
  const t = await cli("data", "view", file);
  assert.match(t.out, /format: +dicom \(explicit VR little endian, 1\.2\.840\.10008\.1\.2\.1\)/);
  assert.match(t.out, /values: +min -896, max 1167, mean -119\.07/);
});

test("data view on a NIfTI file prints nibabel's canonical shape, spacing and orientation", async () => {
  const o = JSON.parse(readFileSync("test/fixtures/data/nifti-orientation.json", "utf8")).items;
  const variant = o.variants.find((v: { file: string }) => v.file.endsWith("pir_qform.nii.gz"));
  const r = await cli("data", "view", variant.file, "--json");
  assert.equal(r.code, 0, r.err);
  const v = JSON.parse(r.out);
  const vox: number[] = o.voxelsXFastest;
  assert.equal(v.format, "nifti");
  assert.deepEqual(v.shape, [1, ...[...o.shapeXYZ].reverse()]);
  assert.deepEqual(v.spacing, [...variant.canonicalZooms].reverse());
  assert.deepEqual(v.orientation, { stored: "PIR", decoded: "RAS", affineSource: "qform" });
  assert.equal(v.storedDtype, "int16");
  assert.deepEqual([v.min, v.max], [Math.min(...vox), Math.max(...vox)]);
  assert.ok(close(v.mean, vox.reduce((a, b) => a + b, 0) / vox.length), `mean ${v.mean}`);
  const raw = JSON.parse((await cli("data", "view", variant.file, "--json", "--reorient=false")).out);
  assert.deepEqual(raw.shape, [1, ...[...variant.storedShapeXYZ].reverse()]);
  assert.equal(raw.orientation.decoded, "PIR");
});

test("data view: a compressed DICOM names its codec; bad input is a clear error", async () => {
  const v = JSON.parse(
    (await cli("data", "view", "test/fixtures/data/dicom/MR_small_htj2k.dcm", "--json")).out,
  );
  assert.equal(v.transferSyntaxName, "HTJ2K lossless");
  assert.deepEqual([v.min, v.max], [127, 2145]); // MR_small's range (test/fixtures/data/dicom.json)
  const w = JSON.parse(
    (await cli("data", "view", "test/fixtures/data/dicom/MR_small_htj2k.dcm", "--json", "--window", "file"))
      .out,
  );
  assert.ok(w.min >= 0 && w.max <= 1 && w.max === 1, `windowed range ${w.min}..${w.max}`);
  const bad = await cli(
    "data",
    "view",
    "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_truncated.dcm",
  );
  assert.equal(bad.code, 1);
  assert.match(bad.err, /MR_truncated\.dcm: .*truncated/);
  const usage = await cli("data", "view", "a.dcm", "--window", "40");
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--window must be none, file or CENTER,WIDTH/);
  assert.equal((await cli("data", "view")).code, 2);
});

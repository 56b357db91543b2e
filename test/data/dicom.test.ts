// Compares our DICOM decoder with pydicom on the files Debian's python3-pydicom ships; golden values
// come from test/fixtures/make-data-fixtures.py.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type DicomImage, decodeDicom } from "../../src/data/io/dicom.js";
import { ImageDecodeError, UnsupportedFormatError } from "../../src/data/io/errors.js";
import { readImage, sniffFormat } from "../../src/data/io/read.js";

const DIR = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
interface Fix {
  file: string;
  transferSyntax: string;
  shape: number[];
  pixelSpacing: number[] | null;
  sum: number;
  min: number;
  max: number;
  points: { index: number[]; value: number }[];
}
const fixtures: Fix[] = JSON.parse(readFileSync("test/fixtures/data/dicom.json", "utf8")).items;

function at(img: { data: Float32Array; shape: number[] }, idx: number[]): number {
  let k = 0;
  for (let d = 0; d < img.shape.length; d++) k = k * img.shape[d] + idx[d];
  return img.data[k];
}

for (const f of fixtures) {
  const lossy = f.transferSyntax === "1.2.840.10008.1.2.4.50";
  test(`DICOM ${f.file} (${f.transferSyntax}) matches pydicom${lossy ? " roughly (lossy JPEG)" : ""}`, () => {
    const img = readImage(join(DIR, f.file)) as DicomImage;
    assert.equal(img.transferSyntax, f.transferSyntax);
    assert.deepEqual(img.shape, f.shape);
    if (f.pixelSpacing) assert.deepEqual(img.spacing!.slice(-2), f.pixelSpacing);
    let sum = 0;
    let mn = Number.POSITIVE_INFINITY;
    let mx = Number.NEGATIVE_INFINITY;
    for (const v of img.data) {
      sum += v;
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    if (lossy) {
      // Two JPEG decoders may differ by a level or so per pixel (IDCT rounding, upsampling).
      assert.ok(Math.abs(sum - f.sum) / f.sum < 0.002, `sum ${sum} vs ${f.sum}`);
      for (const p of f.points) assert.ok(Math.abs(at(img, p.index) - p.value) <= 4, `pixel ${p.index}`);
    } else {
      assert.equal(sum, f.sum);
      assert.equal(mn, f.min);
      assert.equal(mx, f.max);
      for (const p of f.points) assert.equal(at(img, p.index), p.value, `pixel ${p.index}`);
    }
  });
}

test("MR_small in explicit LE, big endian, implicit VR and RLE decodes to identical pixels", () => {
  const ref = readImage(join(DIR, "MR_small.dcm"));
  for (const v of [
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "MR_small_RLE.dcm",
    "MR_small_expb.dcm",
    "MR_small_padded.dcm",
  ]) {
    assert.deepEqual(readImage(join(DIR, v)).data, ref.data, v);
  }
  // CT_small is signed with a rescale intercept of -1024: air comes out near -1000 HU.
  const ct = readImage(join(DIR, "CT_small.dcm")) as DicomImage;
  assert.equal(ct.rescaleIntercept, -1024);
  assert.equal(ct.pixelRepresentation, 1);
});

test("truncated DICOM raises an error naming the file", () => {
  const p = join(DIR, "MR_truncated.dcm");
  assert.throws(
    () => readImage(p),
    (e: Error) => e instanceof ImageDecodeError && e.message.startsWith(p) && /truncated/.test(e.message),
  );
});

test("JPEG 2000, JPEG-LS and 12-bit JPEG are refused naming the file and the transfer syntax UID", () => {
  for (const [f, uid] of [
    ["MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90"],
    ["MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80"],
    ["JPEG-lossy.dcm", "1.2.840.10008.1.2.4.51"],
  ]) {
    assert.throws(
      () => readImage(join(DIR, f)),
      (e: Error) => e instanceof UnsupportedFormatError && e.message.includes(f) && e.message.includes(uid),
      f,
    );
  }
});

test("MONOCHROME1 is inverted and the format is sniffed by content", () => {
  const raw = new Uint8Array(readFileSync(join(DIR, "MR_small.dcm")));
  assert.equal(sniffFormat(raw), "dicom");
  // Patch the photometric interpretation in place ("MONOCHROME2" -> "MONOCHROME1").
  const s = Buffer.from(raw).toString("latin1");
  const k = s.indexOf("MONOCHROME2");
  assert.ok(k > 0);
  const patched = Uint8Array.from(raw);
  patched[k + 10] = "1".charCodeAt(0);
  const a = decodeDicom("mono2", raw);
  const b = decodeDicom("mono1", patched);
  // Signed 16-bit: inverted value = (-32768 + 32767) - v = -1 - v.
  for (const i of [0, 100, 2000]) assert.equal(b.data[i], -1 - a.data[i]);
});

// Compares our DICOM decoder with pydicom on the files Debian's python3-pydicom ships; golden values
// come from test/fixtures/make-data-fixtures.py.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadedCodecs } from "../../src/data/io/codecs.js";
import { type DicomImage, decodeDicom } from "../../src/data/io/dicom.js";
import { ImageDecodeError, UnsupportedFormatError } from "../../src/data/io/errors.js";
import { readImage, sniffFormat } from "../../src/data/io/read.js";
import type { VoiOption } from "../../src/data/io/voi.js";

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

test("12-bit JPEG extended is refused naming the file and the transfer syntax UID", () => {
  for (const f of ["JPEG-lossy.dcm", "JPGExtended.dcm"]) {
    assert.throws(
      () => readImage(join(DIR, f)),
      (e: Error) =>
        e instanceof UnsupportedFormatError &&
        e.message.includes(f) &&
        e.message.includes("1.2.840.10008.1.2.4.51"),
      f,
    );
  }
});

// Compressed files: written by dcmtk / gdcm (and OpenJPH for HTJ2K) in scripts/make-data-fixtures.py,
// plus pydicom's own. Lossless ones must equal the uncompressed original in every pixel; lossy ones
// the Debian tool's own decode, or its summary for pydicom's large JPEG2000.dcm.
interface Compressed {
  file: string;
  transferSyntax: string;
  photometric: string;
  lossless: boolean;
  reference?: string;
  summary?: {
    shape: number[];
    sum: number;
    min: number;
    max: number;
    points: { index: number[]; value: number }[];
  };
}
const compressed: Compressed[] = JSON.parse(
  readFileSync("test/fixtures/data/dicom-compressed.json", "utf8"),
).items;

test("codecs load lazily: uncompressed and RLE files compile no WASM codec", () => {
  readImage(join(DIR, "MR_small.dcm"));
  readImage(join(DIR, "MR_small_RLE.dcm"));
  assert.deepEqual(loadedCodecs(), []);
  readImage("test/fixtures/data/dicom/MR_small_u16_jls_near3.dcm");
  assert.deepEqual(loadedCodecs(), ["charls"]);
});

for (const c of compressed) {
  const name = c.file.split("/").pop();
  test(`DICOM ${name} (${c.transferSyntax}) equals ${c.reference ? c.reference.split("/").pop() : "gdcm's decode"} pixel for pixel`, () => {
    const img = readImage(c.file) as DicomImage;
    assert.equal(img.transferSyntax, c.transferSyntax);
    if (c.reference) {
      const ref = readImage(c.reference);
      assert.deepEqual(img.shape, ref.shape);
      assert.deepEqual(img.spacing, ref.spacing);
      let diff = 0;
      for (let i = 0; i < ref.data.length; i++) if (img.data[i] !== ref.data[i]) diff++;
      assert.equal(diff, 0, `${diff} of ${ref.data.length} samples differ`);
    } else {
      const s = c.summary!;
      assert.deepEqual(img.shape, s.shape);
      let sum = 0;
      let mn = Number.POSITIVE_INFINITY;
      let mx = Number.NEGATIVE_INFINITY;
      for (const v of img.data) {
        sum += v;
        mn = Math.min(mn, v);
        mx = Math.max(mx, v);
      }
      assert.deepEqual([sum, mn, mx], [s.sum, s.min, s.max]);
      for (const p of s.points) assert.equal(at(img, p.index), p.value, `pixel ${p.index}`);
    }
  });
}

test("JPEG-LS near-lossless stays within its NEAR bound of the original; lossy JPEG 2000 is not the original", () => {
  // Independent of any codec: dcmcjpls +md 3 promises |decoded - original| <= 3.
  const near = readImage("test/fixtures/data/dicom/MR_small_u16_jls_near3.dcm");
  const orig = readImage("test/fixtures/data/dicom/MR_small_u16.dcm");
  let maxDev = 0;
  for (let i = 0; i < orig.data.length; i++) maxDev = Math.max(maxDev, Math.abs(near.data[i] - orig.data[i]));
  assert.ok(maxDev <= 3 && maxDev > 0, `max deviation ${maxDev}`);
  // The lossy file really is lossy (so the equality with gdcm's decode above is a real check).
  const j2k = readImage("test/fixtures/data/dicom/MR_small_j2k_lossy.dcm");
  const mr = readImage(join(DIR, "MR_small.dcm"));
  let mad = 0;
  for (let i = 0; i < mr.data.length; i++) mad += Math.abs(j2k.data[i] - mr.data[i]) / mr.data.length;
  assert.ok(mad > 0.5 && mad < 100, `mean absolute error ${mad}`);
});

test("a corrupt codestream raises an error naming the file and the transfer syntax", () => {
  for (const [f, uid] of [
    ["MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90"],
    ["MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80"],
  ]) {
    const raw = Uint8Array.from(readFileSync(join(DIR, f)));
    // Overwrite the start of the codestream (after the SOC/SOI marker) with junk.
    const pd = Buffer.from(raw).lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
    const soc = Buffer.from(raw).indexOf(Buffer.from([0xff]), pd + 24);
    raw.fill(0x5a, soc + 2, soc + 40);
    assert.throws(
      () => decodeDicom(`bad-${f}`, raw),
      (e: Error) =>
        e instanceof ImageDecodeError && e.message.startsWith(`bad-${f}:`) && e.message.includes(uid),
      f,
    );
  }
});

// Modality LUT, MONOCHROME1 and VOI against pydicom's apply_modality_lut / apply_voi_lut.
interface Display {
  file: string;
  window: VoiOption;
  sum: number;
  min: number;
  max: number;
  points: { index: number[]; value: number }[];
}
const display: Display[] = JSON.parse(readFileSync("test/fixtures/data/dicom-display.json", "utf8")).items;
for (const d of display) {
  test(`DICOM ${d.file.split("/").pop()} with window ${JSON.stringify(d.window)} matches pydicom`, () => {
    const img = readImage(d.file, { window: d.window });
    let sum = 0;
    let mn = Number.POSITIVE_INFINITY;
    let mx = Number.NEGATIVE_INFINITY;
    for (const v of img.data) {
      sum += v;
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    // float32 output against float64 pydicom: 1e-6 relative per value.
    const tol = (x: number) => 1e-6 * Math.max(1, Math.abs(x));
    assert.ok(
      Math.abs(sum - d.sum) <= 1e-6 * img.data.length * Math.max(1, Math.abs(d.max)),
      `sum ${sum} vs ${d.sum}`,
    );
    assert.ok(Math.abs(mn - d.min) <= tol(d.min) && Math.abs(mx - d.max) <= tol(d.max), `range ${mn}..${mx}`);
    for (const p of d.points)
      assert.ok(
        Math.abs(at(img, p.index) - p.value) <= tol(p.value),
        `pixel ${p.index}: ${at(img, p.index)} vs ${p.value}`,
      );
  });
}

test("windowing errors name the file: no window stored, invalid width, RGB", () => {
  assert.throws(
    () => readImage(join(DIR, "CT_small.dcm"), { window: "file" }),
    /CT_small\.dcm: .*no Window Center/,
  );
  assert.throws(
    () => readImage(join(DIR, "CT_small.dcm"), { window: { center: 40, width: 0.5 } }),
    /CT_small\.dcm: window centre 40 \/ width 0\.5 is invalid for LINEAR/,
  );
  assert.throws(
    () => readImage("test/fixtures/data/dicom/SC_rgb_crop.dcm", { window: { center: 128, width: 256 } }),
    /SC_rgb_crop\.dcm: windowing applies to grayscale images/,
  );
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

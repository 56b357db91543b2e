// Compares our NIfTI reader with nibabel on the files Debian's python3-nibabel ships.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { parseConfig } from "../../src/config/index.js";
import { ImageDecodeError } from "../../src/data/io/errors.js";
import { orientationCode, resampleToSpacing } from "../../src/data/io/geometry.js";
import { decodeNifti, type NiftiVolume } from "../../src/data/io/nifti.js";
import { readImage } from "../../src/data/io/read.js";
import { prepareData } from "../../src/run/data.js";
import { niftiFloat32, tempDir, writeFile } from "./helpers.js";

const DIR = "/usr/lib/python3/dist-packages/nibabel/tests/data";
interface Fix {
  file: string;
  version: number;
  shapeXYZT: number[];
  zooms: number[];
  datatype: number;
  qformCode: number;
  sformCode: number;
  affine: number[][];
  sum: number;
  points: { indexXYZT: number[]; value: number }[];
}
const fixtures: Fix[] = JSON.parse(readFileSync("test/fixtures/data/nifti.json", "utf8")).items;

for (const f of fixtures) {
  test(`NIfTI ${f.file} matches nibabel (shape, spacing, affine, voxels)`, () => {
    // As stored (reorient: false), the layout nibabel's get_fdata() indexes.
    const v = readImage(join(DIR, f.file), { reorient: false }) as NiftiVolume;
    const [nx, ny, nz, nt = 1] = f.shapeXYZT;
    assert.equal(v.version, f.version);
    assert.deepEqual(v.shape, [nt, nz, ny, nx]);
    assert.deepEqual(v.dims, f.shapeXYZT);
    assert.equal(v.datatype, f.datatype);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(v.spacing![2 - k] - f.zooms[k]) < 1e-5);
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++)
        assert.ok(Math.abs(v.affine[r][c] - f.affine[r][c]) < 1e-4, `affine[${r}][${c}]`);
    let sum = 0;
    for (const x of v.data) sum += x;
    assert.ok(Math.abs(sum - f.sum) <= 1e-6 * Math.abs(f.sum) + 1e-3, `sum ${sum} vs ${f.sum}`);
    for (const p of f.points) {
      const [x, y, z, t = 0] = p.indexXYZT;
      const got = v.data[((t * nz + z) * ny + y) * nx + x];
      assert.ok(
        Math.abs(got - p.value) <= 1e-4 * Math.abs(p.value) + 1e-4,
        `voxel ${p.indexXYZT}: ${got} vs ${p.value}`,
      );
    }
  });
}

test("gzip is detected by content, truncation and corrupt gzip name the file", () => {
  const raw = readFileSync(join(DIR, "anatomical.nii"));
  const dir = tempDir();
  // A gzipped volume under a name without .gz still decodes.
  const gz = writeFile(dir, "volume.dat", gzipSync(raw));
  assert.deepEqual(readImage(gz).data, readImage(join(DIR, "anatomical.nii")).data);
  const cut = writeFile(dir, "cut.nii", raw.subarray(0, raw.length - 100));
  assert.throws(
    () => readImage(cut),
    (e: Error) => e instanceof ImageDecodeError && e.message.startsWith(cut) && /truncated/.test(e.message),
  );
  const badGz = writeFile(dir, "bad.nii.gz", gzipSync(raw).subarray(0, 200));
  assert.throws(
    () => readImage(badGz),
    (e: Error) => e.message.startsWith(badGz) && /gzip/.test(e.message),
  );
  assert.throws(() => decodeNifti("x.nii", new Uint8Array(100)), /x\.nii: NIfTI header truncated/);
});

// One volume stored with permuted and flipped axes, through the sform and the qform (and an sform
// that must win over a contradicting qform); nibabel's as_closest_canonical gives one RAS+ volume.
interface Orient {
  shapeXYZ: number[];
  voxelsXFastest: number[];
  variants: {
    file: string;
    storedShapeXYZ: number[];
    orientation: string;
    canonicalAffine: number[][];
    canonicalZooms: number[];
  }[];
  resampled: { spacingXYZ: number[]; shapeXYZ: number[]; affine: number[][]; voxelsXFastest: number[] };
}
const orient: Orient = JSON.parse(readFileSync("test/fixtures/data/nifti-orientation.json", "utf8")).items;

for (const v of orient.variants) {
  test(`NIfTI ${v.file.split("/").pop()} (${v.orientation}) reads as nibabel's RAS+ canonical volume`, () => {
    const stored = readImage(v.file, { reorient: false }) as NiftiVolume;
    assert.equal(stored.storedOrientation, v.orientation);
    assert.deepEqual(stored.dims, v.storedShapeXYZ);
    const img = readImage(v.file);
    const [nx, ny, nz] = orient.shapeXYZ;
    assert.deepEqual(img.shape, [1, nz, ny, nx]);
    assert.deepEqual(Array.from(img.data), orient.voxelsXFastest);
    assert.deepEqual(img.spacing, [...v.canonicalZooms].reverse());
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++)
        assert.ok(Math.abs(img.affine![r][c] - v.canonicalAffine[r][c]) < 1e-5, `affine[${r}][${c}]`);
    assert.equal(orientationCode(img.affine!), "RAS");
  });
}

test("trilinear resampling to a spacing matches nibabel's resample_to_output inside the field of view", () => {
  const img = readImage(orient.variants[2].file);
  const [sx, sy, sz] = orient.resampled.spacingXYZ;
  const out = resampleToSpacing(img, [sz, sy, sx]);
  // nibabel adds one sample past the last voxel centre on each axis (zero-filled by scipy's
  // constant mode); mimmx does not extrapolate, so its grid is nibabel's minus that last sample.
  const [rx, ry, rz] = orient.resampled.shapeXYZ;
  const [, oz, oy, ox] = out.shape;
  assert.deepEqual([ox, oy, oz], [rx - 1, ry - 1, rz - 1]);
  assert.deepEqual(out.spacing, [sz, sy, sx]);
  let worst = 0;
  for (let z = 0; z < oz; z++)
    for (let y = 0; y < oy; y++)
      for (let x = 0; x < ox; x++) {
        const want = orient.resampled.voxelsXFastest[(z * ry + y) * rx + x];
        worst = Math.max(worst, Math.abs(out.data[(z * oy + y) * ox + x] - want));
      }
  assert.ok(worst < 1e-2, `max |difference| ${worst}`); // float32 vs float64 on values ~1e3-1e4
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(out.affine![r][c] - orient.resampled.affine[r][c]) < 1e-6);
  assert.throws(() => resampleToSpacing(img, [1, 0, 1]), /spacing must be > 0/);
});

test("2-D NIfTI and a one-slice 3-D NIfTI read as [C, H, W] when 2 spatial axes are asked", () => {
  const dir = tempDir();
  const px = Array.from({ length: 12 }, (_, i) => i);
  const flat = niftiFloat32(4, 3, 1, px, [0.5, 0.7, 3]);
  const twoD = Buffer.from(flat);
  twoD.writeInt16LE(2, 40); // dim[0] = 2: a genuinely 2-D NIfTI
  for (const [name, buf] of [
    ["flat.nii", flat],
    ["two.nii", twoD],
  ] as const) {
    const p = writeFile(dir, name, buf);
    const img = readImage(p, { spatialDims: 2 });
    assert.deepEqual(img.shape, [1, 3, 4], name);
    assert.deepEqual(Array.from(img.data), px, name);
    assert.deepEqual(
      img.spacing?.map((s) => Math.fround(s)),
      [Math.fround(0.7), Math.fround(0.5)],
      name,
    );
  }
  const vol = writeFile(dir, "vol.nii", niftiFloat32(2, 2, 2, [1, 2, 3, 4, 5, 6, 7, 8]));
  assert.throws(
    () => readImage(vol, { spatialDims: 2 }),
    (e: Error) => e.message.startsWith(vol) && /2x2x2 voxels .* needs a single slice/.test(e.message),
  );
});

test("a manifest of 2-D NIfTI files with a 2-D image_size prepares (was: cropOrPad 3 vs 2 axes)", async () => {
  const dir = tempDir();
  const lines = ["path,y,s"];
  for (let i = 0; i < 48; i++) {
    const y = i % 2;
    const s = (i >> 1) % 2;
    const px = Array.from({ length: 6 * 5 }, (_, k) => k + 10 * y + i);
    writeFile(dir, `img${i}.nii`, niftiFloat32(6, 5, 1, px, [1, 1, 1]));
    lines.push(`img${i}.nii,${y},${s}`);
  }
  writeFile(dir, "manifest.csv", `${lines.join("\n")}\n`);
  const config = parseConfig(`name: nii2d
data:
  source: manifest
  root: ${dir}
  csv: manifest.csv
  task: { column: y }
  spurions: [{ name: s, kind: metadata, column: s, ratio: 0.75 }]
  image_size: [28, 28]
  splits: { train: 16, validation: 8, test_inverted: 8, test_balanced: 8 }
model: { in_channels: 1 }
`);
  const data = await prepareData(config);
  assert.deepEqual(data.splits.train.itemShape, [1, 28, 28]);
  assert.equal(data.splits.train.length, 16);
});

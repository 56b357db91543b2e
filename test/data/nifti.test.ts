// Compares our NIfTI reader with nibabel on the files Debian's python3-nibabel ships.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { ImageDecodeError } from "../../src/data/io/errors.js";
import { decodeNifti, type NiftiVolume } from "../../src/data/io/nifti.js";
import { readImage } from "../../src/data/io/read.js";
import { tempDir, writeFile } from "./helpers.js";

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
    const v = readImage(join(DIR, f.file)) as NiftiVolume;
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

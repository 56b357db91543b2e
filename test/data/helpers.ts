// Test helpers: writing small PNG/JPEG images with known pixels into a temp folder.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import pngjs from "pngjs";

export function tempDir(prefix = "mimmx-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Gray PNG, 8 or 16 bit; `pixels` row-major integer values. */
export function pngGray(w: number, h: number, pixels: ArrayLike<number>, depth: 8 | 16 = 8): Buffer {
  const png = new pngjs.PNG({
    width: w,
    height: h,
    bitDepth: depth,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
  });
  png.data =
    depth === 16 ? Buffer.from(Uint16Array.from(pixels).buffer) : Buffer.from(Uint8Array.from(pixels));
  return pngjs.PNG.sync.write(png, {
    bitDepth: depth,
    colorType: 0,
    inputColorType: 0,
    inputHasAlpha: false,
  });
}

/** RGB(A) 8-bit PNG from interleaved RGBA pixels. */
export function pngRgba(w: number, h: number, rgba: ArrayLike<number>, alpha: boolean): Buffer {
  const png = new pngjs.PNG({ width: w, height: h });
  png.data = Buffer.from(Uint8Array.from(rgba));
  return pngjs.PNG.sync.write(png, { colorType: alpha ? 6 : 2 });
}

/** A JPEG (always 3 components from jpeg-js) of a gray pattern. */
export function jpegGray(w: number, h: number, f: (x: number, y: number) => number, quality = 95): Buffer {
  const d = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.max(0, Math.min(255, Math.round(f(x, y))));
      const i = 4 * (y * w + x);
      d[i] = v;
      d[i + 1] = v;
      d[i + 2] = v;
      d[i + 3] = 255;
    }
  return jpeg.encode({ data: d, width: w, height: h }, quality).data;
}

export function writeFile(dir: string, name: string, data: Buffer | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/**
 * A single-file NIfTI-1 volume (little endian, float32, x fastest), no orientation codes: the
 * smallest .nii a scanner pipeline could write. `voxels` is [z][y][x] flattened (length nx*ny*nz).
 */
export function niftiFloat32(
  nx: number,
  ny: number,
  nz: number,
  voxels: ArrayLike<number>,
  spacing: [number, number, number] = [1, 1, 1],
): Buffer {
  if (voxels.length !== nx * ny * nz)
    throw new Error(`niftiFloat32: ${voxels.length} voxels for ${nx}x${ny}x${nz}`);
  const header = Buffer.alloc(352); // 348-byte header + 4-byte extension flag (no extensions)
  header.writeInt32LE(348, 0);
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => {
    header.writeInt16LE(d, 40 + 2 * i);
  });
  header.writeInt16LE(16, 70); // datatype float32
  header.writeInt16LE(32, 72); // bitpix
  [1, ...spacing, 1, 1, 1, 1].forEach((p, i) => {
    header.writeFloatLE(p, 76 + 4 * i);
  });
  header.writeFloatLE(352, 108); // vox_offset
  header.writeFloatLE(1, 112); // scl_slope
  header.write("n+1\0", 344, "latin1");
  return Buffer.concat([header, Buffer.from(Float32Array.from(voxels).buffer)]);
}

// Volume geometry: reorientation to RAS+ from the voxel-to-world affine, and trilinear resampling
// to a given voxel spacing.
//
// Array layout is the readers' channels-first [C, Z, Y, X] with the first voxel axis (NIfTI's i)
// fastest; "RAS+" means that after reorientation voxel axis i points Right, j Anterior, k Superior,
// which is what nibabel's as_closest_canonical gives. Cohorts stored in different orientations
// otherwise differ by a flip or transpose the model can see: a free cohort signal.
import type { ImageArray } from "../types.js";

const AXIS_CODES = [
  ["L", "R"],
  ["P", "A"],
  ["I", "S"],
];

/**
 * For each voxel axis, the world axis it points along (0 = x/R, 1 = y/A, 2 = z/S) and whether it
 * points the negative way. Like nibabel's io_orientation: columns normalised by the voxel sizes,
 * then the largest remaining |entry| assigned first, so every voxel axis gets a distinct world
 * axis. (nibabel first replaces the matrix by its closest orthogonal one; for the rotations and
 * mild shears of real scans the assignment is the same.)
 */
export function voxelAxes(affine: number[][]): { world: number; flip: boolean }[] {
  const m = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[r][c]));
  for (let c = 0; c < 3; c++) {
    const norm = Math.hypot(m[0][c], m[1][c], m[2][c]);
    if (!(norm > 0)) throw new Error(`affine column ${c} is zero: voxel axis ${c} has no direction`);
    for (let r = 0; r < 3; r++) m[r][c] /= norm;
  }
  const out: { world: number; flip: boolean }[] = new Array(3);
  const rowFree = [true, true, true];
  const colFree = [true, true, true];
  for (let step = 0; step < 3; step++) {
    let best = -1;
    let br = 0;
    let bc = 0;
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 3; c++)
        if (rowFree[r] && colFree[c] && Math.abs(m[r][c]) > best) {
          best = Math.abs(m[r][c]);
          br = r;
          bc = c;
        }
    out[bc] = { world: br, flip: m[br][bc] < 0 };
    rowFree[br] = false;
    colFree[bc] = false;
  }
  return out;
}

/** Orientation code of the voxel axes (i, j, k), e.g. "RAS", "LAS", "PIR" (as nibabel's aff2axcodes). */
export function orientationCode(affine: number[][]): string {
  return voxelAxes(affine)
    .map((a) => AXIS_CODES[a.world][a.flip ? 0 : 1])
    .join("");
}

/**
 * Reorders and flips the voxel axes of a [C, Z, Y, X] volume so that they point R, A, S; returns
 * the new array with its spacing ([dz, dy, dx], from the affine's column norms) and affine.
 */
export function reorientToRas(img: ImageArray & { affine: number[][] }): ImageArray & { affine: number[][] } {
  if (img.shape.length !== 4) throw new Error(`reorientToRas: expected [C, Z, Y, X], got [${img.shape}]`);
  const A = img.affine;
  const axes = voxelAxes(A);
  const [c, nz, ny, nx] = img.shape;
  const inSize = [nx, ny, nz]; // by voxel axis i, j, k
  // src[w] = which stored voxel axis becomes output axis w (R, A, S).
  const src = [0, 1, 2].map((w) => axes.findIndex((a) => a.world === w));
  const flip = src.map((v) => axes[v].flip);
  const identity = src.every((v, w) => v === w) && !flip.some(Boolean);
  const outSize = src.map((v) => inSize[v]);
  // Output affine: column w is the stored column src[w], negated when flipped; a flipped axis
  // starts at the stored axis' far end.
  const aff = A.map((row) => row.slice());
  for (let r = 0; r < 3; r++) {
    let t = A[r][3];
    for (let w = 0; w < 3; w++) {
      const col = A[r][src[w]];
      aff[r][w] = flip[w] ? -col : col;
      if (flip[w]) t += col * (inSize[src[w]] - 1);
    }
    aff[r][3] = t;
  }
  const zoom = [0, 1, 2].map((w) => Math.hypot(aff[0][w], aff[1][w], aff[2][w]));
  const spacing = [zoom[2], zoom[1], zoom[0]];
  if (identity) return { ...img, spacing, affine: aff };
  const inStride = [1, nx, nx * ny];
  const n = nx * ny * nz;
  const data = new Float32Array(img.data.length);
  const [ox, oy, oz] = outSize;
  // Stored offset of output voxel (x, y, z) = sum over w of stride[src[w]] * (p_w or n-1-p_w).
  const step = src.map((v, w) => (flip[w] ? -inStride[v] : inStride[v]));
  const base = src.reduce((b, v, w) => b + (flip[w] ? inStride[v] * (inSize[v] - 1) : 0), 0);
  for (let ch = 0; ch < c; ch++) {
    const inOff = ch * n + base;
    let o = ch * n;
    for (let z = 0; z < oz; z++)
      for (let y = 0; y < oy; y++) {
        let p = inOff + z * step[2] + y * step[1];
        for (let x = 0; x < ox; x++, p += step[0]) data[o++] = img.data[p];
      }
  }
  return { data, shape: [c, oz, oy, ox], spacing, affine: aff };
}

/**
 * Trilinear resampling of a [C, D, H, W] volume to `spacing` ([d, h, w], the same units as
 * img.spacing). Voxel 0 stays where it is and the output covers the input's voxel centres (as
 * nibabel's resample_to_output does), so no sample is extrapolated. The affine, when present, is
 * updated to the new grid.
 */
export function resampleToSpacing(img: ImageArray, spacing: readonly number[]): ImageArray {
  if (img.shape.length !== 4 || spacing.length !== 3)
    throw new Error(
      `resampleToSpacing: expects a [C, D, H, W] volume and 3 spacings, got [${img.shape}] and [${spacing}]`,
    );
  if (!img.spacing) throw new Error("resampleToSpacing: the volume has no spacing");
  if (spacing.some((s) => !(s > 0)))
    throw new Error(`resampleToSpacing: spacing must be > 0, got [${spacing}]`);
  const [c, d, h, w] = img.shape;
  const inSize = [d, h, w];
  // Step in input voxels per output voxel, and output size so the last sample stays inside.
  const ratio = spacing.map((s, a) => s / img.spacing![a]);
  const outSize = inSize.map((n, a) => Math.floor(((n - 1) / ratio[a]) * (1 + 1e-9)) + 1);
  const [od, oh, ow] = outSize;
  // Per-axis sample positions: lower index and weight of the upper neighbour.
  const taps = (a: number, n: number) => {
    const lo = new Int32Array(n);
    const wt = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const x = Math.min(k * ratio[a], inSize[a] - 1);
      const i = Math.min(Math.floor(x), Math.max(0, inSize[a] - 2));
      lo[k] = i;
      wt[k] = inSize[a] > 1 ? x - i : 0;
    }
    return { lo, wt };
  };
  const tz = taps(0, od);
  const ty = taps(1, oh);
  const tx = taps(2, ow);
  const sz = h * w;
  const dz = d > 1 ? sz : 0;
  const dy = h > 1 ? w : 0;
  const dx = w > 1 ? 1 : 0;
  const out = new Float32Array(c * od * oh * ow);
  let o = 0;
  for (let ch = 0; ch < c; ch++) {
    const cb = ch * d * sz;
    for (let z = 0; z < od; z++) {
      const fz = tz.wt[z];
      const bz = cb + tz.lo[z] * sz;
      for (let y = 0; y < oh; y++) {
        const fy = ty.wt[y];
        const by = bz + ty.lo[y] * w;
        for (let x = 0; x < ow; x++) {
          const fx = tx.wt[x];
          const p = by + tx.lo[x];
          const v = img.data;
          const c00 = v[p] + fx * (v[p + dx] - v[p]);
          const c01 = v[p + dy] + fx * (v[p + dy + dx] - v[p + dy]);
          const c10 = v[p + dz] + fx * (v[p + dz + dx] - v[p + dz]);
          const c11 = v[p + dz + dy] + fx * (v[p + dz + dy + dx] - v[p + dz + dy]);
          const c0 = c00 + fy * (c01 - c00);
          const c1 = c10 + fy * (c11 - c10);
          out[o++] = c0 + fz * (c1 - c0);
        }
      }
    }
  }
  let affine: number[][] | undefined;
  if (img.affine) {
    // Array axis a (d, h, w) is voxel axis 2 - a (k, j, i): scale those columns by the ratio.
    affine = img.affine.map((row) => row.slice());
    for (let r = 0; r < 3; r++) for (let a = 0; a < 3; a++) affine[r][2 - a] *= ratio[a];
  }
  return { data: out, shape: [c, od, oh, ow], spacing: spacing.slice(), affine };
}

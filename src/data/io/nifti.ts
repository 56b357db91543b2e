// NIfTI-1 and NIfTI-2 single-file volumes (.nii, and .nii.gz detected by the gzip magic).
//
// Layout: NIfTI stores x fastest, then y, z, t. decodeNifti returns that memory order unchanged as
// a channels-first array [T, Z, Y, X] (so W = x, H = y, D = z; 4th+ dims become channels), with
// spacing [dz, dy, dx]. `affine` says where voxels are in world space, with nibabel's precedence:
// the sform when sform_code > 0, else the qform when qform_code > 0, else a diagonal of the voxel
// sizes ("method 1" of the NIfTI standard, which carries no orientation; nibabel assumes LAS there,
// we assume nothing and leave such files as stored). readImage reorients to RAS+ (geometry.ts).
import type { ImageArray } from "../types.js";
import { ImageDecodeError, UnsupportedFormatError } from "./errors.js";
import { orientationCode } from "./geometry.js";
import { gunzipOrFail, isGzip } from "./idx.js";

export interface NiftiVolume extends ImageArray {
  version: 1 | 2;
  /** dim[1..dim[0]] as in the header (x, y, z, t, ...). */
  dims: number[];
  /** pixdim[1..dim[0]]. */
  pixdim: number[];
  datatype: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  qform: number[][];
  sform: number[][];
  affine: number[][];
  /** Which header field `affine` comes from. */
  affineSource: "sform" | "qform" | "pixdim";
  /** Orientation of the stored voxel axes (e.g. "LAS"), or "unknown" for pixdim-only files. */
  storedOrientation: string;
}

const DTYPES: Record<number, { bytes: number; name: string }> = {
  2: { bytes: 1, name: "uint8" },
  4: { bytes: 2, name: "int16" },
  8: { bytes: 4, name: "int32" },
  16: { bytes: 4, name: "float32" },
  64: { bytes: 8, name: "float64" },
  256: { bytes: 1, name: "int8" },
  512: { bytes: 2, name: "uint16" },
  768: { bytes: 4, name: "uint32" },
  1024: { bytes: 8, name: "int64" },
  1280: { bytes: 8, name: "uint64" },
};

export function isNifti(buf: Uint8Array): boolean {
  if (buf.length < 348) return false;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const s = [dv.getInt32(0, true), dv.getInt32(0, false)];
  return s.includes(348) || s.includes(540);
}

function quaternToAffine(
  b: number,
  c: number,
  d: number,
  off: number[],
  pix: number[],
  qfac: number,
): number[][] {
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // Numerically a = 0: renormalise (b, c, d) as the standard prescribes.
    const n = Math.sqrt(b * b + c * c + d * d);
    b /= n;
    c /= n;
    d /= n;
    a = 0;
  } else a = Math.sqrt(a);
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const z = [pix[0], pix[1], qfac * pix[2]];
  return [
    [R[0][0] * z[0], R[0][1] * z[1], R[0][2] * z[2], off[0]],
    [R[1][0] * z[0], R[1][1] * z[1], R[1][2] * z[2], off[1]],
    [R[2][0] * z[0], R[2][1] * z[1], R[2][2] * z[2], off[2]],
    [0, 0, 0, 1],
  ];
}

export function decodeNifti(path: string, raw: Uint8Array): NiftiVolume {
  const buf = isGzip(raw) ? gunzipOrFail(path, raw) : raw;
  if (buf.length < 348) throw new ImageDecodeError(path, `NIfTI header truncated (${buf.length} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let le = true;
  let size = dv.getInt32(0, true);
  if (size !== 348 && size !== 540) {
    le = false;
    size = dv.getInt32(0, false);
  }
  if (size !== 348 && size !== 540)
    throw new ImageDecodeError(path, "not a NIfTI file (sizeof_hdr is neither 348 nor 540)");
  const v2 = size === 540;
  if (v2 && buf.length < 540) throw new ImageDecodeError(path, "NIfTI-2 header truncated");
  const i16 = (o: number) => dv.getInt16(o, le);
  const i32 = (o: number) => dv.getInt32(o, le);
  const f32 = (o: number) => dv.getFloat32(o, le);
  const f64 = (o: number) => dv.getFloat64(o, le);
  const i64 = (o: number) => Number(dv.getBigInt64(o, le));
  const magic = String.fromCharCode(...buf.subarray(v2 ? 4 : 344, v2 ? 7 : 347));
  if (magic === "ni1" || magic === "ni2") {
    throw new UnsupportedFormatError(
      path,
      "NIfTI header/image pair (.hdr/.img) is not supported; convert to a single .nii",
    );
  }
  if (magic !== "n+1" && magic !== "n+2") throw new ImageDecodeError(path, `bad NIfTI magic '${magic}'`);

  const ndim = v2 ? i64(16) : i16(40);
  if (!(ndim >= 1 && ndim <= 7)) throw new ImageDecodeError(path, `invalid dim[0] = ${ndim}`);
  const dims: number[] = [];
  const pixAll: number[] = [];
  for (let k = 0; k <= 7; k++) pixAll.push(v2 ? f64(104 + 8 * k) : f32(76 + 4 * k));
  for (let k = 1; k <= ndim; k++) dims.push(v2 ? i64(16 + 8 * k) : i16(40 + 2 * k));
  if (dims.some((n) => !(n >= 1))) throw new ImageDecodeError(path, `invalid dimensions [${dims}]`);
  const datatype = v2 ? i16(12) : i16(70);
  const dt = DTYPES[datatype];
  if (!dt) throw new UnsupportedFormatError(path, `NIfTI datatype ${datatype} is not supported`);
  const voxOffset = v2 ? i64(168) : f32(108);
  let slope = v2 ? f64(176) : f32(112);
  let inter = v2 ? f64(184) : f32(116);
  if (!Number.isFinite(slope) || slope === 0) {
    slope = 1;
    inter = 0;
  }
  if (!Number.isFinite(inter)) inter = 0;
  const qformCode = v2 ? i32(344) : i16(252);
  const sformCode = v2 ? i32(348) : i16(254);
  const qb = v2 ? f64(352) : f32(256);
  const qc = v2 ? f64(360) : f32(260);
  const qd = v2 ? f64(368) : f32(264);
  const qoff = v2 ? [f64(376), f64(384), f64(392)] : [f32(268), f32(272), f32(276)];
  const srow = (r: number) =>
    Array.from({ length: 4 }, (_, k) => (v2 ? f64(400 + 32 * r + 8 * k) : f32(280 + 16 * r + 4 * k)));
  const sform = [srow(0), srow(1), srow(2), [0, 0, 0, 1]];
  const pix = [1, 2, 3].map((k) => (k <= ndim && pixAll[k] > 0 ? pixAll[k] : 1));
  const qfac = pixAll[0] < 0 ? -1 : 1;
  const qform = quaternToAffine(qb, qc, qd, qoff, pix, qfac);
  const fallback = [
    [pix[0], 0, 0, 0],
    [0, pix[1], 0, 0],
    [0, 0, pix[2], 0],
    [0, 0, 0, 1],
  ];
  const affineSource = sformCode > 0 ? "sform" : qformCode > 0 ? "qform" : "pixdim";
  const affine = affineSource === "sform" ? sform : affineSource === "qform" ? qform : fallback;
  let storedOrientation = "unknown";
  if (affineSource !== "pixdim") {
    try {
      storedOrientation = orientationCode(affine);
    } catch (e) {
      throw new ImageDecodeError(path, `NIfTI ${affineSource} is degenerate (${(e as Error).message})`);
    }
  }

  const [nx, ny = 1, nz = 1] = dims;
  const channels = dims.slice(3).reduce((a, b) => a * b, 1);
  const count = nx * ny * nz * channels;
  const start = Math.max(Math.floor(voxOffset), v2 ? 544 : 352);
  const need = start + count * dt.bytes;
  if (buf.length < need) {
    throw new ImageDecodeError(
      path,
      `NIfTI data truncated: header promises ${count} ${dt.name} voxels (${need} bytes), file has ${buf.length}`,
    );
  }
  const data = new Float32Array(count);
  const b = dt.bytes;
  for (let i = 0, p = start; i < count; i++, p += b) {
    let v: number;
    switch (datatype) {
      case 2:
        v = buf[p];
        break;
      case 256:
        v = dv.getInt8(p);
        break;
      case 4:
        v = dv.getInt16(p, le);
        break;
      case 512:
        v = dv.getUint16(p, le);
        break;
      case 8:
        v = dv.getInt32(p, le);
        break;
      case 768:
        v = dv.getUint32(p, le);
        break;
      case 16:
        v = dv.getFloat32(p, le);
        break;
      case 64:
        v = dv.getFloat64(p, le);
        break;
      case 1024:
        v = Number(dv.getBigInt64(p, le));
        break;
      default:
        v = Number(dv.getBigUint64(p, le));
    }
    data[i] = v * slope + inter;
  }
  return {
    data,
    shape: [channels, nz, ny, nx],
    spacing: [pix[2], pix[1], pix[0]],
    affine,
    version: v2 ? 2 : 1,
    dims,
    pixdim: pixAll.slice(1, ndim + 1),
    datatype,
    sclSlope: slope,
    sclInter: inter,
    qformCode,
    sformCode,
    qform,
    sform,
    affineSource,
    storedOrientation,
  };
}

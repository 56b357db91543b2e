// One entry point for every image file: the format is decided by the first bytes (magic numbers),
// never by the file name, because medical data sets are full of misnamed files (".dcm" without
// extension, ".png" that is a JPEG, ".nii" that is gzipped).
import { readFileSync } from "node:fs";
import type { ImageArray } from "../types.js";
import { decodeDicom, isDicom } from "./dicom.js";
import { ImageDecodeError } from "./errors.js";
import { reorientToRas, resampleToSpacing } from "./geometry.js";
import { gunzipOrFail, isGzip } from "./idx.js";
import { decodeJpeg } from "./jpeg.js";
import { decodeNifti, isNifti, type NiftiVolume } from "./nifti.js";
import { decodePng } from "./png.js";
import type { VoiOption } from "./voi.js";

export type ImageFormat = "png" | "jpeg" | "dicom" | "nifti";

export interface ReadOptions {
  /** PNG/JPEG: scale to [0,1] (default true). DICOM/NIfTI always give physical values. */
  unitRange?: boolean;
  /** DICOM multi-frame: take this frame as a 2D image. */
  frame?: number;
  /** DICOM VOI windowing (default "none": physical values); see voi.ts. */
  window?: VoiOption;
  /**
   * NIfTI: reorder/flip the voxel axes to RAS+ from the affine (default true; files with neither
   * sform nor qform have no orientation and stay as stored). See geometry.ts.
   */
  reorient?: boolean;
  /** NIfTI 3-D: resample (trilinear) to this voxel spacing [dz, dy, dx] in mm, after reorienting. */
  spacing?: number[];
  /**
   * How many spatial axes the caller works with. 2 turns a NIfTI volume with one slice (a 2-D
   * NIfTI, or a 3-D one meant as 2-D) into [C, H, W]; a volume with several slices is an error.
   */
  spatialDims?: 2 | 3;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniffFormat(buf: Uint8Array): ImageFormat | null {
  if (PNG_MAGIC.every((b, i) => buf[i] === b)) return "png";
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return "jpeg";
  if (isNifti(buf)) return "nifti";
  if (isDicom(buf)) return "dicom";
  return null;
}

export function decodeImage(path: string, raw: Uint8Array, o: ReadOptions = {}): ImageArray {
  let fmt = sniffFormat(raw);
  let buf = raw;
  if (fmt === null && isGzip(raw)) {
    // Gzip around an image: only NIfTI is stored like this in practice (.nii.gz).
    const inner = gunzipOrFail(path, raw);
    fmt = sniffFormat(inner);
    if (fmt !== "nifti") throw new ImageDecodeError(path, "gzip file does not contain a NIfTI volume");
    buf = inner;
  }
  switch (fmt) {
    case "png":
      return decodePng(path, buf, o);
    case "jpeg":
      return decodeJpeg(path, buf, o);
    case "nifti":
      return niftiGeometry(path, decodeNifti(path, buf), o);
    case "dicom":
      return decodeDicom(path, buf, o);
    default:
      throw new ImageDecodeError(
        path,
        `unknown image format (first bytes ${Buffer.from(raw.subarray(0, 8)).toString("hex")}); expected PNG, JPEG, DICOM or NIfTI`,
      );
  }
}

/** Reorientation, resampling and 2-D squeezing of a decoded NIfTI volume, as `o` asks. */
function niftiGeometry(path: string, v: NiftiVolume, o: ReadOptions): ImageArray {
  let img: ImageArray = v;
  if ((o.reorient ?? true) && v.affineSource !== "pixdim") img = { ...v, ...reorientToRas(v) };
  if (o.spacing) {
    if (o.spacing.length !== 3)
      throw new ImageDecodeError(path, `spacing must have 3 values [dz, dy, dx], got [${o.spacing}]`);
    img = { ...img, ...resampleToSpacing(img, o.spacing) };
  }
  if (o.spatialDims === 2) {
    // The singleton axis is z for an axial slice; after reorientation a sagittal or coronal slice
    // has its singleton on x or y instead. Dropping it keeps the memory order, so no copy.
    const [c, ...sp] = img.shape;
    const drop = sp[0] === 1 ? 0 : sp.filter((n) => n === 1).length === 1 ? sp.indexOf(1) : -1;
    if (drop < 0)
      throw new ImageDecodeError(
        path,
        `NIfTI volume is ${sp[2]}x${sp[1]}x${sp[0]} voxels (x, y, z); a 2-D image size needs a single slice`,
      );
    img = {
      ...img,
      shape: [c, ...sp.filter((_, a) => a !== drop)],
      spacing: img.spacing?.filter((_, a) => a !== drop),
    };
  }
  return img;
}

/** The bytes of an image file; a file that cannot be read is an ImageDecodeError naming it. */
export function readImageBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ImageDecodeError(
      path,
      `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

export function readImage(path: string, o: ReadOptions = {}): ImageArray {
  const raw = readImageBytes(path);
  if (raw.length === 0) throw new ImageDecodeError(path, "file is empty");
  return decodeImage(path, raw, o);
}

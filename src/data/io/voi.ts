// DICOM VOI transform (PS3.3 C.11.2): the window a radiologist reads the image through, as an
// option of the DICOM reader. Output is scaled to [0, 1] (0 = the window's low end), where the
// standard scales to the output bit range; pydicom's apply_voi_lut output divided by that range is
// the same number (test/data/dicom.test.ts checks it).
//
// Default: "none". A manifest run keeps physical values (HU for CT) and normalises them like any
// other image, because the stored window is a display choice that differs between sites and
// scanners; applied by default it would hand the model a site signal. Use "file" to read images as
// the modality intended (e.g. a cohort exported with one protocol), or a fixed centre and width
// (e.g. { center: -600, width: 1500 } lung, { center: 40, width: 400 } soft tissue) to give every
// image the same window.
import { ImageDecodeError } from "./errors.js";

export type VoiFunction = "LINEAR" | "LINEAR_EXACT" | "SIGMOID";

export type VoiOption =
  | "none"
  /** The file's VOI LUT Sequence if present, else its first Window Center / Width and VOI LUT Function. */
  | "file"
  | { center: number; width: number; function?: VoiFunction };

export type Voi =
  | { kind: "window"; center: number; width: number; func: VoiFunction }
  | { kind: "lut"; first: number; bits: number; data: Uint16Array };

interface FileVoi {
  center: number[];
  width: number[];
  func: string;
  lut?: { first: number; bits: number; data: Uint16Array };
}

function fnOf(path: string, f: string | undefined): VoiFunction {
  const v = (f || "LINEAR").toUpperCase();
  if (v === "LINEAR" || v === "LINEAR_EXACT" || v === "SIGMOID") return v;
  throw new ImageDecodeError(path, `VOI LUT Function '${f}' is not one of LINEAR, LINEAR_EXACT, SIGMOID`);
}

/** Resolves the option against the file's attributes; undefined means no VOI step. */
export function readVoi(path: string, opt: VoiOption, file: FileVoi): Voi | undefined {
  if (opt === "none") return undefined;
  let v: Voi;
  if (opt === "file") {
    if (file.lut) return { kind: "lut", ...file.lut };
    if (file.center.length === 0 || file.width.length === 0)
      throw new ImageDecodeError(
        path,
        "window 'file' asked for, but the file has no Window Center/Width (0028,1050/1051) or VOI LUT Sequence",
      );
    v = { kind: "window", center: file.center[0], width: file.width[0], func: fnOf(path, file.func) };
  } else v = { kind: "window", center: opt.center, width: opt.width, func: fnOf(path, opt.function) };
  const widthOk = v.func === "LINEAR" ? v.width >= 1 : v.width > 0;
  if (!widthOk || !Number.isFinite(v.center))
    throw new ImageDecodeError(
      path,
      `window centre ${v.center} / width ${v.width} is invalid for ${v.func} (width must be ${v.func === "LINEAR" ? ">= 1" : "> 0"})`,
    );
  return v;
}

/** Applies the VOI in place: values become [0, 1]. */
export function applyVoi(a: Float32Array, v: Voi): void {
  if (v.kind === "lut") {
    const top = 2 ** v.bits - 1;
    const last = v.data.length - 1;
    for (let i = 0; i < a.length; i++) {
      // Inputs below the first mapped value take entry 0, above the table its last entry.
      const k = Math.min(last, Math.max(0, Math.trunc(a[i] - v.first)));
      a[i] = v.data[k] / top;
    }
    return;
  }
  if (v.func === "SIGMOID") {
    for (let i = 0; i < a.length; i++) a[i] = 1 / (1 + Math.exp((-4 * (a[i] - v.center)) / v.width));
    return;
  }
  // LINEAR (C.11.2.1.2.1) shifts by half a level: centre - 0.5, width - 1; LINEAR_EXACT does not.
  const c = v.func === "LINEAR" ? v.center - 0.5 : v.center;
  const w = v.func === "LINEAR" ? v.width - 1 : v.width;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    a[i] = x <= c - w / 2 ? 0 : x > c + w / 2 ? 1 : (x - c) / w + 0.5;
  }
}

import { type DicomImage, transferSyntaxName } from "../../data/io/dicom.js";
import { orientationCode } from "../../data/io/geometry.js";
import { isGzip } from "../../data/io/idx.js";
import type { NiftiVolume } from "../../data/io/nifti.js";
import { decodeImage, type ReadOptions, readImageBytes, sniffFormat } from "../../data/io/read.js";
import type { VoiOption } from "../../data/io/voi.js";
import { parseArgs, UsageError } from "../args.js";
import { HELP, wantsHelp } from "./common.js";

const SPEC = {
  json: { type: "boolean", default: false, help: "print the summary as JSON" },
  frame: { type: "number", help: "DICOM multi-frame: view this frame only" },
  window: {
    type: "string",
    default: "none",
    help: "DICOM VOI: none | file | CENTER,WIDTH (output in [0, 1])",
  },
  reorient: { type: "boolean", default: true, help: "NIfTI: reorient to RAS+ (--reorient=false: as stored)" },
  help: HELP,
} as const;

const SUMMARY =
  "data view FILE: decodes one image file (PNG, JPEG, DICOM, NIfTI) as a run would and prints what came out.";

export interface FileView {
  file: string;
  format: string;
  /** DICOM only. */
  transferSyntax?: string;
  transferSyntaxName?: string;
  photometric?: string;
  /** The decoded array, channels-first. */
  shape: number[];
  /** What the file stores (e.g. uint16, int16, float32); mimmx hands out float32. */
  storedDtype: string;
  dtype: "float32";
  spacing: number[] | null;
  /** NIfTI: orientation as stored and as decoded (RAS after reorientation); null for 2-D formats. */
  orientation: { stored: string; decoded: string; affineSource: string } | null;
  min: number;
  max: number;
  mean: number;
}

function parseWindow(s: string): VoiOption {
  if (s === "none" || s === "file") return s;
  const parts = s.split(",").map(Number);
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v)))
    throw new UsageError(`data view: --window must be none, file or CENTER,WIDTH (e.g. 40,400), got "${s}"`);
  return { center: parts[0], width: parts[1] };
}

const NIFTI_DTYPES: Record<number, string> = {
  2: "uint8",
  4: "int16",
  8: "int32",
  16: "float32",
  64: "float64",
  256: "int8",
  512: "uint16",
  768: "uint32",
  1024: "int64",
  1280: "uint64",
};

/** Decodes `path` with `o` and summarises the result. */
export function viewFile(path: string, o: ReadOptions = {}): FileView {
  const raw = readImageBytes(path);
  const img = decodeImage(path, raw, o);
  const format = sniffFormat(raw) ?? (isGzip(raw) ? "nifti" : "unknown");
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of img.data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const view: FileView = {
    file: path,
    format,
    shape: img.shape,
    storedDtype: "uint8",
    dtype: "float32",
    spacing: img.spacing ?? null,
    orientation: null,
    min,
    max,
    mean: sum / img.data.length,
  };
  if (format === "dicom") {
    const d = img as DicomImage;
    view.transferSyntax = d.transferSyntax;
    view.transferSyntaxName = transferSyntaxName(d.transferSyntax);
    view.photometric = d.photometric;
    view.storedDtype = `${d.pixelRepresentation ? "int" : "uint"}${d.bitsAllocated}${d.bitsStored !== d.bitsAllocated ? ` (${d.bitsStored} bits stored)` : ""}`;
  } else if (format === "nifti") {
    const v = img as NiftiVolume;
    view.storedDtype = NIFTI_DTYPES[v.datatype] ?? `datatype ${v.datatype}`;
    view.orientation = {
      stored: v.storedOrientation,
      decoded: v.affineSource === "pixdim" ? "unknown" : orientationCode(img.affine!),
      affineSource: v.affineSource,
    };
  } else if (format === "png") {
    // PNG bit depth is in the IHDR chunk (byte 24).
    view.storedDtype = raw[24] === 16 ? "uint16" : "uint8";
  }
  return view;
}

function text(v: FileView): string {
  const num = (x: number) => String(Number(x.toPrecision(6)));
  const lines = [
    `file:        ${v.file}`,
    `format:      ${v.format}${v.transferSyntax ? ` (${v.transferSyntaxName}, ${v.transferSyntax})` : ""}`,
  ];
  if (v.photometric) lines.push(`photometric: ${v.photometric}`);
  lines.push(`shape:       [${v.shape.join(", ")}] (channels first)`);
  lines.push(`dtype:       ${v.dtype} (stored as ${v.storedDtype})`);
  lines.push(`spacing:     ${v.spacing ? `[${v.spacing.map(num).join(", ")}]` : "unknown"}`);
  if (v.orientation)
    lines.push(
      `orientation: ${v.orientation.decoded} (stored ${v.orientation.stored}, from the ${v.orientation.affineSource})`,
    );
  lines.push(`values:      min ${num(v.min)}, max ${num(v.max)}, mean ${num(v.mean)}`);
  return lines.join("\n");
}

export async function dataViewCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv, "data view FILE [--json]", SUMMARY, SPEC)) return 0;
  const { options, positionals } = parseArgs(argv, SPEC, "data view");
  if (positionals.length !== 1)
    throw new UsageError(
      `data view: expected one FILE, got ${positionals.length ? positionals.join(" ") : "none"}`,
    );
  const view = viewFile(positionals[0], {
    frame: options.frame as number | undefined,
    window: parseWindow(options.window as string),
    reorient: options.reorient as boolean,
    unitRange: true,
  });
  console.log(options.json ? JSON.stringify(view, null, 1) : text(view));
  return 0;
}

// DICOM (PS3.5/PS3.10) reader, written for what a classifier needs: the pixel data of one image
// (or a multi-frame stack) as physical values, with spacing.
//
// Supported transfer syntaxes: implicit VR little endian, explicit VR little endian, deflated
// explicit VR little endian, explicit VR big endian (retired but still found), RLE lossless (own
// decoder below), 8-bit baseline JPEG (jpeg-js), JPEG Lossless process 14 with any predictor and
// SV1 (jpeg-lossless-decoder-js), JPEG-LS lossless and near-lossless (CharLS), JPEG 2000 lossless
// and lossy (OpenJPEG) and HTJ2K (OpenJPH); see codecs.ts. 12-bit JPEG extended (no maintained
// decoder for 12-bit lossy JPEG ships for Node) raises UnsupportedFormatError naming the file and
// the transfer syntax UID.
//
// Pixel values, in this order (PS3.3 C.11, the standard's display pipeline):
//   1. stored values masked to BitsStored, sign-extended when PixelRepresentation = 1;
//   2. modality LUT: RescaleSlope/Intercept (so CT comes out in Hounsfield units) - always;
//   3. VOI: only when asked (`window` option, default "none", so values stay physical and comparable
//      across scanners; see voi.ts): the file's window / VOI LUT, or a given centre and width, to [0, 1];
//   4. MONOCHROME1 (white = low) is inverted so that for every image high values are bright - always
//      (within the representable modality range without VOI, as 1 - v after VOI).
// RGB is returned channels-first, whatever the PlanarConfiguration; YBR_FULL is converted to RGB
// (JPEG 2000's YBR_RCT / YBR_ICT come out of the codec as RGB already).
import { inflateRawSync } from "node:zlib";
import type { ImageArray } from "../types.js";
import {
  type DecodedFrame,
  decodeHtj2k,
  decodeJpeg2000,
  decodeJpegLossless,
  decodeJpegLs,
} from "./codecs.js";
import { copyFrame, decodeNative, decodeRleFrame, groupFragments, ybrToRgb } from "./dicom-pixels.js";
import { ImageDecodeError, UnsupportedFormatError } from "./errors.js";
import { decodeJpeg } from "./jpeg.js";
import { applyVoi, readVoi, type VoiOption } from "./voi.js";

export const TS = {
  implicitLE: "1.2.840.10008.1.2",
  explicitLE: "1.2.840.10008.1.2.1",
  deflatedLE: "1.2.840.10008.1.2.1.99",
  explicitBE: "1.2.840.10008.1.2.2",
  rle: "1.2.840.10008.1.2.5",
  jpegBaseline: "1.2.840.10008.1.2.4.50",
  jpegExtended: "1.2.840.10008.1.2.4.51",
} as const;

type FrameDecoder = (path: string, what: string, data: Uint8Array) => DecodedFrame;

/** Encapsulated transfer syntaxes decoded by an external codec: name and decoder. */
const CODEC_TS: Record<string, [string, FrameDecoder]> = {
  "1.2.840.10008.1.2.4.57": ["JPEG Lossless, process 14", decodeJpegLossless],
  "1.2.840.10008.1.2.4.70": ["JPEG Lossless SV1", decodeJpegLossless],
  "1.2.840.10008.1.2.4.80": ["JPEG-LS lossless", decodeJpegLs],
  "1.2.840.10008.1.2.4.81": ["JPEG-LS near-lossless", decodeJpegLs],
  "1.2.840.10008.1.2.4.90": ["JPEG 2000 lossless", decodeJpeg2000],
  "1.2.840.10008.1.2.4.91": ["JPEG 2000", decodeJpeg2000],
  "1.2.840.10008.1.2.4.201": ["HTJ2K lossless", decodeHtj2k],
  "1.2.840.10008.1.2.4.202": ["HTJ2K lossless RPCL", decodeHtj2k],
  "1.2.840.10008.1.2.4.203": ["HTJ2K", decodeHtj2k],
};

/** Human names of the transfer syntaxes, for `data view` and error messages. */
export function transferSyntaxName(ts: string): string {
  const names: Record<string, string> = {
    [TS.implicitLE]: "implicit VR little endian",
    [TS.explicitLE]: "explicit VR little endian",
    [TS.deflatedLE]: "deflated explicit VR little endian",
    [TS.explicitBE]: "explicit VR big endian",
    [TS.rle]: "RLE lossless",
    [TS.jpegBaseline]: "JPEG baseline (8-bit)",
    [TS.jpegExtended]: "JPEG extended (12-bit)",
  };
  return names[ts] ?? CODEC_TS[ts]?.[0] ?? "unknown";
}

export interface DicomReadOptions {
  /** Multi-frame files: take this frame as a 2-D image. */
  frame?: number;
  /** VOI transform (windowing); "none" (the default) keeps physical values. See voi.ts. */
  window?: VoiOption;
}

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR. */
const LONG_VR = new Set(["OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "UC", "UR", "SV", "UV"]);

/** The few tags we interpret, with their VR (needed for implicit VR files). */
const US_TAGS = new Set([
  0x00280002, 0x00280006, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103,
]);
const PIXEL_DATA = 0x7fe00010;
/** The one sequence whose contents we keep: the VOI LUT (first item only is used). */
const VOI_LUT_SEQUENCE = 0x00283010;

interface Element {
  vr: string;
  /** Value bytes (undefined for encapsulated pixel data). */
  value?: Uint8Array;
  /** Encapsulated pixel data: the fragments, the basic offset table first. */
  fragments?: Uint8Array[];
  /** Kept sequences (VOI LUT Sequence): each item's elements. */
  items?: Map<number, Element>[];
}

export interface DicomImage extends ImageArray {
  transferSyntax: string;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  rescaleSlope: number;
  rescaleIntercept: number;
}

export function isDicom(buf: Uint8Array): boolean {
  if (buf.length >= 132 && buf[128] === 0x44 && buf[129] === 0x49 && buf[130] === 0x43 && buf[131] === 0x4d)
    return true;
  // No preamble: the dataset starts with a group 0008 (or 0002) element, little endian.
  return buf.length >= 8 && (buf[0] === 0x08 || buf[0] === 0x02) && buf[1] === 0x00 && buf[3] === 0x00;
}

class Parser {
  readonly dv: DataView;
  constructor(
    readonly path: string,
    readonly buf: Uint8Array,
    readonly le: boolean,
    readonly explicit: boolean,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private u16(p: number): number {
    return this.dv.getUint16(p, this.le);
  }
  private u32(p: number): number {
    return this.dv.getUint32(p, this.le);
  }

  private need(p: number, n: number, what: string): void {
    if (p + n > this.buf.length) {
      throw new ImageDecodeError(
        this.path,
        `DICOM file truncated: ${what} needs ${n} bytes at offset ${p}, only ${Math.max(0, this.buf.length - p)} remain`,
      );
    }
  }

  /** Parses elements from `pos` to `end` (or an item delimiter); stores top-level ones in `out`. */
  parse(pos: number, end: number, out: Map<number, Element> | null, stopGroup = -1, inItem = false): number {
    while (pos < end) {
      this.need(pos, 8, "an element header");
      const group = this.u16(pos);
      const elem = this.u16(pos + 2);
      const tag = ((group << 16) | elem) >>> 0;
      if (stopGroup >= 0 && group !== stopGroup) return pos;
      if (group === 0xfffe) {
        // Item delimiter ends an undefined-length item; anything else here is malformed.
        if (elem === 0xe00d) return pos + 8;
        throw new ImageDecodeError(
          this.path,
          `unexpected delimiter (FFFE,${elem.toString(16).toUpperCase()}) at offset ${pos}`,
        );
      }
      let vr = "UN";
      let len: number;
      let hdr: number;
      if (this.explicit) {
        vr = String.fromCharCode(this.buf[pos + 4], this.buf[pos + 5]);
        if (LONG_VR.has(vr)) {
          this.need(pos, 12, "an element header");
          len = this.u32(pos + 8);
          hdr = 12;
        } else {
          len = this.u16(pos + 6);
          hdr = 8;
        }
      } else {
        len = this.u32(pos + 4);
        hdr = 8;
        vr = US_TAGS.has(tag) ? "US" : tag === PIXEL_DATA ? "OW" : "UN";
      }
      pos += hdr;
      if (len === 0xffffffff) {
        if (tag === PIXEL_DATA) {
          const fragments: Uint8Array[] = [];
          pos = this.items(pos, (start, l) => {
            fragments.push(this.buf.subarray(start, start + l));
          });
          out?.set(tag, { vr, fragments });
        } else {
          // Undefined length: a sequence. UN sequences are encoded implicit VR little endian.
          const nested = vr === "UN" && this.explicit ? new Parser(this.path, this.buf, true, false) : this;
          const keep = out && tag === VOI_LUT_SEQUENCE ? ([] as Map<number, Element>[]) : null;
          const itemMap = () => {
            const m = keep ? new Map<number, Element>() : null;
            if (m) keep!.push(m);
            return m;
          };
          pos = nested.items(
            pos,
            (start, l) => {
              nested.parse(start, start + l, itemMap(), -1, true);
            },
            (start) => nested.parse(start, this.buf.length, itemMap(), -1, true),
          );
          if (keep) out!.set(tag, { vr: "SQ", items: keep });
        }
        continue;
      }
      this.need(
        pos,
        len,
        `element (${group.toString(16).padStart(4, "0")},${elem.toString(16).padStart(4, "0")})`,
      );
      if (out && tag === VOI_LUT_SEQUENCE && len > 0) {
        // Defined-length sequence: parse its items from the value bytes.
        const items: Map<number, Element>[] = [];
        this.items(
          pos,
          (start, l) => {
            const m = new Map<number, Element>();
            items.push(m);
            this.parse(start, start + l, m, -1, true);
          },
          undefined,
          pos + len,
        );
        out.set(tag, { vr: "SQ", items });
      } else if (
        out &&
        (inItem ||
          group === 0x0002 ||
          group === 0x0008 ||
          group === 0x0018 ||
          group === 0x0020 ||
          group === 0x0028 ||
          tag === PIXEL_DATA)
      ) {
        out.set(tag, { vr, value: this.buf.subarray(pos, pos + len) });
      }
      pos += len;
    }
    return pos;
  }

  /**
   * Walks the items of an undefined-length sequence or encapsulated pixel data until the sequence
   * delimiter. Defined-length items go to `onItem`; undefined-length ones to `onOpenItem`, which
   * returns where the item ended.
   */
  private items(
    pos: number,
    onItem: (start: number, len: number) => void,
    onOpenItem?: (start: number) => number,
    end = -1,
  ): number {
    for (;;) {
      // A defined-length sequence ends at its length, with no delimiter.
      if (end >= 0 && pos >= end) return pos;
      this.need(pos, 8, "a sequence item header");
      const group = this.u16(pos);
      const elem = this.u16(pos + 2);
      const len = this.u32(pos + 4);
      if (group !== 0xfffe)
        throw new ImageDecodeError(this.path, `expected a sequence item at offset ${pos}`);
      pos += 8;
      if (elem === 0xe0dd) return pos;
      if (elem !== 0xe000)
        throw new ImageDecodeError(this.path, `unexpected tag (FFFE,${elem.toString(16)}) in a sequence`);
      if (len === 0xffffffff) {
        if (!onOpenItem)
          throw new ImageDecodeError(this.path, "undefined-length fragment in encapsulated pixel data");
        pos = onOpenItem(pos);
      } else {
        this.need(pos, len, "a sequence item");
        onItem(pos, len);
        pos += len;
      }
    }
  }
}

function str(e: Element | undefined): string {
  if (!e?.value) return "";
  return Buffer.from(e.value)
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
}

export function decodeDicom(path: string, raw: Uint8Array, opts: DicomReadOptions = {}): DicomImage {
  let buf = raw;
  let pos = 0;
  const el = new Map<number, Element>();
  let ts: string = TS.explicitLE;
  if (buf.length >= 132 && Buffer.from(buf.subarray(128, 132)).toString("latin1") === "DICM") {
    pos = new Parser(path, buf, true, true).parse(132, buf.length, el, 0x0002);
    ts = str(el.get(0x00020010)) || TS.explicitLE;
  } else {
    // No preamble/meta: guess explicit vs implicit VR from whether bytes 4-5 look like a VR.
    const a = buf[4];
    const b = buf[5];
    ts = a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a ? TS.explicitLE : TS.implicitLE;
  }
  if (ts === TS.deflatedLE) {
    try {
      buf = new Uint8Array(inflateRawSync(buf.subarray(pos)));
    } catch (e) {
      throw new ImageDecodeError(path, `deflated DICOM dataset is corrupt (${(e as Error).message})`);
    }
    pos = 0;
  }
  const known = [
    TS.implicitLE,
    TS.explicitLE,
    TS.deflatedLE,
    TS.explicitBE,
    TS.rle,
    TS.jpegBaseline,
    TS.jpegExtended,
  ] as string[];
  if (!known.includes(ts) && !CODEC_TS[ts])
    throw new UnsupportedFormatError(path, `DICOM transfer syntax ${ts} is not supported`);
  const le = ts !== TS.explicitBE;
  const explicit = ts !== TS.implicitLE;
  const p = new Parser(path, buf, le, explicit);
  p.parse(pos, buf.length, el);

  const pd = el.get(PIXEL_DATA);
  if (!pd) throw new ImageDecodeError(path, "DICOM file has no pixel data (7FE0,0010)");
  const us = (tag: number, dflt?: number): number => {
    const e = el.get(tag);
    if (!e?.value || e.value.length < 2) {
      if (dflt === undefined)
        throw new ImageDecodeError(
          path,
          `DICOM attribute (${(tag >>> 16).toString(16).padStart(4, "0")},${(tag & 0xffff).toString(16).padStart(4, "0")}) is missing`,
        );
      return dflt;
    }
    return new DataView(e.value.buffer, e.value.byteOffset, 2).getUint16(0, le);
  };
  const ds = (tag: number): number[] =>
    str(el.get(tag))
      .split("\\")
      .filter((s) => s.trim() !== "")
      .map(Number);
  const rows = us(0x00280010);
  const cols = us(0x00280011);
  const spp = us(0x00280002, 1);
  const planar = us(0x00280006, 0);
  const bitsAlloc = us(0x00280100);
  const bitsStored = us(0x00280101, bitsAlloc);
  const signed = us(0x00280103, 0) === 1;
  const frames = Math.max(1, Number.parseInt(str(el.get(0x00280008)) || "1", 10) || 1);
  const photometric = str(el.get(0x00280004)) || "MONOCHROME2";
  const slope = ds(0x00281053)[0] ?? 1;
  const inter = ds(0x00281052)[0] ?? 0;
  const n = rows * cols;

  // Decode into stored values, channels-first per frame: out[(f * spp + s) * n + i].
  const stored = new Float32Array(frames * spp * n);
  if (pd.fragments) {
    const perFrame = groupFragments(path, pd.fragments, frames);
    for (let f = 0; f < frames; f++) {
      if (ts === TS.rle)
        decodeRleFrame(
          path,
          perFrame[f],
          rows,
          cols,
          spp,
          bitsAlloc,
          bitsStored,
          signed,
          stored.subarray(f * spp * n, (f + 1) * spp * n),
        );
      else if (CODEC_TS[ts]) {
        const [name, decode] = CODEC_TS[ts];
        const what = `transfer syntax ${ts} (${name})${frames > 1 ? `, frame ${f}` : ""}`;
        copyFrame(
          path,
          what,
          decode(path, what, perFrame[f]),
          { rows, cols, spp, bitsAlloc, bitsStored, signed },
          stored.subarray(f * spp * n, (f + 1) * spp * n),
        );
      } else if (ts === TS.jpegBaseline || ts === TS.jpegExtended) {
        if (bitsStored > 8 || bitsAlloc > 8) {
          throw new UnsupportedFormatError(
            path,
            `DICOM transfer syntax ${ts} with ${bitsStored}-bit samples (12-bit JPEG extended) is not supported: no maintained 12-bit lossy JPEG decoder is available; convert the file (e.g. dcmdjpeg) to an uncompressed transfer syntax`,
          );
        }
        // jpeg-js converts 3-component JPEGs from YCbCr unless told otherwise; DICOM says which
        // it is: RGB photometric means the components were compressed without colour conversion.
        const img = decodeJpeg(path, perFrame[f], {
          unitRange: false,
          colorTransform: photometric.startsWith("YBR"),
        });
        if (img.shape[1] !== rows || img.shape[2] !== cols)
          throw new ImageDecodeError(
            path,
            `JPEG frame ${f} is ${img.shape[2]}x${img.shape[1]}, header says ${cols}x${rows}`,
          );
        for (let s = 0; s < spp; s++)
          stored.set(
            img.data.subarray(Math.min(s, img.shape[0] - 1) * n, (Math.min(s, img.shape[0] - 1) + 1) * n),
            (f * spp + s) * n,
          );
      } else
        throw new ImageDecodeError(path, `encapsulated pixel data in non-encapsulated transfer syntax ${ts}`);
    }
    if (photometric === "YBR_FULL" && spp === 3 && CODEC_TS[ts]) ybrToRgb(stored, frames, n);
  } else {
    if (photometric.startsWith("YBR_") && photometric !== "YBR_FULL") {
      throw new UnsupportedFormatError(
        path,
        `native ${photometric} pixel data (chroma subsampled) is not supported`,
      );
    }
    decodeNative(
      path,
      pd.value!,
      { le, rows, cols, spp, planar, bitsAlloc, bitsStored, signed, frames },
      stored,
    );
    if (photometric === "YBR_FULL" && spp === 3) ybrToRgb(stored, frames, n);
  }

  // Physical values (modality LUT), then the optional VOI, then display polarity.
  const out = stored;
  const hasRescale = slope !== 1 || inter !== 0;
  if (hasRescale) for (let i = 0; i < out.length; i++) out[i] = out[i] * slope + inter;
  const voiLut = readVoiLut(el.get(VOI_LUT_SEQUENCE), le, signed);
  const voi = readVoi(path, opts.window ?? "none", {
    center: ds(0x00281050),
    width: ds(0x00281051),
    func: str(el.get(0x00281056)),
    lut: voiLut,
  });
  if (voi && spp !== 1)
    throw new ImageDecodeError(path, `windowing applies to grayscale images, this one is ${photometric}`);
  if (voi) applyVoi(out, voi);
  if (photometric === "MONOCHROME1") {
    if (voi) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
    else {
      // Invert within the representable range so the image keeps its value range.
      const lo = signed ? -(2 ** (bitsStored - 1)) : 0;
      const hi = signed ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
      const sum = lo * slope + inter + (hi * slope + inter);
      for (let i = 0; i < out.length; i++) out[i] = sum - out[i];
    }
  }

  const ps = ds(0x00280030);
  const rowSp = ps[0] ?? 1;
  const colSp = ps[1] ?? rowSp;
  const base = {
    transferSyntax: ts,
    rows,
    columns: cols,
    frames,
    samplesPerPixel: spp,
    photometric,
    bitsAllocated: bitsAlloc,
    bitsStored,
    pixelRepresentation: signed ? 1 : 0,
    rescaleSlope: slope,
    rescaleIntercept: inter,
  };
  if (opts.frame !== undefined || frames === 1) {
    const f = opts.frame ?? 0;
    if (!(f >= 0 && f < frames)) throw new ImageDecodeError(path, `frame ${f} requested, file has ${frames}`);
    return {
      ...base,
      data: out.slice(f * spp * n, (f + 1) * spp * n),
      shape: [spp, rows, cols],
      spacing: [rowSp, colSp],
    };
  }
  // Several frames: a [C, F, H, W] volume (frames are stored frame-major; reorder to channel-major).
  const vol = new Float32Array(out.length);
  for (let f = 0; f < frames; f++)
    for (let s = 0; s < spp; s++)
      vol.set(out.subarray((f * spp + s) * n, (f * spp + s + 1) * n), (s * frames + f) * n);
  const thick = ds(0x00180050)[0] ?? 1;
  return { ...base, data: vol, shape: [spp, frames, rows, cols], spacing: [thick, rowSp, colSp] };
}

/**
 * The first VOI LUT of the VOI LUT Sequence: LUT Descriptor (entries, first mapped value, bits) and
 * LUT Data. The first mapped value is SS or US (an ambiguous VR); implicit VR files say nothing, so
 * it follows PixelRepresentation.
 */
function readVoiLut(
  seq: Element | undefined,
  le: boolean,
  signed: boolean,
): { first: number; bits: number; data: Uint16Array } | undefined {
  const item = seq?.items?.[0];
  const desc = item?.get(0x00283002);
  const data = item?.get(0x00283006);
  if (!desc?.value || desc.value.length < 6 || !data?.value) return undefined;
  const dv = new DataView(desc.value.buffer, desc.value.byteOffset, desc.value.byteLength);
  const entries = dv.getUint16(0, le) || 65536;
  const first = desc.vr === "SS" || (desc.vr !== "US" && signed) ? dv.getInt16(2, le) : dv.getUint16(2, le);
  const bits = dv.getUint16(4, le);
  const ddv = new DataView(data.value.buffer, data.value.byteOffset, data.value.byteLength);
  const lut = new Uint16Array(Math.min(entries, data.value.length >> 1));
  for (let k = 0; k < lut.length; k++) lut[k] = ddv.getUint16(2 * k, le);
  return { first, bits, data: lut };
}

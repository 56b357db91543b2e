import sharp, { type OutputInfo } from "sharp";
import type { ImageArray } from "../types.js";
import { ImageDecodeError } from "./errors.js";
import { jpegComponents } from "./jpeg.js";
import type { PixelOptions } from "./png.js";
import { decodeImage, type ReadOptions, readImageBytes, sniffFormat } from "./read.js";

let configured = false;

/** One libvips thread per image and no libvips operation cache (every file is decoded once). */
export function configureSharp(): void {
  if (configured) return;
  configured = true;
  sharp.concurrency(1);
  sharp.cache(false);
}

interface RasterLayout {
  /** Channels today's decoder returns. */
  channels: number;
  /** The largest stored value (unit-range divisor). */
  max: number;
  /** Sample depth sharp must return to keep every bit. */
  depth: "uchar" | "ushort";
}

/** Channels and depth from the PNG header (IHDR: bit depth at byte 24, colour type at 25). */
function pngLayout(path: string, buf: Uint8Array): RasterLayout {
  if (buf.length < 33) throw new ImageDecodeError(path, "corrupt or truncated PNG (no complete IHDR header)");
  const bitDepth = buf[24];
  const colorType = buf[25];
  // libpng widens 1-, 2- and 4-bit gray to 8 bits, scaling k to k * 255 / (2^bits - 1).
  const max = bitDepth < 8 ? 255 : 2 ** bitDepth - 1;
  switch (colorType) {
    case 0: // gray
    case 4: // gray + alpha: today's decoder keeps the gray channel only
      return { channels: 1, max, depth: bitDepth === 16 ? "ushort" : "uchar" };
    case 2:
      return { channels: 3, max, depth: bitDepth === 16 ? "ushort" : "uchar" };
    case 3: // palette: RGB (libvips adds alpha for a tRNS chunk; today's decoder does not)
      return { channels: 3, max: 255, depth: "uchar" };
    case 6:
      return { channels: 4, max, depth: bitDepth === 16 ? "ushort" : "uchar" };
    default:
      throw new ImageDecodeError(path, `corrupt or truncated PNG (colour type ${colorType} in IHDR)`);
  }
}

/**
 * True when sharp gives what the pure-JS decoder gives for this file: not for PNGs of 1, 2 or 4
 * bits read with unitRange false, whose raw values libpng scales to 8 bits.
 */
export function sharpCanDecode(format: "png" | "jpeg", buf: Uint8Array, o: PixelOptions): boolean {
  return format === "jpeg" || (o.unitRange ?? true) || buf[24] >= 8 || buf[25] === 3;
}

/** Decodes a PNG or JPEG held in `buf` into planar [C,H,W] Float32 (see the file comment). */
export async function decodeWithSharp(
  path: string,
  format: "png" | "jpeg",
  buf: Uint8Array,
  o: PixelOptions = {},
): Promise<ImageArray> {
  configureSharp();
  const layout: RasterLayout =
    format === "png"
      ? pngLayout(path, buf)
      : { channels: jpegComponents(buf) === 1 ? 1 : 3, max: 255, depth: "uchar" };
  let raw: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(buf, { sequentialRead: true, failOn: "error" });
    // libvips turns every image into sRGB on output unless told otherwise: 16-bit data into 8 bits,
    // and one gray band into three (for a gray JPEG a third of the decode's time, and three times
    // the bytes). So gray stays gray and 16 bits stay 16.
    if (layout.depth === "ushort")
      pipeline = pipeline.toColourspace(layout.channels === 1 ? "grey16" : "rgb16");
    else if (layout.channels === 1) pipeline = pipeline.toColourspace("b-w");
    raw = await pipeline.raw({ depth: layout.depth }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    const what = format === "png" ? "corrupt or truncated PNG" : "corrupt or unsupported JPEG";
    throw new ImageDecodeError(path, `${what} (${(e as Error).message})`);
  }
  const { width: w, height: h, channels: stored } = raw.info;
  const c = layout.channels;
  if (stored < c)
    throw new ImageDecodeError(
      path,
      `decoded ${stored} channels, the ${format.toUpperCase()} header declares ${c}`,
    );
  const n = w * h;
  const bytes = raw.data;
  const samples =
    layout.depth === "uchar"
      ? bytes
      : bytes.byteOffset % 2 === 0
        ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1)
        : new Uint16Array(Uint8Array.from(bytes).buffer); // libvips writes native (little) endian
  if (samples.length < n * stored)
    throw new ImageDecodeError(
      path,
      `decoded ${samples.length} samples, expected ${n * stored} (${w}x${h}x${stored})`,
    );
  const scale = (o.unitRange ?? true) ? 1 / layout.max : 1;
  const data = new Float32Array(c * n);
  // Interleaved (HWC) to planar (CHW); channels past `c` (alpha of gray+alpha) are dropped.
  if (c === 1 && stored === 1) for (let i = 0; i < n; i++) data[i] = samples[i] * scale;
  else
    for (let ch = 0; ch < c; ch++) {
      const o2 = ch * n;
      for (let i = 0, s = ch; i < n; i++, s += stored) data[o2 + i] = samples[s] * scale;
    }
  return { data, shape: [c, h, w] };
}

/**
 * readImage (read.ts) with PNG and JPEG decoded by sharp: the same array and the same errors,
 * asynchronously. Every other format goes to read.ts's decoders unchanged.
 */
export async function readImageFast(path: string, o: ReadOptions = {}): Promise<ImageArray> {
  const raw = readImageBytes(path);
  if (raw.length === 0) throw new ImageDecodeError(path, "file is empty");
  const format = sniffFormat(raw);
  if ((format === "png" || format === "jpeg") && sharpCanDecode(format, raw, o))
    return decodeWithSharp(path, format, raw, o);
  return decodeImage(path, raw, o);
}

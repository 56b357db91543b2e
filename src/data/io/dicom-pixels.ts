// DICOM pixel-data decoding below the header: native (uncompressed) samples, RLE lossless, the
// fragments of encapsulated frames, and codec frames masked and sign-extended as the header says.
// dicom.ts reads the header and calls these.
import type { DecodedFrame } from "./codecs.js";
import { ImageDecodeError, UnsupportedFormatError } from "./errors.js";

/**
 * Copies one codec-decoded frame into `out` (channels-first), masked to BitsStored and
 * sign-extended as the DICOM header says (codecs report unsigned samples for JPEG-LS and JPEG
 * Lossless; DICOM's PixelRepresentation is the authority, as in pydicom).
 */
export function copyFrame(
  path: string,
  what: string,
  fr: DecodedFrame,
  L: { rows: number; cols: number; spp: number; bitsAlloc: number; bitsStored: number; signed: boolean },
  out: Float32Array,
): void {
  if (fr.width !== L.cols || fr.height !== L.rows || fr.components !== L.spp)
    throw new ImageDecodeError(
      path,
      `${what}: codestream is ${fr.width}x${fr.height} with ${fr.components} component(s), header says ${L.cols}x${L.rows} with ${L.spp}`,
    );
  const n = L.rows * L.cols;
  if (fr.samples.length < n * L.spp)
    throw new ImageDecodeError(path, `${what}: decoded ${fr.samples.length} samples, expected ${n * L.spp}`);
  for (let s = 0; s < L.spp; s++)
    for (let i = 0; i < n; i++) {
      const v = fr.samples[fr.interleaved ? i * L.spp + s : s * n + i];
      out[s * n + i] = fixBits(v, L.bitsStored, L.bitsAlloc, L.signed);
    }
}

/** Fragments of encapsulated pixel data grouped per frame (fragments[0] is the offset table). */
export function groupFragments(path: string, fragments: Uint8Array[], frames: number): Uint8Array[] {
  const [bot, ...rest] = fragments;
  if (rest.length === 0) throw new ImageDecodeError(path, "encapsulated pixel data has no fragments");
  const concat = (list: Uint8Array[]): Uint8Array => Buffer.concat(list);
  if (rest.length === frames) return rest;
  if (frames === 1) return [concat(rest)];
  if (bot && bot.length >= 4 * frames) {
    // Basic offset table: byte offset of each frame's first fragment item, from the first item.
    const dv = new DataView(bot.buffer, bot.byteOffset, bot.byteLength);
    const offsets = Array.from({ length: frames }, (_, f) => dv.getUint32(4 * f, true));
    const starts: number[] = [];
    let off = 0;
    for (const fr of rest) {
      starts.push(off);
      off += fr.length + 8;
    }
    return offsets.map((o, f) => {
      const end = f + 1 < frames ? offsets[f + 1] : Number.POSITIVE_INFINITY;
      return concat(rest.filter((_, k) => starts[k] >= o && starts[k] < end));
    });
  }
  throw new ImageDecodeError(
    path,
    `cannot split ${rest.length} fragments into ${frames} frames (no offset table)`,
  );
}

export interface NativeLayout {
  le: boolean;
  rows: number;
  cols: number;
  spp: number;
  planar: number;
  bitsAlloc: number;
  bitsStored: number;
  signed: boolean;
  frames: number;
}

/** Masks to BitsStored and sign-extends. */
export function fixBits(v: number, bitsStored: number, bitsAlloc: number, signed: boolean): number {
  if (bitsStored >= bitsAlloc && bitsAlloc === 32) return signed ? v | 0 : v >>> 0;
  const m = v & (2 ** bitsStored - 1);
  return signed && m >= 2 ** (bitsStored - 1) ? m - 2 ** bitsStored : m;
}

export function decodeNative(path: string, bytes: Uint8Array, L: NativeLayout, out: Float32Array): void {
  const n = L.rows * L.cols;
  const samples = L.frames * L.spp * n;
  const need = L.bitsAlloc === 1 ? Math.ceil(samples / 8) : (samples * L.bitsAlloc) / 8;
  if (bytes.length < need) {
    throw new ImageDecodeError(
      path,
      `pixel data truncated: ${L.frames} frame(s) of ${L.rows}x${L.cols}x${L.spp} at ${L.bitsAlloc} bits need ${need} bytes, found ${bytes.length}`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (k: number): number => {
    switch (L.bitsAlloc) {
      case 1:
        return (bytes[k >> 3] >> (k & 7)) & 1;
      case 8:
        return bytes[k];
      case 16:
        return dv.getUint16(2 * k, L.le);
      case 32:
        return dv.getUint32(4 * k, L.le);
      default:
        throw new UnsupportedFormatError(path, `BitsAllocated = ${L.bitsAlloc} is not supported`);
    }
  };
  for (let f = 0; f < L.frames; f++) {
    const fo = f * L.spp * n;
    for (let s = 0; s < L.spp; s++) {
      for (let i = 0; i < n; i++) {
        // Planar configuration 0 = RGBRGB..., 1 = RRR..GGG..BBB...
        const k = fo + (L.planar === 1 || L.spp === 1 ? s * n + i : i * L.spp + s);
        const v = L.bitsAlloc === 1 ? read(k) : fixBits(read(k), L.bitsStored, L.bitsAlloc, L.signed);
        out[fo + s * n + i] = v;
      }
    }
  }
}

export function ybrToRgb(a: Float32Array, frames: number, n: number): void {
  for (let f = 0; f < frames; f++) {
    const o = f * 3 * n;
    for (let i = 0; i < n; i++) {
      const y = a[o + i];
      const cb = a[o + n + i] - 128;
      const cr = a[o + 2 * n + i] - 128;
      const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
      a[o + i] = clamp(y + 1.402 * cr);
      a[o + n + i] = clamp(y - 0.344136 * cb - 0.714136 * cr);
      a[o + 2 * n + i] = clamp(y + 1.772 * cb);
    }
  }
}

/** PackBits decoding of one RLE segment into exactly `len` bytes. */
export function unpackBits(path: string, src: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let i = 0;
  let o = 0;
  while (o < len && i < src.length) {
    const h = src[i++];
    if (h < 128) {
      // Literal run of h+1 bytes.
      const cnt = h + 1;
      if (i + cnt > src.length)
        throw new ImageDecodeError(path, "RLE segment truncated inside a literal run");
      out.set(src.subarray(i, i + Math.min(cnt, len - o)), o);
      i += cnt;
      o += cnt;
    } else if (h > 128) {
      // Replicate the next byte 257-h times.
      const cnt = 257 - h;
      if (i >= src.length) throw new ImageDecodeError(path, "RLE segment truncated inside a replicate run");
      out.fill(src[i++], o, Math.min(len, o + cnt));
      o += cnt;
    }
    // h == 128: no-op.
  }
  if (o < len) throw new ImageDecodeError(path, `RLE segment decoded to ${o} bytes, expected ${len}`);
  return out;
}

/**
 * DICOM RLE (PS3.5 annex G): a 64-byte header (segment count + 15 offsets), then one PackBits
 * segment per byte plane: for each sample, its bytes from most to least significant.
 */
export function decodeRleFrame(
  path: string,
  frame: Uint8Array,
  rows: number,
  cols: number,
  spp: number,
  bitsAlloc: number,
  bitsStored: number,
  signed: boolean,
  out: Float32Array,
): void {
  if (frame.length < 64) throw new ImageDecodeError(path, "RLE frame shorter than its 64-byte header");
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nseg = dv.getUint32(0, true);
  const bytesPer = bitsAlloc / 8;
  if (nseg !== spp * bytesPer)
    throw new ImageDecodeError(path, `RLE frame has ${nseg} segments, expected ${spp * bytesPer}`);
  const offs = Array.from({ length: nseg }, (_, k) => dv.getUint32(4 + 4 * k, true));
  const n = rows * cols;
  const planes = offs.map((o, k) =>
    unpackBits(path, frame.subarray(o, k + 1 < nseg ? offs[k + 1] : frame.length), n),
  );
  for (let s = 0; s < spp; s++) {
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let b = 0; b < bytesPer; b++) v = v * 256 + planes[s * bytesPer + b][i];
      out[s * n + i] = fixBits(v, bitsStored, bitsAlloc, signed);
    }
  }
}

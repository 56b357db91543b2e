// IDX files (the MNIST family's format): magic 0x0000 <type> <ndim>, ndim big-endian uint32 sizes,
// then the raw data. Fashion-MNIST ships them gzipped; we detect gzip by its magic, not the name.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ImageDecodeError } from "./errors.js";

export interface IdxArray {
  dims: number[];
  /** Only unsigned bytes (type 0x08) occur in (Fashion-)MNIST; other types are converted to float. */
  data: Uint8Array | Float32Array;
}

export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

export function gunzipOrFail(path: string, buf: Uint8Array): Buffer {
  try {
    return gunzipSync(buf);
  } catch (e) {
    throw new ImageDecodeError(path, `gzip stream is corrupt or truncated (${(e as Error).message})`);
  }
}

export function parseIdx(path: string, raw: Uint8Array): IdxArray {
  const buf = isGzip(raw) ? gunzipOrFail(path, raw) : raw;
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0)
    throw new ImageDecodeError(path, "not an IDX file (bad magic)");
  const type = buf[2];
  const ndim = buf[3];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4 + 4 * ndim) throw new ImageDecodeError(path, "IDX header truncated");
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(dv.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const off = 4 + 4 * ndim;
  const sizes: Record<number, number> = { 8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8 };
  const bytes = sizes[type];
  if (bytes === undefined) throw new ImageDecodeError(path, `unknown IDX data type 0x${type.toString(16)}`);
  if (buf.length < off + count * bytes) {
    throw new ImageDecodeError(
      path,
      `IDX data truncated: need ${count * bytes} bytes, have ${buf.length - off}`,
    );
  }
  if (type === 0x08) return { dims, data: new Uint8Array(buf.subarray(off, off + count)) };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const p = off + i * bytes;
    switch (type) {
      case 0x09:
        out[i] = dv.getInt8(p);
        break;
      case 0x0b:
        out[i] = dv.getInt16(p, false);
        break;
      case 0x0c:
        out[i] = dv.getInt32(p, false);
        break;
      case 0x0d:
        out[i] = dv.getFloat32(p, false);
        break;
      default:
        out[i] = dv.getFloat64(p, false);
    }
  }
  return { dims, data: out };
}

export function readIdx(path: string): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new ImageDecodeError(path, `cannot read file (${(e as Error).message})`);
  }
  return parseIdx(path, raw);
}

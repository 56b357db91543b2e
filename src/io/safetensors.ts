// The .safetensors format (Hugging Face's): 8-byte little-endian header length, a JSON header naming
// each tensor's dtype, shape and byte range, then the raw little-endian data. Readable by the Python
// `safetensors` package and by torch via it. Writes are atomic (temporary file, then rename), so an
// interrupted save never leaves a half-written checkpoint behind.
import { closeSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { tensor } from "../tensor/creation.js";
import type { AnyTypedArray, DType, Tensor } from "../tensor/tensor.js";

const CODE: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  int64: "I64",
  int32: "I32",
  bool: "BOOL",
  uint8: "U8",
};
const DTYPE: Record<string, DType> = Object.fromEntries(
  Object.entries(CODE).map(([d, c]) => [c, d as DType]),
);
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, bool: 1, uint8: 1 };

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function saveSafetensors(
  path: string,
  tensors: Map<string, Tensor>,
  metadata: Record<string, string> = {},
): void {
  const header: Record<string, Entry | Record<string, string>> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  // Sorted keys make the file independent of insertion order (stable hashes, diffs).
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    const bytes = t.toBytes();
    header[name] = { dtype: CODE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data to 8 bytes
  const headerBytes = Buffer.from(json, "utf8");
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, lengthBytes);
    writeSync(fd, headerBytes);
    for (const c of chunks) writeSync(fd, c);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export interface LoadedSafetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export function loadSafetensors(path: string): LoadedSafetensors {
  const buf = readFileSync(path);
  const fail = (why: string): never => {
    throw new Error(`${path}: not a valid .safetensors file: ${why}`);
  };
  if (buf.length < 8) fail("shorter than its 8-byte header length");
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) fail(`header length ${n} exceeds the file size ${buf.length}`);
  let header: Record<string, Entry | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("header is not a JSON object");
  }
  const dataStart = 8 + n;
  const metadata = (header.__metadata__ as Record<string, string>) ?? {};
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = raw as Entry;
    const offsets = e?.data_offsets;
    if (!Array.isArray(e?.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor ${name} has no valid shape (got ${JSON.stringify(e?.shape)})`);
    }
    const offsetsOk =
      Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isInteger(o) && o >= 0);
    if (!offsetsOk || offsets[0] > offsets[1]) {
      fail(`tensor ${name} has no valid data_offsets (got ${JSON.stringify(offsets)})`);
    }
    const dtype = DTYPE[e.dtype];
    if (!dtype)
      fail(`tensor ${name} has unsupported dtype ${e.dtype} (supported: ${Object.keys(DTYPE).join(", ")})`);
    const [begin, end] = e.data_offsets;
    const numel = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== numel * BYTES[dtype])
      fail(`tensor ${name}: byte range ${begin}..${end} does not fit shape [${e.shape}] ${e.dtype}`);
    if (dataStart + end > buf.length) fail(`tensor ${name} runs past the end of the file (truncated?)`);
    // Copy into an aligned buffer: the file's bytes may sit at any offset inside Node's pool.
    const bytes = new Uint8Array(end - begin);
    bytes.set(buf.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, tensor(typedView(dtype, bytes.buffer), { dtype, shape: e.shape }));
  }
  return { tensors, metadata };
}

function typedView(dtype: DType, b: ArrayBuffer): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(b);
    case "float64":
      return new Float64Array(b);
    case "int64":
      return new BigInt64Array(b);
    case "int32":
      return new Int32Array(b);
    default:
      return new Uint8Array(b);
  }
}

// Decoders for the compressed DICOM transfer syntaxes, through the maintained codecs that DICOM
// viewers use: CharLS (JPEG-LS), OpenJPEG (JPEG 2000), OpenJPH (HTJ2K), compiled to WASM by
// Cornerstone, and jpeg-lossless-decoder-js (JPEG Lossless, process 14, any predictor).
//
// Loading: each WASM codec is compiled the first time a file needs it, once per process (a worker
// thread loads its own). Emscripten's glue is asynchronous by default; we hand it an
// `instantiateWasm` hook that compiles and instantiates synchronously (Node allows that for any
// module size), so the glue finishes initialising before the factory returns and `readImage` stays
// synchronous for the data pipeline and its workers. A process that never meets such a file never
// pays the ~20 ms per codec.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ImageDecodeError } from "./errors.js";

/** One decoded frame: samples as the codec wrote them, in pixel-interleaved or planar order. */
export interface DecodedFrame {
  samples: Uint8Array | Int8Array | Uint16Array | Int16Array;
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  /** true: RGBRGB... (sample-interleaved); false: RRR...GGG...BBB... */
  interleaved: boolean;
}

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The part of Cornerstone's embind decoders we use (same shape for CharLS, OpenJPEG, OpenJPH). */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  readHeader?(): void;
  delete(): void;
}
type DecoderClass = new () => WasmDecoder;

interface CodecSpec {
  pkg: string;
  js: string;
  wasm: string;
  cls: string;
}
const CODECS = {
  charls: {
    pkg: "@cornerstonejs/codec-charls",
    js: "charlswasm_decode.js",
    wasm: "charlswasm_decode.wasm",
    cls: "JpegLSDecoder",
  },
  openjpeg: {
    pkg: "@cornerstonejs/codec-openjpeg",
    js: "openjpegwasm_decode.js",
    wasm: "openjpegwasm_decode.wasm",
    cls: "J2KDecoder",
  },
  openjph: {
    pkg: "@cornerstonejs/codec-openjph",
    js: "openjphjs.js",
    wasm: "openjphjs.wasm",
    cls: "HTJ2KDecoder",
  },
} satisfies Record<string, CodecSpec>;
export type WasmCodec = keyof typeof CODECS;

const require = createRequire(import.meta.url);

/** jpeg-lossless-decoder-js ships no type declarations; this is the part we call. */
interface JpegLosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number): Uint8Array | Uint16Array;
  frame: { dimX: number; dimY: number; numComp: number; precision: number };
}
let losslessDecoder: (new () => JpegLosslessDecoder) | undefined;

const loaded = new Map<WasmCodec, DecoderClass>();
/** What the codecs printed during the current decode (OpenJPEG reports errors this way). */
let codecLog: string[] = [];

/** Which codecs this process has compiled so far (for tests and `data view`). */
export function loadedCodecs(): WasmCodec[] {
  return [...loaded.keys()];
}

function codec(name: WasmCodec): DecoderClass {
  const have = loaded.get(name);
  if (have) return have;
  const spec: CodecSpec = CODECS[name];
  const dir = dirname(require.resolve(spec.pkg));
  const factory = require(join(dir, spec.js)) as (m: object) => Promise<unknown>;
  const module: Record<string, unknown> = {
    print: (line: string) => codecLog.push(line),
    printErr: (line: string) => codecLog.push(line),
    instantiateWasm(imports: WebAssembly.Imports, receive: (i: WebAssembly.Instance) => void) {
      const instance = new WebAssembly.Instance(
        new WebAssembly.Module(readFileSync(join(dir, spec.wasm))),
        imports,
      );
      receive(instance);
      return instance.exports;
    },
  };
  // The promise resolves to `module` itself; we do not wait for it, the hook above ran already.
  factory(module).catch(() => undefined);
  const cls = module[spec.cls] as DecoderClass | undefined;
  if (typeof cls !== "function")
    throw new Error(`${spec.pkg}: ${spec.cls} missing after synchronous initialisation`);
  loaded.set(name, cls);
  return cls;
}

function typedSamples(bytes: Uint8Array, bits: number, signed: boolean): DecodedFrame["samples"] {
  // Copy out of the WASM heap (the view dies with the decoder).
  const copy = new Uint8Array(bytes);
  if (bits <= 8) return signed ? new Int8Array(copy.buffer) : copy;
  return signed
    ? new Int16Array(copy.buffer, 0, copy.length >> 1)
    : new Uint16Array(copy.buffer, 0, copy.length >> 1);
}

function wasmDecode(
  name: WasmCodec,
  path: string,
  what: string,
  data: Uint8Array,
  interleaved: (d: WasmDecoder) => boolean,
): DecodedFrame {
  const Cls = codec(name);
  const d = new Cls();
  codecLog = [];
  try {
    d.getEncodedBuffer(data.length).set(data);
    try {
      d.decode();
    } catch (e) {
      // embind throws C++ exceptions as numbers (a pointer) or strings; neither names the file, so
      // add what the codec printed, if it said what went wrong.
      const said = codecLog.filter((l) => /error|fail|invalid|corrupt/i.test(l)).join("; ");
      const why =
        said || (e instanceof Error ? e.message : typeof e === "string" ? e : "the codec rejected the data");
      throw new ImageDecodeError(path, `${what}: corrupt or unsupported codestream (${why})`);
    }
    const info = d.getFrameInfo();
    return {
      samples: typedSamples(d.getDecodedBuffer(), info.bitsPerSample, info.isSigned === true),
      width: info.width,
      height: info.height,
      components: info.componentCount,
      bitsPerSample: info.bitsPerSample,
      interleaved: info.componentCount > 1 && interleaved(d),
    };
  } finally {
    d.delete();
    codecLog = [];
  }
}

/** JPEG-LS (lossless and near-lossless). Interleave mode 0 ("none") decodes planar. */
export function decodeJpegLs(path: string, what: string, data: Uint8Array): DecodedFrame {
  return wasmDecode("charls", path, what, data, (d) => (d.getInterleaveMode?.() ?? 1) !== 0);
}

/** JPEG 2000 (Part 1), lossless or lossy; OpenJPEG undoes the colour transform itself. */
export function decodeJpeg2000(path: string, what: string, data: Uint8Array): DecodedFrame {
  return wasmDecode("openjpeg", path, what, data, () => true);
}

/** HTJ2K (JPEG 2000 Part 15). */
export function decodeHtj2k(path: string, what: string, data: Uint8Array): DecodedFrame {
  return wasmDecode("openjph", path, what, data, () => true);
}

/** JPEG Lossless (ITU T.81 process 14, every selection value). Pure JS, nothing to load. */
export function decodeJpegLossless(path: string, what: string, data: Uint8Array): DecodedFrame {
  losslessDecoder ??= (require("jpeg-lossless-decoder-js") as { Decoder: new () => JpegLosslessDecoder })
    .Decoder;
  const dec = new losslessDecoder();
  let out: Uint8Array | Uint16Array;
  try {
    // The decoder reads from an ArrayBuffer; give it a private copy (a Buffer's slice() is a view
    // into a shared pool, hence the Uint8Array constructor).
    const copy = new Uint8Array(data);
    out = dec.decode(copy.buffer, 0, copy.length);
  } catch (e) {
    throw new ImageDecodeError(
      path,
      `${what}: corrupt or unsupported JPEG Lossless data (${(e as Error).message})`,
    );
  }
  const frame = dec.frame;
  return {
    samples: out,
    width: frame.dimX,
    height: frame.dimY,
    components: frame.numComp,
    bitsPerSample: frame.precision,
    interleaved: frame.numComp > 1,
  };
}

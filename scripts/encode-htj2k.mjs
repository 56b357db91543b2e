// Writes an HTJ2K (JPEG 2000 Part 15) codestream for the DICOM test fixtures, because no Debian
// tool here encodes HTJ2K (dcmtk 3.6.7 and gdcm 3.0.21 predate it; Debian's OpenJPEG 2.5 only
// decodes it). The encoder is OpenJPH's, compiled to WASM in @cornerstonejs/codec-openjph; the test
// does not trust it: the files it writes are lossless, so the reference is the uncompressed original.
//
// Usage: node scripts/encode-htj2k.mjs IN.raw OUT.j2c WIDTH HEIGHT BITS SIGNED(0|1) COMPONENTS
// IN.raw holds the samples little endian, pixel-interleaved, 1 byte each for BITS <= 8 else 2.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [inPath, outPath, ...nums] = process.argv.slice(2);
const [width, height, bitsPerSample, signed, componentCount] = nums.map(Number);
const dir = require.resolve("@cornerstonejs/codec-openjph").replace(/[^/]+$/, "");
const Module = {
  instantiateWasm(imports, receive) {
    const inst = new WebAssembly.Instance(
      new WebAssembly.Module(readFileSync(`${dir}openjphjs.wasm`)),
      imports,
    );
    receive(inst);
    return inst.exports;
  },
};
require(`${dir}openjphjs.js`)(Module);
const enc = new Module.HTJ2KEncoder();
const raw = readFileSync(inPath);
const target = enc.getDecodedBuffer({
  width,
  height,
  bitsPerSample,
  componentCount,
  isSigned: signed === 1,
  isUsingColorTransform: false,
});
if (target.length !== raw.length)
  throw new Error(`expected ${target.length} bytes of samples, got ${raw.length}`);
target.set(raw);
enc.setQuality(true, 0); // lossless (reversible 5/3 wavelet)
enc.encode();
writeFileSync(outPath, Buffer.from(enc.getEncodedBuffer()));
enc.delete();

// The sharp decode path (src/data/io/sharp-decode.ts) against today's pure-JS decoders (pngjs,
// jpeg-js) on generated files: same shape and channel count, PNG bit-exact (8 and 16 bit), JPEG
// within 1/255 mean absolute difference after the pipeline's pad + resize (different IDCTs).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { readImage } from "../../src/data/io/read.js";
import { readImageFast } from "../../src/data/io/sharp-decode.js";
import { Compose } from "../../src/data/transforms/compose.js";
import { Rng } from "../../src/util/random.js";
import { jpegGray, pngGray, pngRgba, tempDir } from "./helpers.js";

/** Smooth anatomy-like field with noise, in [0, 1]. */
function field(w: number, h: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const lung = Math.exp(
        -(((Math.abs(x - w / 2) - w * 0.2) / (w * 0.12)) ** 2) - ((y - h * 0.45) / (h * 0.25)) ** 2,
      );
      out[y * w + x] = Math.min(1, Math.max(0, 0.75 - 0.5 * lung + 0.05 * rng.normal()));
    }
  return out;
}

const meanAbsDiff = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};

const prepare = new Compose([
  { type: "channels", channels: 1 },
  { type: "padToSquare" },
  { type: "resize", size: [224, 224] },
]);

test("sharp decodes PNGs (8-bit gray, 16-bit gray, RGB, RGBA) exactly like pngjs", async () => {
  const dir = tempDir();
  const w = 97;
  const h = 131;
  const f = field(w, h, 3);
  const files: Record<string, Buffer> = {
    gray8: pngGray(
      w,
      h,
      Array.from(f, (v) => Math.round(v * 255)),
      8,
    ),
    gray16: pngGray(
      w,
      h,
      Array.from(f, (v) => Math.round(v * 65535)),
      16,
    ),
    rgb: pngRgba(
      w,
      h,
      Array.from({ length: 4 * w * h }, (_, i) =>
        i % 4 === 3 ? 255 : Math.round(f[i >> 2] * (200 + 20 * (i % 4))) % 256,
      ),
      false,
    ),
    rgba: pngRgba(
      w,
      h,
      Array.from({ length: 4 * w * h }, (_, i) => Math.round(f[i >> 2] * 255 * (i % 4 === 3 ? 0.5 : 1))),
      true,
    ),
  };
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(dir, `${name}.png`);
    writeFileSync(path, bytes);
    const js = readImage(path);
    const fast = await readImageFast(path);
    assert.deepEqual(fast.shape, js.shape, name);
    assert.deepEqual(fast.data, js.data, `${name}: pixels differ`);
    const raw = await readImageFast(path, { unitRange: false });
    assert.deepEqual(raw.data, readImage(path, { unitRange: false }).data, `${name}: raw values differ`);
  }
  // 16 bits are kept: values a 8-bit path would merge stay apart.
  const g16 = await readImageFast(join(dir, "gray16.png"), { unitRange: false });
  assert.ok(
    g16.data.some((v) => v % 257 !== 0),
    "16-bit PNG squeezed to 8 bits",
  );
});

/** A PNG of 2-bit gray pixels (pngjs writes only 8 and 16 bits), built chunk by chunk. */
function png2bit(w: number, h: number, levels: number[]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 2; // bit depth
  ihdr[9] = 0; // gray
  const stride = Math.ceil(w / 4);
  const raw = Buffer.alloc(h * (1 + stride));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      raw[y * (1 + stride) + 1 + (x >> 2)] |= levels[y * w + x] << (6 - 2 * (x & 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

test("a 2-bit gray PNG: sharp's 8-bit widening is undone, so values match pngjs in [0, 1] and raw", async () => {
  const path = join(tempDir(), "g2.png");
  const levels = Array.from({ length: 6 * 5 }, (_, i) => (i * 7) % 4);
  writeFileSync(path, png2bit(6, 5, levels));
  const js = readImage(path);
  assert.deepEqual(
    Array.from(js.data),
    levels.map((v) => Math.fround(v / 3)),
    "pngjs reference",
  );
  assert.deepEqual((await readImageFast(path)).data, js.data);
  assert.deepEqual((await readImageFast(path, { unitRange: false })).data, Float32Array.from(levels));
});

test("sharp decodes JPEGs (1 and 3 components) within 1/255 of jpeg-js, before and after pad + resize", async () => {
  const dir = tempDir();
  const w = 320;
  const h = 390;
  const f = field(w, h, 5);
  const rgbPath = join(dir, "rgb.jpg");
  writeFileSync(
    rgbPath,
    jpegGray(w, h, (x, y) => f[y * w + x] * 255, 90),
  );
  const grayPath = join(dir, "gray.jpg");
  const gray = Buffer.from(Uint8Array.from(f, (v) => Math.round(v * 255)));
  writeFileSync(
    grayPath,
    await sharp(gray, { raw: { width: w, height: h, channels: 1 } })
      .toColourspace("b-w")
      .jpeg({ quality: 90 })
      .toBuffer(),
  );
  for (const [path, channels] of [
    [rgbPath, 3],
    [grayPath, 1],
  ] as const) {
    const js = readImage(path);
    const fast = await readImageFast(path);
    assert.deepEqual(fast.shape, [channels, h, w]);
    assert.deepEqual(js.shape, fast.shape);
    const decoded = meanAbsDiff(fast.data, js.data);
    const prepared = meanAbsDiff(prepare.apply(fast).data, prepare.apply(js).data);
    assert.ok(decoded < 1 / 255, `${path}: decoded MAD ${decoded * 255}/255`);
    assert.ok(prepared < 1 / 255, `${path}: prepared MAD ${prepared * 255}/255`);
    // And the picture is really there: close to what was encoded (lossy, noisy content), where a
    // blank or shifted decode would be off by a tenth of the range or more.
    const fidelity = meanAbsDiff(fast.data.subarray(0, w * h), Float32Array.from(f));
    assert.ok(fidelity < 8 / 255, `${path}: ${fidelity * 255}/255 from the encoded picture`);
  }
});

test("sharp path: unreadable, empty, truncated and corrupt files give the same errors, naming the file", async () => {
  const dir = tempDir();
  const png = pngGray(
    20,
    20,
    Array.from({ length: 400 }, (_, i) => i % 256),
  );
  const jpg = jpegGray(40, 40, (x, y) => x * 3 + y);
  const cases: [string, Buffer | null, RegExp][] = [
    ["missing.png", null, /missing\.png: cannot read file \(ENOENT\)/],
    ["empty.png", Buffer.alloc(0), /empty\.png: file is empty/],
    ["cut.png", png.subarray(0, png.length - 30), /cut\.png: corrupt or truncated PNG/],
    ["header.png", png.subarray(0, 20), /header\.png: corrupt or truncated PNG/],
    ["cut.jpg", jpg.subarray(0, jpg.length >> 1), /cut\.jpg: corrupt or unsupported JPEG/],
    ["noise.bin", Buffer.from("not an image at all"), /noise\.bin: unknown image format/],
  ];
  for (const [name, bytes, re] of cases) {
    const path = join(dir, name);
    if (bytes) writeFileSync(path, bytes);
    await assert.rejects(readImageFast(path), re, name);
  }
});

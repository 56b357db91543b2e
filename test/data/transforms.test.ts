import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Compose } from "../../src/data/transforms/compose.js";
import { resizeBilinear, resizeTrilinear } from "../../src/data/transforms/geometry.js";
import { clahe, minMax, percentileClip, zscore } from "../../src/data/transforms/intensity.js";
import { cropOrPad, extractSlice, flip, padToSquare, toChannels } from "../../src/data/transforms/spatial.js";
import type { ImageArray } from "../../src/data/types.js";

const img2 = (h: number, w: number, f: (y: number, x: number) => number, c = 1): ImageArray => {
  const d = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[(k * h + y) * w + x] = f(y, x) + k;
  return { data: d, shape: [c, h, w] };
};

test("bilinear resize: constant stays constant, a 2x2 upsamples like torch (align_corners=false)", () => {
  const c = resizeBilinear(
    img2(5, 7, () => 3),
    11,
    4,
  );
  assert.ok(c.data.every((v) => Math.abs(v - 3) < 1e-6));
  // torch.nn.functional.interpolate([[0,1],[2,3]], size=4, mode="bilinear", align_corners=False)
  const r = resizeBilinear({ data: Float32Array.from([0, 1, 2, 3]), shape: [1, 2, 2] }, 4, 4);
  const want = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3];
  assert.deepEqual(Array.from(r.data), want);
  // Downsampling by 2 averages pixel pairs.
  const d = resizeBilinear(
    img2(4, 4, (_y, x) => x),
    2,
    2,
  );
  assert.deepEqual(Array.from(d.data), [0.5, 2.5, 0.5, 2.5]);
});

test("trilinear resize of a linear ramp stays a ramp; spacing follows", () => {
  const vol: ImageArray = {
    data: new Float32Array(4 * 4 * 4).map((_, i) => Math.floor(i / 16)),
    shape: [1, 4, 4, 4],
    spacing: [1, 1, 1],
  };
  const r = resizeTrilinear(vol, 2, 3, 3);
  assert.deepEqual(r.shape, [1, 2, 3, 3]);
  assert.ok(Math.abs(r.data[0] - 0.5) < 1e-6 && Math.abs(r.data[9] - 2.5) < 1e-6);
  assert.deepEqual(r.spacing, [2, 4 / 3, 4 / 3]);
});

test("pad to square, crop/pad, slices, flips, channels", () => {
  const p = padToSquare(img2(2, 4, () => 1));
  assert.deepEqual(p.shape, [1, 4, 4]);
  assert.deepEqual(Array.from(p.data), [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  const cp = cropOrPad(
    img2(4, 4, (y, x) => y * 4 + x),
    [2, 2],
  );
  assert.deepEqual(Array.from(cp.data), [5, 6, 9, 10]);
  const vol: ImageArray = {
    data: new Float32Array(24).map((_, i) => i),
    shape: [1, 2, 3, 4],
    spacing: [3, 2, 1],
  };
  const s = extractSlice(vol, 1, 2);
  assert.deepEqual(s.shape, [1, 2, 4]);
  assert.deepEqual(Array.from(s.data), [8, 9, 10, 11, 20, 21, 22, 23]);
  assert.deepEqual(s.spacing, [3, 1]);
  assert.deepEqual(extractSlice(vol, 0, 1, true).data, vol.data.subarray(12));
  assert.deepEqual(Array.from(cropOrPad(vol, [2, 1, 2]).data), [5, 6, 17, 18]);
  assert.deepEqual(Array.from(cropOrPad(vol, [1, 3, 4]).data.subarray(0, 4)), [0, 1, 2, 3]);
  assert.deepEqual(
    cropOrPad(vol, [4, 3, 4]).data.subarray(0, 12),
    new Float32Array(12),
    "padding before in D",
  );
  const a = img2(3, 5, (y, x) => y * 5 + x, 2);
  assert.deepEqual(flip(flip(a, [0, 1]), [1, 0]).data, a.data);
  assert.equal(flip(a, [1]).data[0], 4);
  const rgb = img2(2, 2, () => 0.5, 3);
  assert.ok(Math.abs(toChannels(rgb, 1).data[0] - (0.299 * 0.5 + 0.587 * 1.5 + 0.114 * 2.5)) < 1e-6);
  assert.deepEqual(
    toChannels(
      img2(2, 2, () => 7),
      3,
    ).shape,
    [3, 2, 2],
  );
});

test("intensity normalisation", () => {
  const a = img2(8, 8, (y, x) => y * 8 + x);
  const z = zscore(a);
  const m = z.data.reduce((s, v) => s + v, 0) / 64;
  const sd = Math.sqrt(z.data.reduce((s, v) => s + (v - m) ** 2, 0) / 64);
  assert.ok(Math.abs(m) < 1e-6 && Math.abs(sd - 1) < 1e-5);
  const mm = minMax(a);
  assert.equal(mm.data[0], 0);
  assert.equal(mm.data[63], 1);
  const spike = img2(10, 10, (y, x) => (y === 0 && x === 0 ? 1000 : x));
  const pc = percentileClip(spike, 0, 98);
  assert.equal(pc.data[0], 1, "outlier clipped");
  assert.ok(pc.data[15] > 0.5, "normal range kept, not squashed by the outlier");
});

test("CLAHE: stays in [0,1], stretches a low-contrast image, deterministic", () => {
  const low = img2(64, 64, (y, x) => 0.4 + 0.1 * ((x + y) / 126));
  const c = clahe(low, { tiles: [2, 2], clipLimit: 4 });
  assert.ok(c.data.every((v) => v >= 0 && v <= 1));
  const range = (d: Float32Array) => Math.max(...d) - Math.min(...d);
  assert.ok(range(c.data) > 2 * range(low.data), `range ${range(c.data)}`);
  // A higher clip limit equalises harder (the limit is what keeps CLAHE from amplifying noise).
  assert.ok(range(clahe(low, { tiles: [2, 2], clipLimit: 100 }).data) > range(c.data) + 0.2);
  assert.deepEqual(clahe(low, { tiles: [2, 2], clipLimit: 4 }).data, c.data);
  // Order between the darkest and brightest corner is kept.
  assert.ok(c.data[0] < c.data[64 * 64 - 1]);
});

interface ClaheCase {
  name: string;
  height: number;
  width: number;
  depth: 8 | 16;
  tiles: [number, number];
  clipLimit: number;
  input: string;
  output: string;
}

function pixels(b64: string, depth: 8 | 16): Float64Array {
  const raw = Buffer.from(b64, "base64");
  if (depth === 8) return Float64Array.from(raw);
  const out = new Float64Array(raw.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = raw.readUInt16LE(2 * i);
  return out;
}

// Reference values: OpenCV's cv2.createCLAHE(clipLimit, tileGridSize).apply on the same pixels
// (scripts/make-clahe-fixtures.py). OpenCV rounds its float32 blend to an integer; ours is the
// unrounded blend, so it must lie within half a level of OpenCV's value (plus float32 rounding,
// about 1e-6 of the range). A wrong tile map or weight is off by a level or more somewhere.
test("CLAHE equals OpenCV's createCLAHE on 8- and 16-bit images, divisible or not by the tile grid", () => {
  const fixture = JSON.parse(readFileSync("test/fixtures/data/clahe.json", "utf8")) as { items: ClaheCase[] };
  assert.ok(fixture.items.length >= 8);
  for (const k of fixture.items) {
    const top = 2 ** k.depth - 1;
    const input = pixels(k.input, k.depth);
    const want = pixels(k.output, k.depth);
    const img: ImageArray = { data: Float32Array.from(input, (v) => v / top), shape: [1, k.height, k.width] };
    const got = clahe(img, { tiles: k.tiles, clipLimit: k.clipLimit, bins: top + 1 });
    let worst = 0;
    let at = -1;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got.data[i] * top - want[i]);
      if (d > worst) [worst, at] = [d, i];
    }
    assert.ok(
      worst <= 0.5 + 2e-6 * top,
      `${k.name}: pixel ${at} is ${got.data[at] * top}, OpenCV gives ${want[at]} (${worst} levels off)`,
    );
    assert.ok(
      input.some((v, i) => v !== want[i]),
      `${k.name}: the reference equals its input, so it tests nothing`,
    );
  }
});

test("CLAHE: several channels are equalised independently; bad options name the fault", () => {
  const a = img2(32, 32, (y, x) => 0.3 + 0.2 * Math.sin(x / 3) * Math.cos(y / 5), 1);
  const b = img2(32, 32, (y, x) => 0.5 + (0.1 * ((x * y) % 7)) / 7, 1);
  const both: ImageArray = { data: new Float32Array([...a.data, ...b.data]), shape: [2, 32, 32] };
  const o = { tiles: [4, 4] as [number, number], clipLimit: 3 };
  const c2 = clahe(both, o);
  assert.deepEqual(c2.data.subarray(0, 1024), clahe(a, o).data);
  assert.deepEqual(c2.data.subarray(1024), clahe(b, o).data);
  assert.throws(() => clahe(a, { tiles: [40, 4] }), /40x4 tile grid does not fit a 32x32 image/);
  assert.throws(() => clahe(a, { bins: 1 }), /bins must be an integer in \[2, 65536\], got 1/);
  assert.throws(() => clahe({ data: new Float32Array(8), shape: [1, 2, 2, 2] }), /expects a \[C,H,W\] image/);
});

test("Compose: augmentation is a pure function of the seed", () => {
  const aug = new Compose([
    { type: "resize", size: [20, 20] },
    { type: "randomFlip", axes: [1] },
    { type: "randomAffine", maxDegrees: 10, scale: [0.9, 1.1], translate: 0.05 },
    { type: "intensityJitter", brightness: 0.1, contrast: 0.1 },
  ]);
  const a = img2(16, 16, (y, x) => (x * 3 + y) / 64);
  assert.deepEqual(aug.apply(a, 42).data, aug.apply(a, 42).data);
  assert.notDeepEqual(aug.apply(a, 42).data, aug.apply(a, 43).data);
  const { cacheable, perEpoch } = aug.splitCacheable();
  assert.equal(cacheable.length, 1);
  assert.equal(perEpoch.length, 3);
});

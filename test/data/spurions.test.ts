import assert from "node:assert/strict";
import { test } from "node:test";
import { applySpurions } from "../../src/data/spurions/compose.js";
import {
  collimationFrame,
  contrastShift,
  gaussianNoise,
  hyperintensityBlobs,
  intensityGradient,
  intensityShift,
  markerPatch,
  morphology,
  obstructionBlock,
  rotation,
  spurionLevels,
  strokeThickness,
} from "../../src/data/spurions/synthetic.js";
import type { ImageArray } from "../../src/data/types.js";

/** 16x16 image with a vertical bar of 0.8 at columns 6..7 and a dim background of 0.1. */
function bar(): ImageArray {
  const d = new Float32Array(256).fill(0.1);
  for (let y = 2; y < 14; y++) for (let x = 6; x < 8; x++) d[y * 16 + x] = 0.8;
  return { data: d, shape: [1, 16, 16] };
}
const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

test("marker patch: value 0 leaves the image, value 1 writes the corner patch, input untouched", () => {
  const img = bar();
  const before = Float32Array.from(img.data);
  assert.deepEqual(markerPatch(img, 0).data, before);
  const m = markerPatch(img, 1, { size: 3, margin: 1, intensity: 1 });
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 16; x++) {
      const inPatch = y >= 1 && y < 4 && x >= 1 && x < 4;
      assert.equal(m.data[y * 16 + x], inPatch ? 1 : before[y * 16 + x]);
    }
  const br = markerPatch(img, 0, { mode: "corner", size: 2, margin: 0, corners: ["bottom-right"] });
  assert.equal(br.data[15 * 16 + 15], 1);
  assert.deepEqual(img.data, before);
  assert.throws(() => markerPatch(img, 9), /no level/);
});

test("intensity and contrast shifts", () => {
  const img = bar();
  const dim = intensityShift(img, 0, { scales: [0.5, 1] });
  assert.ok(Math.abs(sum(dim.data) - sum(img.data) * 0.5) < 1e-3);
  assert.deepEqual(intensityShift(img, 1, { scales: [0.5, 1] }).data, img.data);
  const lo = contrastShift(img, 0, { factors: [0.5, 1] });
  // Mean is kept, spread halves.
  assert.ok(Math.abs(sum(lo.data) - sum(img.data)) < 1e-3);
  assert.ok(Math.abs(lo.data[2 * 16 + 6] - lo.data[0] - 0.35) < 1e-6);
});

test("noise, blobs and block are deterministic given the seed", () => {
  const img = bar();
  assert.deepEqual(gaussianNoise(img, 1, 5).data, gaussianNoise(img, 1, 5).data);
  assert.notDeepEqual(gaussianNoise(img, 1, 5).data, gaussianNoise(img, 1, 6).data);
  assert.deepEqual(gaussianNoise(img, 0, 5).data, img.data);
  const b1 = hyperintensityBlobs(img, 1, 3);
  assert.deepEqual(b1.data, hyperintensityBlobs(img, 1, 3).data);
  assert.ok(sum(b1.data) > sum(img.data) + 1);
  const k = obstructionBlock(img, 1, 2, { fraction: 0.5 });
  assert.deepEqual(k.data, obstructionBlock(img, 1, 2, { fraction: 0.5 }).data);
  assert.equal(k.data.filter((v) => v === 0).length, 64);
});

test("rotation by 90 degrees turns the vertical bar horizontal", () => {
  const r = rotation(bar(), 1, { angles: [0, 90] });
  // The bar occupied columns 6..7, rows 2..13; after 90 degrees it occupies rows 8..9 (centre 7.5).
  let horizontal = 0;
  for (let x = 3; x < 13; x++) horizontal += r.data[8 * 16 + x] > 0.7 ? 1 : 0;
  assert.ok(horizontal >= 9, `bar pixels found in row 8: ${horizontal}`);
  assert.ok(r.data[3 * 16 + 6] < 0.2);
});

test("stroke thickness: dilation widens, erosion thins the bar", () => {
  const img = bar();
  const thick = strokeThickness(img, 1, { levels: [0, 1] });
  let wide = 0;
  for (let x = 0; x < 16; x++) wide += thick.data[8 * 16 + x] === 0.800000011920929 ? 1 : 0;
  assert.equal(wide, 4);
  const thin = morphology(img, "erode", 1);
  assert.ok(
    thin.data.every((v) => v <= 0.1 + 1e-6),
    "a 2-pixel bar disappears under radius-1 erosion",
  );
});

test("collimation frame: value 1 sets a band of `width` pixels on every border, the interior is kept", () => {
  const img = bar();
  const before = Float32Array.from(img.data);
  assert.deepEqual(collimationFrame(img, 0).data, before);
  const f = collimationFrame(img, 1, { width: 2, intensity: 0.9 });
  let band = 0;
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 16; x++) {
      const inBand = y < 2 || y >= 14 || x < 2 || x >= 14;
      const v = f.data[y * 16 + x];
      if (inBand) {
        band++;
        assert.ok(Math.abs(v - 0.9) < 1e-7, `(${y}, ${x}) = ${v}`);
      } else assert.equal(v, before[y * 16 + x]);
    }
  // 16^2 - 12^2 pixels in the band.
  assert.equal(band, 112);
  assert.deepEqual(img.data, before);
  assert.throws(() => collimationFrame(img, 2), /collimationFrame: spurion value 2 has no level/);
  assert.equal(spurionLevels({ type: "frame" }), 2);
});

test("intensity gradient: adds amplitude * x / (W - 1) (or y / (H - 1)), clipped to [0, 1]", () => {
  const img = bar();
  assert.deepEqual(intensityGradient(img, 0).data, img.data);
  const g = intensityGradient(img, 1, { amplitudes: [0, 0.3] });
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 16; x++) {
      const want = Math.min(1, img.data[y * 16 + x] + (0.3 * x) / 15);
      assert.ok(Math.abs(g.data[y * 16 + x] - want) < 1e-6, `(${y}, ${x})`);
    }
  // The left column is unchanged, the right one raised by the full amplitude.
  assert.equal(g.data[5 * 16], img.data[5 * 16]);
  assert.ok(Math.abs(g.data[5 * 16 + 15] - 0.4) < 1e-6);
  const v = intensityGradient(img, 2, { amplitudes: [0, 0.3, 0.95], direction: "vertical" });
  assert.ok(Math.abs(v.data[15 * 16] - 1) < 1e-7, "clipped at 1");
  assert.equal(v.data[3], img.data[3]);
  assert.throws(
    () => intensityGradient(img, 3),
    /intensityGradient: spurion value 3 has no level \(levels: 2\)/,
  );
  assert.equal(spurionLevels({ type: "gradient", amplitudes: [0, 0.2, 0.4] }), 3);
});

test("compose: the gradient is applied before the frame, so the frame keeps its exact intensity", () => {
  const img = bar();
  const out = applySpurions(img, [{ type: "frame", intensity: 0.5 }, { type: "gradient" }], [1, 1], 0);
  assert.ok(Math.abs(out.data[15] - 0.5) < 1e-7, "top-right frame pixel is not raised by the ramp");
  assert.ok(Math.abs(out.data[8 * 16 + 12] - (0.1 + (0.4 * 12) / 15)) < 1e-6);
});

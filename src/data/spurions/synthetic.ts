// Synthetic spurions written into the image, with known ground truth (METHOD.md "Data protocol").
// Each function takes a [C,H,W] image with intensities in [0,1] and the spurion's value, returns a
// new image and never mutates its input. Anything random (noise, blob positions) is drawn from a
// PRNG seeded by the caller, so the same (image, value, seed) always gives the same pixels.
//
// Value 0 is the "absent" level for the presence-type spurions (marker, blobs, block); for the
// level-type spurions (intensity, contrast, noise, rotation, thickness) the value indexes a list of
// levels, so they work for binary and multi-class spurions alike.
import { Rng } from "../../util/random.js";
import { affineMatrix, warpAffine2d } from "../transforms/geometry.js";
import type { ImageArray } from "../types.js";

export type Corner = "top-left" | "top-right" | "bottom-left" | "bottom-right";

function copy(img: ImageArray): ImageArray {
  return { data: new Float32Array(img.data), shape: img.shape.slice(), spacing: img.spacing?.slice() };
}

function level<T>(levels: readonly T[], value: number, what: string): T {
  if (!(value >= 0 && value < levels.length)) {
    throw new Error(`${what}: spurion value ${value} has no level (levels: ${levels.length})`);
  }
  return levels[value];
}

export interface MarkerOptions {
  /** Side of the square patch in pixels. */
  size?: number;
  /** Distance from the image border. */
  margin?: number;
  intensity?: number;
  /**
   * "presence": value 0 = no patch, value v > 0 = patch in corners[v-1] (default corners[0] only).
   * "corner": value v = patch in corners[v] (every value carries a patch; only its place differs).
   */
  mode?: "presence" | "corner";
  corners?: Corner[];
}

/** A "hospital tag": a bright square patch in a corner. */
export function markerPatch(img: ImageArray, value: number, o: MarkerOptions = {}): ImageArray {
  const size = o.size ?? 4;
  const margin = o.margin ?? 1;
  const intensity = o.intensity ?? 1;
  const corners = o.corners ?? ["top-left", "top-right", "bottom-left", "bottom-right"];
  const out = copy(img);
  let corner: Corner;
  if ((o.mode ?? "presence") === "presence") {
    if (value === 0) return out;
    corner = level(corners, value - 1, "markerPatch");
  } else corner = level(corners, value, "markerPatch");
  const [c, h, w] = img.shape;
  const y0 = corner.startsWith("top") ? margin : h - margin - size;
  const x0 = corner.endsWith("left") ? margin : w - margin - size;
  for (let ch = 0; ch < c; ch++)
    for (let y = Math.max(0, y0); y < Math.min(h, y0 + size); y++)
      for (let x = Math.max(0, x0); x < Math.min(w, x0 + size); x++)
        out.data[ch * h * w + y * w + x] = intensity;
  return out;
}

/** out = x * scale[v] + offset[v], clipped to [0,1]: a global brightness change (e.g. scanner gain). */
export function intensityShift(
  img: ImageArray,
  value: number,
  o: { scales?: number[]; offsets?: number[] } = {},
): ImageArray {
  const scale = level(o.scales ?? [0.55, 1], value, "intensityShift");
  const offset = o.offsets ? level(o.offsets, value, "intensityShift") : 0;
  const out = copy(img);
  for (let i = 0; i < out.data.length; i++)
    out.data[i] = Math.min(1, Math.max(0, out.data[i] * scale + offset));
  return out;
}

/** Contrast about the image mean: out = m + (x - m) * factor[v], clipped to [0,1]. */
export function contrastShift(img: ImageArray, value: number, o: { factors?: number[] } = {}): ImageArray {
  const f = level(o.factors ?? [0.5, 1], value, "contrastShift");
  const out = copy(img);
  let m = 0;
  for (const v of img.data) m += v;
  m /= img.data.length || 1;
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.min(1, Math.max(0, m + (out.data[i] - m) * f));
  return out;
}

/** Additive Gaussian noise with standard deviation sigmas[v], clipped to [0,1]. */
export function gaussianNoise(
  img: ImageArray,
  value: number,
  seed: number,
  o: { sigmas?: number[] } = {},
): ImageArray {
  const s = level(o.sigmas ?? [0, 0.2], value, "gaussianNoise");
  const out = copy(img);
  if (s === 0) return out;
  const rng = new Rng(seed);
  for (let i = 0; i < out.data.length; i++)
    out.data[i] = Math.min(1, Math.max(0, out.data[i] + s * rng.normal()));
  return out;
}

/** Rotation by angles[v] degrees about the centre (bilinear, background 0). */
export function rotation(img: ImageArray, value: number, o: { angles?: number[] } = {}): ImageArray {
  const a = level(o.angles ?? [0, 30], value, "rotation");
  if (a === 0) return copy(img);
  return warpAffine2d(img, affineMatrix(a), 0);
}

/** Grey-scale dilation (max) or erosion (min) over a disc of the given radius. */
export function morphology(img: ImageArray, op: "dilate" | "erode", radius: number): ImageArray {
  const [c, h, w] = img.shape;
  const out = new Float32Array(img.data.length);
  const offs: [number, number][] = [];
  const r = Math.ceil(radius);
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= radius * radius + 1e-9) offs.push([dy, dx]);
  const dil = op === "dilate";
  for (let ch = 0; ch < c; ch++) {
    const b = ch * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = dil ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
        for (const [dy, dx] of offs) {
          const yy = y + dy;
          const xx = x + dx;
          // Outside the image counts as background (0) for erosion too, so thin strokes at the
          // border erode like interior ones.
          const s = yy >= 0 && yy < h && xx >= 0 && xx < w ? img.data[b + yy * w + xx] : 0;
          v = dil ? Math.max(v, s) : Math.min(v, s);
        }
        out[b + y * w + x] = v;
      }
  }
  return { data: out, shape: img.shape.slice(), spacing: img.spacing?.slice() };
}

/**
 * Stroke thickness (Morpho-MNIST style): levels[v] > 0 dilates with that radius, < 0 erodes with
 * |radius|, 0 leaves the image alone. Default: value 0 = thin (erode 1), value 1 = thick (dilate 1).
 */
export function strokeThickness(img: ImageArray, value: number, o: { levels?: number[] } = {}): ImageArray {
  const l = level(o.levels ?? [0, 1], value, "strokeThickness");
  if (l === 0) return copy(img);
  return morphology(img, l > 0 ? "dilate" : "erode", Math.abs(l));
}

/** Bright "hyperintensity" blobs (Gaussian bumps) at seeded positions; value 0 = none. */
export function hyperintensityBlobs(
  img: ImageArray,
  value: number,
  seed: number,
  o: { count?: number; radius?: number; intensity?: number } = {},
): ImageArray {
  const out = copy(img);
  if (value === 0) return out;
  const [c, h, w] = img.shape;
  const rng = new Rng(seed);
  const count = o.count ?? 3;
  const radius = o.radius ?? Math.max(1.5, Math.min(h, w) / 14);
  const amp = o.intensity ?? 0.9;
  for (let k = 0; k < count; k++) {
    const cy = rng.uniform(radius, h - radius);
    const cx = rng.uniform(radius, w - radius);
    const r2 = 2 * radius * radius * 0.25;
    const y0 = Math.max(0, Math.floor(cy - 2 * radius));
    const y1 = Math.min(h - 1, Math.ceil(cy + 2 * radius));
    const x0 = Math.max(0, Math.floor(cx - 2 * radius));
    const x1 = Math.min(w - 1, Math.ceil(cx + 2 * radius));
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        const g = amp * Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / r2);
        for (let ch = 0; ch < c; ch++) {
          const i = ch * h * w + y * w + x;
          out.data[i] = Math.min(1, out.data[i] + g);
        }
      }
  }
  return out;
}

/** A dark rectangular obstruction at a seeded position; value 0 = none. */
export function obstructionBlock(
  img: ImageArray,
  value: number,
  seed: number,
  o: { fraction?: number; intensity?: number } = {},
): ImageArray {
  const out = copy(img);
  if (value === 0) return out;
  const [c, h, w] = img.shape;
  const rng = new Rng(seed);
  const bh = Math.max(1, Math.round(h * (o.fraction ?? 0.25)));
  const bw = Math.max(1, Math.round(w * (o.fraction ?? 0.25)));
  const y0 = rng.int(h - bh + 1);
  const x0 = rng.int(w - bw + 1);
  const v = o.intensity ?? 0;
  for (let ch = 0; ch < c; ch++)
    for (let y = y0; y < y0 + bh; y++)
      for (let x = x0; x < x0 + bw; x++) out.data[ch * h * w + y * w + x] = v;
  return out;
}

/**
 * A collimation / shutter frame: a band of `width` pixels along every image border set to
 * `intensity` (value 1; value 0 = no frame). In radiographs the collimator leaves an unexposed
 * border whose width and brightness differ between sites and devices.
 */
export function collimationFrame(
  img: ImageArray,
  value: number,
  o: { width?: number; intensity?: number } = {},
): ImageArray {
  const out = copy(img);
  if (value === 0) return out;
  if (value !== 1) throw new Error(`collimationFrame: spurion value ${value} has no level (levels: 2)`);
  const [c, h, w] = img.shape;
  const band = o.width ?? 2;
  const v = o.intensity ?? 1;
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        if (y < band || y >= h - band || x < band || x >= w - band) out.data[ch * h * w + y * w + x] = v;
  return out;
}

/**
 * A smooth background intensity gradient (the X-ray heel effect, an MRI bias field): adds
 * amplitudes[v] * t, where t runs linearly from 0 at the left (top for "vertical") edge to 1 at the
 * opposite one, clipped to [0,1]. Default: value 0 = none, value 1 = a ramp of amplitude 0.4.
 */
export function intensityGradient(
  img: ImageArray,
  value: number,
  o: { amplitudes?: number[]; direction?: "horizontal" | "vertical" } = {},
): ImageArray {
  const a = level(o.amplitudes ?? [0, 0.4], value, "intensityGradient");
  const out = copy(img);
  if (a === 0) return out;
  const [c, h, w] = img.shape;
  const vertical = o.direction === "vertical";
  const span = Math.max(1, (vertical ? h : w) - 1);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = ch * h * w + y * w + x;
        out.data[i] = Math.min(1, Math.max(0, out.data[i] + (a * (vertical ? y : x)) / span));
      }
  return out;
}

/** A spurion described as data, so benchmarks and worker threads can carry it in a config. */
export type SyntheticSpurion =
  | ({ type: "marker" } & MarkerOptions)
  | { type: "intensity"; scales?: number[]; offsets?: number[] }
  | { type: "contrast"; factors?: number[] }
  | { type: "noise"; sigmas?: number[] }
  | { type: "rotation"; angles?: number[] }
  | { type: "thickness"; levels?: number[] }
  | { type: "blobs"; count?: number; radius?: number; intensity?: number }
  | { type: "block"; fraction?: number; intensity?: number }
  | { type: "frame"; width?: number; intensity?: number }
  | { type: "gradient"; amplitudes?: number[]; direction?: "horizontal" | "vertical" };

export function applySpurion(
  img: ImageArray,
  spec: SyntheticSpurion,
  value: number,
  seed: number,
): ImageArray {
  switch (spec.type) {
    case "marker":
      return markerPatch(img, value, spec);
    case "intensity":
      return intensityShift(img, value, spec);
    case "contrast":
      return contrastShift(img, value, spec);
    case "noise":
      return gaussianNoise(img, value, seed, spec);
    case "rotation":
      return rotation(img, value, spec);
    case "thickness":
      return strokeThickness(img, value, spec);
    case "blobs":
      return hyperintensityBlobs(img, value, seed, spec);
    case "block":
      return obstructionBlock(img, value, seed, spec);
    case "frame":
      return collimationFrame(img, value, spec);
    case "gradient":
      return intensityGradient(img, value, spec);
  }
}

/** How many values a spurion spec supports (for sizing heads). */
export function spurionLevels(spec: SyntheticSpurion): number {
  switch (spec.type) {
    case "marker":
      return (spec.mode ?? "presence") === "presence"
        ? spec.corners
          ? spec.corners.length + 1
          : 2
        : (spec.corners?.length ?? 4);
    case "intensity":
      return (spec.scales ?? [0, 0]).length;
    case "contrast":
      return (spec.factors ?? [0, 0]).length;
    case "noise":
      return (spec.sigmas ?? [0, 0]).length;
    case "rotation":
      return (spec.angles ?? [0, 0]).length;
    case "thickness":
      return (spec.levels ?? [0, 0]).length;
    case "gradient":
      return (spec.amplitudes ?? [0, 0]).length;
    default:
      return 2;
  }
}

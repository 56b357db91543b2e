// Transforms described as data (MONAI-like), so a pipeline can be sent to worker threads, saved
// with a run and reproduced. Every random transform draws from an Rng the caller seeds; the
// loader seeds it with (seed, epoch, item), which is what makes augmentation identical with and
// without workers and after a resume.
import { Rng } from "../../util/random.js";
import type { ImageArray } from "../types.js";
import { clahe } from "./clahe.js";
import { affineMatrix, resizeBilinear, resizeTrilinear, warpAffine2d } from "./geometry.js";
import { intensityJitter, minMax, normalizeFixed, percentileClip, zscore } from "./intensity.js";
import { cropOrPad, extractSlice, flip, padToSquare, toChannels, translate } from "./spatial.js";

export type TransformSpec =
  /** Bilinear (2D) / trilinear (3D) resize of the spatial axes to `size`. */
  | { type: "resize"; size: number[] }
  | { type: "padToSquare"; fill?: number }
  | { type: "cropOrPad"; size: number[]; fill?: number }
  | { type: "slice"; axis: 0 | 1 | 2; index: number; fraction?: boolean }
  | { type: "zscore" }
  | { type: "minMax"; lo?: number; hi?: number }
  | { type: "percentileClip"; lower?: number; upper?: number }
  | { type: "normalize"; mean: number[]; std: number[] }
  | { type: "scale"; factor: number; offset?: number }
  | { type: "clahe"; tiles?: [number, number]; clipLimit?: number; bins?: number }
  | { type: "channels"; channels: 1 | 3 }
  // --- augmentation (random) ---
  /** Flips each listed spatial axis independently with probability p. */
  | { type: "randomFlip"; axes: number[]; p?: number }
  /**
   * Rotation by a uniform angle in [-maxDegrees, maxDegrees]; 2D, or in the H-W plane of every
   * slice of a volume (one angle per volume).
   */
  | { type: "randomRotate"; maxDegrees: number; p?: number }
  /**
   * torchvision's RandomCrop(size, padding): pad every spatial side by `padding` (with `fill`), then
   * crop the original size back at a uniformly random offset (2D or 3D).
   */
  | { type: "randomCrop"; padding: number; fill?: number }
  /** Random rotation, isotropic scale and translation (fraction of size) in one resampling (2D). */
  | {
      type: "randomAffine";
      maxDegrees?: number;
      scale?: [number, number];
      translate?: number;
      shear?: number;
      p?: number;
    }
  | { type: "intensityJitter"; brightness?: number; contrast?: number; gamma?: number; p?: number };

export function isRandom(spec: TransformSpec): boolean {
  return spec.type.startsWith("random") || spec.type === "intensityJitter";
}

function spatialSize(img: ImageArray): number[] {
  return img.shape.slice(1);
}

export function applyTransform(img: ImageArray, t: TransformSpec, rng: Rng): ImageArray {
  switch (t.type) {
    case "resize": {
      const sp = spatialSize(img);
      if (t.size.length !== sp.length)
        throw new Error(`resize: size [${t.size}] does not match image shape [${img.shape}]`);
      if (sp.every((s, i) => s === t.size[i])) return img;
      return sp.length === 2
        ? resizeBilinear(img, t.size[0], t.size[1])
        : resizeTrilinear(img, t.size[0], t.size[1], t.size[2]);
    }
    case "padToSquare":
      return padToSquare(img, t.fill ?? 0);
    case "cropOrPad":
      return cropOrPad(img, t.size, t.fill ?? 0);
    case "slice":
      return extractSlice(img, t.axis, t.index, t.fraction ?? false);
    case "zscore":
      return zscore(img);
    case "minMax":
      return minMax(img, t.lo ?? 0, t.hi ?? 1);
    case "percentileClip":
      return percentileClip(img, t.lower ?? 1, t.upper ?? 99);
    case "normalize":
      return normalizeFixed(img, t.mean, t.std);
    case "scale": {
      const out = new Float32Array(img.data.length);
      for (let i = 0; i < out.length; i++) out[i] = img.data[i] * t.factor + (t.offset ?? 0);
      return { ...img, data: out };
    }
    case "clahe":
      return clahe(img, t);
    case "channels":
      return toChannels(img, t.channels);
    case "randomFlip": {
      const axes = t.axes.filter(() => rng.next() < (t.p ?? 0.5));
      return axes.length ? flip(img, axes) : img;
    }
    case "randomRotate": {
      // Draw the angle even when p skips it, so one transform's p does not shift later draws.
      const apply = rng.next() < (t.p ?? 1);
      const a = rng.uniform(-t.maxDegrees, t.maxDegrees);
      if (!apply) return img;
      if (img.shape.length === 3) return warpAffine2d(img, affineMatrix(a), 0);
      // A volume [C, D, H, W]: the same in-plane rotation for each of its C*D slices.
      const [h, w] = img.shape.slice(-2);
      const planes = img.data.length / (h * w);
      const out = warpAffine2d({ data: img.data, shape: [planes, h, w] }, affineMatrix(a), 0);
      return { data: out.data, shape: img.shape.slice(), spacing: img.spacing?.slice() };
    }
    case "randomCrop": {
      const sp = spatialSize(img);
      const shift = sp.map(() => rng.int(2 * t.padding + 1) - t.padding);
      return t.padding > 0 ? translate(img, shift, t.fill ?? 0) : img;
    }
    case "randomAffine": {
      const apply = rng.next() < (t.p ?? 1);
      const a = rng.uniform(-(t.maxDegrees ?? 10), t.maxDegrees ?? 10);
      const [s0, s1] = t.scale ?? [0.9, 1.1];
      const s = rng.uniform(s0, s1);
      const [, h, w] = img.shape;
      const tr = t.translate ?? 0.05;
      const dx = rng.uniform(-tr, tr) * w;
      const dy = rng.uniform(-tr, tr) * h;
      const sh = rng.uniform(-(t.shear ?? 0), t.shear ?? 0);
      return apply ? warpAffine2d(img, affineMatrix(a, s, dx, dy, sh), 0) : img;
    }
    case "intensityJitter": {
      const apply = rng.next() < (t.p ?? 1);
      const out = intensityJitter(
        img,
        { brightness: t.brightness ?? 0.1, contrast: t.contrast ?? 0.1, gamma: t.gamma ?? 0 },
        () => rng.next(),
      );
      return apply ? out : img;
    }
  }
}

/** A chain of transforms; `apply(img, seed)` is a pure function of its arguments. */
export class Compose {
  readonly specs: readonly TransformSpec[];
  constructor(specs: readonly TransformSpec[]) {
    this.specs = specs;
  }
  apply(img: ImageArray, seed = 0): ImageArray {
    const rng = new Rng(seed);
    let out = img;
    for (const t of this.specs) out = applyTransform(out, t, rng);
    return out;
  }
  /** The longest deterministic prefix can be cached; the rest must run every epoch. */
  splitCacheable(): { cacheable: TransformSpec[]; perEpoch: TransformSpec[] } {
    const k = this.specs.findIndex(isRandom);
    const cut = k < 0 ? this.specs.length : k;
    return { cacheable: this.specs.slice(0, cut), perEpoch: this.specs.slice(cut) };
  }
}

// Intensity transforms on [C,...] arrays. Normalisation is per image (per channel where stated),
// because medical images have no common intensity scale across scanners and sites.
import type { ImageArray } from "../types.js";
import { imageKernels } from "./native-image.js";

function like(img: ImageArray, data: Float32Array): ImageArray {
  return { data, shape: img.shape.slice(), spacing: img.spacing?.slice(), affine: img.affine };
}

function channelSize(img: ImageArray): number {
  return img.data.length / img.shape[0];
}

/** Value at percentile p (0..100) with linear interpolation, on a sorted copy. */
export function percentile(values: Float32Array, p: number): number {
  const s = Float32Array.from(values).sort();
  if (s.length === 0) return 0;
  const pos = (p / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Zero mean, unit variance per channel (a constant channel becomes all zeros, not NaN). */
export function zscore(img: ImageArray, eps = 1e-8): ImageArray {
  const out = new Float32Array(img.data.length);
  const n = channelSize(img);
  for (let c = 0; c < img.shape[0]; c++) {
    let m = 0;
    for (let i = c * n; i < (c + 1) * n; i++) m += img.data[i];
    m /= n;
    let v = 0;
    for (let i = c * n; i < (c + 1) * n; i++) v += (img.data[i] - m) ** 2;
    const sd = Math.sqrt(v / n);
    for (let i = c * n; i < (c + 1) * n; i++) out[i] = sd > eps ? (img.data[i] - m) / sd : 0;
  }
  return like(img, out);
}

/**
 * Maps [min,max] of each channel to [lo,hi] (default [0,1]); a constant channel becomes lo, and NaN
 * values are ignored by the min and max. Native (native/image/image.cc): every 2-D pipeline runs it.
 */
export function minMax(img: ImageArray, lo = 0, hi = 1): ImageArray {
  return like(img, imageKernels().minMax(img.data, img.shape[0], lo, hi));
}

/**
 * Clips each channel to its [lower, upper] percentiles and rescales that range to [0,1]: robust to
 * the few extreme voxels (metal, burned-in text) that would otherwise squash min-max scaling.
 */
export function percentileClip(img: ImageArray, lower = 1, upper = 99): ImageArray {
  const out = new Float32Array(img.data.length);
  const n = channelSize(img);
  for (let c = 0; c < img.shape[0]; c++) {
    const ch = img.data.subarray(c * n, (c + 1) * n);
    const lo = percentile(ch, lower);
    const hi = percentile(ch, upper);
    const r = hi - lo;
    for (let i = 0; i < n; i++) out[c * n + i] = r > 0 ? Math.min(1, Math.max(0, (ch[i] - lo) / r)) : 0;
  }
  return like(img, out);
}

/** out = (x - mean) / std with fixed constants (e.g. ImageNet statistics per channel). */
export function normalizeFixed(img: ImageArray, mean: number[], std: number[]): ImageArray {
  const out = new Float32Array(img.data.length);
  const n = channelSize(img);
  for (let c = 0; c < img.shape[0]; c++) {
    const m = mean[c % mean.length];
    const s = std[c % std.length];
    for (let i = c * n; i < (c + 1) * n; i++) out[i] = (img.data[i] - m) / s;
  }
  return like(img, out);
}

/** Random brightness (additive), contrast (about the mean) and gamma, drawn from the given ranges. */
export function intensityJitter(
  img: ImageArray,
  r: { brightness: number; contrast: number; gamma: number },
  draw: () => number,
): ImageArray {
  const b = (draw() * 2 - 1) * r.brightness;
  const c = 1 + (draw() * 2 - 1) * r.contrast;
  const g = Math.exp((draw() * 2 - 1) * Math.log(1 + r.gamma));
  let m = 0;
  for (const v of img.data) m += v;
  m /= img.data.length || 1;
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    let v = m + (img.data[i] - m) * c + b;
    // Gamma only makes sense on non-negative values; applied to the positive part.
    if (g !== 1 && v > 0) v = v ** g;
    out[i] = v;
  }
  return like(img, out);
}

// CLAHE lives in clahe.ts (OpenCV-compatible tiled version); re-exported for existing imports.
export { clahe } from "./clahe.js";

// Intensity transforms on [C,...] arrays. Normalisation is per image (per channel where stated),
// because medical images have no common intensity scale across scanners and sites.
import type { ImageArray } from "../types.js";

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

/** Maps [min,max] of each channel to [lo,hi] (default [0,1]). */
export function minMax(img: ImageArray, lo = 0, hi = 1): ImageArray {
  const out = new Float32Array(img.data.length);
  const n = channelSize(img);
  for (let c = 0; c < img.shape[0]; c++) {
    let mn = Number.POSITIVE_INFINITY;
    let mx = Number.NEGATIVE_INFINITY;
    for (let i = c * n; i < (c + 1) * n; i++) {
      mn = Math.min(mn, img.data[i]);
      mx = Math.max(mx, img.data[i]);
    }
    const r = mx - mn;
    for (let i = c * n; i < (c + 1) * n; i++) out[i] = r > 0 ? lo + ((img.data[i] - mn) / r) * (hi - lo) : lo;
  }
  return like(img, out);
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

/**
 * CLAHE (contrast-limited adaptive histogram equalisation), the usual X-ray preprocessing: local
 * histogram equalisation per tile, with each histogram clipped at `clipLimit` x the mean bin count
 * (the excess redistributed evenly) so noise in flat regions is not amplified; mappings of the four
 * nearest tiles are blended bilinearly to avoid tile seams. Input is assumed in [0,1]
 * (values outside are clamped); output is in [0,1]. 2D only ([C,H,W], each channel separately).
 */
export function clahe(
  img: ImageArray,
  o: { tiles?: [number, number]; clipLimit?: number; bins?: number } = {},
): ImageArray {
  if (img.shape.length !== 3) throw new Error(`clahe: expects a [C,H,W] image, got shape [${img.shape}]`);
  const [C, H, W] = img.shape;
  const [ty, tx] = o.tiles ?? [8, 8];
  const bins = o.bins ?? 256;
  const clip = o.clipLimit ?? 2;
  const out = new Float32Array(img.data.length);
  const th = H / ty;
  const tw = W / tx;
  const binOf = (v: number): number => Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
  for (let c = 0; c < C; c++) {
    const base = c * H * W;
    // maps[t][b]: equalised value of bin b in tile t.
    const maps: Float32Array[] = [];
    for (let j = 0; j < ty; j++) {
      for (let i = 0; i < tx; i++) {
        const y0 = Math.floor(j * th);
        const y1 = Math.max(y0 + 1, Math.floor((j + 1) * th));
        const x0 = Math.floor(i * tw);
        const x1 = Math.max(x0 + 1, Math.floor((i + 1) * tw));
        const hist = new Float64Array(bins);
        for (let y = y0; y < Math.min(y1, H); y++)
          for (let x = x0; x < Math.min(x1, W); x++) hist[binOf(img.data[base + y * W + x])]++;
        const count = (Math.min(y1, H) - y0) * (Math.min(x1, W) - x0);
        const limit = Math.max(1, (clip * count) / bins);
        let excess = 0;
        for (let b = 0; b < bins; b++) {
          if (hist[b] > limit) {
            excess += hist[b] - limit;
            hist[b] = limit;
          }
        }
        const add = excess / bins;
        const map = new Float32Array(bins);
        let cum = 0;
        for (let b = 0; b < bins; b++) {
          cum += hist[b] + add;
          map[b] = cum / count;
        }
        maps.push(map);
      }
    }
    for (let y = 0; y < H; y++) {
      // Position in tile-centre coordinates, clamped at the border tiles.
      const gy = Math.min(ty - 1, Math.max(0, (y + 0.5) / th - 0.5));
      const j0 = Math.floor(gy);
      const j1 = Math.min(j0 + 1, ty - 1);
      const fy = gy - j0;
      for (let x = 0; x < W; x++) {
        const gx = Math.min(tx - 1, Math.max(0, (x + 0.5) / tw - 0.5));
        const i0 = Math.floor(gx);
        const i1 = Math.min(i0 + 1, tx - 1);
        const fx = gx - i0;
        const b = binOf(img.data[base + y * W + x]);
        const a = maps[j0 * tx + i0][b] * (1 - fx) + maps[j0 * tx + i1][b] * fx;
        const d = maps[j1 * tx + i0][b] * (1 - fx) + maps[j1 * tx + i1][b] * fx;
        out[base + y * W + x] = a * (1 - fy) + d * fy;
      }
    }
  }
  return like(img, out);
}

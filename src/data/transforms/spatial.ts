// Shape-changing transforms that are not resampling: pad to square, centre crop/pad to a fixed
// shape, slice extraction, flips, channel conversion.
import type { ImageArray } from "../types.js";

/** Pads the shorter side of a [C,H,W] image symmetrically so H = W (keeps aspect ratio before resize). */
export function padToSquare(img: ImageArray, fill = 0): ImageArray {
  const [, h, w] = img.shape;
  const s = Math.max(h, w);
  return cropOrPad(img, [s, s], fill);
}

/**
 * Centre crop and/or pad the spatial axes to `size` (2D [H,W] or 3D [D,H,W]). Used for volumes
 * whose field of view differs slightly between subjects, where resampling would change voxel size.
 */
export function cropOrPad(img: ImageArray, size: readonly number[], fill = 0): ImageArray {
  const sp = img.shape.slice(1);
  if (sp.length !== size.length)
    throw new Error(`cropOrPad: image has ${sp.length} spatial axes, size has ${size.length}`);
  const c = img.shape[0];
  const out = new Float32Array(c * size.reduce((a, b) => a * b, 1)).fill(fill);
  if (sp.length === 2) {
    // 2D fast path: whole row segments are copied with TypedArray.set.
    const [h, w] = sp;
    const [oh, ow] = size;
    const oy = Math.floor((h - oh) / 2);
    const ox = Math.floor((w - ow) / 2);
    const x0 = Math.max(0, -ox);
    const x1 = Math.min(ow, w - ox);
    for (let ch = 0; ch < c; ch++)
      for (let y = Math.max(0, -oy); y < Math.min(oh, h - oy); y++) {
        const src = ch * h * w + (y + oy) * w + ox;
        out.set(img.data.subarray(src + x0, src + x1), ch * oh * ow + y * ow + x0);
      }
    return { data: out, shape: [c, oh, ow], spacing: img.spacing?.slice() };
  }
  // Offset of output axis start within input (negative = padding before).
  const off = sp.map((n, i) => Math.floor((n - size[i]) / 2));
  const inStr = sp.map((_, i) => sp.slice(i + 1).reduce((a, b) => a * b, 1));
  const outStr = size.map((_, i) => size.slice(i + 1).reduce((a, b) => a * b, 1));
  const inN = sp.reduce((a, b) => a * b, 1);
  const outN = outStr[0] * size[0];
  const last = size.length - 1;
  const idx = new Array<number>(size.length).fill(0);
  const rows = outN / size[last];
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < rows; r++) {
      // Decompose row index into the leading output coordinates.
      let rem = r;
      let ok = true;
      let inBase = ch * inN;
      for (let a = 0; a < last; a++) {
        idx[a] = Math.floor(rem / (outStr[a] / size[last]));
        rem -= idx[a] * (outStr[a] / size[last]);
        const src = idx[a] + off[a];
        if (src < 0 || src >= sp[a]) {
          ok = false;
          break;
        }
        inBase += src * inStr[a];
      }
      if (!ok) continue;
      const outBase = ch * outN + r * size[last];
      for (let x = 0; x < size[last]; x++) {
        const src = x + off[last];
        if (src >= 0 && src < sp[last]) out[outBase + x] = img.data[inBase + src];
      }
    }
  }
  return { data: out, shape: [c, ...size], spacing: img.spacing?.slice() };
}

/**
 * Shifts the content by `shift[a]` voxels along each spatial axis a, keeping the shape
 * (out[x] = in[x - shift], `fill` where that falls outside): a padded random crop is a translation
 * by the pad minus the crop offset.
 */
export function translate(img: ImageArray, shift: readonly number[], fill = 0): ImageArray {
  const sp = img.shape.slice(1);
  if (sp.length !== shift.length)
    throw new Error(`translate: image has ${sp.length} spatial axes, shift has ${shift.length}`);
  const c = img.shape[0];
  const last = sp.length - 1;
  const w = sp[last];
  const rows = img.data.length / w; // every (channel, leading coordinates) row
  const out = new Float32Array(img.data.length).fill(fill);
  const dx = shift[last];
  const x0 = Math.max(0, dx);
  const x1 = Math.min(w, w + dx);
  const lead = sp.slice(0, last);
  const coord = new Array<number>(lead.length).fill(0);
  for (let r = 0; r < rows; r++) {
    // r = ((ch * sp0 + i0) * sp1 + i1) ...: decode the leading coordinates, last fastest.
    let rem = r;
    for (let a = lead.length - 1; a >= 0; a--) {
      coord[a] = rem % lead[a];
      rem = Math.floor(rem / lead[a]);
    }
    let src = rem; // the channel
    let ok = rem < c;
    for (let a = 0; a < lead.length && ok; a++) {
      const s = coord[a] - shift[a];
      if (s < 0 || s >= lead[a]) ok = false;
      src = src * lead[a] + s;
    }
    if (!ok || x1 <= x0) continue;
    out.set(img.data.subarray(src * w + x0 - dx, src * w + x1 - dx), r * w + x0);
  }
  return { data: out, shape: img.shape.slice(), spacing: img.spacing?.slice() };
}

/** Flips along the given spatial axes (0 = first spatial axis). */
export function flip(img: ImageArray, axes: readonly number[]): ImageArray {
  const shape = img.shape;
  const nd = shape.length;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(img.data.length);
  const flipAxis = shape.map((_, i) => i > 0 && axes.includes(i - 1));
  const coord = new Array<number>(nd).fill(0);
  for (let i = 0; i < img.data.length; i++) {
    let rem = i;
    let dst = 0;
    for (let a = 0; a < nd; a++) {
      coord[a] = Math.floor(rem / strides[a]);
      rem -= coord[a] * strides[a];
      dst += (flipAxis[a] ? shape[a] - 1 - coord[a] : coord[a]) * strides[a];
    }
    out[dst] = img.data[i];
  }
  return { data: out, shape: shape.slice(), spacing: img.spacing?.slice() };
}

/** Converts the channel count: 3/4 -> 1 (luma, ITU-R 601 weights; alpha dropped), 1 -> 3 (repeat). */
export function toChannels(img: ImageArray, channels: 1 | 3): ImageArray {
  const c = img.shape[0];
  const n = img.data.length / c;
  if (c === channels) return img;
  if (channels === 1) {
    const out = new Float32Array(n);
    if (c >= 3)
      for (let i = 0; i < n; i++)
        out[i] = 0.299 * img.data[i] + 0.587 * img.data[n + i] + 0.114 * img.data[2 * n + i];
    else out.set(img.data.subarray(0, n)); // gray+alpha: keep gray
    return { data: out, shape: [1, ...img.shape.slice(1)], spacing: img.spacing?.slice() };
  }
  const out = new Float32Array(3 * n);
  const src = img.data.subarray(0, n);
  for (let k = 0; k < 3; k++) out.set(c >= 3 ? img.data.subarray(k * n, (k + 1) * n) : src, k * n);
  return { data: out, shape: [3, ...img.shape.slice(1)], spacing: img.spacing?.slice() };
}

/**
 * One 2D slice [C,H',W'] from a [C,D,H,W] volume. `axis` is the spatial axis (0 = D, 1 = H, 2 = W);
 * `index` is a voxel index, or a fraction in [0,1] of the axis length when `fraction` is set.
 */
export function extractSlice(img: ImageArray, axis: 0 | 1 | 2, index: number, fraction = false): ImageArray {
  const [c, d, h, w] = img.shape;
  const len = [d, h, w][axis];
  const k = fraction ? Math.min(len - 1, Math.max(0, Math.round(index * (len - 1)))) : index;
  if (!(k >= 0 && k < len)) throw new Error(`extractSlice: index ${k} outside axis ${axis} of length ${len}`);
  const dims = [d, h, w];
  const keep = [0, 1, 2].filter((a) => a !== axis);
  const oh = dims[keep[0]];
  const ow = dims[keep[1]];
  const out = new Float32Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++)
    for (let a = 0; a < oh; a++)
      for (let b = 0; b < ow; b++) {
        const co = [0, 0, 0];
        co[axis] = k;
        co[keep[0]] = a;
        co[keep[1]] = b;
        out[(ch * oh + a) * ow + b] = img.data[((ch * d + co[0]) * h + co[1]) * w + co[2]];
      }
  const spacing = img.spacing ? keep.map((a) => img.spacing![a]) : undefined;
  return { data: out, shape: [c, oh, ow], spacing };
}

// Geometric resampling on plain arrays: bilinear/trilinear resize and 2D affine warps.
// Coordinates use pixel centres (align_corners = false, as torch/MONAI default) so resizing up
// and down does not shift the image by half a pixel.
import type { ImageArray } from "../types.js";
import { imageKernels } from "./native-image.js";

/**
 * Bilinear resize of a [C,H,W] image to [C,outH,outW]: each output pixel centre maps to
 * (i + 0.5) * in / out - 0.5 in the input, clamped at 0 and at the last row/column (PyTorch's
 * interpolate(mode="bilinear", align_corners=False) without antialiasing). The loop is native
 * (native/image/image.cc): it is on the hot path of every 2-D pipeline.
 */
export function resizeBilinear(img: ImageArray, outH: number, outW: number): ImageArray {
  if (img.shape.length !== 3)
    throw new Error(`resizeBilinear: expects a [C,H,W] image, got shape [${img.shape}]`);
  const [c, h, w] = img.shape;
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH >= 1 && outW >= 1))
    throw new Error(`resizeBilinear: the output size must be two positive integers, got [${outH}, ${outW}]`);
  const out = imageKernels().resizeBilinear(img.data, c, h, w, outH, outW);
  const spacing = img.spacing ? [(img.spacing[0] * h) / outH, (img.spacing[1] * w) / outW] : undefined;
  return { data: out, shape: [c, outH, outW], spacing };
}

/** Trilinear resize of a [C,D,H,W] volume to [C,outD,outH,outW]. */
export function resizeTrilinear(img: ImageArray, outD: number, outH: number, outW: number): ImageArray {
  const [c, d, h, w] = img.shape;
  const out = new Float32Array(c * outD * outH * outW);
  const tap = (n: number, outN: number, i: number): [number, number, number] => {
    let f = (i + 0.5) * (n / outN) - 0.5;
    if (f < 0) f = 0;
    const i0 = Math.min(Math.floor(f), n - 1);
    return [i0, Math.min(i0 + 1, n - 1), f - i0];
  };
  const tz = Array.from({ length: outD }, (_, i) => tap(d, outD, i));
  const ty = Array.from({ length: outH }, (_, i) => tap(h, outH, i));
  const tx = Array.from({ length: outW }, (_, i) => tap(w, outW, i));
  const src = img.data;
  let o = 0;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * d * h * w;
    for (let z = 0; z < outD; z++) {
      const [z0, z1, fz] = tz[z];
      for (let y = 0; y < outH; y++) {
        const [y0, y1, fy] = ty[y];
        const p00 = base + (z0 * h + y0) * w;
        const p01 = base + (z0 * h + y1) * w;
        const p10 = base + (z1 * h + y0) * w;
        const p11 = base + (z1 * h + y1) * w;
        for (let x = 0; x < outW; x++) {
          const [x0, x1, fx] = tx[x];
          const a = src[p00 + x0] + (src[p00 + x1] - src[p00 + x0]) * fx;
          const b = src[p01 + x0] + (src[p01 + x1] - src[p01 + x0]) * fx;
          const cc = src[p10 + x0] + (src[p10 + x1] - src[p10 + x0]) * fx;
          const dd = src[p11 + x0] + (src[p11 + x1] - src[p11 + x0]) * fx;
          const ab = a + (b - a) * fy;
          const cd = cc + (dd - cc) * fy;
          out[o++] = ab + (cd - ab) * fz;
        }
      }
    }
  }
  const spacing = img.spacing
    ? [(img.spacing[0] * d) / outD, (img.spacing[1] * h) / outH, (img.spacing[2] * w) / outW]
    : undefined;
  return { data: out, shape: [c, outD, outH, outW], spacing };
}

/**
 * Warps a [C,H,W] image by a 2x3 affine matrix given in centred pixel coordinates (output -> input:
 * for an output pixel at offset (x, y) from the centre, the sample is taken at
 * (m[0]x + m[1]y + m[2], m[3]x + m[4]y + m[5]) from the centre). Bilinear; outside pixels = fill.
 */
export function warpAffine2d(img: ImageArray, m: readonly number[], fill = 0): ImageArray {
  const [c, h, w] = img.shape;
  const out = new Float32Array(c * h * w);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const sx = m[0] * dx + m[1] * dy + m[2] + cx;
      const sy = m[3] * dx + m[4] * dy + m[5] + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let ch = 0; ch < c; ch++) {
        const base = ch * h * w;
        const at = (yy: number, xx: number): number =>
          yy >= 0 && yy < h && xx >= 0 && xx < w ? img.data[base + yy * w + xx] : fill;
        const a = at(y0, x0) + (at(y0, x0 + 1) - at(y0, x0)) * fx;
        const b = at(y0 + 1, x0) + (at(y0 + 1, x0 + 1) - at(y0 + 1, x0)) * fx;
        out[base + y * w + x] = a + (b - a) * fy;
      }
    }
  }
  return { data: out, shape: [c, h, w], spacing: img.spacing };
}

/** Output->input matrix for rotation by `deg` degrees (counter-clockwise on screen), scale and shift. */
export function affineMatrix(deg: number, scale = 1, shiftX = 0, shiftY = 0, shear = 0): number[] {
  const t = (deg * Math.PI) / 180;
  const cos = Math.cos(t) / scale;
  const sin = Math.sin(t) / scale;
  // Inverse of [R*S + shear]: rotate back by -t and divide by scale; shear applied along x.
  return [cos, -sin + shear, -shiftX, sin, cos, -shiftY];
}

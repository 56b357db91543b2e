// PNG via pngjs. We keep the true bit depth (16-bit X-rays lose information when squeezed to 8)
// and the true channel count (gray stays 1 channel instead of pngjs's RGBA expansion).
import pngjs from "pngjs";
import type { ImageArray } from "../types.js";
import { ImageDecodeError } from "./errors.js";

export interface PixelOptions {
  /** Scale integer pixels to [0,1] by the format's maximum (default true); false keeps raw values. */
  unitRange?: boolean;
}

export function decodePng(path: string, buf: Uint8Array, o: PixelOptions = {}): ImageArray {
  let png: pngjs.PNGWithMetadata;
  try {
    png = pngjs.PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), { skipRescale: true });
  } catch (e) {
    throw new ImageDecodeError(path, `corrupt or truncated PNG (${(e as Error).message})`);
  }
  const { width: w, height: h } = png;
  // pngjs returns RGBA; Uint16Array for 16-bit when skipRescale is set.
  const rgba = png.data as unknown as Uint8Array | Uint16Array;
  const max = png.palette ? 255 : 2 ** png.depth - 1;
  const channels = png.color || png.palette ? (png.alpha ? 4 : 3) : 1;
  const scale = (o.unitRange ?? true) ? 1 / max : 1;
  const n = w * h;
  const data = new Float32Array(channels * n);
  // For gray images R = G = B, so reading R gives the gray value; gray+alpha drops alpha.
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) data[c * n + i] = rgba[4 * i + c] * scale;
  return { data, shape: [channels, h, w] };
}

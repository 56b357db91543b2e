// Baseline/progressive JPEG via jpeg-js. jpeg-js always returns RGB, so we read the component
// count from the frame header ourselves and keep grayscale images as one channel.
import jpeg from "jpeg-js";
import type { ImageArray } from "../types.js";
import { ImageDecodeError } from "./errors.js";
import type { PixelOptions } from "./png.js";

/** Number of components declared in the first SOF segment, or 0 if none is found. */
export function jpegComponents(buf: Uint8Array): number {
  let p = 2;
  while (p + 4 <= buf.length) {
    if (buf[p] !== 0xff) return 0;
    const m = buf[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    const len = (buf[p + 2] << 8) | buf[p + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
      return p + 9 < buf.length ? buf[p + 9] : 0;
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7)) p += 2;
    else p += 2 + len;
  }
  return 0;
}

export function decodeJpeg(
  path: string,
  buf: Uint8Array,
  o: PixelOptions & { colorTransform?: boolean } = {},
): ImageArray {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, colorTransform: o.colorTransform });
  } catch (e) {
    throw new ImageDecodeError(path, `corrupt or unsupported JPEG (${(e as Error).message})`);
  }
  const { width: w, height: h } = img;
  const channels = jpegComponents(buf) === 1 ? 1 : 3;
  const n = w * h;
  if (img.data.length < 3 * n)
    throw new ImageDecodeError(path, "JPEG decoded to fewer pixels than its header declares");
  const scale = (o.unitRange ?? true) ? 1 / 255 : 1;
  const data = new Float32Array(channels * n);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < n; i++) data[c * n + i] = img.data[3 * i + c] * scale;
  return { data, shape: [channels, h, w] };
}

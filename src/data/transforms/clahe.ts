// CLAHE (contrast-limited adaptive histogram equalisation), the usual X-ray preprocessing, computed
// the way OpenCV's cv2.createCLAHE(clipLimit, tileGridSize).apply does, so a model trained here sees
// what a user's OpenCV preprocessing would give (test/data/transforms.test.ts checks it against
// OpenCV's own output, scripts/make-clahe-fixtures.py):
//
// 1. Pixels are quantised to `bins` integer levels (256 for 8-bit data, 65536 for 16-bit data).
// 2. The image is cut into a rows x cols grid of equal tiles. When the grid does not divide the
//    image, OpenCV extends the bottom and right edges by reflection (BORDER_REFLECT_101) by
//    `rows - H % rows` rows and `cols - W % cols` columns, for both axes as soon as either one is
//    not divisible; the tile histograms are taken on that extended image.
// 3. Each tile histogram is clipped at an integer limit and the excess is spread over all bins
//    (the remainder one count per `bins / remainder` bins from bin 0), so flat regions are not
//    turned into amplified noise. Then each tile gets its equalising map (cumulative histogram
//    scaled to [0, bins - 1], rounded to integers as OpenCV's lookup table is).
// 4. Every pixel blends the maps of its four nearest tile centres bilinearly, with tile-centre
//    coordinates x / tileWidth - 0.5 (OpenCV's convention), clamped at the border tiles.
//
// Clip limit: the same number as OpenCV's clipLimit, relative to the mean bin count of a tile:
// limit = max(1, floor(clipLimit * tileArea / bins)); clipLimit <= 0 turns clipping off. Because the
// mean bin count is tileArea / bins, a 16-bit image (65536 bins) with small tiles has limit 1 for any
// usual clipLimit: OpenCV's behaviour, kept. The output here is the blend divided by bins - 1,
// unrounded, so it stays in [0, 1] without losing precision; OpenCV rounds it to an integer.
//
// The loops run natively (native/image/image.cc, about ten times the speed of the TypeScript loops
// they replaced, bit for bit the same output); this module validates the options.
import type { ImageArray } from "../types.js";
import { imageKernels } from "./native-image.js";

export interface ClaheOptions {
  /** Tile grid as [rows, cols] (OpenCV's tileGridSize is (cols, rows)). Default [8, 8]. */
  tiles?: [number, number];
  /** OpenCV's clipLimit (see above). Default 2; <= 0 disables clipping. */
  clipLimit?: number;
  /** Quantisation levels: 256 (8-bit) or 65536 (16-bit data). Default 256. */
  bins?: number;
}

export function clahe(img: ImageArray, o: ClaheOptions = {}): ImageArray {
  if (img.shape.length !== 3) throw new Error(`clahe: expects a [C,H,W] image, got shape [${img.shape}]`);
  const [C, H, W] = img.shape;
  const [ty, tx] = o.tiles ?? [8, 8];
  const bins = o.bins ?? 256;
  const clipLimit = o.clipLimit ?? 2;
  if (!(Number.isInteger(ty) && Number.isInteger(tx) && ty >= 1 && tx >= 1))
    throw new Error(`clahe: tiles must be two positive integers [rows, cols], got [${o.tiles}]`);
  if (!(Number.isInteger(bins) && bins >= 2 && bins <= 65536))
    throw new Error(`clahe: bins must be an integer in [2, 65536], got ${bins}`);
  if (ty > H || tx > W)
    throw new Error(`clahe: a ${ty}x${tx} tile grid does not fit a ${H}x${W} image (shape [${img.shape}])`);
  if (!Number.isFinite(clipLimit))
    throw new Error(`clahe: clipLimit must be a finite number, got ${clipLimit}`);
  const data = imageKernels().clahe(img.data, C, H, W, ty, tx, bins, clipLimit);
  return { data, shape: img.shape.slice(), spacing: img.spacing?.slice(), affine: img.affine };
}

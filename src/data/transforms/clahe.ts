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
import type { ImageArray } from "../types.js";

export interface ClaheOptions {
  /** Tile grid as [rows, cols] (OpenCV's tileGridSize is (cols, rows)). Default [8, 8]. */
  tiles?: [number, number];
  /** OpenCV's clipLimit (see above). Default 2; <= 0 disables clipping. */
  clipLimit?: number;
  /** Quantisation levels: 256 (8-bit) or 65536 (16-bit data). Default 256. */
  bins?: number;
}

// Work buffers reused across calls (one set per thread: each worker has its own module instance),
// so the per-image cost is arithmetic, not allocation; 16-bit histograms are 64 tiles x 65536 bins.
let levelsBuf = new Int32Array(0);
let histBuf = new Int32Array(0);
let lutBuf = new Float32Array(0);

function grow<T extends Int32Array | Float32Array>(buf: T, n: number, make: (n: number) => T): T {
  return buf.length >= n ? buf : make(n);
}

/** Index of row/column `i` of an axis of length n extended by BORDER_REFLECT_101 (…2 1 | 0 1 2 … n-1 | n-2 …). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  let k = i;
  while (k < 0 || k >= n) k = k < 0 ? -k : 2 * (n - 1) - k;
  return k;
}

/** C's round-half-to-even on a float (cvRound / saturate_cast), so the LUT matches OpenCV's. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
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

  const divisible = H % ty === 0 && W % tx === 0;
  const he = divisible ? H : H + ty - (H % ty);
  const we = divisible ? W : W + tx - (W % tx);
  const th = he / ty;
  const tw = we / tx;
  const area = th * tw;
  const limit = clipLimit > 0 ? Math.max(1, Math.floor((clipLimit * area) / bins)) : 0;
  const lutScale = Math.fround((bins - 1) / area);
  const top = bins - 1;
  const nTiles = ty * tx;

  levelsBuf = grow(levelsBuf, H * W, (n) => new Int32Array(n));
  histBuf = grow(histBuf, bins, (n) => new Int32Array(n));
  lutBuf = grow(lutBuf, nTiles * bins, (n) => new Float32Array(n));
  const levels = levelsBuf;
  const hist = histBuf;
  const lut = lutBuf;

  // Column/row of the original image behind each column/row of the extended one.
  const srcX = Int32Array.from({ length: we }, (_, x) => reflect101(x, W));
  const srcY = Int32Array.from({ length: he }, (_, y) => reflect101(y, H));
  // Interpolation taps per column: left/right tile index (as LUT offsets) and weight.
  const lx0 = new Int32Array(W);
  const lx1 = new Int32Array(W);
  const wx = new Float32Array(W);
  for (let x = 0; x < W; x++) {
    const f = Math.fround(Math.fround(x * Math.fround(1 / tw)) - 0.5);
    const t0 = Math.floor(f);
    wx[x] = Math.fround(f - t0);
    lx0[x] = Math.max(t0, 0) * bins;
    lx1[x] = Math.min(t0 + 1, tx - 1) * bins;
  }
  const invTh = Math.fround(1 / th);
  const invTop = 1 / top;

  const out = new Float32Array(img.data.length);
  const src = img.data;
  const tiling: Tiling = { ty, tx, th, tw, bins, top, limit, lutScale, srcX, srcY, W };
  for (let c = 0; c < C; c++) {
    const base = c * H * W;
    quantise(src, base, H * W, top, levels);
    for (let j = 0; j < ty; j++) for (let i = 0; i < tx; i++) tileMap(levels, tiling, j, i, hist, lut);
    blend(levels, lut, out, base, H, W, { lx0, lx1, wx, invTh, invTop, tx, ty, bins });
  }
  return { data: out, shape: img.shape.slice(), spacing: img.spacing?.slice(), affine: img.affine };
}

/** The constants of one image's tiling (see clahe). */
interface Tiling {
  ty: number;
  tx: number;
  th: number;
  tw: number;
  bins: number;
  top: number;
  limit: number;
  lutScale: number;
  srcX: Int32Array;
  srcY: Int32Array;
  W: number;
}

// The three loops below are separate functions so that V8 optimises each on its own: in one large
// function the blend ran at about a third of this speed.

/** Nearest level of each pixel, clamped to [0, top] (NaN -> 0); v * top + 0.5 truncated = round for v >= 0. */
function quantise(src: Float32Array, base: number, n: number, top: number, levels: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const v = src[base + i];
    levels[i] = v >= 1 ? top : v > 0 ? (v * top + 0.5) | 0 : 0;
  }
}

/** Tile (j, i)'s clipped histogram and its equalising map, into lut at the tile's offset. */
function tileMap(
  levels: Int32Array,
  t: Tiling,
  j: number,
  i: number,
  hist: Int32Array,
  lut: Float32Array,
): void {
  const { th, tw, bins, limit, top, lutScale, srcX, srcY, W } = t;
  hist.fill(0, 0, bins);
  for (let y = j * th; y < (j + 1) * th; y++) {
    const row = srcY[y] * W;
    for (let x = i * tw; x < (i + 1) * tw; x++) hist[levels[row + srcX[x]]]++;
  }
  if (limit > 0) {
    let clipped = 0;
    for (let b = 0; b < bins; b++) {
      if (hist[b] > limit) {
        clipped += hist[b] - limit;
        hist[b] = limit;
      }
    }
    const batch = Math.floor(clipped / bins);
    let residual = clipped - batch * bins;
    for (let b = 0; b < bins; b++) hist[b] += batch;
    if (residual > 0) {
      const step = Math.max(Math.floor(bins / residual), 1);
      for (let b = 0; b < bins && residual > 0; b += step, residual--) hist[b]++;
    }
  }
  const off = (j * t.tx + i) * bins;
  let sum = 0;
  for (let b = 0; b < bins; b++) {
    sum += hist[b];
    const v = roundHalfEven(Math.fround(sum * lutScale));
    lut[off + b] = Math.min(v, top);
  }
}

/** Every pixel's bilinear blend of its four nearest tile maps, divided by top. */
function blend(
  levels: Int32Array,
  lut: Float32Array,
  out: Float32Array,
  base: number,
  H: number,
  W: number,
  t: {
    lx0: Int32Array;
    lx1: Int32Array;
    wx: Float32Array;
    invTh: number;
    invTop: number;
    tx: number;
    ty: number;
    bins: number;
  },
): void {
  const { lx0, lx1, wx, invTh, invTop, tx, ty, bins } = t;
  for (let y = 0; y < H; y++) {
    const f = Math.fround(Math.fround(y * invTh) - 0.5);
    const t0 = Math.floor(f);
    const fy = f - t0;
    const r0 = Math.max(t0, 0) * tx * bins;
    const r1 = Math.min(t0 + 1, ty - 1) * tx * bins;
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const q = levels[row + x];
      const a = lx0[x] + q;
      const b = lx1[x] + q;
      const fx = wx[x];
      const upper = lut[r0 + a] + (lut[r0 + b] - lut[r0 + a]) * fx;
      const lower = lut[r1 + a] + (lut[r1 + b] - lut[r1 + a]) * fx;
      out[base + row + x] = (upper + (lower - upper) * fy) * invTop;
    }
  }
}

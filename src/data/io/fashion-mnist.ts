// Fashion-MNIST from Debian's dataset-fashion-mnist package (or any folder with the four IDX files).
import { join } from "node:path";
import { readIdx } from "./idx.js";

export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

export const FASHION_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

export interface FashionMnistSplit {
  /** Raw pixels 0..255, N*28*28, row-major. Kept as bytes: 4x less memory than float. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** The directory comes from the argument, else $MIMMX_FASHION_MNIST_DIR, else the Debian path. */
export function fashionMnistDir(dir?: string): string {
  return dir ?? process.env.MIMMX_FASHION_MNIST_DIR ?? FASHION_MNIST_DIR;
}

const cache = new Map<string, FashionMnistSplit>();

export function loadFashionMnist(split: "train" | "test", dir?: string): FashionMnistSplit {
  const root = fashionMnistDir(dir);
  const key = `${root}:${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const prefix = split === "train" ? "train" : "t10k";
  const imgPath = join(root, `${prefix}-images-idx3-ubyte.gz`);
  const lblPath = join(root, `${prefix}-labels-idx1-ubyte.gz`);
  const img = readIdx(imgPath);
  const lbl = readIdx(lblPath);
  if (img.dims.length !== 3 || !(img.data instanceof Uint8Array)) {
    throw new Error(`${imgPath}: expected a uint8 IDX array of rank 3, got dims [${img.dims}]`);
  }
  if (lbl.dims.length !== 1 || lbl.dims[0] !== img.dims[0] || !(lbl.data instanceof Uint8Array)) {
    throw new Error(`${lblPath}: expected ${img.dims[0]} uint8 labels, got dims [${lbl.dims}]`);
  }
  const out: FashionMnistSplit = {
    images: img.data,
    labels: lbl.data,
    count: img.dims[0],
    height: img.dims[1],
    width: img.dims[2],
  };
  cache.set(key, out);
  return out;
}

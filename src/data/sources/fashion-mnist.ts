// Fashion-MNIST as a plain in-memory dataset ([1,28,28] in [0,1], label "y"), optionally
// restricted to some classes (relabelled 0..k-1 in the order given).
import { FASHION_CLASSES, loadFashionMnist } from "../io/fashion-mnist.js";
import type { InMemoryDataset } from "../types.js";

export function fashionMnistDataset(
  split: "train" | "test",
  o: { classes?: number[]; dir?: string; limit?: number } = {},
): InMemoryDataset {
  const src = loadFashionMnist(split, o.dir);
  const classes = o.classes ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const remap = new Map(classes.map((c, i) => [c, i]));
  const rows: number[] = [];
  for (let i = 0; i < src.count && rows.length < (o.limit ?? Number.POSITIVE_INFINITY); i++)
    if (remap.has(src.labels[i])) rows.push(i);
  const px = src.height * src.width;
  const images = new Float32Array(rows.length * px);
  const y = new Int32Array(rows.length);
  rows.forEach((r, k) => {
    for (let p = 0; p < px; p++) images[k * px + p] = src.images[r * px + p] / 255;
    y[k] = remap.get(src.labels[r])!;
  });
  return {
    name: `fashion-mnist-${split}`,
    images,
    itemShape: [1, src.height, src.width],
    labels: { y },
    length: rows.length,
    sourceIndex: Int32Array.from(rows),
    tasks: [
      {
        name: "y",
        role: "primary",
        numClasses: classes.length,
        classNames: classes.map((c) => FASHION_CLASSES[c]),
      },
    ],
  };
}

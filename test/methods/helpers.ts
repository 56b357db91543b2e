// Tiny synthetic shortcut data for method and loop tests: 28x28 images where y puts a bright blob
// top-left and each spurion z_i a bright blob in another corner; z_i = y with probability `ratio`.
import type { Batch } from "../../src/methods/batch.js";
import type { TaskSpec } from "../../src/models/index.js";
import * as torch from "../../src/tensor/index.js";
import { type ArrayDataset, Rng } from "../../src/train/index.js";

export const TASKS: TaskSpec[] = [
  { name: "y", numClasses: 2 },
  { name: "z0", numClasses: 2 },
  { name: "z1", numClasses: 2 },
];

export function shortcutDataset(n: number, seed = 0, ratio = 0.9): ArrayDataset {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  const images = new Float32Array(n * 28 * 28);
  const y = new Int32Array(n);
  const z0 = new Int32Array(n);
  const z1 = new Int32Array(n);
  const corners = [
    [2, 2],
    [2, 20],
    [20, 2],
  ];
  for (let i = 0; i < n; i++) {
    y[i] = rand() < 0.5 ? 1 : 0;
    z0[i] = rand() < ratio ? y[i] : 1 - y[i];
    z1[i] = rand() < ratio ? y[i] : 1 - y[i];
    const base = i * 784;
    for (let p = 0; p < 784; p++) images[base + p] = 0.1 * (rand() - 0.5);
    [y[i], z0[i], z1[i]].forEach((v, c) => {
      if (v === 0) return;
      const [r0, c0] = corners[c];
      for (let r = r0; r < r0 + 5; r++) for (let q = c0; q < c0 + 5; q++) images[base + r * 28 + q] += 1;
    });
  }
  return { images, itemShape: [1, 28, 28], labels: { y, z0, z1 }, length: n };
}

/** A whole dataset as one Batch (tensors kept alive: dispose with disposeBatch). */
export function asBatch(ds: ArrayDataset): Batch {
  return {
    x: torch.tensor(ds.images, { shape: [ds.length, ...ds.itemShape] }).keep(),
    y: torch.tensor(ds.labels.y, { dtype: "int64" }).keep(),
    z: [
      torch.tensor(ds.labels.z0, { dtype: "int64" }).keep(),
      torch.tensor(ds.labels.z1, { dtype: "int64" }).keep(),
    ],
    rows: Int32Array.from({ length: ds.length }, (_, i) => i),
  };
}

export const TASK_NAMES = { primary: "y", spurions: ["z0", "z1"] };

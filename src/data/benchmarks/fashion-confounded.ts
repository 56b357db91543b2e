// Built-in benchmark "fashion-confounded": a shortcut benchmark on real images that needs no
// download (Debian's dataset-fashion-mnist).
//
// Defaults, and why:
// - Primary task y: Pullover (class 2, y=0) vs Coat (class 4, y=1). A small CNN separates them well
//   (low-to-mid 90s) but not trivially, so the synthetic spurions below are clearly *easier* than
//   the real task: ERM then takes the shortcut, and the inverted test exposes it. (Sandal 5 vs
//   Sneaker 7 is an easier alternative; pass `classes: [5, 7]`.)
// - z0: a bright 4x4 marker patch in the top-left corner ("hospital tag"): z0=1 patch, z0=0 none.
// - z1: a contrast change about the image mean: z1=0 contrast x0.5, z1=1 unchanged.
//   Both are learnable from a handful of pixels / the global intensity, so ERM picks them up first.
// - ratio 0.9 for both spurions (published protocol): in train and val P(z_i = y) = 0.9.
// - Splits (sizes configurable):
//     train          10000 rows of the Fashion-MNIST training set, ratio 0.9
//     val             2000 rows of the training set, disjoint from train, ratio 0.9
//     train_oracle   10000 rows of the training set, ratio 0.5 (no correlation); disjoint from val,
//                    may reuse train's images (it replaces train, it is never used with it)
//     test_inverted   2000 rows of the Fashion-MNIST test set, P(z_i = y) = 0.1
//     test_balanced   2000 rows of the test set, every (y, z_i) combination in equal share
//   The test splits come from the official test set, so they never share an image with training
//   rows; the two test splits may share images (each gets its own spurion assignment).
// - Images: [1,28,28] float32 in [0,1]; labels "y", "z0", "z1" (Int32Array).
// - Sized so three models (ERM, oracle, MIMM-X) train in ~10 min on 2 CPU cores.

import { hashSeed, hashString } from "../../util/random.js";
import { FASHION_CLASSES, loadFashionMnist } from "../io/fashion-mnist.js";
import { makeConfoundedSplits, type SplitRequest } from "../splits/confounded.js";
import { countsToMarkdown, type SplitCounts } from "../splits/counts.js";
import { applySpurions } from "../spurions/compose.js";
import { type SyntheticSpurion, spurionLevels } from "../spurions/synthetic.js";
import type { InMemoryDataset, TaskInfo } from "../types.js";

export interface FashionConfoundedOptions {
  /** The two Fashion-MNIST classes mapped to y=0 and y=1. */
  classes?: [number, number];
  /** Spurions written into the images, z0, z1, ... */
  spurions?: SyntheticSpurion[];
  /** Confounding ratio per spurion (a single number applies to all). */
  ratio?: number | number[];
  trainSize?: number;
  valSize?: number;
  oracleSize?: number;
  testInvertedSize?: number;
  testBalancedSize?: number;
  seed?: number;
  /** Folder with the IDX files; default $MIMMX_FASHION_MNIST_DIR or the Debian path. */
  dir?: string;
  /** Oversample rows when a request exceeds the available images (default false: refuse). */
  oversample?: boolean;
  /**
   * Share of rows whose spurions agree with y together (one shared draw; makeConfoundedSplits'
   * `coupling`), in every split. Default 0: the spurions are independent given y.
   */
  coupling?: number;
}

export const FASHION_CONFOUNDED_DEFAULTS = {
  classes: [2, 4] as [number, number],
  spurions: [
    { type: "marker", size: 4, margin: 1, intensity: 1, mode: "presence" },
    { type: "contrast", factors: [0.5, 1] },
  ] as SyntheticSpurion[],
  ratio: 0.9,
  trainSize: 10000,
  valSize: 2000,
  oracleSize: 10000,
  testInvertedSize: 2000,
  testBalancedSize: 2000,
  seed: 0,
  coupling: 0,
};

export type FashionSplitName = "train" | "val" | "train_oracle" | "test_inverted" | "test_balanced";

export interface ConfoundedBenchmark {
  name: string;
  tasks: TaskInfo[];
  splits: Record<FashionSplitName, InMemoryDataset>;
  counts: SplitCounts[];
  /** The resolved configuration (JSON-serialisable), for the run's record. */
  config: Required<Omit<FashionConfoundedOptions, "dir">> & { dir: string | null };
}

export function benchmarkCountsMarkdown(b: ConfoundedBenchmark): string {
  return b.counts.map(countsToMarkdown).join("\n");
}

export function fashionConfounded(opts: FashionConfoundedOptions = {}): ConfoundedBenchmark {
  const d = FASHION_CONFOUNDED_DEFAULTS;
  const classes = opts.classes ?? d.classes;
  const spurions = opts.spurions ?? d.spurions;
  const ratioIn = opts.ratio ?? d.ratio;
  const ratios = spurions.map((_, i) => (Array.isArray(ratioIn) ? ratioIn[i] : ratioIn));
  const seed = opts.seed ?? d.seed;
  const sizes = {
    train: opts.trainSize ?? d.trainSize,
    val: opts.valSize ?? d.valSize,
    train_oracle: opts.oracleSize ?? d.oracleSize,
    test_inverted: opts.testInvertedSize ?? d.testInvertedSize,
    test_balanced: opts.testBalancedSize ?? d.testBalancedSize,
  };
  if (classes[0] === classes[1] || classes.some((c) => !(c >= 0 && c <= 9))) {
    throw new Error(`fashion-confounded: classes must be two different ids in 0..9, got [${classes}]`);
  }

  const train = loadFashionMnist("train", opts.dir);
  const test = loadFashionMnist("test", opts.dir);
  const yOf = (labels: Uint8Array): Int32Array => {
    const y = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++)
      y[i] = labels[i] === classes[0] ? 0 : labels[i] === classes[1] ? 1 : -1;
    return y;
  };

  const specs = spurions.map((s, i) => ({
    name: `z${i}`,
    numClasses: spurionLevels(s),
    ratio: ratios[i],
    kind: "synthetic" as const,
  }));
  const requests: SplitRequest[] = [
    { name: "train", pool: "train", size: sizes.train, mode: "ratio" },
    { name: "val", pool: "train", size: sizes.val, mode: "ratio" },
    {
      name: "train_oracle",
      pool: "train",
      size: sizes.train_oracle,
      mode: "ratio",
      ratios: Object.fromEntries(specs.map((s) => [s.name, 1 / s.numClasses])),
      disjointFrom: ["val"],
    },
    { name: "test_inverted", pool: "test", size: sizes.test_inverted, mode: "inverted" },
    { name: "test_balanced", pool: "test", size: sizes.test_balanced, mode: "balanced", disjointFrom: [] },
  ];
  const splits = makeConfoundedSplits({
    primary: { name: "y", numClasses: 2 },
    spurions: specs,
    pools: { train: { y: yOf(train.labels) }, test: { y: yOf(test.labels) } },
    splits: requests,
    seed,
    oversample: opts.oversample ?? false,
    coupling: opts.coupling ?? d.coupling,
  });

  const px = train.height * train.width;
  const datasets = {} as Record<FashionSplitName, InMemoryDataset>;
  for (const s of splits) {
    const src = s.pool === "train" ? train : test;
    const n = s.rows.length;
    const images = new Float32Array(n * px);
    const one = new Float32Array(px);
    for (let i = 0; i < n; i++) {
      const off = s.rows[i] * px;
      for (let p = 0; p < px; p++) one[p] = src.images[off + p] / 255;
      const values = specs.map((sp) => s.labels[sp.name][i]);
      const img = applySpurions(
        { data: one, shape: [1, src.height, src.width] },
        spurions,
        values,
        hashSeed(seed, hashString(s.name), i),
      );
      images.set(img.data, i * px);
    }
    datasets[s.name as FashionSplitName] = {
      name: s.name,
      images,
      itemShape: [1, src.height, src.width],
      labels: s.labels,
      length: n,
      sourceIndex: s.rows,
    };
  }

  const tasks: TaskInfo[] = [
    {
      name: "y",
      role: "primary",
      numClasses: 2,
      classNames: [FASHION_CLASSES[classes[0]], FASHION_CLASSES[classes[1]]],
      description: `Fashion-MNIST ${FASHION_CLASSES[classes[0]]} (${classes[0]}) vs ${FASHION_CLASSES[classes[1]]} (${classes[1]})`,
    },
    ...spurions.map((s, i) => ({
      name: `z${i}`,
      role: "spurion" as const,
      numClasses: specs[i].numClasses,
      description: `synthetic ${s.type} spurion, ratio ${ratios[i]}${(opts.coupling ?? 0) > 0 ? `, coupling ${opts.coupling}` : ""}`,
    })),
  ];
  for (const ds of Object.values(datasets)) ds.tasks = tasks;
  return {
    name: "fashion-confounded",
    tasks,
    splits: datasets,
    counts: splits.map((s) => s.counts),
    config: {
      classes,
      spurions,
      ratio: ratios,
      trainSize: sizes.train,
      valSize: sizes.val,
      oracleSize: sizes.train_oracle,
      testInvertedSize: sizes.test_inverted,
      testBalancedSize: sizes.test_balanced,
      seed,
      oversample: opts.oversample ?? false,
      coupling: opts.coupling ?? d.coupling,
      dir: opts.dir ?? null,
    },
  };
}

// The benchmarks of `mimmx bench suite`: shortcut problems on Fashion-MNIST that no method was tuned
// on, each with its oracle (ERM on the uncorrelated split). Every benchmark is a distinct class
// pair, so the real task's difficulty varies too. Together they span:
//   local artefacts  tag, patch, block, blob          global  intensity, contrast, noise
//   geometric        rotation, thickness              medical analogues  collimation frame, gradient
//   N = 1 .. 4 spurions, ratios 0.9 .. 0.98, one benchmark with coupled spurions (correlated with
//   each other as well as with y), and one read from PNG files + a CSV through the manifest source,
//   where the spurions are metadata columns (as a user's cohort arrives) drawn into the pixels.
//
// Sizes and epochs per tier: "quick" is CI-sized (a few minutes for ERM + oracle on every
// benchmark, on 2 cores) and must still show each shortcut (ERM's inverted accuracy >= 15 points
// below the oracle's, test/bench/suite-quick.test.ts); "full" trains long enough for ERM to converge.
// How they were chosen: docs/suite.md.
import type { SpurionConfig } from "../../src/config/index.js";
import { DEMO_DATA } from "../../src/run/demo.js";
import type { CohortSpec } from "./cohort.js";

export const TIERS = ["quick", "full"] as const;
export type Tier = (typeof TIERS)[number];

export interface TierSettings {
  train: number;
  validation: number;
  test_inverted: number;
  test_balanced: number;
  epochs: number;
}

export interface SuiteBenchmark {
  name: string;
  /** One line for the tables. */
  summary: string;
  /** Fashion-MNIST class ids that become y = 0 and y = 1. */
  classes: [number, number];
  spurions: SpurionConfig[];
  /** data.spurion_coupling (0: spurions independent given y). */
  coupling?: number;
  /**
   * "fashion": the built-in fashion-confounded source. "files": the images are written as PNGs with
   * a CSV (bench/suite/cohort.ts) and read back through the manifest source; its spurions are
   * metadata columns, `cohort.columns` says which artefact each column's "present" value draws.
   */
  source: "fashion" | "files";
  cohort?: Omit<CohortSpec, "classes" | "dir">;
  tiers: Record<Tier, TierSettings>;
}

const QUICK: TierSettings = {
  train: 2000,
  validation: 500,
  test_inverted: 1000,
  test_balanced: 1000,
  epochs: 6,
};
const FULL: TierSettings = {
  train: 6000,
  validation: 1000,
  test_inverted: 2000,
  test_balanced: 2000,
  epochs: 10,
};

const spurion = (name: string, kind: SpurionConfig["kind"], ratio: number): SpurionConfig => ({
  name,
  kind,
  ratio,
});

export const SUITE_BENCHMARKS: SuiteBenchmark[] = [
  {
    // `mimmx demo` runs this benchmark's full tier, seed 0 (src/run/demo.ts holds its data).
    name: "demo",
    summary: "Pullover vs Coat; hospital patch + obstruction block at 0.9 (the demo's benchmark)",
    classes: DEMO_DATA.classes,
    spurions: DEMO_DATA.spurions,
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    // N = 1. (A "tag" alone does not work here: the small CNN's floor pooling never sees the last
    // two rows and columns, so the bottom-right tag is 2x2 visible pixels and ERM ignores it.)
    name: "patch",
    summary: "T-shirt vs Shirt; one hospital patch at 0.98",
    classes: [0, 6],
    spurions: [spurion("patch", "patch", 0.98)],
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    name: "blob-intensity",
    summary: "Coat vs Shirt; hyperintensity blobs + global intensity at 0.95",
    classes: [4, 6],
    spurions: [spurion("blob", "blob", 0.95), spurion("intensity", "intensity", 0.95)],
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    name: "contrast-noise",
    summary: "Pullover vs Shirt; contrast + Gaussian noise at 0.9",
    classes: [2, 6],
    spurions: [spurion("contrast", "contrast", 0.9), spurion("noise", "noise", 0.9)],
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    name: "geometry",
    summary: "T-shirt vs Dress; rotation (30 degrees) + stroke thickness at 0.98",
    classes: [0, 3],
    spurions: [spurion("rotation", "rotation", 0.98), spurion("thickness", "thickness", 0.98)],
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    name: "frame-gradient",
    summary: "Dress vs Coat; collimation frame + background intensity gradient at 0.98",
    classes: [3, 4],
    spurions: [spurion("frame", "frame", 0.98), spurion("gradient", "gradient", 0.98)],
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    name: "four",
    summary: "T-shirt vs Pullover; patch + blobs + noise + gradient at 0.98 (N = 4)",
    classes: [0, 2],
    spurions: [
      spurion("patch", "patch", 0.98),
      spurion("blob", "blob", 0.98),
      spurion("noise", "noise", 0.98),
      spurion("gradient", "gradient", 0.98),
    ],
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    name: "correlated",
    summary: "Sandal vs Sneaker; tag + frame + intensity at 0.9, coupled 0.8 (correlated with each other)",
    classes: [5, 7],
    spurions: [
      spurion("tag", "tag", 0.9),
      spurion("frame", "frame", 0.9),
      spurion("intensity", "intensity", 0.9),
    ],
    coupling: 0.8,
    source: "fashion",
    tiers: { quick: QUICK, full: FULL },
  },
  {
    name: "cohort-files",
    summary: "Dress vs Shirt from PNG files + CSV (manifest); metadata site (frame) + scanner (patch) at 0.9",
    classes: [3, 6],
    spurions: [
      { name: "site", kind: "metadata", column: "site", positive: ["B"], ratio: 0.9 },
      { name: "scanner", kind: "metadata", column: "scanner", positive: ["new"], ratio: 0.9 },
    ],
    source: "files",
    // The pool (6,000 images per class, z uniform) holds ~2,900 train + validation rows at 0.9.
    cohort: {
      perClass: 6000,
      columns: [
        { column: "site", present: "B", absent: "A", drawn: "frame" },
        { column: "scanner", present: "new", absent: "old", drawn: "patch" },
      ],
    },
    tiers: {
      quick: { train: 2000, validation: 500, test_inverted: 1000, test_balanced: 1000, epochs: 6 },
      full: { train: 2400, validation: 500, test_inverted: 1000, test_balanced: 1000, epochs: 12 },
    },
  },
];

/** The benchmarks named in `names` (all when empty), in suite order; unknown names are an error. */
export function selectBenchmarks(names: readonly string[] = []): SuiteBenchmark[] {
  if (names.length === 0) return SUITE_BENCHMARKS;
  const known = new Map(SUITE_BENCHMARKS.map((b) => [b.name, b]));
  return names.map((n) => {
    const b = known.get(n);
    if (!b)
      throw new Error(
        `bench suite: unknown benchmark "${n}" (benchmarks: ${SUITE_BENCHMARKS.map((x) => x.name).join(", ")})`,
      );
    return b;
  });
}

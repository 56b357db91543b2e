// The `mimmx demo` run: ERM, GroupDRO, MIMM-X and the oracle on the built-in fashion-confounded
// benchmark, one report, sized to finish well inside ten minutes on two CPU cores.
//
// The demo is the benchmark suite's "demo" benchmark at its full tier (bench/suite/benchmarks.ts
// takes its data from here), seed 0, and every method runs at its own defaults, as in the suite:
// `method: { name: mimmx }` and nothing else. So the demo's numbers are one seed of the suite's
// table in the README, and a test (test/bench/suite.test.ts) checks that the configurations agree.
import {
  type DeepPartial,
  type MethodName,
  type RunConfig,
  resolveDefaults,
  type SpurionConfig,
} from "../config/index.js";

/** The demo benchmark's data: Pullover vs Coat with a hospital patch and a block, both at 0.9. */
export const DEMO_DATA = {
  classes: [2, 4] as [number, number],
  spurions: [
    { name: "marker", kind: "patch", ratio: 0.9 },
    { name: "block", kind: "block", ratio: 0.9 },
  ] as SpurionConfig[],
};

/** The methods the demo compares, in report order. */
export const DEMO_METHODS: MethodName[] = ["erm", "groupdro", "mimmx", "oracle"];

/**
 * Everything of the demo but the method: data at the suite's full-tier sizes, the suite's epochs and
 * checkpoint rule for every method, and the report's extras (bootstrap intervals, t-SNE, MI audit).
 */
export const DEMO_CONFIG: DeepPartial<RunConfig> = {
  name: "demo",
  seed: 0,
  data: {
    source: "fashion-confounded",
    classes: DEMO_DATA.classes,
    spurions: DEMO_DATA.spurions,
    splits: { train: 6000, validation: 1000, test_inverted: 2000, test_balanced: 2000 },
  },
  train: { epochs: 10, select_by: "val_worst_group" },
  eval: {
    bootstrap: 200,
    probes: { enabled: true, split: "test_balanced" },
    tsne: { enabled: true, split: "test_balanced", max_points: 600, iterations: 500 },
    mi_audit: { enabled: true, split: "test_balanced", hidden: 64, layers: 2, steps: 500, batch_size: 64 },
  },
};

/**
 * The demo's configurations: the run's (MIMM-X's, the method the demo is about) and each compared
 * method's own, at that method's defaults. `partial` is DEMO_CONFIG with the command line's changes.
 */
export function demoConfigs(partial: DeepPartial<RunConfig> = DEMO_CONFIG): {
  run: RunConfig;
  methods: Partial<Record<MethodName, RunConfig>>;
} {
  const of = (name: MethodName) => resolveDefaults({ ...partial, method: { name } }, `demo (${name})`);
  return {
    run: of("mimmx"),
    methods: Object.fromEntries(DEMO_METHODS.map((m) => [m, of(m)])),
  };
}

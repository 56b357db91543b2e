// Switched-labels linear probes: how much does a frozen feature part know about a label it should
// not encode? A logistic-regression probe is fitted on one part of the rows and scored on rows it
// never saw. For a disentangled model, f_y -> z_i and f_zi -> y (and f_zi -> z_j) score at chance;
// any excess is information the MI penalty failed to remove. Fitting and scoring on the same rows
// would reward memorisation, so the split is mandatory.

import { Rng } from "../util/random.js";
import { bootstrapInterval, type Interval, wilsonInterval } from "./ci.js";
import { applyStandardiser, fitLogistic, fitStandardiser, logisticLogits } from "./logistic.js";
import { balancedAccuracy, inferNumClasses, predictClasses } from "./metrics.js";

export interface ProbeOptions {
  /**
   * "half": fit on a stratified random half, score on the other half (default).
   * { folds: k }: stratified k-fold; every row is scored once by a probe that did not see it,
   * which uses all rows for scoring (narrower interval) at k times the cost.
   */
  split?: "half" | { folds: number };
  seed?: number;
  /** L2 strength for the probe (on standardised features). */
  l2?: number;
  maxIter?: number;
  /** Interval coverage (default 0.95). */
  level?: number;
  /** Bootstrap resamples for the balanced-accuracy interval (0 = none; default 500). */
  bootstrap?: number;
  /** Number of classes; inferred from the labels when absent. */
  numClasses?: number;
  /** Use only columns [start, end) of the feature matrix (one part of a partitioned vector). */
  columns?: [number, number];
}

export interface ProbeResult {
  accuracy: number;
  /** Wilson interval of the accuracy on the scored rows. */
  accuracyCi: Interval;
  balancedAccuracy: number;
  balancedAccuracyCi?: Interval;
  chance: {
    /** Share of the most frequent class among the scored rows: what "always guess it" scores. */
    majority: number;
    /** 1 / C. Equals `majority` on a balanced split. */
    uniform: number;
  };
  /** True when the accuracy interval contains the majority chance level. */
  ciCoversChance: boolean;
  numClasses: number;
  nTrain: number;
  nTest: number;
  /** False when L-BFGS hit its iteration cap in some fit (results then understate the signal). */
  converged: boolean;
}

/**
 * Fits and scores a linear probe. `features` is row-major [N, dim] with N = labels.length.
 */
export function linearProbe(
  features: ArrayLike<number>,
  dim: number,
  labels: Int32Array,
  options: ProbeOptions = {},
): ProbeResult {
  const n = labels.length;
  if (features.length !== n * dim) {
    throw new RangeError(`linearProbe: ${features.length} feature values do not form ${n} rows of ${dim}`);
  }
  const [c0, c1] = options.columns ?? [0, dim];
  if (!(c0 >= 0 && c1 <= dim && c1 > c0))
    throw new RangeError(`linearProbe: bad column range [${c0}, ${c1})`);
  const d = c1 - c0;
  const numClasses = options.numClasses ?? inferNumClasses(labels);
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  const folds = assignFolds(labels, options.split ?? "half", seed);
  const k = Math.max(...folds) + 1;

  // "half" is two folds of which only fold 1 is scored (trained on fold 0).
  const scoredFolds = options.split === undefined || options.split === "half" ? [1] : range(k);
  const predicted: number[] = [];
  const truth: number[] = [];
  let nTrain = 0;
  let converged = true;
  for (const f of scoredFolds) {
    const trainRows: number[] = [];
    const testRows: number[] = [];
    for (let i = 0; i < n; i++) (folds[i] === f ? testRows : trainRows).push(i);
    const xTrain = gather(features, dim, c0, d, trainRows);
    const xTest = gather(features, dim, c0, d, testRows);
    const st = fitStandardiser(xTrain, d);
    const model = fitLogistic(
      applyStandardiser(st, xTrain),
      d,
      Int32Array.from(trainRows, (i) => labels[i]),
      numClasses,
      { l2: options.l2 ?? 1e-3, maxIter: options.maxIter ?? 300 },
    );
    converged &&= model.converged;
    const pred = predictClasses(
      logisticLogits(model, applyStandardiser(st, xTest)),
      testRows.length,
      "logits",
    );
    for (let t = 0; t < testRows.length; t++) {
      predicted.push(pred[t]);
      truth.push(labels[testRows[t]]);
    }
    nTrain = Math.max(nTrain, trainRows.length);
  }
  const p = Int32Array.from(predicted);
  const y = Int32Array.from(truth);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (p[i] === y[i]) correct++;
  const counts = new Array<number>(numClasses).fill(0);
  for (const v of y) counts[v]++;
  const majority = Math.max(...counts) / y.length;
  const accuracyCi = wilsonInterval(correct, y.length, level);
  const result: ProbeResult = {
    accuracy: correct / y.length,
    accuracyCi,
    balancedAccuracy: balancedAccuracy(p, y, numClasses),
    chance: { majority, uniform: 1 / numClasses },
    ciCoversChance: accuracyCi.low <= majority && majority <= accuracyCi.high,
    numClasses,
    nTrain,
    nTest: y.length,
    converged,
  };
  const resamples = options.bootstrap ?? 500;
  if (resamples > 0) {
    const pb = new Int32Array(y.length);
    const yb = new Int32Array(y.length);
    const b = bootstrapInterval(
      y.length,
      (idx) => {
        for (let i = 0; i < idx.length; i++) {
          pb[i] = p[idx[i]];
          yb[i] = y[idx[i]];
        }
        return balancedAccuracy(pb, yb, numClasses);
      },
      { resamples, seed: seed + 1, level, strata: y },
    );
    result.balancedAccuracyCi = { low: b.low, high: b.high, level };
  }
  return result;
}

/** Stratified fold index per row: classes are spread evenly over folds, order set by the seed. */
function assignFolds(labels: Int32Array, split: "half" | { folds: number }, seed: number): Int32Array {
  const k = split === "half" ? 2 : split.folds;
  if (!Number.isInteger(k) || k < 2)
    throw new RangeError(`linearProbe: folds must be an integer >= 2, got ${k}`);
  const rng = new Rng(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(i);
    byClass.set(labels[i], list);
  }
  const folds = new Int32Array(labels.length);
  // Continue the round-robin across classes so fold sizes differ by at most one overall.
  let offset = 0;
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = Int32Array.from(byClass.get(cls)!);
    rng.shuffle(members);
    for (let t = 0; t < members.length; t++) folds[members[t]] = (t + offset) % k;
    offset += members.length;
  }
  return folds;
}

function gather(
  features: ArrayLike<number>,
  dim: number,
  c0: number,
  d: number,
  rows: number[],
): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r] * dim + c0;
    for (let j = 0; j < d; j++) out[r * d + j] = features[base + j];
  }
  return out;
}

function range(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i);
}

// ---------------------------------------------------------------------------------------------
// The whole probe table of one model

export interface ProbeTableInput {
  /** Row-major [N, (numSpurions + 1) * partSize]: f_y first, then f_z1 .. f_zN. */
  features: ArrayLike<number>;
  /** k, the length of one part. */
  partSize: number;
  /** Primary labels y (length N). */
  y: Int32Array;
  /** Spurion labels z_1 .. z_N, one array each (length N). */
  z: readonly Int32Array[];
  /** Display names, e.g. { y: "effusion", z: ["sex", "site"] }. */
  names?: { y?: string; z?: readonly string[] };
  /** Also probe each part for its own label (f_y -> y, f_zi -> z_i): a sanity check that should be high. */
  includeOwn?: boolean;
}

export interface ProbeRow extends ProbeResult {
  /** Feature part, e.g. "f_y", "f_sex". */
  source: string;
  /** Label probed, e.g. "sex". */
  target: string;
  /** 0 = f_y, i = f_zi. */
  sourcePart: number;
  /** 0 = y, i = z_i. */
  targetTask: number;
  /** "switched": should be at chance; "own": should be high. */
  kind: "own" | "switched";
}

/**
 * All probes of one model, in reading order: f_y -> z_i, f_zi -> y, f_zi -> z_j (i != j), then
 * (if asked) the own-label rows. Each probe uses the same split seed, so rows are comparable.
 */
export function probeTable(input: ProbeTableInput, options: Omit<ProbeOptions, "columns"> = {}): ProbeRow[] {
  const parts = input.z.length + 1;
  const k = input.partSize;
  const n = input.y.length;
  if (input.features.length !== n * parts * k) {
    throw new RangeError(
      `probeTable: features hold ${input.features.length} values, expected ${n} x ${parts} x ${k}`,
    );
  }
  const tasks = [input.y, ...input.z];
  const taskName = (t: number): string =>
    t === 0 ? (input.names?.y ?? "y") : (input.names?.z?.[t - 1] ?? `z${t}`);
  const partName = (p: number): string => `f_${taskName(p)}`;
  const pairs: [number, number][] = [];
  for (let i = 1; i < parts; i++) pairs.push([0, i]);
  for (let i = 1; i < parts; i++) pairs.push([i, 0]);
  for (let i = 1; i < parts; i++) for (let j = 1; j < parts; j++) if (i !== j) pairs.push([i, j]);
  if (input.includeOwn) for (let p = 0; p < parts; p++) pairs.push([p, p]);
  return pairs.map(([p, t]) => ({
    source: partName(p),
    target: taskName(t),
    sourcePart: p,
    targetTask: t,
    kind: p === t ? "own" : "switched",
    ...linearProbe(input.features, parts * k, tasks[t], { ...options, columns: [p * k, (p + 1) * k] }),
  }));
}

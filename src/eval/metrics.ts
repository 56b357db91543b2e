// Classification metrics over plain typed arrays: no tensor engine, so evaluation, reports and
// tests run anywhere. Scores are row-major [N, C] (probabilities or logits); C = 1 means one score
// per row for the positive class of a binary task. Labels are class indices 0..C-1.
//
// The shortcut audit needs more than accuracy: balanced accuracy (inverted and balanced test sets
// can be class-imbalanced, and a model predicting one class everywhere must not look good),
// ROC-AUC (threshold-free), and accuracy per (y, z_i) group, whose minimum exposes a shortcut
// even where the average looks fine.

import { bootstrapInterval, type Interval, wilsonInterval } from "./ci.js";

export type { BootstrapInterval, BootstrapOptions, Interval } from "./ci.js";
export { bootstrapInterval, normalQuantile, wilsonInterval } from "./ci.js";

/**
 * What the score columns hold. "auto" treats the scores as probabilities when every value lies in
 * [0, 1] (and, for C > 1, rows sum to 1 within 1e-3), otherwise as logits.
 */
export type ScoreKind = "auto" | "probabilities" | "logits";

/** Number of score columns per row; throws when scores and labels disagree in length. */
export function scoreColumns(scores: ArrayLike<number>, n: number): number {
  if (n <= 0) throw new RangeError("metrics: no rows");
  const c = scores.length / n;
  if (!Number.isInteger(c) || c < 1) {
    throw new RangeError(`metrics: ${scores.length} scores do not form ${n} rows`);
  }
  return c;
}

export function resolveScoreKind(
  scores: ArrayLike<number>,
  c: number,
  kind: ScoreKind = "auto",
): "probabilities" | "logits" {
  if (kind !== "auto") return kind;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!(v >= 0 && v <= 1)) return "logits";
  }
  if (c > 1) {
    for (let r = 0; r < scores.length; r += c) {
      let s = 0;
      for (let j = 0; j < c; j++) s += scores[r + j];
      if (Math.abs(s - 1) > 1e-3) return "logits";
    }
  }
  return "probabilities";
}

/**
 * Predicted class per row: argmax over columns (first maximum wins, deterministically), or for
 * C = 1 a threshold at 0.5 (probabilities) or 0 (logits), the same decision either way.
 */
export function predictClasses(scores: ArrayLike<number>, n: number, kind: ScoreKind = "auto"): Int32Array {
  const c = scoreColumns(scores, n);
  const out = new Int32Array(n);
  if (c === 1) {
    const threshold = resolveScoreKind(scores, 1, kind) === "probabilities" ? 0.5 : 0;
    for (let i = 0; i < n; i++) out[i] = scores[i] > threshold ? 1 : 0;
    return out;
  }
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = scores[i * c];
    for (let j = 1; j < c; j++) {
      const v = scores[i * c + j];
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

function checkSameLength(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predicted.length !== labels.length) {
    throw new RangeError(`metrics: ${predicted.length} predictions for ${labels.length} labels`);
  }
  if (labels.length === 0) throw new RangeError("metrics: no rows");
  return labels.length;
}

export function countCorrect(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkSameLength(predicted, labels);
  let k = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) k++;
  return k;
}

/** Fraction of rows whose predicted class equals the label. */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  return countCorrect(predicted, labels) / labels.length;
}

/** Largest label + 1 (at least 2: a binary task whose sample holds one class is still binary). */
export function inferNumClasses(...arrays: ArrayLike<number>[]): number {
  let m = 1;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m + 1;
}

/**
 * Confusion matrix, row-major [C, C]: entry (t, p) counts rows with true class t predicted as p.
 */
export function confusionMatrix(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses?: number,
): Int32Array {
  const n = checkSameLength(predicted, labels);
  const c = numClasses ?? inferNumClasses(predicted, labels);
  const m = new Int32Array(c * c);
  for (let i = 0; i < n; i++) {
    const t = labels[i];
    const p = predicted[i];
    if (t < 0 || t >= c || p < 0 || p >= c)
      throw new RangeError(`confusionMatrix: class out of range at row ${i}`);
    m[t * c + p]++;
  }
  return m;
}

/**
 * Mean recall over the classes that occur in `labels` (classes absent from the sample cannot
 * have a recall and are skipped, as in scikit-learn). Chance is 1/C whatever the class shares.
 */
export function balancedAccuracy(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses?: number,
): number {
  const n = checkSameLength(predicted, labels);
  const c = numClasses ?? inferNumClasses(predicted, labels);
  const total = new Float64Array(c);
  const hit = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    total[labels[i]]++;
    if (predicted[i] === labels[i]) hit[labels[i]]++;
  }
  let sum = 0;
  let present = 0;
  for (let k = 0; k < c; k++) {
    if (total[k] > 0) {
      sum += hit[k] / total[k];
      present++;
    }
  }
  return sum / present;
}

/**
 * Binary ROC-AUC as the Mann-Whitney statistic: the probability that a random positive scores
 * above a random negative, ties counting one half. Tied scores get their mean rank, which makes
 * the result exact (not an approximation of the curve). NaN when one class is absent.
 */
export function binaryAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const n = scores.length;
  if (positive.length !== n) throw new RangeError(`binaryAuc: ${n} scores for ${positive.length} labels`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`binaryAuc: NaN score at row ${i}`);
    order[i] = i;
  }
  order.sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    // Rows i..j (0-based) share one score; their 1-based ranks i+1..j+1 average to this.
    const midRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]]) {
        nPos++;
        rankSumPos += midRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * ROC-AUC from [N, C] scores. C = 1: the column is the positive-class score. C = 2: the score is
 * s1 - s0 (monotone in p1 for both probabilities and logits). C > 2: macro average of
 * one-vs-rest AUCs over classes that have both positives and negatives, on probabilities
 * (logits go through a softmax first, because a raw logit column does not rank rows by p_c).
 */
export function rocAuc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  kind: ScoreKind = "auto",
): number {
  const n = labels.length;
  const c = scoreColumns(scores, n);
  if (c === 1)
    return binaryAuc(
      scores,
      Array.from(labels, (y) => y === 1),
    );
  if (c === 2) {
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = scores[2 * i + 1] - scores[2 * i];
    return binaryAuc(
      s,
      Array.from(labels, (y) => y === 1),
    );
  }
  const probs = resolveScoreKind(scores, c, kind) === "logits" ? softmaxRows(scores, n, c) : scores;
  let sum = 0;
  let used = 0;
  const col = new Float64Array(n);
  const pos = new Uint8Array(n);
  for (let k = 0; k < c; k++) {
    for (let i = 0; i < n; i++) {
      col[i] = probs[i * c + k];
      pos[i] = labels[i] === k ? 1 : 0;
    }
    const auc = binaryAuc(col, pos);
    if (!Number.isNaN(auc)) {
      sum += auc;
      used++;
    }
  }
  return used === 0 ? Number.NaN : sum / used;
}

/** Row-wise softmax, max-shifted for stability. */
export function softmaxRows(scores: ArrayLike<number>, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < c; j++) m = Math.max(m, scores[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(scores[i * c + j] - m);
      out[i * c + j] = e;
      s += e;
    }
    for (let j = 0; j < c; j++) out[i * c + j] /= s;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Groups

export interface GroupStat {
  /** [y, z_a, z_b, ...]: the label followed by the value of each factor in this grouping. */
  key: number[];
  /** Readable key, e.g. "y=1, sex=0". */
  label: string;
  n: number;
  correct: number;
  accuracy: number;
}

/**
 * Accuracy within every group formed by the label and the given factors (one factor: the (y, z_i)
 * groups; several: their joint groups). Groups are sorted by key; empty groups do not appear.
 */
export function groupAccuracies(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  factors: readonly ArrayLike<number>[],
  names?: readonly string[],
  /** the name of the label in group labels ("y=1, marker=0"); the task's own name for spurion heads */
  labelName = "y",
): GroupStat[] {
  const n = checkSameLength(predicted, labels);
  for (const f of factors)
    if (f.length !== n) throw new RangeError(`groupAccuracies: factor has ${f.length} rows, expected ${n}`);
  const groups = new Map<string, { key: number[]; n: number; correct: number }>();
  for (let i = 0; i < n; i++) {
    const key = [labels[i], ...factors.map((f) => f[i])];
    const id = key.join(",");
    let g = groups.get(id);
    if (!g) {
      g = { key, n: 0, correct: 0 };
      groups.set(id, g);
    }
    g.n++;
    if (predicted[i] === labels[i]) g.correct++;
  }
  const labelOf = (key: number[]): string =>
    key.map((v, j) => `${j === 0 ? labelName : (names?.[j - 1] ?? `z${j}`)}=${v}`).join(", ");
  return [...groups.values()]
    .sort((a, b) => compareKeys(a.key, b.key))
    .map((g) => ({
      key: g.key,
      label: labelOf(g.key),
      n: g.n,
      correct: g.correct,
      accuracy: g.correct / g.n,
    }));
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

export interface WorstGroupReport {
  /** For each factor z_i: its (y, z_i) groups and the worst of them. */
  perFactor: { name: string; groups: GroupStat[]; worst: GroupStat }[];
  /** Joint groups (y, z_1, .., z_N) and the worst of them. */
  joint: { groups: GroupStat[]; worst: GroupStat };
  /** Minimum accuracy over all (y, z_i) groups, every i: the number usually reported. */
  worstAccuracy: number;
  /**
   * Minimum over the joint groups. Never above worstAccuracy when every group is eligible: each
   * (y, z_i) group is a union of joint groups, so one of them is at most its accuracy.
   */
  jointWorstAccuracy: number;
}

/**
 * Worst-group accuracy over (y, z_i) groups and over joint groups. Groups smaller than
 * `minGroupSize` are listed but not eligible as the worst (one unlucky sample says little).
 */
export function worstGroupAccuracy(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  factors: readonly ArrayLike<number>[],
  options: { names?: readonly string[]; minGroupSize?: number; labelName?: string } = {},
): WorstGroupReport {
  if (factors.length === 0) throw new RangeError("worstGroupAccuracy: need at least one factor");
  const minSize = options.minGroupSize ?? 1;
  const names = factors.map((_, i) => options.names?.[i] ?? `z${i + 1}`);
  const pickWorst = (groups: GroupStat[]): GroupStat => {
    const eligible = groups.filter((g) => g.n >= minSize);
    const pool = eligible.length > 0 ? eligible : groups;
    return pool.reduce((w, g) => (g.accuracy < w.accuracy ? g : w));
  };
  const perFactor = factors.map((f, i) => {
    const groups = groupAccuracies(predicted, labels, [f], [names[i]], options.labelName);
    return { name: names[i], groups, worst: pickWorst(groups) };
  });
  const jointGroups = groupAccuracies(predicted, labels, factors, names, options.labelName);
  const joint = { groups: jointGroups, worst: pickWorst(jointGroups) };
  return {
    perFactor,
    joint,
    worstAccuracy: Math.min(...perFactor.map((p) => p.worst.accuracy)),
    jointWorstAccuracy: joint.worst.accuracy,
  };
}

export interface DistributionGap {
  inDistribution: number;
  inverted: number;
  /** inDistribution - inverted: near 0 when no shortcut is used, large when one is. */
  gap: number;
}

/** The in-distribution (validation) vs inverted-test gap of one metric. */
export function distributionGap(inDistribution: number, inverted: number): DistributionGap {
  return { inDistribution, inverted, gap: inDistribution - inverted };
}

// ---------------------------------------------------------------------------------------------
// One call for a whole task on one split

export interface TaskEvaluationOptions {
  scoreKind?: ScoreKind;
  /** Spurion values per row, for worst-group accuracy. */
  factors?: readonly ArrayLike<number>[];
  factorNames?: readonly string[];
  /** the label's name in group labels (default "y") */
  labelName?: string;
  minGroupSize?: number;
  /** Bootstrap resamples for balanced accuracy and AUC intervals (0 = no bootstrap). */
  bootstrap?: number;
  seed?: number;
  level?: number;
}

export interface TaskEvaluation {
  n: number;
  numClasses: number;
  accuracy: number;
  accuracyCi: Interval;
  balancedAccuracy: number;
  balancedAccuracyCi?: Interval;
  auc: number;
  aucCi?: Interval;
  /** Row-major [C, C], rows = true class. */
  confusion: number[];
  worstGroup?: WorstGroupReport;
}

/** Every metric of one task on one split, with intervals; JSON-serialisable. */
export function evaluateTask(
  scores: ArrayLike<number>,
  labels: Int32Array,
  options: TaskEvaluationOptions = {},
): TaskEvaluation {
  const n = labels.length;
  const cols = scoreColumns(scores, n);
  const numClasses = Math.max(cols === 1 ? 2 : cols, inferNumClasses(labels));
  const predicted = predictClasses(scores, n, options.scoreKind);
  const level = options.level ?? 0.95;
  const correct = countCorrect(predicted, labels);
  const result: TaskEvaluation = {
    n,
    numClasses,
    accuracy: correct / n,
    accuracyCi: wilsonInterval(correct, n, level),
    balancedAccuracy: balancedAccuracy(predicted, labels, numClasses),
    auc: rocAuc(scores, labels, options.scoreKind),
    confusion: Array.from(confusionMatrix(predicted, labels, numClasses)),
  };
  const resamples = options.bootstrap ?? 1000;
  if (resamples > 0) {
    const bo = { resamples, seed: options.seed ?? 0, level, strata: labels };
    const p = new Int32Array(n);
    const y = new Int32Array(n);
    const s = new Float64Array(n * cols);
    result.balancedAccuracyCi = stripUsed(
      bootstrapInterval(
        n,
        (idx) => {
          for (let i = 0; i < n; i++) {
            p[i] = predicted[idx[i]];
            y[i] = labels[idx[i]];
          }
          return balancedAccuracy(p, y, numClasses);
        },
        bo,
      ),
    );
    result.aucCi = stripUsed(
      bootstrapInterval(
        n,
        (idx) => {
          for (let i = 0; i < n; i++) {
            y[i] = labels[idx[i]];
            for (let j = 0; j < cols; j++) s[i * cols + j] = scores[idx[i] * cols + j];
          }
          return rocAuc(s, y, options.scoreKind);
        },
        bo,
      ),
    );
  }
  if (options.factors && options.factors.length > 0) {
    result.worstGroup = worstGroupAccuracy(predicted, labels, options.factors, {
      names: options.factorNames,
      minGroupSize: options.minGroupSize,
      labelName: options.labelName,
    });
  }
  return result;
}

function stripUsed(i: Interval & { used?: number }): Interval {
  return { low: i.low, high: i.high, level: i.level };
}

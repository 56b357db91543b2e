// Confidence intervals for evaluation numbers. A shortcut audit compares numbers that are often
// close (a probe at 52% vs chance at 50%), so every headline number carries an interval: Wilson for
// plain proportions (exact enough at any n and never outside [0, 1], unlike the normal
// approximation), a seeded percentile bootstrap for statistics without a closed form (balanced
// accuracy, ROC-AUC).

import { Rng } from "../util/random.js";

export interface Interval {
  low: number;
  high: number;
  /** Coverage, e.g. 0.95. */
  level: number;
}

/**
 * Inverse of the standard normal CDF. Rational approximation by P. J. Acklam (relative error
 * below 1.2e-9), which is far below what a confidence level needs.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - pLow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** Wilson score interval for a binomial proportion `successes / n`. */
export function wilsonInterval(successes: number, n: number, level = 0.95): Interval {
  if (!(n >= 0) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: need 0 <= successes <= n, got ${successes} / ${n}`);
  }
  if (n === 0) return { low: 0, high: 1, level };
  const z = normalQuantile(0.5 + level / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  // Clamp against rounding at p = 0 or 1, where the exact bound is 0 or 1.
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half), level };
}

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** PRNG seed; the same seed gives the same interval. */
  seed?: number;
  level?: number;
  /**
   * Resample within each stratum (usually the true label), keeping class counts fixed. Without
   * it a small resample can lose a class, which leaves ROC-AUC undefined and makes balanced
   * accuracy jump; with it the interval reflects sampling noise within classes.
   */
  strata?: Int32Array;
}

export interface BootstrapInterval extends Interval {
  /** Resamples whose statistic was finite (NaN results are dropped, e.g. AUC with one class). */
  used: number;
}

/**
 * Percentile bootstrap: `statistic` receives the resampled row indices (length n, with repeats)
 * and returns a number; the interval is the (1-level)/2 and (1+level)/2 quantiles.
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const rng = new Rng(options.seed ?? 0);
  const groups = options.strata ? strataMembers(options.strata, n) : [identity(n)];
  const idx = new Int32Array(n);
  const values: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let o = 0;
    for (const members of groups) {
      for (let i = 0; i < members.length; i++) idx[o++] = members[rng.int(members.length)];
    }
    const v = statistic(idx);
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length === 0) return { low: Number.NaN, high: Number.NaN, level, used: 0 };
  values.sort((x, y) => x - y);
  return {
    low: quantileSorted(values, (1 - level) / 2),
    high: quantileSorted(values, (1 + level) / 2),
    level,
    used: values.length,
  };
}

/** Linear-interpolation quantile of an ascending array (the "type 7" definition). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function strataMembers(strata: Int32Array, n: number): Int32Array[] {
  if (strata.length !== n)
    throw new RangeError(`bootstrap strata has ${strata.length} entries for ${n} rows`);
  const byKey = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let list = byKey.get(strata[i]);
    if (!list) {
      list = [];
      byKey.set(strata[i], list);
    }
    list.push(i);
  }
  // Sorted keys keep the resampling order (and so the result) independent of first appearance.
  return [...byKey.keys()].sort((a, b) => a - b).map((k) => Int32Array.from(byKey.get(k)!));
}

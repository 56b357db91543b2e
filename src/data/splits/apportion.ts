// Integer apportionment: turning "450 rows at 90%" into exact counts. Used everywhere a ratio must be
// met exactly (the tests check the counts to the row), so it is deterministic and sums exactly.

/** Splits `total` into integers proportional to `weights` (largest remainder; ties to lower index). */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new Error(`apportion: weights must have a positive sum, got [${weights.join(", ")}]`);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map((x) => Math.floor(x + 1e-9));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - out[i] })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k].i]++;
  return out;
}

/**
 * A sequence of length sum(counts) containing value v exactly counts[v] times, spread evenly
 * ("smooth" interleaving: at each step emit the value furthest behind its quota). Any contiguous
 * stretch of the sequence then holds each value in close to its overall proportion, which is what
 * makes successive spurions nearly independent given y.
 */
export function interleave(counts: readonly number[]): Int32Array {
  const n = counts.reduce((a, b) => a + b, 0);
  const out = new Int32Array(n);
  const given = new Array<number>(counts.length).fill(0);
  for (let p = 0; p < n; p++) {
    let best = -1;
    let bestDeficit = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < counts.length; v++) {
      if (given[v] >= counts[v]) continue;
      const deficit = (counts[v] * (p + 1)) / n - given[v];
      if (deficit > bestDeficit + 1e-12) {
        bestDeficit = deficit;
        best = v;
      }
    }
    out[p] = best;
    given[best]++;
  }
  return out;
}

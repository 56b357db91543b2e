// Kernel estimate of the dependence between features f and a discrete spurion label z within each
// class of y (our design, the "kernel" estimator of MIMM-X). It is zero exactly when f is
// independent of z given y, the condition I(f; z | y) = 0, and needs no trained critic:
//
//   D(f; z | y) = sum_c sum_j MMD^2( P(f | y = c, z = j), P(f | y = c) )
//
// MMD^2 with a characteristic kernel is zero iff the two distributions are equal, so D = 0 iff
// every (y, z) group has its class's feature distribution, i.e. z tells nothing about f beyond y.
// Why this and not a trained critic: the labels of the spurions are known at training time, and a
// closed-form estimate cannot lag behind the encoder the way a critic in a min-max does; it sees the
// mean shift a linear probe reads, and (through the RBF kernel) every other difference.
//
// Within a class the groups are compared to the class as a whole, each group with equal weight,
// which is the (y, z) balancing of the balanced test: a minority group of 3 images in a batch counts
// as much as a majority of 60. Groups absent from the batch contribute nothing (never a division by
// zero); a class with fewer than two groups present contributes nothing.
//
// The kernel is a mix of RBF kernels exp(-|a-b|^2 / (2 m h)), h = the median squared distance of the
// batch (detached, the median heuristic) and m in `bandwidths`: scale-free, so the encoder cannot
// shrink the penalty by shrinking its features. D only ever compares rows of the same class, so h
// may be taken over those pairs alone (classMedian): over the whole batch, once f_y separates the
// classes, h is set by the distance between them and the kernel turns flat within a class, where a
// probe still reads the spurion (docs/tuning-log.md, round 6).
import { tensor } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";

export const DEFAULT_BANDWIDTHS = [0.5, 1, 2];

/**
 * The contrast vectors of a batch: one row per present (class c, group j) with
 * v_b = [y_b = c, z_b = j] / n_cj - [y_b = c] / n_c. MMD^2 of that pair is v^T K v.
 * Labels < 0 (unknown) take no part. Returns the rows as a flat array and their count.
 */
export function groupContrasts(
  y: ArrayLike<number>,
  z: ArrayLike<number>,
  numY: number,
  numZ: number,
): { rows: Float64Array; count: number } {
  const b = y.length;
  const out: number[] = [];
  let count = 0;
  for (let c = 0; c < numY; c++) {
    const nj = new Array<number>(numZ).fill(0);
    let nc = 0;
    for (let i = 0; i < b; i++) {
      if (y[i] !== c || z[i] < 0) continue;
      nj[z[i]]++;
      nc++;
    }
    if (nj.filter((n) => n > 0).length < 2) continue;
    for (let j = 0; j < numZ; j++) {
      if (nj[j] === 0) continue;
      for (let i = 0; i < b; i++) {
        const inClass = y[i] === c && z[i] >= 0;
        out.push(inClass ? (z[i] === j ? 1 / nj[j] : 0) - 1 / nc : 0);
      }
      count++;
    }
  }
  return { rows: Float64Array.from(out), count };
}

/** Squared Euclidean distances [B, B] of the rows of f, differentiable (no sqrt at zero). */
export function squaredDistances(f: Tensor): Tensor {
  const sq = f.mul(f).sum(1, true);
  return sq.add(sq.t()).sub(f.matmul(f.t()).mul(2)).clamp(0);
}

/**
 * The mixed RBF kernel matrix [B, B] of f. `scale` h defaults to the median heuristic (see the file
 * comment), held constant for the gradient; a function gets the batch's squared distances
 * (row-major, detached) and returns h, so a bandwidth from them (classMedian) needs no second pass.
 */
export function rbfKernel(
  f: Tensor,
  bandwidths: number[] = DEFAULT_BANDWIDTHS,
  scale?: number | ((d2: ArrayLike<number>) => number),
): Tensor {
  const d2 = squaredDistances(f);
  const h =
    typeof scale === "number"
      ? scale
      : (scale ?? ((d: ArrayLike<number>) => Math.max(1e-8, median(d))))(
          d2.detach().dataSync() as ArrayLike<number>,
        );
  let k: Tensor | null = null;
  for (const m of bandwidths) {
    const term = d2.mul(-1 / (2 * m * h)).exp();
    k = k ? k.add(term) : term;
  }
  return (k as Tensor).div(bandwidths.length);
}

/**
 * The linear kernel [B, B] of the batch-standardised features without its diagonal:
 * K = g g^T - diag(|g_b|^2), g = (f - mean) / sd per column (batch statistics, held constant for the
 * gradient, so the kernel is scale-free like the RBF one). v^T K v is then the unbiased estimate of
 * the squared distance between a group's and its class's mean of g, summed over the columns: the
 * mean shift a linear probe reads, in whichever direction it lies. The diagonal goes because, unlike
 * the RBF kernel's constant 1, |g_b|^2 depends on f: kept, its gradient would pull the rows of small
 * groups towards the batch mean instead of moving their group's mean.
 */
export function standardisedLinearKernel(f: Tensor): Tensor {
  const stats = f.detach();
  const mean = stats.mean(0, true);
  const sd = stats.sub(mean).pow(2).mean(0, true).sqrt().clamp(1e-6);
  const g = f.sub(mean).div(sd);
  const k = g.matmul(g.t());
  // K minus its own diagonal: exact zeros there, and no gradient through |g_b|^2.
  return k.sub(k.diag().diag());
}

/**
 * D(f; z | y) for one spurion, a differentiable scalar (zero, still attached to f, when no class
 * has two groups in the batch). It is the V-statistic, >= 0, with a small positive sampling bias
 * for independent features (about sum_b v_b^2 (1 - mean k), larger for small groups); the bias
 * comes from the kernel's constant diagonal, so it does not move the gradient.
 */
export function conditionalDependence(
  f: Tensor,
  y: ArrayLike<number>,
  z: ArrayLike<number>,
  numY: number,
  numZ: number,
  bandwidths: number[] = DEFAULT_BANDWIDTHS,
  scale?: number,
): Tensor {
  return dependenceFromKernel(rbfKernel(f, bandwidths, scale), y, z, numY, numZ);
}

/**
 * D(f; z | y) from the kernel matrix [B, B] of f (rbfKernel), so several spurions share one kernel
 * of the same features. Zero, still attached to the kernel, when no class has two groups.
 */
export function dependenceFromKernel(
  k: Tensor,
  y: ArrayLike<number>,
  z: ArrayLike<number>,
  numY: number,
  numZ: number,
): Tensor {
  const { rows, count } = groupContrasts(y, z, numY, numZ);
  if (count === 0) return k.sum().mul(0);
  const v = tensor(rows, { shape: [count, y.length], dtype: k.dtype, device: k.device });
  return v.matmul(k).mul(v).sum();
}

/**
 * The median squared distance over pairs i < j of the same class (labels < 0 take no part): the
 * bandwidth h of a kernel only ever compared within a class. Falls back to every pair when no class
 * has two rows. `d2`: the [B, B] squared distances, row-major.
 */
export function classMedian(d2: ArrayLike<number>, y: ArrayLike<number>): number {
  const b = y.length;
  const within: number[] = [];
  for (let i = 0; i < b; i++)
    for (let j = i + 1; j < b; j++) if (y[i] >= 0 && y[i] === y[j]) within.push(d2[i * b + j]);
  return Math.max(1e-8, within.length > 0 ? median(within) : median(d2));
}

/**
 * The element of rank floor(n / 2) (0-based) of a, as sorting would find it: Hoare's selection in
 * place on a copy, O(n) on average where a sort of the 16,384 distances of a batch of 128 is the
 * largest host cost of an encoder step.
 */
export function median(a: ArrayLike<number>): number {
  const s = Float64Array.from(a);
  const k = Math.floor(s.length / 2);
  let lo = 0;
  let hi = s.length - 1;
  while (lo < hi) {
    const pivot = s[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (s[i] < pivot) i++;
      while (s[j] > pivot) j--;
      if (i <= j) {
        const t = s[i];
        s[i] = s[j];
        s[j] = t;
        i++;
        j--;
      }
    }
    // [lo, j] <= pivot <= [i, hi]; between them every element equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return s[k];
  }
  return s[k];
}

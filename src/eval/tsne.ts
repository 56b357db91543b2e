// Exact t-SNE (van der Maaten & Hinton, 2008) for the paper's Fig. 3 style check: embed f_y in
// 2-D and colour it by each spurion; visible clusters mean f_y still encodes that spurion. Exact
// O(n^2) per iteration is fine at the ~1000 points a readable scatter plot holds, and avoids the
// approximation knobs of Barnes-Hut. Larger inputs are subsampled with the seed.

import { Rng } from "../util/random.js";

export interface TsneOptions {
  /** Effective number of neighbours (default 30; capped at (n - 1) / 3). */
  perplexity?: number;
  /** Gradient steps in total (default 1000). */
  iterations?: number;
  /** "auto" (default): max(n / earlyExaggeration / 4, 50), a common modern choice. */
  learningRate?: number | "auto";
  /** P is multiplied by this during the first `exaggerationIterations` steps (default 12), which
   * lets clusters form and move apart before fine structure settles. */
  earlyExaggeration?: number;
  exaggerationIterations?: number;
  /** Momentum before / after the exaggeration phase (defaults 0.5 / 0.8). */
  initialMomentum?: number;
  finalMomentum?: number;
  seed?: number;
  /** Inputs with more rows are subsampled to this many (default 1000). */
  maxPoints?: number;
}

export interface TsneResult {
  /** Row-major [n, 2]. */
  embedding: Float64Array;
  /** Which input rows were embedded (all of them unless subsampled), ascending. */
  indices: Int32Array;
  /** KL(P || Q) at the end, without exaggeration. */
  klDivergence: number;
  perplexity: number;
}

/** Embeds the rows of row-major `data` [N, dim] in two dimensions. */
export function tsne(data: ArrayLike<number>, dim: number, options: TsneOptions = {}): TsneResult {
  const total = data.length / dim;
  if (!Number.isInteger(total) || total < 1)
    throw new RangeError(`tsne: ${data.length} values do not form rows of ${dim}`);
  const seed = options.seed ?? 0;
  const rng = new Rng(seed);
  const maxPoints = options.maxPoints ?? 1000;
  const indices =
    total > maxPoints ? subsample(total, maxPoints, rng) : Int32Array.from({ length: total }, (_, i) => i);
  const n = indices.length;
  if (n < 4) {
    // Too few points for a neighbourhood structure; place them on a line, deterministically.
    const embedding = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) embedding[2 * i] = i;
    return { embedding, indices, klDivergence: 0, perplexity: 0 };
  }
  const perplexity = Math.min(options.perplexity ?? 30, (n - 1) / 3);
  const iterations = options.iterations ?? 1000;
  const exaggeration = options.earlyExaggeration ?? 12;
  const exagIters = Math.min(options.exaggerationIterations ?? 250, iterations);
  const lr =
    options.learningRate === undefined || options.learningRate === "auto"
      ? Math.max(n / exaggeration / 4, 50)
      : options.learningRate;
  const mom0 = options.initialMomentum ?? 0.5;
  const mom1 = options.finalMomentum ?? 0.8;

  const P = jointProbabilities(squaredDistances(data, dim, indices), n, perplexity);

  const Y = new Float64Array(n * 2);
  for (let i = 0; i < 2 * n; i++) Y[i] = rng.normal() * 1e-4;
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const grad = new Float64Array(n * 2);
  const attr = new Float64Array(n * 2);
  const rep = new Float64Array(n * 2);

  for (let it = 0; it < iterations; it++) {
    const exag = it < exagIters ? exaggeration : 1;
    const momentum = it < exagIters ? mom0 : mom1;
    // dC/dy_i = 4 * sum_j (p_ij - q_ij) * num_ij * (y_i - y_j), with num_ij = 1 / (1 + |y_i - y_j|^2)
    // and q_ij = num_ij / Z. Z is only known after the full pass, so the attractive part (p_ij) and
    // the repulsive part (num_ij^2) are accumulated separately in one pass over the upper triangle
    // and combined afterwards: no n x n kernel buffer, half the memory traffic.
    let Z = 0;
    attr.fill(0);
    rep.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * n;
      const yi0 = Y[2 * i];
      const yi1 = Y[2 * i + 1];
      let a0 = 0;
      let a1 = 0;
      let r0 = 0;
      let r1 = 0;
      for (let j = i + 1; j < n; j++) {
        const d0 = yi0 - Y[2 * j];
        const d1 = yi1 - Y[2 * j + 1];
        const q = 1 / (1 + d0 * d0 + d1 * d1);
        Z += 2 * q;
        const pa = P[row + j] * q;
        const qq = q * q;
        a0 += pa * d0;
        a1 += pa * d1;
        r0 += qq * d0;
        r1 += qq * d1;
        attr[2 * j] -= pa * d0;
        attr[2 * j + 1] -= pa * d1;
        rep[2 * j] -= qq * d0;
        rep[2 * j + 1] -= qq * d1;
      }
      attr[2 * i] += a0;
      attr[2 * i + 1] += a1;
      rep[2 * i] += r0;
      rep[2 * i + 1] += r1;
    }
    const invZ = 1 / Z;
    for (let q = 0; q < 2 * n; q++) grad[q] = exag * attr[q] - rep[q] * invZ;
    // Delta-bar-delta gains: grow a coordinate's step while its gradient keeps its sign.
    for (let q = 0; q < 2 * n; q++) {
      const g = 4 * grad[q];
      gains[q] = Math.sign(g) !== Math.sign(update[q]) ? gains[q] + 0.2 : Math.max(gains[q] * 0.8, 0.01);
      update[q] = momentum * update[q] - lr * gains[q] * g;
      Y[q] += update[q];
    }
    centre(Y, n);
  }

  return { embedding: Y, indices, klDivergence: klDivergence(P, Y, n), perplexity };
}

function subsample(total: number, m: number, rng: Rng): Int32Array {
  const perm = rng.permutation(total);
  return perm.slice(0, m).sort();
}

function squaredDistances(data: ArrayLike<number>, dim: number, rows: Int32Array): Float64Array {
  const n = rows.length;
  const x = new Float64Array(n * dim);
  for (let r = 0; r < n; r++) for (let j = 0; j < dim; j++) x[r * dim + j] = data[rows[r] * dim + j];
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const d = x[i * dim + k] - x[j * dim + k];
        s += d * d;
      }
      D[i * n + j] = s;
      D[j * n + i] = s;
    }
  }
  return D;
}

/**
 * Conditional Gaussian affinities p_{j|i} whose entropy matches log(perplexity) (binary search on
 * the precision per row), symmetrised as p_ij = (p_{j|i} + p_{i|j}) / (2n).
 */
function jointProbabilities(D: Float64Array, n: number, perplexity: number): Float64Array {
  const P = new Float64Array(n * n);
  const target = Math.log(perplexity);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Shift by the smallest distance: the row's probabilities are unchanged, exp() cannot underflow to all zeros.
    let dMin = Number.POSITIVE_INFINITY;
    for (let j = 0; j < n; j++) if (j !== i && D[i * n + j] < dMin) dMin = D[i * n + j];
    let beta = 1;
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    let sum = 0;
    for (let step = 0; step < 100; step++) {
      sum = 0;
      let wd = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) {
          row[j] = 0;
          continue;
        }
        const d = D[i * n + j] - dMin;
        const p = Math.exp(-beta * d);
        row[j] = p;
        sum += p;
        wd += p * d;
      }
      // Entropy of the normalised row: H = log(sum) + beta * E[d].
      const H = Math.log(sum) + (beta * wd) / sum;
      const diff = H - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Number.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
    for (let j = 0; j < n; j++) P[i * n + j] = row[j] / sum;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max((P[i * n + j] + P[j * n + i]) / (2 * n), 1e-12);
      P[i * n + j] = v;
      P[j * n + i] = v;
    }
    P[i * n + i] = 0;
  }
  return P;
}

function centre(Y: Float64Array, n: number): void {
  let m0 = 0;
  let m1 = 0;
  for (let i = 0; i < n; i++) {
    m0 += Y[2 * i];
    m1 += Y[2 * i + 1];
  }
  m0 /= n;
  m1 /= n;
  for (let i = 0; i < n; i++) {
    Y[2 * i] -= m0;
    Y[2 * i + 1] -= m1;
  }
}

function klDivergence(P: Float64Array, Y: Float64Array, n: number): number {
  let Z = 0;
  const num = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const d0 = Y[2 * i] - Y[2 * j];
      const d1 = Y[2 * i + 1] - Y[2 * j + 1];
      num[i * n + j] = 1 / (1 + d0 * d0 + d1 * d1);
      Z += num[i * n + j];
    }
  }
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const p = P[i * n + j];
      kl += p * Math.log(p / Math.max(num[i * n + j] / Z, 1e-300));
    }
  }
  return kl;
}

/**
 * Share of points whose k nearest neighbours (Euclidean, in `points` [n, dim]) carry the same label,
 * averaged over points and neighbours. A number for "are there clusters by this label": near the
 * chance rate sum_c share_c^2 when there are none, near 1 when the label separates the embedding.
 */
export function knnLabelAgreement(
  points: ArrayLike<number>,
  dim: number,
  labels: ArrayLike<number>,
  k = 5,
): number {
  const n = labels.length;
  if (points.length !== n * dim)
    throw new RangeError("knnLabelAgreement: points and labels disagree in length");
  const kk = Math.min(k, n - 1);
  if (kk < 1) return Number.NaN;
  const dist = new Float64Array(n);
  const order = new Int32Array(n);
  let agree = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) {
        const d = points[i * dim + t] - points[j * dim + t];
        s += d * d;
      }
      dist[j] = j === i ? Number.POSITIVE_INFINITY : s;
      order[j] = j;
    }
    // Ties broken by index so the result is deterministic.
    order.sort((a, b) => dist[a] - dist[b] || a - b);
    for (let t = 0; t < kk; t++) if (labels[order[t]] === labels[i]) agree++;
  }
  return agree / (n * kk);
}

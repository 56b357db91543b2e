// Multinomial logistic regression with L2, fitted by L-BFGS: the linear probe's model. It must be
// deterministic (same data, same weights: no stochastic minibatches) and converge fully, because
// a probe that stops early under-reports how much a feature part knows about a label, which is
// exactly the error that would make a shortcut look removed.

export interface LogisticOptions {
  /** L2 penalty on the weights (not the biases), added as (l2 / 2) * ||W||^2 to the mean loss. */
  l2?: number;
  maxIter?: number;
  /** Stop when the largest gradient entry falls below this. */
  tol?: number;
  /** L-BFGS history length. */
  memory?: number;
}

export interface LogisticModel {
  dim: number;
  numClasses: number;
  /** Row-major [dim + 1, C]; the last row holds the biases. */
  weights: Float64Array;
  iterations: number;
  converged: boolean;
  /** Final value of the penalised mean cross-entropy. */
  loss: number;
}

/**
 * Fits `C` logits `x W + b` to labels by minimising mean cross-entropy + (l2/2)||W||^2.
 * `x` is row-major [n, dim] and should be standardised (the penalty assumes comparable scales).
 */
export function fitLogistic(
  x: Float64Array,
  dim: number,
  labels: Int32Array,
  numClasses: number,
  options: LogisticOptions = {},
): LogisticModel {
  const n = labels.length;
  if (x.length !== n * dim)
    throw new RangeError(`fitLogistic: x has ${x.length} values, expected ${n} x ${dim}`);
  const l2 = options.l2 ?? 1e-3;
  const maxIter = options.maxIter ?? 300;
  const tol = options.tol ?? 1e-6;
  const mem = options.memory ?? 10;
  const c = numClasses;
  const p = (dim + 1) * c;
  const logits = new Float64Array(c);

  const evaluate = (w: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = i * dim;
      let m = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < c; k++) {
        let z = w[dim * c + k];
        for (let j = 0; j < dim; j++) z += x[row + j] * w[j * c + k];
        logits[k] = z;
        if (z > m) m = z;
      }
      let s = 0;
      for (let k = 0; k < c; k++) {
        logits[k] = Math.exp(logits[k] - m);
        s += logits[k];
      }
      const yi = labels[i];
      loss += Math.log(s) + m - (Math.log(logits[yi]) + m);
      for (let k = 0; k < c; k++) {
        // d CE / d logit_k = softmax_k - [k == y]
        const d = logits[k] / s - (k === yi ? 1 : 0);
        if (d === 0) continue;
        for (let j = 0; j < dim; j++) grad[j * c + k] += d * x[row + j];
        grad[dim * c + k] += d;
      }
    }
    loss /= n;
    for (let q = 0; q < p; q++) grad[q] /= n;
    for (let q = 0; q < dim * c; q++) {
      loss += 0.5 * l2 * w[q] * w[q];
      grad[q] += l2 * w[q];
    }
    return loss;
  };

  const w = new Float64Array(p);
  const g = new Float64Array(p);
  let f = evaluate(w, g);
  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rhoHist: number[] = [];
  const dir = new Float64Array(p);
  const wNew = new Float64Array(p);
  const gNew = new Float64Array(p);
  const alpha = new Float64Array(mem);
  let iter = 0;
  let converged = maxAbs(g) < tol;

  while (!converged && iter < maxIter) {
    // Two-loop recursion: dir = -H g with H the L-BFGS inverse-Hessian estimate.
    for (let q = 0; q < p; q++) dir[q] = -g[q];
    const h = sHist.length;
    for (let t = h - 1; t >= 0; t--) {
      alpha[t] = rhoHist[t] * dot(sHist[t], dir);
      axpy(-alpha[t], yHist[t], dir);
    }
    if (h > 0) {
      const gamma = dot(sHist[h - 1], yHist[h - 1]) / dot(yHist[h - 1], yHist[h - 1]);
      for (let q = 0; q < p; q++) dir[q] *= gamma;
    } else {
      // First step: unit length along -g, so the line search starts at a sensible scale.
      const gn = Math.sqrt(dot(g, g));
      for (let q = 0; q < p; q++) dir[q] /= gn;
    }
    for (let t = 0; t < h; t++) {
      const beta = rhoHist[t] * dot(yHist[t], dir);
      axpy(alpha[t] - beta, sHist[t], dir);
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      sHist.length = 0;
      yHist.length = 0;
      rhoHist.length = 0;
      for (let q = 0; q < p; q++) dir[q] = -g[q];
      slope = -dot(g, g);
    }
    // Backtracking line search with the Armijo condition.
    let step = 1;
    let fNew = 0;
    let accepted = false;
    for (let tries = 0; tries < 40; tries++) {
      for (let q = 0; q < p; q++) wNew[q] = w[q] + step * dir[q];
      fNew = evaluate(wNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const s = new Float64Array(p);
    const y = new Float64Array(p);
    for (let q = 0; q < p; q++) {
      s[q] = wNew[q] - w[q];
      y[q] = gNew[q] - g[q];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      // Keep the pair only when curvature is positive, which keeps H positive definite.
      if (sHist.length === mem) {
        sHist.shift();
        yHist.shift();
        rhoHist.shift();
      }
      sHist.push(s);
      yHist.push(y);
      rhoHist.push(1 / sy);
    }
    const fOld = f;
    w.set(wNew);
    g.set(gNew);
    f = fNew;
    iter++;
    converged = maxAbs(g) < tol || Math.abs(fOld - f) <= 1e-12 * Math.max(1, Math.abs(f));
  }
  return { dim, numClasses: c, weights: w, iterations: iter, converged, loss: f };
}

/** Logits [n, C] of a fitted model for row-major features [n, dim]. */
export function logisticLogits(model: LogisticModel, x: Float64Array): Float64Array {
  const { dim, numClasses: c, weights: w } = model;
  const n = x.length / dim;
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      let z = w[dim * c + k];
      for (let j = 0; j < dim; j++) z += x[i * dim + j] * w[j * c + k];
      out[i * c + k] = z;
    }
  }
  return out;
}

/** Per-column mean and standard deviation, estimated on the rows that train the probe. */
export interface Standardiser {
  mean: Float64Array;
  std: Float64Array;
}

export function fitStandardiser(x: Float64Array, dim: number): Standardiser {
  const n = x.length / dim;
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const d = x[i * dim + j] - mean[j];
      std[j] += d * d;
    }
  }
  for (let j = 0; j < dim; j++) {
    const s = Math.sqrt(std[j] / n);
    // A constant column carries no information; scale 1 keeps it at zero instead of dividing by 0.
    std[j] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

export function applyStandardiser(st: Standardiser, x: Float64Array): Float64Array {
  const dim = st.mean.length;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % dim;
    out[i] = (x[i] - st.mean[j]) / st.std[j];
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

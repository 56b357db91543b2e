// DFR (Kirichenko et al. 2022, "Last Layer Re-Training is Sufficient for Robustness to Spurious
// Correlations"): train ERM, then retrain only the last layer (the y head, on frozen features) on
// group-balanced held-out data.
//
// What is refitted (method.dfr.features): "embedding" (default, the paper's: a linear classifier on
// the encoder's embedding, the input of its last shared layer, e.g. the small CNN's 256 hidden
// units; it replaces the composition of that layer's f_y rows and the linear y head, which are
// rewritten so the model computes exactly the fit) or "last_layer" (only the y head's last Linear,
// on f_y: k = 32 features that hold little beyond what ERM learnt to use).
//
// Held-out data here: a part of the validation split (method.dfr.holdout, default half), drawn by
// the run seed and stratified by joint (y, z) cell. The other part (the "selection" part) picks the
// ERM checkpoint (train.select_by) and the regularisation strength; it never trains anything. The
// training split is never used for the head.
//
// The paper's recipe (their DFR^Tr_Val, and their code): standardise the features, fit an
// L1-regularised logistic regression (sklearn's objective ||w||_1 + C sum_i logloss_i) for each C in
// {1, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01}, each on group-balanced random subsets of the held-out data,
// average the weights of the fits on several subsets (method.dfr.subsamples, default 10), and keep the
// C with the best worst-group accuracy on the other half. Balanced subsets: groups.ts balancedSubset.
// The fit is proximal gradient descent (FISTA with backtracking) in float64 in plain TypeScript: the
// problems are small (a few hundred rows, the width k of f_y).

import * as nn from "../nn/index.js";
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import { Rng } from "../util/random.js";
import { Erm } from "./erm.js";
import {
  balancedSubset,
  cellCounts,
  cellIds,
  type GroupOptions,
  groupingsOf,
  jointKey,
  type TaskLabels,
} from "./groups.js";
import type { CommonConfig } from "./method.js";

/** The paper's grid of C (inverse L1 strength), strongest fit first. */
export const DFR_C_GRID = [1, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01];
export const DFR_DEFAULTS = { holdout: 0.5, subsamples: 10, cGrid: DFR_C_GRID };

export interface DfrConfig extends CommonConfig, Partial<GroupOptions> {
  /** fraction of the validation split the head is retrained on (default 0.5) */
  holdout?: number;
  /** balanced subsets whose fits are averaged (default 10) */
  subsamples?: number;
  /** C values tried (default the paper's grid) */
  cGrid?: number[];
  /** what the classifier is refitted on (default "embedding", the paper's) */
  features?: DfrFeatures;
}

/** The refit's inputs: the encoder's embedding, or the inputs of the y head's last layer. */
export type DfrFeatures = "embedding" | "last_layer";

/** A linear map scores = x W^T + b, W [K, d] row-major. */
export interface LinearFit {
  weight: Float64Array;
  bias: Float64Array;
  outputs: number;
  inputs: number;
}

/**
 * L1-regularised logistic regression, sklearn's objective ||W||_1 + C sum_i loss_i (bias not
 * penalised), minimised as (1/n) sum_i loss_i + ||W||_1 / (C n). Binary: one score, the logit of
 * class 1; more classes: multinomial softmax. x: [n, d] row-major.
 */
export function fitL1Logistic(
  x: Float64Array,
  y: ArrayLike<number>,
  d: number,
  numClasses: number,
  c: number,
  o: { maxIter?: number; tol?: number } = {},
): LinearFit {
  const n = y.length;
  if (n === 0) throw new Error("dfr: no rows to fit the last layer on");
  if (x.length !== n * d) throw new Error(`dfr: features hold ${x.length} values, expected ${n} x ${d}`);
  const k = numClasses === 2 ? 1 : numClasses;
  const lambda = 1 / (c * n);
  const size = k * d + k; // weights then biases
  const objective = (p: Float64Array, grad?: Float64Array): number => {
    if (grad) grad.fill(0);
    let loss = 0;
    const s = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        let v = p[k * d + j];
        for (let f = 0; f < d; f++) v += p[j * d + f] * x[i * d + f];
        s[j] = v;
      }
      const r = new Float64Array(k); // d loss / d score
      if (k === 1) {
        const t = y[i] === 1 ? 1 : 0;
        // log(1 + e^s) - t s, computed stably
        loss += Math.max(s[0], 0) + Math.log1p(Math.exp(-Math.abs(s[0]))) - t * s[0];
        r[0] = 1 / (1 + Math.exp(-s[0])) - t;
      } else {
        let m = -Infinity;
        for (const v of s) m = Math.max(m, v);
        let z = 0;
        for (const v of s) z += Math.exp(v - m);
        loss += m + Math.log(z) - s[y[i]];
        for (let j = 0; j < k; j++) r[j] = Math.exp(s[j] - m) / z - (j === y[i] ? 1 : 0);
      }
      if (grad)
        for (let j = 0; j < k; j++) {
          for (let f = 0; f < d; f++) grad[j * d + f] += (r[j] * x[i * d + f]) / n;
          grad[k * d + j] += r[j] / n;
        }
    }
    return loss / n;
  };
  // FISTA with backtracking on the step 1/L.
  let p: Float64Array = new Float64Array(size);
  let q: Float64Array = new Float64Array(size); // extrapolated point
  let t = 1;
  let lip = 1;
  const g = new Float64Array(size);
  const maxIter = o.maxIter ?? 1000;
  const tol = o.tol ?? 1e-7;
  for (let it = 0; it < maxIter; it++) {
    const fq = objective(q, g);
    let next: Float64Array = q;
    for (;;) {
      next = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        const v = q[i] - g[i] / lip;
        next[i] = i < k * d ? Math.sign(v) * Math.max(0, Math.abs(v) - lambda / lip) : v;
      }
      let lin = 0;
      let sq = 0;
      for (let i = 0; i < size; i++) {
        const dlt = next[i] - q[i];
        lin += g[i] * dlt;
        sq += dlt * dlt;
      }
      if (objective(next) <= fq + lin + (lip / 2) * sq + 1e-12) break;
      lip *= 2;
    }
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    let change = 0;
    const qNext = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      qNext[i] = next[i] + ((t - 1) / tNext) * (next[i] - p[i]);
      change = Math.max(change, Math.abs(next[i] - p[i]));
    }
    p = next;
    q = qNext;
    t = tNext;
    if (change < tol) break;
  }
  return { weight: p.slice(0, k * d), bias: p.slice(k * d), outputs: k, inputs: d };
}

/** Predicted classes of a fit on standardised features x [n, d]. */
function predict(fit: LinearFit, x: Float64Array, n: number): Int32Array {
  const { outputs: k, inputs: d } = fit;
  return Int32Array.from({ length: n }, (_, i) => {
    let best = 0;
    let bestScore = -Infinity;
    for (let j = 0; j < k; j++) {
      let v = fit.bias[j];
      for (let f = 0; f < d; f++) v += fit.weight[j * d + f] * x[i * d + f];
      if (k === 1) return v > 0 ? 1 : 0;
      if (v > bestScore) {
        bestScore = v;
        best = j;
      }
    }
    return best;
  });
}

/** Worst accuracy over the non-empty cells of the scheme's groupings, then the mean accuracy. */
export function worstGroupAccuracy(
  pred: ArrayLike<number>,
  labels: TaskLabels,
  numClasses: number[],
  o: GroupOptions,
): { worst: number; mean: number } {
  const groupings = groupingsOf(numClasses, o.scheme);
  const ids = cellIds(groupings, labels, numClasses);
  let worst = 1;
  ids.forEach((cells, gi) => {
    const total = cellCounts(cells, groupings[gi].numCells);
    const right = new Array<number>(total.length).fill(0);
    cells.forEach((c, r) => {
      if (c >= 0 && pred[r] === labels[0][r]) right[c]++;
    });
    total.forEach((m, c) => {
      if (m > 0) worst = Math.min(worst, right[c] / m);
    });
  });
  let hits = 0;
  let known = 0;
  for (let r = 0; r < pred.length; r++) {
    if (!(labels[0][r] >= 0)) continue;
    known++;
    if (pred[r] === labels[0][r]) hits++;
  }
  return { worst, mean: known ? hits / known : 0 };
}

/** Which validation rows retrain the head (holdout) and which select (selection); disjoint, sorted. */
export interface DfrSplit {
  holdout: Int32Array;
  selection: Int32Array;
}

/** Splits rows stratified by joint (y, z) cell: in each cell, round(n * fraction) rows to holdout. */
export function splitHoldout(labels: TaskLabels, fraction: number, seed: number): DfrSplit {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`dfr: holdout must be in (0, 1), got ${fraction}`);
  const byCell = new Map<string, number[]>();
  for (let r = 0; r < labels[0].length; r++) {
    const k = jointKey(labels, r) ?? "unknown";
    const list = byCell.get(k);
    if (list) list.push(r);
    else byCell.set(k, [r]);
  }
  const rng = new Rng(seed);
  const hold: number[] = [];
  const sel: number[] = [];
  for (const k of [...byCell.keys()].sort()) {
    const rows = byCell.get(k) as number[];
    const order = rng.permutation(rows.length);
    const m = Math.round(rows.length * fraction);
    order.forEach((o, i) => {
      (i < m ? hold : sel).push(rows[o]);
    });
  }
  const sort = (a: number[]) => Int32Array.from(a.sort((p, q) => p - q));
  return { holdout: sort(hold), selection: sort(sel) };
}

/** Feature rows [n, d] (float32, row-major) with the task labels of the same rows. */
export interface LabeledFeatures {
  x: Float32Array;
  labels: TaskLabels;
}

export interface DfrResult {
  c: number;
  /** per C tried: worst-group and mean accuracy on the selection part */
  grid: { c: number; worst: number; mean: number }[];
  /** the balanced subsets (rows of the holdout features) the final head averaged */
  subsets: Int32Array[];
  fit: LinearFit;
}

function take(x: Float64Array, d: number, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    out.set(x.subarray(r * d, (r + 1) * d), i * d);
  });
  return out;
}

/**
 * The DFR head: fits on balanced subsets of `holdout`, C chosen on `selection`; the returned fit is
 * on the raw (unstandardised) features, ready to be the head's Linear layer.
 */
export function fitDfrHead(
  holdout: LabeledFeatures,
  selection: LabeledFeatures,
  d: number,
  numClasses: number[],
  o: GroupOptions & { subsamples?: number; cGrid?: number[]; seed: number },
): DfrResult {
  const n = holdout.labels[0].length;
  // Standardise with the held-out statistics (the paper's StandardScaler on its training features).
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += holdout.x[i * d + f] / n;
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) sd[f] += (holdout.x[i * d + f] - mean[f]) ** 2 / n;
  for (let f = 0; f < d; f++) sd[f] = Math.sqrt(sd[f]) || 1;
  const std = (x: Float32Array) => Float64Array.from(x, (v, i) => (v - mean[i % d]) / sd[i % d]);
  const xh = std(holdout.x);
  const xs = std(selection.x);
  const ns = selection.labels[0].length;
  const count = o.subsamples ?? DFR_DEFAULTS.subsamples;
  const subsets = Array.from({ length: count }, (_, s) =>
    balancedSubset(holdout.labels, numClasses, o, o.seed * 1000 + s),
  );
  const fitAveraged = (c: number): LinearFit => {
    const fits = subsets.map((rows) =>
      fitL1Logistic(
        take(xh, d, rows),
        Int32Array.from(rows, (r) => holdout.labels[0][r]),
        d,
        numClasses[0],
        c,
      ),
    );
    const avg = (pick: (f: LinearFit) => Float64Array) =>
      Float64Array.from(pick(fits[0]), (_, i) => fits.reduce((s, f) => s + pick(f)[i], 0) / fits.length);
    return { weight: avg((f) => f.weight), bias: avg((f) => f.bias), outputs: fits[0].outputs, inputs: d };
  };
  const grid: DfrResult["grid"] = [];
  let best: { c: number; fit: LinearFit; worst: number; mean: number } | null = null;
  for (const c of o.cGrid ?? DFR_DEFAULTS.cGrid) {
    const fit = fitAveraged(c);
    const score = worstGroupAccuracy(predict(fit, xs, ns), selection.labels, numClasses, o);
    grid.push({ c, ...score });
    if (!best || score.worst > best.worst || (score.worst === best.worst && score.mean > best.mean))
      best = { c, fit, ...score };
  }
  const chosen = (best as NonNullable<typeof best>).fit;
  // Undo the standardisation: W x_std + b = (W / sd) x + (b - sum_f W_f mean_f / sd_f).
  const k = chosen.outputs;
  const weight = new Float64Array(k * d);
  const bias = Float64Array.from(chosen.bias);
  for (let j = 0; j < k; j++)
    for (let f = 0; f < d; f++) {
      weight[j * d + f] = chosen.weight[j * d + f] / sd[f];
      bias[j] -= (chosen.weight[j * d + f] * mean[f]) / sd[f];
    }
  return {
    c: (best as NonNullable<typeof best>).c,
    grid,
    subsets,
    fit: { weight, bias, outputs: k, inputs: d },
  };
}

export class Dfr extends Erm {
  override readonly name: string = "dfr";
  constructor(readonly cfg: DfrConfig) {
    super(cfg);
  }
  get groupOptions(): GroupOptions {
    return { scheme: this.cfg.scheme ?? "pairs", minCount: this.cfg.minCount };
  }
  /** The y head's last Linear layer (the only layer DFR retrains). */
  lastLayer(): nn.Linear {
    const head = this.model.heads.items[0];
    const last = head instanceof nn.Sequential ? head.layers[head.layers.length - 1] : head;
    if (!(last instanceof nn.Linear)) throw new Error("dfr: the y head does not end in a Linear layer");
    return last;
  }
  /** Inputs of the last layer (f_y, or the head's hidden activations) for images x, no gradient. */
  lastLayerInputs(x: Tensor): Tensor {
    return this.inEval(() => {
      const [fy] = this.model.split(this.model.forward(x));
      const head = this.model.heads.items[0];
      if (!(head instanceof nn.Sequential)) return fy;
      let h = fy;
      for (const l of head.layers.slice(0, -1)) h = l.forward(h);
      return h;
    });
  }
  get refitOn(): DfrFeatures {
    return this.cfg.features ?? "embedding";
  }

  /** What the refit reads for images x (method.dfr.features), no gradient: [n, d]. */
  refitInputs(x: Tensor): Tensor {
    if (this.refitOn === "last_layer") return this.lastLayerInputs(x);
    return this.inEval(() => this.model.encoder.embed(x));
  }

  /** Writes a fit on refitInputs into the model, so that its y logits are the fit's scores. */
  applyFit(fit: LinearFit): void {
    if (this.refitOn === "last_layer") this.setLastLayer(fit);
    else this.setEmbeddingFit(fit);
  }

  /**
   * Makes the y logits the fit's scores on the embedding: the f_y rows of the encoder's last layer
   * become the fit (its first `outputs` rows, the rest zero) and the y head picks them out (binary:
   * class 0 scores 0, class 1 the fitted logit). The trunk and the spurion parts are untouched.
   */
  setEmbeddingFit(fit: LinearFit): void {
    const head = this.lastLayer();
    if (head !== this.model.heads.items[0])
      throw new Error("dfr: features embedding needs a linear y head (model.head_hidden: 0)");
    const out = this.model.encoder.out;
    const k = this.model.encoder.partSize;
    const d = out.inFeatures;
    const classes = head.outFeatures;
    if (fit.inputs !== d)
      throw new Error(`dfr: the fit reads ${fit.inputs} features, the embedding has ${d}`);
    if (fit.outputs > k)
      throw new Error(
        `dfr: a ${fit.outputs}-score fit does not fit in f_y of width ${k} (model.feature_dim >= ${fit.outputs})`,
      );
    noGrad(() => {
      // f_y's rows are rows 0..k-1 of the last layer (splitFeatures: f_y first).
      const w = Float32Array.from(out.weight.toArray());
      const b = out.bias ? Float32Array.from(out.bias.toArray()) : new Float32Array(out.outFeatures);
      w.fill(0, 0, k * d);
      b.fill(0, 0, k);
      w.set(Float32Array.from(fit.weight), 0);
      b.set(Float32Array.from(fit.bias), 0);
      out.weight.copy_(tensor(w, { shape: [out.outFeatures, d], device: this.device }));
      out.bias?.copy_(tensor(b, { device: this.device }));
      const hw = new Float32Array(classes * k);
      if (fit.outputs === 1)
        hw[k] = 1; // class 1 reads f_y[0]; class 0 scores 0
      else for (let c = 0; c < classes; c++) hw[c * k + c] = 1;
      head.weight.copy_(tensor(hw, { shape: [classes, k], device: this.device }));
      head.bias?.copy_(tensor(new Float32Array(classes), { device: this.device }));
    });
  }

  /** Writes a fit (scores of class 1 for a binary fit) into the last layer. */
  setLastLayer(fit: LinearFit): void {
    const layer = this.lastLayer();
    const c = layer.outFeatures;
    if (fit.inputs !== layer.inFeatures)
      throw new Error(`dfr: the fit reads ${fit.inputs} features, the last layer ${layer.inFeatures}`);
    const w = new Float32Array(c * fit.inputs);
    const b = new Float32Array(c);
    if (fit.outputs === 1) {
      // softmax([0, s]) = sigmoid(s): class 0 scores 0, class 1 the fitted logit.
      w.set(fit.weight, fit.inputs);
      b[1] = fit.bias[0];
    } else {
      w.set(fit.weight);
      b.set(fit.bias);
    }
    noGrad(() => {
      layer.weight.copy_(tensor(w, { shape: [c, fit.inputs], device: this.device }));
      layer.bias?.copy_(tensor(b, { device: this.device }));
    });
  }
}

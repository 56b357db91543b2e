// MI audit (METHOD.md, evaluation protocol): a FRESH estimator, never the one the method trained
// against (that critic co-adapted with the encoder and may simply be fooled), trained to convergence
// on frozen features of held-out data. Per pair of feature parts: the critic is fitted on one half of
// the rows and the DV estimate is taken on the other half, over many random evaluation batches; the
// spread of those batch estimates is reported with the mean.
//
// Besides the part pairs, the audit can measure f_y against each spurion's ground-truth label (one-hot):
// I(f_y; z_i) on the audited split, at most ln(#classes) nats. Part-to-part MI also counts whatever
// else two parts of one trunk share (1-4 nats on a CNN); the label pair is the leakage itself, the
// quantity the probes f_y -> z_i test linearly.
import { ESTIMATOR_PRESETS, type EstimatorConfig, MiEstimator } from "../mi/estimator.js";
import { Adam } from "../optim/adam.js";
import { tensor } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import type { Device } from "../tensor/tensor.js";
import { Rng } from "../util/random.js";

export interface MiAuditOptions {
  critic?: "joint" | "separable" | "split" | "published";
  hidden?: number;
  layers?: number;
  /** critic training steps (upper bound; stops earlier once the estimate has plateaued) */
  steps?: number;
  lr?: number;
  batchSize?: number;
  /** random evaluation batches on the held-out half (default 50) */
  evalBatches?: number;
  seed?: number;
  /** where the audit critics and their batches live (train.device); default "cpu" */
  device?: Device;
  onStep?: (pair: string, step: number, steps: number) => void;
}

export interface MiAuditPair {
  /** "f_y ; f_marker" */
  pair: string;
  a: number;
  c: number;
  /** mean DV estimate over evaluation batches, nats */
  estimate: number;
  /** 2.5% and 97.5% quantiles of the batch estimates */
  spread: { low: number; high: number; level: number };
  /** the estimate on the fitting half at the end of training (an optimistic reference) */
  trainEstimate: number;
  steps: number;
  converged: boolean;
  estimator: string;
}

function estimatorConfig(o: MiAuditOptions): { cfg: EstimatorConfig; text: string } {
  const critic = o.critic ?? "joint";
  if (critic === "published")
    return { cfg: ESTIMATOR_PRESETS.published as EstimatorConfig, text: "published 3x400" };
  const hidden = o.hidden ?? 128;
  const layers = o.layers ?? 3;
  if (critic === "separable")
    return {
      cfg: { critic: "separable", hidden, embed: Math.max(1, hidden >> 1), bound: "cosine", scale: 10 },
      text: `separable ${hidden}`,
    };
  // All B*B pairs: the audit wants the least biased estimate, not the cheapest one.
  return {
    cfg: {
      critic: "joint",
      hidden: new Array<number>(layers).fill(hidden),
      firstLayer: "split",
      negatives: "all",
    },
    text: `joint ${layers}x${hidden}, all pairs`,
  };
}

function gatherRows(x: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i] * dim, (rows[i] + 1) * dim), i * dim);
  return out;
}

/** Standardise each column with the fitting half's statistics (the critic sees comparable scales). */
function standardise(x: Float32Array, dim: number, fitRows: ArrayLike<number>): Float32Array {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < fitRows.length; i++)
    for (let j = 0; j < dim; j++) {
      const v = x[fitRows[i] * dim + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  const out = new Float32Array(x.length);
  for (let j = 0; j < dim; j++) {
    mean[j] /= fitRows.length;
    const sd = Math.sqrt(Math.max(sq[j] / fitRows.length - mean[j] ** 2, 0)) || 1;
    for (let i = 0; i < x.length / dim; i++) out[i * dim + j] = (x[i * dim + j] - mean[j]) / sd;
  }
  return out;
}

/** A ground-truth label to audit f_y against: class indices [N] and the number of classes. */
export interface MiAuditLabel {
  name: string;
  values: ArrayLike<number>;
  numClasses: number;
}

function oneHot(values: ArrayLike<number>, numClasses: number): Float32Array {
  const out = new Float32Array(values.length * numClasses);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < numClasses))
      throw new RangeError(`miAudit: label ${v} at row ${i} is not a class index in [0, ${numClasses})`);
    out[i * numClasses + v] = 1;
  }
  return out;
}

/**
 * Audits every pair (f_0, f_i) and (f_i, f_j), i < j, of the parts, then (f_0, label) for each given
 * label. `parts[p]` is [N, k] row-major.
 */
export function miAudit(
  parts: Float32Array[],
  k: number,
  names: string[],
  o: MiAuditOptions = {},
  labels: MiAuditLabel[] = [],
): MiAuditPair[] {
  const n = parts[0].length / k;
  const bs = Math.min(o.batchSize ?? 256, Math.floor(n / 2));
  if (bs < 4) throw new Error(`miAudit: ${n} rows are too few for an audit`);
  const steps = o.steps ?? 2000;
  const device = o.device ?? "cpu";
  const rng = new Rng(o.seed ?? 0);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fit = order.subarray(0, n >> 1);
  const held = order.subarray(n >> 1);
  const { cfg, text } = estimatorConfig(o);
  // Views: the parts (width k), then one one-hot view per label (width = its classes).
  const views = [...parts, ...labels.map((l) => oneHot(l.values, l.numClasses))];
  const widths = [...parts.map(() => k), ...labels.map((l) => l.numClasses)];
  const viewName = (v: number) =>
    v < parts.length ? `f_${names[v]}` : `${labels[v - parts.length].name} (label)`;
  labels.forEach((l) => {
    if (l.values.length !== n)
      throw new RangeError(`miAudit: label "${l.name}" has ${l.values.length} rows, not ${n}`);
  });
  const pairs: [number, number][] = [];
  for (let j = 1; j < parts.length; j++) pairs.push([0, j]);
  for (let i = 1; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) pairs.push([i, j]);
  labels.forEach((_, i) => {
    pairs.push([0, parts.length + i]);
  });
  const std = views.map((v, i) => (i < parts.length ? standardise(v, k, fit) : v));

  return pairs.map(([a, c]) => {
    const label = `${viewName(a)} ; ${viewName(c)}`;
    const est = new MiEstimator(label, widths[a], widths[c], cfg);
    est.critic.to(device);
    const opt = new Adam(est.critic.parameters(), { lr: o.lr ?? 1e-3 });
    const batch = (rows: ArrayLike<number>) => ({
      a: tensor(gatherRows(std[a], widths[a], rows), { shape: [rows.length, widths[a]], device }),
      c: tensor(gatherRows(std[c], widths[c], rows), { shape: [rows.length, widths[c]], device }),
    });
    const pick = (pool: Int32Array) =>
      Int32Array.from({ length: bs }, () => pool[Math.floor(rng.next() * pool.length)]);
    const curve: number[] = [];
    let done = 0;
    let converged = false;
    est.critic.train();
    for (; done < steps; done++) {
      const value = tidy(() => {
        const b = batch(pick(fit));
        const term = est.term(b.a, b.c);
        opt.zeroGrad();
        term.surrogate.neg().backward();
        opt.step();
        return term.estimate;
      });
      curve.push(value);
      o.onStep?.(label, done + 1, steps);
      // Plateau: the mean of the last 100 steps within 0.01 nats of the 100 before (checked from step 200).
      if (done >= 200 && done % 50 === 0) {
        const m = (s: number, e: number) => curve.slice(s, e).reduce((x, y) => x + y, 0) / (e - s);
        if (Math.abs(m(done - 99, done + 1) - m(done - 199, done - 99)) < 0.01) {
          converged = true;
          done++;
          break;
        }
      }
    }
    est.critic.eval();
    const evalBatches = o.evalBatches ?? 50;
    const values: number[] = [];
    for (let i = 0; i < evalBatches; i++) {
      values.push(
        tidy(() => {
          const b = batch(pick(held));
          return est.estimate(b.a, b.c);
        }),
      );
    }
    values.sort((x, y) => x - y);
    const q = (p: number) =>
      values[Math.min(values.length - 1, Math.max(0, Math.round(p * (values.length - 1))))];
    const tail = curve.slice(-50);
    return {
      pair: label,
      a,
      c,
      estimate: values.reduce((x, y) => x + y, 0) / values.length,
      spread: { low: q(0.025), high: q(0.975), level: 0.95 },
      trainEstimate: tail.reduce((x, y) => x + y, 0) / tail.length,
      steps: done,
      converged,
      estimator: `${text}, ${done} steps, fitted on ${fit.length} rows, estimated on ${held.length}`,
    };
  });
}

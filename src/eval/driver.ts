// Runs a trained Method over an in-memory split and turns its outputs into the evaluation protocol's
// numbers: per task (y and each z_i) accuracy, balanced accuracy and AUC with intervals, worst-group
// accuracy over (y, z_i) groups; frozen features for the probes, the t-SNE and the MI audit.
// Inference is batched, in eval mode, without gradients, and each batch is freed as it finishes.
import type { InMemoryDataset } from "../data/types.js";
import type { Method } from "../methods/method.js";
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import { evaluateTask, type TaskEvaluation } from "./metrics.js";
import { type ProbeRow, probeTable } from "./probe.js";
import { type TsneResult, tsne } from "./tsne.js";

export interface SplitOutputs {
  /** logits per task of the method, row-major [N, C_t] */
  logits: Float32Array[];
  /** features [N, parts * k] */
  features: Float32Array;
  parts: number;
  partSize: number;
}

export interface InferenceOptions {
  batchSize?: number;
  /** called after each batch with (rows done, rows total) */
  onBatch?: (done: number, total: number) => void;
}

/** Logits and features of every row, batch by batch (eval mode, no gradient). */
export function infer(method: Method, ds: InMemoryDataset, o: InferenceOptions = {}): SplitOutputs {
  const bs = o.batchSize ?? 256;
  const item = ds.itemShape.reduce((a, b) => a * b, 1);
  const model = method.model;
  const parts = method.tasks.length;
  const logits = method.tasks.map((t) => new Float32Array(ds.length * t.numClasses));
  let features = new Float32Array(0);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let start = 0; start < ds.length; start += bs) {
      const n = Math.min(bs, ds.length - start);
      tidy(() =>
        noGrad(() => {
          const x = tensor(ds.images.subarray(start * item, (start + n) * item), {
            shape: [n, ...ds.itemShape],
            device: method.device,
          });
          const f = model.forward(x);
          const fd = f.dataSync() as Float32Array;
          if (features.length === 0) features = new Float32Array(ds.length * (fd.length / n));
          features.set(fd, start * (fd.length / n));
          model.logits(model.split(f)).forEach((l, t) => {
            logits[t].set(l.dataSync() as Float32Array, start * method.tasks[t].numClasses);
          });
        }),
      );
      o.onBatch?.(start + n, ds.length);
    }
  } finally {
    model.train(wasTraining);
  }
  return { logits, features, parts, partSize: features.length / Math.max(1, ds.length) / parts };
}

export interface SplitEvaluation {
  split: string;
  n: number;
  /** by task name */
  tasks: Record<string, TaskEvaluation>;
}

export interface EvaluateOptions {
  bootstrap?: number;
  minGroupSize?: number;
  seed?: number;
}

/**
 * Metrics of every task the method predicts. Worst-group accuracy for the primary task uses the
 * (y, z_i) groups; for a spurion task z_i it uses the (z_i, y) groups (is the spurion read off y?).
 */
export function evaluateOutputs(
  method: Method,
  ds: InMemoryDataset,
  out: SplitOutputs,
  o: EvaluateOptions = {},
): SplitEvaluation {
  const names = method.tasks.map((t) => t.name);
  const tasks: Record<string, TaskEvaluation> = {};
  names.forEach((name, t) => {
    const labels = ds.labels[name];
    if (!labels) return;
    const others = names.filter((n) => n !== name && ds.labels[n]);
    tasks[name] = evaluateTask(out.logits[t], labels, {
      scoreKind: "logits",
      factors: others.map((n) => ds.labels[n]),
      factorNames: others,
      labelName: name,
      minGroupSize: o.minGroupSize,
      bootstrap: o.bootstrap,
      seed: o.seed,
    });
  });
  return { split: ds.name, n: ds.length, tasks };
}

export interface ProbeSettings {
  l2?: number;
  maxIter?: number;
  folds?: number;
  seed?: number;
  bootstrap?: number;
}

/** Switched-label probes (f_y -> z_i, f_zi -> y, f_zi -> z_j) plus the own-label sanity rows. */
export function probeFeatures(
  method: Method,
  ds: InMemoryDataset,
  out: SplitOutputs,
  o: ProbeSettings = {},
): ProbeRow[] {
  const [primary, ...spurions] = method.tasks.map((t) => t.name);
  if (spurions.length === 0) return [];
  return probeTable(
    {
      features: out.features,
      partSize: out.partSize,
      y: ds.labels[primary],
      z: spurions.map((s) => ds.labels[s]),
      names: { y: primary, z: spurions },
      includeOwn: true,
    },
    {
      split: o.folds && o.folds >= 2 ? { folds: o.folds } : "half",
      l2: o.l2,
      maxIter: o.maxIter,
      seed: o.seed,
      bootstrap: o.bootstrap,
    },
  );
}

/** The f_y columns of a feature matrix [N, parts * k]. */
export function partColumns(out: SplitOutputs, part: number): Float32Array {
  const n = out.features.length / (out.parts * out.partSize);
  const k = out.partSize;
  const res = new Float32Array(n * k);
  for (let i = 0; i < n; i++)
    res.set(out.features.subarray(i * out.parts * k + part * k, i * out.parts * k + (part + 1) * k), i * k);
  return res;
}

/** t-SNE of f_y (subsampled to maxPoints with the seed). */
export function tsneOfPrimary(
  out: SplitOutputs,
  o: { perplexity?: number; iterations?: number; maxPoints?: number; seed?: number } = {},
): TsneResult {
  return tsne(partColumns(out, 0), out.partSize, {
    perplexity: o.perplexity,
    iterations: o.iterations,
    maxPoints: o.maxPoints ?? 600,
    seed: o.seed,
  });
}

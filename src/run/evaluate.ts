// Evaluation of one trained method on every split the config names, plus probes and t-SNE, as one
// JSON-able record (eval.json); the features of the probe split are returned for the MI audit.
import type { RunConfig } from "../config/index.js";
import type { InMemoryDataset } from "../data/types.js";
import {
  evaluateOutputs,
  infer,
  partColumns,
  probeFeatures,
  type SplitEvaluation,
  type SplitOutputs,
  tsneOfPrimary,
} from "../eval/driver.js";
import { type MiAuditPair, miAudit } from "../eval/mi-audit.js";
import type { ProbeRow } from "../eval/probe.js";
import type { Method } from "../methods/method.js";
import { tsnePanel } from "../report/from-eval.js";
import type { TsnePanel } from "../report/types.js";
import { Progress, type ProgressMode } from "../util/progress.js";
import type { PreparedData } from "./data.js";

export interface MethodEvaluation {
  tasks: string[];
  /** the induced-shift splits present, then the external tests */
  splits: SplitEvaluation[];
  /**
   * The external test cohorts (natural shift), evaluated as they come; their metrics are in
   * `splits` under their names. Probes run where every spurion has a value there (metadata
   * spurions; a synthetic one is never written into an external image).
   */
  external?: { split: string; from: string; probes?: ProbeRow[]; note?: string }[];
  probes?: { split: string; rows: ProbeRow[] };
  tsne?: { split: string; panel: TsnePanel };
}

/**
 * The split `name` among an evaluation's splits, or the part of it a method reports on instead:
 * DFR, which refits on half of validation, reports "validation (selection part)".
 */
export function findSplit<T extends { split: string }>(splits: readonly T[], name: string): T | undefined {
  return splits.find((s) => s.split === name || s.split.startsWith(`${name} (`));
}

const SPLIT_OF: Record<string, keyof PreparedData["splits"]> = {
  validation: "validation",
  test_inverted: "test_inverted",
  test_balanced: "test_balanced",
};

export function splitFor(data: PreparedData, name: string): InMemoryDataset {
  const ds = SPLIT_OF[name]
    ? data.splits[SPLIT_OF[name]]
    : data.external.find((e) => e.dataset.name === name)?.dataset;
  if (!ds)
    throw new Error(
      `no split "${name}" in this data (there are: ${[...Object.keys(data.splits), ...data.external.map((e) => e.dataset.name)].join(", ")})`,
    );
  return ds;
}

function hasSplit(data: PreparedData, name: string): boolean {
  return SPLIT_OF[name]
    ? data.splits[SPLIT_OF[name]] !== undefined
    : data.external.some((e) => e.dataset.name === name);
}

/**
 * The split probes, t-SNE or the MI audit run on: the configured one, or where a split column left
 * no induced-shift tests, the first external test (else validation).
 */
export function analysisSplit(data: PreparedData, configured: string): string {
  if (hasSplit(data, configured)) return configured;
  return data.external[0]?.dataset.name ?? "validation";
}

export interface EvalRunOptions {
  label: string;
  progressMode?: ProgressMode;
}

export function evaluateMethod(
  method: Method,
  data: PreparedData,
  config: RunConfig,
  o: EvalRunOptions,
): { evaluation: MethodEvaluation; outputs: Map<string, SplitOutputs>; auditSplit: string } {
  const e = config.eval;
  // A split column may leave no induced-shift tests; the external tests are always evaluated.
  const evaluated = [
    ...e.splits.filter((n) => hasSplit(data, n)),
    ...data.external.map((x) => x.dataset.name),
  ];
  const probeSplit = analysisSplit(data, e.probes.split);
  const tsneSplit = analysisSplit(data, e.tsne.split);
  const auditSplit = analysisSplit(data, e.mi_audit.split);
  const names = [
    ...new Set([
      ...evaluated,
      ...(e.probes.enabled ? [probeSplit] : []),
      ...(e.tsne.enabled ? [tsneSplit] : []),
      ...(e.mi_audit.enabled ? [auditSplit] : []),
    ]),
  ];
  const total = names.reduce((a, n) => a + splitFor(data, n).length, 0);
  const progress = new Progress({ total, label: `${o.label} eval`, unit: "image", mode: o.progressMode });
  const outputs = new Map<string, SplitOutputs>();
  let base = 0;
  for (const name of names) {
    const ds = splitFor(data, name);
    outputs.set(name, infer(method, ds, { onBatch: (done) => progress.update(base + done) }));
    base += ds.length;
  }
  progress.finish();
  const evaluation: MethodEvaluation = {
    tasks: method.tasks.map((t) => t.name),
    splits: evaluated.map((name) =>
      evaluateOutputs(method, splitFor(data, name), outputs.get(name) as SplitOutputs, {
        bootstrap: e.bootstrap,
        minGroupSize: e.min_group_size,
        seed: config.seed,
      }),
    ),
  };
  const probeOptions = {
    l2: e.probes.l2,
    maxIter: e.probes.max_iter,
    folds: e.probes.folds,
    seed: config.seed,
    bootstrap: Math.min(e.bootstrap, 200),
  };
  const probing = e.probes.enabled && method.tasks.length > 1;
  if (probing) {
    const p = new Progress({ label: `${o.label} probes`, unit: "probe", mode: o.progressMode });
    const rows = probeFeatures(
      method,
      splitFor(data, probeSplit),
      outputs.get(probeSplit) as SplitOutputs,
      probeOptions,
    );
    p.update(rows.length);
    p.finish();
    evaluation.probes = { split: probeSplit, rows };
  }
  if (data.external.length > 0)
    evaluation.external = data.external.map(({ from, dataset }) => {
      const entry: NonNullable<MethodEvaluation["external"]>[number] = { split: dataset.name, from };
      if (!probing) return entry;
      const missing = method.tasks.filter((t) => !dataset.labels[t.name]).map((t) => t.name);
      if (missing.length > 0) {
        entry.note = `no probes: ${missing.join(", ")} ${missing.length === 1 ? "has" : "have"} no value in an external test (synthetic spurions are not written into its images)`;
        return entry;
      }
      entry.probes = probeFeatures(method, dataset, outputs.get(dataset.name) as SplitOutputs, probeOptions);
      return entry;
    });
  if (e.tsne.enabled) {
    const ds = splitFor(data, tsneSplit);
    const out = outputs.get(tsneSplit) as SplitOutputs;
    const p = new Progress({ label: `${o.label} t-SNE`, unit: "embedding", mode: o.progressMode });
    const result = tsneOfPrimary(out, {
      perplexity: e.tsne.perplexity,
      iterations: e.tsne.iterations,
      maxPoints: e.tsne.max_points,
      seed: config.seed,
    });
    p.update(1);
    p.finish();
    const fy = `f_${method.tasks[0].name}`;
    const colourings = data.tasks
      .filter((t) => ds.labels[t.name])
      .map((t) => ({ by: t.name, labels: ds.labels[t.name], classNames: t.classNames }));
    evaluation.tsne = { split: tsneSplit, panel: tsnePanel(fy, result, colourings) };
  }
  return { evaluation, outputs, auditSplit };
}

export interface MethodAudit {
  split: string;
  pairs: MiAuditPair[];
}

/**
 * The MI audit of a method on frozen features of one split: every part pair, and f_y against each
 * spurion's ground-truth label when `o.labels` holds the split's labels.
 */
export function auditMethod(
  method: Method,
  out: SplitOutputs,
  config: RunConfig,
  o: EvalRunOptions & { labels?: Record<string, ArrayLike<number>>; split?: string },
): MethodAudit {
  const a = config.eval.mi_audit;
  const names = method.tasks.map((t) => t.name);
  // Labels with unknown entries (-1, e.g. CheXpert's blanks) are left out: the audit needs every row.
  const labels = method.tasks
    .slice(1)
    .map((t) => ({ name: t.name, values: o.labels?.[t.name], numClasses: Math.max(2, t.numClasses) }))
    .filter(
      (l): l is { name: string; values: ArrayLike<number>; numClasses: number } =>
        l.values !== undefined && Array.from(l.values).every((v) => v >= 0 && v < l.numClasses),
    );
  const numPairs = ((names.length - 1) * names.length) / 2 + labels.length;
  const progress = new Progress({
    total: numPairs * a.steps,
    label: `${o.label} MI audit`,
    unit: "step",
    mode: o.progressMode,
  });
  let pairIndex = 0;
  let lastPair = "";
  const parts = names.map((_, p) => partColumns(out, p));
  const pairs = miAudit(
    parts,
    out.partSize,
    names,
    {
      critic: a.critic,
      hidden: a.hidden,
      layers: a.layers,
      steps: a.steps,
      lr: a.lr,
      batchSize: a.batch_size,
      device: config.train.device,
      seed: config.seed,
      onStep: (pair, step) => {
        if (pair !== lastPair) {
          if (lastPair) pairIndex++;
          lastPair = pair;
        }
        progress.update(pairIndex * a.steps + step, { pair });
      },
    },
    labels,
  );
  progress.finish();
  return { split: o.split ?? a.split, pairs };
}

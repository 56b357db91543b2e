// Adapters from evaluation results (src/eval) to report entries, so training code does not
// re-implement the mapping and the report always shows the same fields.

import type { TaskEvaluation } from "../eval/metrics.js";
import type { ProbeRow } from "../eval/probe.js";
import type { TsneResult } from "../eval/tsne.js";
import { knnLabelAgreement } from "../eval/tsne.js";
import type { MetricRow, ProbeEntry, TsneColouring, TsnePanel } from "./types.js";

export function metricRow(task: string, split: string, ev: TaskEvaluation): MetricRow {
  const row: MetricRow = {
    task,
    split,
    accuracy: ev.accuracy,
    accuracyCi: ev.accuracyCi,
    balancedAccuracy: ev.balancedAccuracy,
    balancedAccuracyCi: ev.balancedAccuracyCi,
    auc: Number.isFinite(ev.auc) ? ev.auc : undefined,
    aucCi: ev.aucCi && Number.isFinite(ev.aucCi.low) ? ev.aucCi : undefined,
    n: ev.n,
  };
  if (ev.worstGroup) {
    row.worstGroupAccuracy = ev.worstGroup.worstAccuracy;
    const w = ev.worstGroup.perFactor.reduce((a, b) => (b.worst.accuracy < a.worst.accuracy ? b : a));
    row.worstGroup = w.worst.label;
  }
  return row;
}

/** Probe rows carry more fields than the report needs; keep only the reported ones. */
export function probeEntries(rows: readonly ProbeRow[]): ProbeEntry[] {
  return rows.map((r) => ({
    source: r.source,
    target: r.target,
    kind: r.kind,
    accuracy: r.accuracy,
    accuracyCi: r.accuracyCi,
    balancedAccuracy: r.balancedAccuracy,
    chance: r.chance,
    nTest: r.nTest,
  }));
}

/**
 * A t-SNE panel from an embedding and the full-length label arrays (indexed like the rows given to
 * tsne(); the subsample in `result.indices` is applied here). Adds the 5-NN agreement per colouring.
 */
export function tsnePanel(
  features: string,
  result: TsneResult,
  colourings: { by: string; labels: ArrayLike<number>; classNames?: string[] }[],
): TsnePanel {
  const n = result.indices.length;
  const x = new Array<number>(n);
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    x[i] = round4(result.embedding[2 * i]);
    y[i] = round4(result.embedding[2 * i + 1]);
  }
  const cs: TsneColouring[] = colourings.map((c) => {
    const labels = Array.from(result.indices, (i) => c.labels[i]);
    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    let chance = 0;
    for (const v of counts.values()) chance += (v / n) ** 2;
    return {
      by: c.by,
      labels,
      classNames: c.classNames,
      knnAgreement: knnLabelAgreement(result.embedding, 2, labels, 5),
      knnChance: chance,
    };
  });
  return { features, x, y, colourings: cs };
}

/** Four decimals are plenty for plotting and keep report.json small. */
function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

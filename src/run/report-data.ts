// Run results -> the report document (src/report) and summary.json. Pure functions of what a run
// wrote, so `mimmx report --run DIR` re-renders without touching a model.
import { readFileSync } from "node:fs";
import type { RunConfig } from "../config/index.js";
import type { SplitCounts, TaskInfo } from "../data/index.js";
import type { ProbeRow } from "../eval/probe.js";
import { metricRow, probeEntries } from "../report/from-eval.js";
import { computeHeadline } from "../report/headline.js";
import type { CurveSet, GroupCountTable, MethodReport, ReportData, Series } from "../report/types.js";
import type { TrainResult } from "../train/index.js";
import type { MethodAudit, MethodEvaluation } from "./evaluate.js";
import type { SkippedFile } from "./skipped.js";

export interface DataRecord {
  tasks: TaskInfo[];
  /** group counts of what each split holds (after unreadable images were left out) */
  counts: SplitCounts[];
  description: string;
  /** the unreadable images left out (absent in run folders from before it was recorded) */
  skipped?: SkippedFile[];
  /** the external test cohorts (data.external_tests) and where their rows came from */
  external?: { name: string; from: string; size: number }[];
}

export interface MethodRecord {
  key: string;
  method: string;
  label: string;
  train?: Pick<TrainResult, "status" | "epochs" | "globalStep" | "best" | "nonFiniteTerm"> & {
    seconds: number;
  };
  evaluation?: MethodEvaluation;
  audit?: MethodAudit;
  metricsPath?: string;
}

/** Curves from metrics.jsonl: step losses, MI estimates, loss weights, attention; epoch validation. */
export function curvesFrom(metricsPath: string): CurveSet[] {
  let text: string;
  try {
    text = readFileSync(metricsPath, "utf8");
  } catch {
    return [];
  }
  const steps: Record<string, unknown>[] = [];
  const epochs: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    if (rec.type === "step") steps.push(rec);
    else if (rec.type === "epoch") epochs.push(rec);
  }
  const group = (rows: Record<string, unknown>[], xKey: string, pick: (k: string) => boolean): Series[] => {
    const keys = new Set<string>();
    for (const r of rows)
      for (const k of Object.keys(r)) if (pick(k) && typeof r[k] === "number") keys.add(k);
    return [...keys].sort().map((k) => ({
      name: k,
      x: rows.map((r) => Number(r[xKey]) + (xKey === "epoch" ? 1 : 0)),
      y: rows.map((r) => (typeof r[k] === "number" && Number.isFinite(r[k]) ? (r[k] as number) : null)),
    }));
  };
  const sets: CurveSet[] = [];
  const add = (
    title: string,
    x: "step" | "epoch",
    rows: Record<string, unknown>[],
    pick: (k: string) => boolean,
    yLabel?: string,
  ) => {
    const series = group(rows, x === "step" ? "globalStep" : "epoch", pick);
    if (series.length > 0) sets.push({ title, x, series, yLabel });
  };
  add("Losses", "step", steps, (k) => k === "loss" || k.startsWith("ce/"), "cross-entropy");
  add("MI estimates per pair", "step", steps, (k) => k.startsWith("mi/"), "nats");
  add("GradNorm weights", "step", steps, (k) => k.startsWith("w/"));
  add("Confounder attention", "step", steps, (k) => k.startsWith("att/"));
  add("Validation accuracy", "epoch", epochs, (k) => k.startsWith("val/acc/"));
  return sets;
}

function groupCounts(data: DataRecord): GroupCountTable[] {
  const splits = data.counts.map((c) => c.split);
  const primary = data.tasks[0];
  return data.tasks.slice(1).map((z, zi) => {
    const rows: string[] = [];
    const counts: number[][] = [];
    for (let y = 0; y < primary.numClasses; y++)
      for (let v = 0; v < z.numClasses; v++) {
        rows.push(`${primary.name}=${y}, ${z.name}=${v}`);
        counts.push(data.counts.map((c) => c.spurions[zi]?.table[y]?.[v] ?? 0));
      }
    return { title: `${primary.name} x ${z.name}`, rows, columns: splits, counts };
  });
}

const SPURION_HEAD_METHODS = new Set(["mtl", "mimm", "mimmx"]);

export function methodReport(r: MethodRecord): MethodReport {
  const ev = r.evaluation;
  const rep: MethodReport = { name: r.label, method: r.method, metrics: [] };
  if (r.train) {
    rep.trainSeconds = r.train.seconds;
    if (r.train.status === "non-finite")
      rep.failure = `NaN/Inf in ${r.train.nonFiniteTerm} at step ${r.train.globalStep}; evaluated the last good weights`;
    else if (r.train.status === "aborted") rep.failure = `training interrupted at step ${r.train.globalStep}`;
  }
  if (ev) {
    // Only methods that train spurion heads on their own parts (MTL, MIMM, MIMM-X) get spurion-task
    // rows: for the others those heads are untrained (ERM, oracle, GroupDRO) or adversaries reading
    // f_y (adversarial), and their accuracies would read as results.
    const primaryOnly = !SPURION_HEAD_METHODS.has(r.method);
    const primary = Object.keys(ev.splits[0]?.tasks ?? {})[0];
    for (const s of ev.splits)
      for (const [task, e] of Object.entries(s.tasks)) {
        if (primaryOnly && task !== primary) continue;
        rep.metrics.push(metricRow(task, s.split, e));
      }
    if (ev.probes) rep.probes = probeEntries(ev.probes.rows);
    if (ev.external?.some((x) => x.probes))
      rep.externalProbes = Object.fromEntries(
        ev.external.flatMap((x) => (x.probes ? [[x.split, probeEntries(x.probes)]] : [])),
      );
    if (ev.tsne) rep.tsne = [ev.tsne.panel];
  }
  if (r.audit)
    rep.miAudit = r.audit.pairs.map((p) => ({
      pair: p.pair,
      estimate: p.estimate,
      ci: p.spread,
      estimator: p.estimator,
    }));
  if (r.metricsPath) rep.curves = curvesFrom(r.metricsPath);
  return rep;
}

export function buildReport(
  config: RunConfig,
  configYaml: string,
  data: DataRecord,
  methods: MethodRecord[],
): ReportData {
  return {
    schemaVersion: 1,
    runName: config.name,
    date: new Date().toISOString(),
    configYaml,
    description: data.description,
    tasks: {
      primary: data.tasks[0].name,
      spurions: data.tasks.slice(1).map((t) => t.name),
      primaryClasses: data.tasks[0].numClasses,
    },
    splits: {
      inDistribution: "validation",
      inverted: "test_inverted",
      balanced: "test_balanced",
      // The induced-shift splits the data has (a split column may leave out the tests), then the
      // external tests.
      order: [
        ...config.eval.splits.filter((s) => data.counts.some((c) => c.split === s)),
        ...(data.external ?? []).map((e) => e.name),
      ],
      external: (data.external ?? []).map((e) => ({ name: e.name, from: e.from })),
    },
    dataset: {
      name: config.data.source,
      groupCounts: groupCounts(data),
      sizes: Object.fromEntries(data.counts.map((c) => [c.split, c.size])),
      skipped: data.skipped,
    },
    methods: methods.map(methodReport),
    notes: [
      `Probes, t-SNE and the MI audit use frozen features of ${methods.find((m) => m.evaluation?.probes)?.evaluation?.probes?.split ?? config.eval.probes.split}; the audit fits a fresh critic on half of it and estimates on the other half.`,
    ],
  };
}

function switchedProbes(rows: ProbeRow[], fy: string) {
  return rows
    .filter((r) => r.kind === "switched")
    .map((r) => ({
      source: r.source,
      target: r.target,
      accuracy: r.accuracy,
      chance: r.chance.majority,
      fromFy: r.source === fy,
    }));
}

/** The machine-readable summary: headline numbers per method plus the verdicts. */
export function buildSummary(report: ReportData, methods: MethodRecord[], extra: Record<string, unknown>) {
  const headline = computeHeadline(report);
  const primary = report.tasks.primary;
  const skipped = report.dataset?.skipped ?? [];
  return {
    run: report.runName,
    date: report.date,
    ...extra,
    data: {
      /** images per split the run used */
      sizes: report.dataset?.sizes,
      /** the external test cohorts (natural shift), evaluated as they come */
      external: report.splits.external ?? [],
      skipped: { count: skipped.length, files: skipped },
    },
    headline: headline.summary,
    sentences: headline.sentences,
    methods: methods.map((m, i) => {
      const h = headline.methods[i];
      const acc = (split: string) => m.evaluation?.splits.find((s) => s.split === split)?.tasks[primary];
      const fy = `f_${primary}`;
      return {
        key: m.key,
        method: m.method,
        label: m.label,
        verdict: h?.verdict,
        reason: h?.reason,
        train: m.train,
        primary: Object.fromEntries(
          (m.evaluation?.splits ?? []).map((s) => {
            const e = acc(s.split);
            return [
              s.split,
              e && {
                accuracy: e.accuracy,
                balancedAccuracy: e.balancedAccuracy,
                auc: e.auc,
                worstGroupAccuracy: e.worstGroup?.worstAccuracy,
              },
            ];
          }),
        ),
        probes: switchedProbes(m.evaluation?.probes?.rows ?? [], fy),
        /** per external test: its primary metrics (also under `primary`) and its probes */
        external: Object.fromEntries(
          (m.evaluation?.external ?? []).map((x) => {
            const e = acc(x.split);
            return [
              x.split,
              {
                from: x.from,
                accuracy: e?.accuracy,
                balancedAccuracy: e?.balancedAccuracy,
                auc: e?.auc,
                worstGroupAccuracy: e?.worstGroup?.worstAccuracy,
                probes: x.probes ? switchedProbes(x.probes, fy) : undefined,
                note: x.note,
              },
            ];
          }),
        ),
        miAudit: m.audit?.pairs.map((p) => ({
          pair: p.pair,
          estimate: p.estimate,
          low: p.spread.low,
          high: p.spread.high,
        })),
      };
    }),
  };
}

// The headline: a few sentences that say whether the shortcut was removed, for a reader who looks at
// nothing else. A method is judged on the inverted test and the probes, never on the validation
// score alone: a shortcut model looks best on validation, and a collapsed model has no leakage.

import type { MethodReport, MetricRow, ProbeEntry, ReportData, VerdictCriteria } from "./types.js";

export const DEFAULT_CRITERIA: VerdictCriteria = { maxGap: 0.1, probeMargin: 0.05, minAboveChance: 0.1 };

export type Verdict =
  | "removed"
  | "partly removed"
  | "not removed"
  | "collapsed"
  | "reference"
  | "failed"
  | "unknown";

export interface MethodHeadline {
  name: string;
  method: string;
  inDistribution?: number;
  inverted?: number;
  balanced?: number;
  /** inDistribution - inverted. */
  gap?: number;
  /** The f_y -> spurion probe furthest above its chance level. */
  worstProbe?: { entry: ProbeEntry; excess: number };
  verdict: Verdict;
  /** Why, in one sentence. */
  reason: string;
}

export interface Headline {
  /** e.g. "ERM: 98% validation, 3% inverted test; MIMM-X: 85% / 80%." */
  summary: string;
  methods: MethodHeadline[];
  /** Further sentences: one verdict per method, the oracle bound. */
  sentences: string[];
}

export function pct(v: number | undefined | null, digits = 0): string {
  return v === undefined || v === null || !Number.isFinite(v) ? "–" : `${(v * 100).toFixed(digits)}%`;
}

function findMetric(m: MethodReport, task: string, split: string | undefined): MetricRow | undefined {
  return split === undefined ? undefined : m.metrics.find((r) => r.task === task && r.split === split);
}

/** The f_y -> z_i probe rows of a method (the ones that decide whether f_y still holds a shortcut). */
export function primaryLeakProbes(data: ReportData, m: MethodReport): ProbeEntry[] {
  const fy = `f_${data.tasks.primary}`;
  return (m.probes ?? []).filter(
    (p) => p.source === fy && p.target !== data.tasks.primary && p.kind !== "own",
  );
}

export function judgeMethod(data: ReportData, m: MethodReport): MethodHeadline {
  const c = { ...DEFAULT_CRITERIA, ...data.verdictCriteria };
  const task = data.tasks.primary;
  const inD = findMetric(m, task, data.splits.inDistribution)?.accuracy;
  const inv = findMetric(m, task, data.splits.inverted)?.accuracy;
  const bal = findMetric(m, task, data.splits.balanced)?.accuracy;
  const chance = 1 / (data.tasks.primaryClasses ?? 2);
  const out: MethodHeadline = {
    name: m.name,
    method: m.method,
    inDistribution: inD,
    inverted: inv,
    balanced: bal,
    verdict: "unknown",
    reason: "",
  };
  if (inD !== undefined && inv !== undefined) out.gap = inD - inv;
  let worst: { entry: ProbeEntry; excess: number } | undefined;
  for (const p of primaryLeakProbes(data, m)) {
    const excess = p.accuracy - Math.max(p.chance.majority, p.chance.uniform);
    if (!worst || excess > worst.excess) worst = { entry: p, excess };
  }
  out.worstProbe = worst;
  const probeText = worst
    ? `${worst.entry.source}→${worst.entry.target} ${pct(worst.entry.accuracy)} vs chance ${pct(Math.max(worst.entry.chance.majority, worst.entry.chance.uniform))}`
    : "";

  if (m.failure) return { ...out, verdict: "failed", reason: `training failed: ${m.failure}.` };
  if (m.method === "oracle") {
    return {
      ...out,
      verdict: "reference",
      reason: "trained without the spurious correlation: the upper bound for a debiasing method.",
    };
  }
  if (inD === undefined || inv === undefined) {
    return {
      ...out,
      verdict: "unknown",
      reason: `no ${task} accuracy on both ${data.splits.inDistribution} and ${data.splits.inverted}.`,
    };
  }
  const floor = chance + c.minAboveChance;
  if (inD < floor && inv < floor) {
    return {
      ...out,
      verdict: "collapsed",
      reason: `near chance everywhere (${pct(inD)} / ${pct(inv)}): the model learned neither the label nor the shortcut, so low leakage means nothing here.`,
    };
  }
  if (inv < floor) {
    return {
      ...out,
      verdict: "not removed",
      reason: `${pct(inv)} on the inverted test against ${pct(inD)} on ${data.splits.inDistribution}: where the spurion disagrees with the label the model follows the spurion${probeText ? `; probe ${probeText}` : ""}.`,
    };
  }
  const gapOk = out.gap! <= c.maxGap;
  const probesOk = !worst || worst.excess <= c.probeMargin;
  if (gapOk && probesOk) {
    return {
      ...out,
      verdict: "removed",
      reason: `gap of ${pp(out.gap!)} between ${data.splits.inDistribution} and inverted test${worst ? `, and every f_${task} probe within ${pp(c.probeMargin)} of chance (highest: ${probeText})` : " (no probes reported)"}.`,
    };
  }
  const why: string[] = [];
  if (!gapOk)
    why.push(`a gap of ${pp(out.gap!)} remains between ${data.splits.inDistribution} and inverted test`);
  if (!probesOk) why.push(`f_${task} still encodes a spurion (probe ${probeText})`);
  return {
    ...out,
    verdict: "partly removed",
    reason: `above chance on the inverted test, but ${why.join(" and ")}.`,
  };
}

function pp(v: number): string {
  return `${(v * 100).toFixed(0)} pp`;
}

export function computeHeadline(data: ReportData): Headline {
  const methods = data.methods.map((m) => judgeMethod(data, m));
  const inDName = data.splits.inDistribution;
  const invName = humanSplit(data.splits.inverted);
  const parts = methods
    .filter((h) => h.inDistribution !== undefined || h.inverted !== undefined)
    .map((h, i) =>
      i === 0
        ? `${h.name}: ${pct(h.inDistribution)} ${inDName}, ${pct(h.inverted)} ${invName}`
        : `${h.name}: ${pct(h.inDistribution)} / ${pct(h.inverted)}`,
    );
  const summary = parts.length > 0 ? `${parts.join("; ")}.` : "No primary-task accuracies were reported.";
  const sentences = methods.map((h) => `${h.name}: shortcut ${verdictWords(h.verdict)} — ${h.reason}`);
  const oracle = methods.find((h) => h.verdict === "reference");
  // Baselines (ERM, MTL) make no attempt to debias: they are not candidates for "best debiased".
  const baselines = new Set(["erm", "mtl", "oracle"]);
  const best = methods
    .filter((h) => h.verdict !== "reference" && !baselines.has(h.method) && h.inverted !== undefined)
    .reduce<MethodHeadline | undefined>((b, h) => (!b || h.inverted! > b.inverted! ? h : b), undefined);
  if (oracle?.inverted !== undefined && best) {
    sentences.push(
      `The oracle reaches ${pct(oracle.inverted)} on the ${invName}; the best debiased method here, ${best.name}, reaches ${pct(best.inverted)} (${pct(best.inverted! / oracle.inverted, 0)} of the bound).`,
    );
  }
  return { summary, methods, sentences };
}

export function verdictWords(v: Verdict): string {
  switch (v) {
    case "removed":
      return "removed";
    case "partly removed":
      return "partly removed";
    case "not removed":
      return "NOT removed";
    case "collapsed":
      return "not assessable (collapsed)";
    case "reference":
      return "absent by construction (reference)";
    case "failed":
      return "not assessable (failed)";
    default:
      return "not assessable";
  }
}

/** "test_inverted" -> "inverted test"; other names pass through with underscores as spaces. */
export function humanSplit(name: string): string {
  const n = name.replace(/_/g, " ");
  const m = /^test (.+)$/.exec(n);
  return m ? `${m[1]} test` : n;
}

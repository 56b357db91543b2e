// Suite rows -> the summary per method, and the Markdown / HTML tables (mean ± sd over seeds per
// benchmark and method). Pure functions of the rows, so a resumed or partial suite renders the same.

/** One finished (benchmark, method, seed) run. Accuracies are fractions in [0, 1]. */
export interface SuiteRow {
  bench: string;
  method: string;
  seed: number;
  tier: string;
  /** hash of the run's resolved configuration (runner.configHash): rows are reused only under it */
  config: string;
  /** primary accuracy on the validation split (confounded like training) */
  validation: number;
  inverted: number;
  balanced: number;
  /** worst (y, z_i) group accuracy on the balanced test */
  worst_group: number;
  /** highest switched-label probe f_y -> z_i on the balanced test; null without spurion parts */
  max_probe: number | null;
  /** wall time of the row: data, training and evaluation */
  seconds: number;
  train_seconds: number;
  epochs: number;
  /** the run's status; "failed" when the method could not train there (see `error`) */
  status: string;
  /** why a failed row failed (the method's error message) */
  error?: string;
}

/**
 * The accuracy a failed row counts as in the means: a method that cannot train on a benchmark
 * gives its user no model, so it scores as a coin flip on the binary y (inverted, balanced and
 * every group at 50%) instead of leaving the benchmark out of its mean. Tables mark such cells.
 */
export const FAILED_ACCURACY = 0.5;

const failed = (r: SuiteRow) => r.status === "failed";

/** A row's value of an accuracy metric, a failed row's counting as FAILED_ACCURACY. */
function accuracyOf(r: SuiteRow, metric: "inverted" | "balanced" | "worst_group"): number {
  return failed(r) ? FAILED_ACCURACY : r[metric];
}

export interface MethodSummary {
  method: string;
  inverted_mean: number;
  balanced_mean: number;
  worst_group_mean: number;
  max_probe_mean: number | null;
  seconds_mean: number;
  /** rows the means are over */
  rows: number;
  /** of them, rows where the method failed (counted at FAILED_ACCURACY; no probe, no time) */
  failed: number;
}

export interface Stat {
  mean: number;
  sd: number;
  n: number;
}

/** Mean and sample standard deviation (0 for one value). */
export function stat(values: readonly number[]): Stat {
  const n = values.length;
  const mean = n > 0 ? values.reduce((a, b) => a + b, 0) / n : Number.NaN;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

function ordered(values: Iterable<string>, order?: readonly string[]): string[] {
  const set = [...new Set(values)];
  if (!order) return set;
  return [...order.filter((o) => set.includes(o)), ...set.filter((s) => !order.includes(s))];
}

/**
 * Per method: means over every (benchmark, seed) row of the method. Each benchmark weighs by its
 * number of seeds, so compare methods over the same rows (the suite runs every method everywhere).
 */
export function summarize(rows: readonly SuiteRow[], methodOrder?: readonly string[]): MethodSummary[] {
  return ordered(
    rows.map((r) => r.method),
    methodOrder,
  ).map((method) => {
    const mine = rows.filter((r) => r.method === method);
    const ran = mine.filter((r) => !failed(r));
    const probes = ran.map((r) => r.max_probe).filter((p): p is number => p !== null);
    return {
      method,
      inverted_mean: stat(mine.map((r) => accuracyOf(r, "inverted"))).mean,
      balanced_mean: stat(mine.map((r) => accuracyOf(r, "balanced"))).mean,
      worst_group_mean: stat(mine.map((r) => accuracyOf(r, "worst_group"))).mean,
      max_probe_mean: probes.length > 0 ? stat(probes).mean : null,
      seconds_mean: stat(ran.map((r) => r.seconds)).mean,
      rows: mine.length,
      failed: mine.length - ran.length,
    };
  });
}

export type Metric = "inverted" | "balanced" | "worst_group" | "max_probe" | "seconds";

/** A grid cell: mean ± sd over seeds, and how many of its seeds failed (they count as chance). */
export interface Cell extends Stat {
  failed: number;
}

/** cell[bench][method] = the metric's mean ± sd over seeds. */
export function grid(
  rows: readonly SuiteRow[],
  metric: Metric,
  benchOrder?: readonly string[],
  methodOrder?: readonly string[],
): { benches: string[]; methods: string[]; cells: Map<string, Map<string, Cell>> } {
  const benches = ordered(
    rows.map((r) => r.bench),
    benchOrder,
  );
  const methods = ordered(
    rows.map((r) => r.method),
    methodOrder,
  );
  const isAccuracy = metric === "inverted" || metric === "balanced" || metric === "worst_group";
  const cells = new Map<string, Map<string, Cell>>();
  for (const b of benches) {
    const row = new Map<string, Cell>();
    for (const m of methods) {
      const mine = rows.filter((r) => r.bench === b && r.method === m);
      const v = mine
        .filter((r) => isAccuracy || !failed(r))
        .map((r) => (isAccuracy ? accuracyOf(r, metric) : r[metric]))
        .filter((x): x is number => x !== null);
      const nFailed = mine.filter(failed).length;
      if (v.length > 0 || nFailed > 0) row.set(m, { ...stat(v), failed: nFailed });
    }
    cells.set(b, row);
  }
  return { benches, methods, cells };
}

/** Oracle minus ERM on the inverted test, per benchmark (points); the suite's shortcut check. */
export function shortcutGaps(
  rows: readonly SuiteRow[],
): { bench: string; erm: number; oracle: number; gap: number }[] {
  const benches = ordered(rows.map((r) => r.bench));
  const out: { bench: string; erm: number; oracle: number; gap: number }[] = [];
  for (const b of benches) {
    const erm = rows.filter((r) => r.bench === b && r.method === "erm").map((r) => r.inverted);
    const oracle = rows.filter((r) => r.bench === b && r.method === "oracle").map((r) => r.inverted);
    if (erm.length === 0 || oracle.length === 0) continue;
    const e = stat(erm).mean;
    const o = stat(oracle).mean;
    out.push({ bench: b, erm: e, oracle: o, gap: 100 * (o - e) });
  }
  return out;
}

const pct = (s: Stat, digits = 1) =>
  `${(100 * s.mean).toFixed(digits)}${s.n > 1 ? ` ± ${(100 * s.sd).toFixed(digits)}` : ""}`;
const secs = (s: Stat) => `${s.mean.toFixed(1)}${s.n > 1 ? ` ± ${s.sd.toFixed(1)}` : ""}`;

const METRIC_TITLES: Record<Metric, string> = {
  inverted: "Inverted test accuracy (%)",
  balanced: "Balanced test accuracy (%)",
  worst_group: "Worst-group accuracy on the balanced test (%)",
  max_probe: "Highest probe f_y -> z_i on the balanced test (%; chance 50)",
  seconds: "Seconds per run (data, training, evaluation)",
};

export interface TableInput {
  tier: string;
  seeds: number[];
  rows: readonly SuiteRow[];
  benchOrder?: readonly string[];
  methodOrder?: readonly string[];
  /** One line per benchmark for the legend. */
  descriptions?: Record<string, string>;
  selectBy?: string;
}

function cellText(metric: Metric, s: Cell | undefined): string {
  if (!s) return "–";
  const note = s.failed > 0 ? ` (${s.failed} failed)` : "";
  if (s.n === 0) return `failed${s.failed > 1 ? ` ×${s.failed}` : ""}`;
  return `${metric === "seconds" ? secs(s) : pct(s)}${note}`;
}

/** The suite as Markdown: the summary, then one benchmark x method table per metric. */
export function suiteMarkdown(t: TableInput): string {
  const summary = summarize(t.rows, t.methodOrder);
  const lines = [
    `## Benchmark suite (tier ${t.tier}, seeds ${t.seeds.join(", ")})`,
    "",
    `Mean ± sd over seeds.${t.selectBy ? ` Checkpoint rule for every method: ${t.selectBy}.` : ""} A run that failed (the method could not train there) counts as ${100 * FAILED_ACCURACY}% accuracy and is marked.`,
    "",
    "| method | inverted | balanced | worst group | max probe f_y→z | seconds | runs | failed |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const s of summary)
    lines.push(
      `| ${s.method} | ${(100 * s.inverted_mean).toFixed(1)} | ${(100 * s.balanced_mean).toFixed(1)} | ${(100 * s.worst_group_mean).toFixed(1)} | ${s.max_probe_mean === null ? "–" : (100 * s.max_probe_mean).toFixed(1)} | ${s.seconds_mean.toFixed(1)} | ${s.rows} | ${s.failed} |`,
    );
  lines.push("");
  for (const metric of ["inverted", "balanced", "worst_group", "max_probe", "seconds"] as Metric[]) {
    const g = grid(t.rows, metric, t.benchOrder, t.methodOrder);
    lines.push(`### ${METRIC_TITLES[metric]}`, "", `| benchmark | ${g.methods.join(" | ")} |`);
    lines.push(`|---|${"---|".repeat(g.methods.length)}`);
    for (const b of g.benches)
      lines.push(`| ${b} | ${g.methods.map((m) => cellText(metric, g.cells.get(b)?.get(m))).join(" | ")} |`);
    lines.push("");
  }
  const gaps = shortcutGaps(t.rows);
  if (gaps.length > 0) {
    lines.push(
      "### Shortcut check (oracle − ERM on the inverted test; a benchmark counts at ≥ 15 points)",
      "",
    );
    lines.push("| benchmark | ERM | oracle | gap | counts |", "|---|---|---|---|---|");
    for (const g of gaps)
      lines.push(
        `| ${g.bench} | ${(100 * g.erm).toFixed(1)} | ${(100 * g.oracle).toFixed(1)} | ${g.gap.toFixed(1)} | ${g.gap >= 15 ? "yes" : "no"} |`,
      );
    lines.push("");
  }
  if (t.descriptions) {
    lines.push("Benchmarks:", "");
    for (const b of t.benchOrder ?? Object.keys(t.descriptions))
      if (t.descriptions[b]) lines.push(`- \`${b}\`: ${t.descriptions[b]}`);
    lines.push("");
  }
  return lines.join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The same tables as a standalone HTML page; the best non-oracle mean per benchmark is bold. */
export function suiteHtml(t: TableInput): string {
  const summary = summarize(t.rows, t.methodOrder);
  const parts: string[] = [
    '<!doctype html><html><head><meta charset="utf-8"><title>mimmx benchmark suite</title>',
    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}",
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}",
    "</style></head><body>",
    `<h1>Benchmark suite: tier ${esc(t.tier)}, seeds ${t.seeds.join(", ")}</h1>`,
    `<p>Mean ± sd over seeds.${t.selectBy ? ` Checkpoint rule for every method: ${esc(t.selectBy)}.` : ""}</p>`,
    "<table><tr><th>method</th><th>inverted</th><th>balanced</th><th>worst group</th><th>max probe f_y→z</th><th>seconds</th><th>runs</th><th>failed</th></tr>",
  ];
  for (const s of summary)
    parts.push(
      `<tr><td>${esc(s.method)}</td><td>${(100 * s.inverted_mean).toFixed(1)}</td><td>${(100 * s.balanced_mean).toFixed(1)}</td><td>${(100 * s.worst_group_mean).toFixed(1)}</td><td>${s.max_probe_mean === null ? "–" : (100 * s.max_probe_mean).toFixed(1)}</td><td>${s.seconds_mean.toFixed(1)}</td><td>${s.rows}</td><td>${s.failed}</td></tr>`,
    );
  parts.push("</table>");
  for (const metric of ["inverted", "balanced", "worst_group", "max_probe", "seconds"] as Metric[]) {
    const g = grid(t.rows, metric, t.benchOrder, t.methodOrder);
    parts.push(`<h2>${esc(METRIC_TITLES[metric])}</h2><table><tr><th>benchmark</th>`);
    for (const m of g.methods) parts.push(`<th>${esc(m)}</th>`);
    parts.push("</tr>");
    const higherIsBetter = metric === "inverted" || metric === "balanced" || metric === "worst_group";
    for (const b of g.benches) {
      const row = g.cells.get(b);
      let best: string | undefined;
      if (higherIsBetter && row)
        for (const [m, s] of row)
          if (m !== "oracle" && (!best || s.mean > (row.get(best)?.mean ?? -1))) best = m;
      parts.push(`<tr><td title="${esc(t.descriptions?.[b] ?? "")}">${esc(b)}</td>`);
      for (const m of g.methods) {
        const text = esc(cellText(metric, row?.get(m)));
        parts.push(`<td>${m === best ? `<b>${text}</b>` : text}</td>`);
      }
      parts.push("</tr>");
    }
    parts.push("</table>");
  }
  parts.push("</body></html>");
  return `${parts.join("\n")}\n`;
}

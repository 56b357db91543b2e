// Markdown summary of a report: the headline and every table, no charts. Meant for a terminal, a
// pull request or a lab notebook; the HTML file has the figures.

import { ciText, duration, isNum, nats, pct1, splitLabel, splitOrder, unique } from "./format.js";
import { computeHeadline, verdictWords } from "./headline.js";
import type { MethodReport, ReportData } from "./types.js";

/**
 * Escapes characters that would break a Markdown table cell or start formatting. Underscores inside
 * a word (f_y, test_inverted) cannot start emphasis in CommonMark, so they stay readable unescaped.
 */
export function mdCell(s: string): string {
  return s
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/([*`[\]<>])/g, "\\$1")
    .replace(/(^|[^\p{L}\p{N}])_|_(?=[^\p{L}\p{N}]|$)/gu, (m) => m.replace("_", "\\_"))
    .replace(/\r?\n/g, " ");
}

function table(head: string[], rows: string[][], align?: ("l" | "r")[]): string {
  const a = align ?? head.map((_, i) => (i === 0 ? "l" : "r"));
  return [
    `| ${head.join(" | ")} |`,
    `|${a.map((x) => (x === "l" ? ":---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function withCi(v: number | undefined, ci: { low: number; high: number } | undefined): string {
  const c = ciText(ci);
  return c ? `${pct1(v)} ${c}` : pct1(v);
}

export function renderMarkdown(data: ReportData): string {
  const h = computeHeadline(data);
  const out: string[] = [];
  const task = data.tasks.primary;
  out.push(`# Shortcut audit: ${mdCell(data.runName)}`, "");
  out.push(
    `${mdCell(data.date)} · primary task **${mdCell(task)}** · spurions: ${mdCell(data.tasks.spurions.join(", ") || "none")}`,
    "",
  );
  if (data.description) out.push(mdCell(data.description), "");

  out.push("## Headline", "", `**${mdCell(h.summary)}**`, "");
  for (const m of h.methods)
    out.push(`- **${mdCell(m.name)}** — shortcut ${verdictWords(m.verdict)}: ${mdCell(m.reason)}`);
  for (const s of h.sentences.slice(h.methods.length)) out.push(`- ${mdCell(s)}`);
  for (const s of data.notes ?? []) out.push(`- ${mdCell(s)}`);
  out.push("");

  const metric = (m: MethodReport, t: string, s: string) =>
    m.metrics.find((r) => r.task === t && r.split === s);
  const splits = splitOrder(
    data.splits,
    unique(data.methods.flatMap((m) => m.metrics.filter((r) => r.task === task).map((r) => r.split))),
  );
  out.push(`## ${mdCell(task)} accuracy per split`, "");
  out.push(
    table(
      ["Method", ...splits.map(splitLabel), "Gap", "Worst group (inverted)", "Train time"],
      data.methods.map((m) => {
        const a = metric(m, task, data.splits.inDistribution)?.accuracy;
        const b = metric(m, task, data.splits.inverted)?.accuracy;
        return [
          mdCell(m.name) + (m.failure ? " (failed)" : ""),
          ...splits.map((s) => withCi(metric(m, task, s)?.accuracy, metric(m, task, s)?.accuracyCi)),
          isNum(a) && isNum(b) ? `${((a - b) * 100).toFixed(1)} pp` : "–",
          pct1(metric(m, task, data.splits.inverted)?.worstGroupAccuracy),
          duration(m.trainSeconds),
        ];
      }),
    ),
    "",
  );

  out.push("## All metrics", "");
  const tasks = unique([
    task,
    ...data.tasks.spurions,
    ...data.methods.flatMap((m) => m.metrics.map((r) => r.task)),
  ]);
  for (const t of tasks) {
    const rows = data.methods.flatMap((m) =>
      m.metrics
        .filter((r) => r.task === t)
        .map((r) => [
          mdCell(m.name),
          mdCell(splitLabel(r.split)),
          withCi(r.accuracy, r.accuracyCi),
          withCi(r.balancedAccuracy, r.balancedAccuracyCi),
          withCi(r.auc, r.aucCi),
          pct1(r.worstGroupAccuracy) + (r.worstGroup ? ` (${mdCell(r.worstGroup)})` : ""),
        ]),
    );
    if (rows.length === 0) continue;
    out.push(
      `### ${mdCell(t)}`,
      "",
      table(["Method", "Split", "Accuracy", "Balanced acc.", "ROC-AUC", "Worst group"], rows, [
        "l",
        "l",
        "r",
        "r",
        "r",
        "r",
      ]),
      "",
    );
  }

  const tests = data.splits.external ?? [];
  if (tests.length > 0) {
    const fy = `f_${task}`;
    out.push(
      "## Natural shift: external test cohorts",
      "",
      `Each cohort is evaluated as it comes (no resampling); the ${mdCell(fy)} probes are fitted and scored on it and should sit at chance.`,
      "",
    );
    out.push(
      table(
        [
          "Test",
          "Method",
          "Accuracy",
          "Balanced acc.",
          "ROC-AUC",
          "Worst group",
          `${mdCell(fy)} probes`,
          "n",
        ],
        tests.flatMap((t) =>
          data.methods.map((m) => {
            const r = metric(m, task, t.name);
            const probes = (m.externalProbes?.[t.name] ?? []).filter(
              (p) => p.source === fy && p.kind !== "own",
            );
            return [
              `${mdCell(t.name)} (${mdCell(t.from)})`,
              mdCell(m.name),
              withCi(r?.accuracy, r?.accuracyCi),
              withCi(r?.balancedAccuracy, r?.balancedAccuracyCi),
              withCi(r?.auc, r?.aucCi),
              pct1(r?.worstGroupAccuracy) + (r?.worstGroup ? ` (${mdCell(r.worstGroup)})` : ""),
              probes.length
                ? probes
                    .map(
                      (p) =>
                        `${mdCell(p.target)} ${pct1(p.accuracy)} (chance ${pct1(Math.max(p.chance.majority, p.chance.uniform))})`,
                    )
                    .join("; ")
                : "–",
              r?.n !== undefined ? String(r.n) : "–",
            ];
          }),
        ),
        ["l", "l", "r", "r", "r", "r", "l", "r"],
      ),
      "",
    );
  }

  const probing = data.methods.filter((m) => m.probes?.length);
  if (probing.length > 0) {
    const keys = unique(probing.flatMap((m) => m.probes!.map((p) => `${p.source} → ${p.target}`)));
    out.push(
      "## Switched-label probes",
      "",
      "Linear probes on frozen features; switched probes should sit at chance, own-label probes high.",
      "",
    );
    out.push(
      table(
        ["Probe", "Chance", ...probing.map((m) => mdCell(m.name))],
        keys.map((k) => {
          const cells = probing.map((m) => {
            const p = m.probes!.find((q) => `${q.source} → ${q.target}` === k);
            return p ? withCi(p.accuracy, p.accuracyCi) : "–";
          });
          const sample = probing.flatMap((m) => m.probes!).find((q) => `${q.source} → ${q.target}` === k)!;
          return [
            mdCell(k) + (sample.kind === "own" ? " (own)" : ""),
            pct1(Math.max(sample.chance.majority, sample.chance.uniform)),
            ...cells,
          ];
        }),
      ),
      "",
    );
  }

  const auditing = data.methods.filter((m) => m.miAudit?.length);
  if (auditing.length > 0) {
    const pairs = unique(auditing.flatMap((m) => m.miAudit!.map((a) => a.pair)));
    out.push("## MI audit (nats)", "", "A fresh critic on frozen held-out features; near 0 is good.", "");
    out.push(
      table(
        ["Pair", ...auditing.map((m) => mdCell(m.name))],
        pairs.map((p) => [
          mdCell(p),
          ...auditing.map((m) => nats(m.miAudit!.find((a) => a.pair === p)?.estimate)),
        ]),
      ),
      "",
    );
  }

  const tsneRows = data.methods.flatMap((m) =>
    (m.tsne ?? []).flatMap((p) =>
      p.colourings
        .filter((c) => isNum(c.knnAgreement))
        .map((c) => [
          mdCell(m.name),
          mdCell(`${p.features} by ${c.by}`),
          pct1(c.knnAgreement),
          pct1(c.knnChance),
        ]),
    ),
  );
  if (tsneRows.length > 0) {
    out.push(
      "## t-SNE cluster check",
      "",
      "5-NN label agreement in the embedding; at chance means no clusters by that label.",
      "",
    );
    out.push(table(["Method", "Panel", "5-NN agreement", "Chance"], tsneRows, ["l", "l", "r", "r"]), "");
  }

  const sizes = data.dataset?.sizes;
  if (sizes)
    out.push(
      `Images per split used: ${Object.entries(sizes)
        .map(([k, v]) => `${mdCell(splitLabel(k))} ${v}`)
        .join(", ")}.`,
      "",
    );
  const skipped = data.dataset?.skipped ?? [];
  if (skipped.length > 0) {
    out.push(`## Data: ${skipped.length} unreadable image${skipped.length === 1 ? "" : "s"} left out`, "");
    out.push(
      table(
        ["Split", "CSV line", "File", "Reason"],
        skipped.map((f) => [
          mdCell(splitLabel(f.split)),
          mdCell(f.csv ? `${f.csv}:${f.line}` : ""),
          mdCell(f.path),
          mdCell(f.reason),
        ]),
      ),
      "",
    );
  }
  for (const t of data.dataset?.groupCounts ?? []) {
    out.push(`## Data: ${mdCell(t.title)}`, "");
    out.push(
      table(
        ["Group", ...t.columns.map(splitLabel)],
        t.rows.map((r, i) => [mdCell(r), ...t.columns.map((_, j) => String(t.counts[i]?.[j] ?? 0))]),
      ),
      "",
    );
  }

  const failures = data.methods.filter((m) => m.failure);
  if (failures.length > 0) {
    out.push("## Failures", "");
    for (const m of failures) out.push(`- **${mdCell(m.name)}**: ${mdCell(m.failure!)}`);
    out.push("");
  }
  if (data.configYaml)
    out.push("## Configuration", "", "```yaml", data.configYaml.replace(/```/g, "ʼʼʼ").trimEnd(), "```", "");
  return `${out.join("\n").trimEnd()}\n`;
}

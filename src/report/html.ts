// Renders ReportData as one self-contained HTML file: inline CSS and SVG, no scripts, no fonts or
// images from the network, so the file can be archived with the run, mailed, and opened offline.
// Sections follow the evaluation protocol (shared/METHOD.md): headline verdict, primary task per
// split, all metrics, probes, MI audit, t-SNE, training curves, data, configuration. Each figure
// has a caption saying what a good result looks like, because a reader must be able to judge the
// run without knowing the method.

import {
  ciText,
  duration,
  escapeHtml,
  isNum,
  nats,
  pct,
  pct1,
  splitLabel,
  splitOrder,
  unique,
} from "./format.js";
import { computeHeadline, type MethodHeadline, primaryLeakProbes, verdictWords } from "./headline.js";
import { deviationColour, groupedBarChart, heatColour, lineChart, scatterPlot } from "./svg.js";
import type { CurveSet, MethodReport, MetricRow, ProbeEntry, ReportData } from "./types.js";

const CSS = `
:root { --ink: #1d2327; --muted: #5f6b73; --line: #dde3e8; --bg: #ffffff; --panel: #f6f8fa; --accent: #0b5cad;
  --good: #1a7f37; --good-bg: #e8f5ec; --warn: #9a6700; --warn-bg: #fff6dc; --bad: #b42318; --bad-bg: #fdecea; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 64px; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 22px; }
h1 { font-size: 27px; line-height: 1.2; margin: 0 0 6px; letter-spacing: -0.01em; }
h1 small { display: block; font-size: 13px; font-weight: 600; color: var(--accent); letter-spacing: 0.08em; text-transform: uppercase; margin-bottom: 4px; }
h2 { font-size: 20px; margin: 38px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
.meta { color: var(--muted); font-size: 13.5px; }
.meta span + span::before { content: "·"; margin: 0 8px; color: #aab4bb; }
nav.toc { font-size: 13px; margin-top: 10px; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px; }
.summary { font-size: 18px; font-weight: 600; margin: 6px 0 14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-left: 5px solid #9aa5ad; border-radius: 6px; padding: 10px 14px; background: var(--panel); }
.card h3 { margin: 0 0 2px; font-size: 15px; }
.card .verdict { font-weight: 700; font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .nums { font-variant-numeric: tabular-nums; font-size: 14px; margin: 4px 0; }
.card p { margin: 4px 0 0; font-size: 13px; color: var(--muted); }
.card.removed { border-left-color: var(--good); background: var(--good-bg); } .card.removed .verdict { color: var(--good); }
.card.partly { border-left-color: var(--warn); background: var(--warn-bg); } .card.partly .verdict { color: var(--warn); }
.card.not { border-left-color: var(--bad); background: var(--bad-bg); } .card.not .verdict { color: var(--bad); }
.card.reference .verdict { color: var(--accent); }
ul.sentences { margin: 12px 0 0; padding-left: 20px; font-size: 14px; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; margin: 6px 0; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th { font-weight: 600; background: var(--panel); border-bottom: 2px solid #c9d1d8; }
th:first-child, td:first-child, td.left, th.left { text-align: left; }
tbody tr:hover td { background: #f9fbfc; }
td .ci { display: block; color: var(--muted); font-size: 11.5px; }
td.group-start { border-top: 2px solid #c9d1d8; }
.scroll { overflow-x: auto; }
figure { margin: 10px 0 18px; }
figcaption { color: var(--muted); font-size: 13px; max-width: 860px; margin-top: 4px; }
figcaption b { color: var(--ink); }
.grid { display: grid; gap: 14px 18px; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); }
.grid.small { grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
.panel { border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff; }
svg { max-width: 100%; height: auto; display: block; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
  font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; overflow-x: auto; }
.failure { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); font-size: 13px; }
footer { margin-top: 48px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12.5px; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

const e = escapeHtml;

export function renderHtml(data: ReportData): string {
  const headline = computeHeadline(data);
  const sections: string[] = [];
  sections.push(headlineSection(data, headline.summary, headline.methods, headline.sentences));
  sections.push(primarySection(data));
  sections.push(metricsSection(data));
  if (data.splits.external?.length) sections.push(naturalSection(data));
  if (data.methods.some((m) => m.probes?.length)) sections.push(probeSection(data));
  if (data.methods.some((m) => m.miAudit?.length)) sections.push(miSection(data));
  if (data.methods.some((m) => m.tsne?.length)) sections.push(tsneSection(data));
  if (data.methods.some((m) => m.curves?.length)) sections.push(curveSection(data));
  if (data.dataset?.groupCounts.length) sections.push(datasetSection(data));
  if (data.configYaml)
    sections.push(`<section id="config"><h2>Configuration</h2><pre>${e(data.configYaml)}</pre></section>`);

  const toc = [
    ["headline", "Headline"],
    ["primary", "Primary task"],
    ["metrics", "All metrics"],
    ["natural", "Natural shift"],
    ["probes", "Probes"],
    ["mi", "MI audit"],
    ["tsne", "t-SNE"],
    ["curves", "Training"],
    ["data", "Data"],
    ["config", "Configuration"],
  ].filter(([id]) => sections.some((s) => s.startsWith(`<section id="${id}"`)));

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`${data.runName} — shortcut audit`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header class="top">
<h1><small>MIMM-X shortcut audit</small>${e(data.runName)}</h1>
<div class="meta"><span>${e(formatDate(data.date))}</span><span>primary task: <b>${e(data.tasks.primary)}</b></span><span>spurions: ${e(data.tasks.spurions.join(", ") || "none")}</span><span>${data.methods.length} method${data.methods.length === 1 ? "" : "s"}: ${e(data.methods.map((m) => m.name).join(", "))}</span></div>
${data.description ? `<p>${e(data.description)}</p>` : ""}
<nav class="toc">${toc.map(([id, t]) => `<a href="#${id}">${e(t)}</a>`).join("")}</nav>
</header>
${sections.join("\n")}
<footer>Generated by mimmx on ${e(formatDate(data.date))}. Verdict rules: a shortcut counts as <i>removed</i> when the ${e(splitLabel(data.splits.inDistribution))}−${e(splitLabel(data.splits.inverted))} accuracy gap is small, the inverted-test accuracy is clearly above chance, and every f_${e(data.tasks.primary)} probe is near chance. Fractions are shown as percentages; intervals are 95% (Wilson for accuracies, bootstrap for balanced accuracy and AUC).</footer>
</main>
</body>
</html>
`;
}

function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/:\d\d\.\d+Z$/, " UTC");
}

function verdictClass(h: MethodHeadline): string {
  switch (h.verdict) {
    case "removed":
      return "removed";
    case "partly removed":
      return "partly";
    case "not removed":
    case "failed":
      return "not";
    case "reference":
      return "reference";
    default:
      return "";
  }
}

function headlineSection(
  data: ReportData,
  summary: string,
  methods: MethodHeadline[],
  sentences: string[],
): string {
  const inD = splitLabel(data.splits.inDistribution);
  const inv = splitLabel(data.splits.inverted);
  const bal = data.splits.balanced ? splitLabel(data.splits.balanced) : undefined;
  const cards = methods.map((h) => {
    const nums = [`${inD} <b>${pct(h.inDistribution)}</b>`, `${inv} <b>${pct(h.inverted)}</b>`];
    if (bal) nums.push(`${bal} <b>${pct(h.balanced)}</b>`);
    return `<div class="card ${verdictClass(h)}"><h3>${e(h.name)}</h3><div class="verdict">Shortcut ${e(verdictWords(h.verdict))}</div><div class="nums">${nums.join(" · ")}</div><p>${e(h.reason)}</p></div>`;
  });
  const extra = sentences.slice(methods.length);
  const notes = [...extra, ...(data.notes ?? [])];
  return `<section id="headline"><h2>Headline</h2>
<p class="summary">${e(summary)}</p>
<div class="cards">${cards.join("")}</div>
${notes.length ? `<ul class="sentences">${notes.map((s) => `<li>${e(s)}</li>`).join("")}</ul>` : ""}
</section>`;
}

function metric(m: MethodReport, task: string, split: string): MetricRow | undefined {
  return m.metrics.find((r) => r.task === task && r.split === split);
}

function primarySection(data: ReportData): string {
  const task = data.tasks.primary;
  const splits = splitOrder(
    data.splits,
    unique(data.methods.flatMap((m) => m.metrics.filter((r) => r.task === task).map((r) => r.split))),
  );
  const chance = 1 / (data.tasks.primaryClasses ?? 2);
  const chart = groupedBarChart({
    categories: splits.map(splitLabel),
    series: data.methods.map((m) => ({
      name: m.name,
      values: splits.map((s) => metric(m, task, s)?.accuracy ?? null),
      errors: splits.map((s) => metric(m, task, s)?.accuracyCi ?? null),
    })),
    // Headroom above 100% for the value labels; the ticks still stop at 100%.
    yDomain: [0, 1.1],
    percent: true,
    yLabel: `${task} accuracy`,
    references: [{ value: chance, label: `chance ${pct(chance)}` }],
    width: 760,
    height: 320,
  });
  const head = `<tr><th class="left">Method</th>${splits.map((s) => `<th>${e(splitLabel(s))}</th>`).join("")}<th>Gap (${e(splitLabel(data.splits.inDistribution))} − ${e(splitLabel(data.splits.inverted))})</th><th>Worst group (${e(splitLabel(data.splits.inverted))})</th><th>Train time</th></tr>`;
  const rows = data.methods.map((m) => {
    const cells = splits.map((s) => {
      const r = metric(m, task, s);
      return `<td>${pct1(r?.accuracy)}${r?.accuracyCi ? `<span class="ci">${ciText(r.accuracyCi)}</span>` : ""}</td>`;
    });
    const a = metric(m, task, data.splits.inDistribution)?.accuracy;
    const b = metric(m, task, data.splits.inverted)?.accuracy;
    const gap = isNum(a) && isNum(b) ? `${((a - b) * 100).toFixed(1)} pp` : "–";
    const wg = metric(m, task, data.splits.inverted);
    return `<tr><td>${e(m.name)}${m.failure ? ` <span class="failure">(failed)</span>` : ""}</td>${cells.join("")}<td>${gap}</td><td>${pct1(wg?.worstGroupAccuracy)}${wg?.worstGroup ? `<span class="ci">${e(wg.worstGroup)}</span>` : ""}</td><td>${duration(m.trainSeconds)}</td></tr>`;
  });
  return `<section id="primary"><h2>Primary task: ${e(task)}</h2>
<figure>${chart}<figcaption><b>Accuracy on ${e(task)} per split</b> (whiskers: 95% Wilson interval). A model that uses a shortcut scores high on ${e(splitLabel(data.splits.inDistribution))} and low — often below chance — on the ${e(splitLabel(data.splits.inverted))}, where every spurion points the wrong way. <b>Good:</b> the bars of one method are about equally high on every split.</figcaption></figure>
<div class="scroll"><table><thead>${head}</thead><tbody>${rows.join("")}</tbody></table></div>
</section>`;
}

function metricsSection(data: ReportData): string {
  const tasks = unique([
    data.tasks.primary,
    ...data.tasks.spurions,
    ...data.methods.flatMap((m) => m.metrics.map((r) => r.task)),
  ]);
  const tables = tasks
    .filter((t) => data.methods.some((m) => m.metrics.some((r) => r.task === t)))
    .map((task) => {
      const splits = splitOrder(
        data.splits,
        unique(data.methods.flatMap((m) => m.metrics.filter((r) => r.task === task).map((r) => r.split))),
      );
      const body: string[] = [];
      for (const m of data.methods) {
        const rows = splits.map((s) => metric(m, task, s)).filter((r): r is MetricRow => r !== undefined);
        rows.forEach((r, i) => {
          const first = i === 0;
          body.push(
            `<tr>${first ? `<td rowspan="${rows.length}" class="group-start">${e(m.name)}</td>` : ""}<td class="left${first ? " group-start" : ""}">${e(splitLabel(r.split))}</td>${[
              cellWithCi(r.accuracy, r.accuracyCi),
              cellWithCi(r.balancedAccuracy, r.balancedAccuracyCi),
              cellWithCi(r.auc, r.aucCi),
              `${pct1(r.worstGroupAccuracy)}${r.worstGroup ? `<span class="ci">${e(r.worstGroup)}</span>` : ""}`,
              isNum(r.n) ? String(r.n) : "–",
            ]
              .map((c) => `<td${first ? ' class="group-start"' : ""}>${c}</td>`)
              .join("")}</tr>`,
          );
        });
      }
      const role = task === data.tasks.primary ? "primary task" : "spurion head";
      return `<h3>${e(task)} <span class="note">(${role})</span></h3><div class="scroll"><table><thead><tr><th class="left">Method</th><th class="left">Split</th><th>Accuracy</th><th>Balanced acc.</th><th>ROC-AUC</th><th>Worst group</th><th>n</th></tr></thead><tbody>${body.join("")}</tbody></table></div>`;
    });
  return `<section id="metrics"><h2>All metrics</h2>
<p class="note">Balanced accuracy is the mean recall over classes (chance = 1/C whatever the class shares); worst group is the lowest accuracy over (y, z<sub>i</sub>) groups for every spurion i. Small intervals under each value are 95% intervals. Spurion heads (MTL, MIMM-X) should score high: they are meant to capture the spurion in their own feature part.</p>
${tables.join("\n")}
</section>`;
}

/**
 * External test cohorts beside the induced-shift tests: the primary task's metrics on each, and
 * the f_y probes there (a spurion f_y still encodes on a new cohort is a shortcut it carries along).
 */
function naturalSection(data: ReportData): string {
  const task = data.tasks.primary;
  const fy = `f_${task}`;
  const tests = data.splits.external ?? [];
  const body: string[] = [];
  for (const t of tests)
    data.methods.forEach((m, i) => {
      const r = metric(m, task, t.name);
      const probes = (m.externalProbes?.[t.name] ?? []).filter((p) => p.source === fy && p.kind !== "own");
      body.push(
        `<tr>${i === 0 ? `<td rowspan="${data.methods.length}" class="left group-start">${e(t.name)}<span class="ci">${e(t.from)}</span></td>` : ""}<td class="left${i === 0 ? " group-start" : ""}">${e(m.name)}</td>${[
          r ? cellWithCi(r.accuracy, r.accuracyCi) : "–",
          r ? cellWithCi(r.balancedAccuracy, r.balancedAccuracyCi) : "–",
          r ? cellWithCi(r.auc, r.aucCi) : "–",
          r
            ? `${pct1(r.worstGroupAccuracy)}${r.worstGroup ? `<span class="ci">${e(r.worstGroup)}</span>` : ""}`
            : "–",
          probes.length
            ? probes
                .map(
                  (p) =>
                    `${e(p.target)} ${pct1(p.accuracy)} <span class="ci">chance ${pct1(Math.max(p.chance.majority, p.chance.uniform))}</span>`,
                )
                .join("<br>")
            : "–",
          r && isNum(r.n) ? String(r.n) : "–",
        ]
          .map((c) => `<td${i === 0 ? ' class="group-start"' : ""}>${c}</td>`)
          .join("")}</tr>`,
      );
    });
  return `<section id="natural"><h2>Natural shift: external test cohorts</h2>
<p class="note">Each external cohort is evaluated as it comes (its own label and spurion distribution, no resampling), beside the induced-shift tests above. Worst group is over the (${e(task)}, z<sub>i</sub>) groups the cohort holds; the f<sub>${e(task)}</sub> probes are fitted and scored on the cohort itself and should sit at chance.</p>
<div class="scroll"><table><thead><tr><th class="left">Test</th><th class="left">Method</th><th>Accuracy</th><th>Balanced acc.</th><th>ROC-AUC</th><th>Worst group</th><th>${e(fy)} probes</th><th>n</th></tr></thead><tbody>${body.join("")}</tbody></table></div>
</section>`;
}

function cellWithCi(v: number | undefined, ci: { low: number; high: number } | undefined): string {
  return `${pct1(v)}${ci ? `<span class="ci">${ciText(ci)}</span>` : ""}`;
}

function probeSection(data: ReportData): string {
  const methods = data.methods.filter((m) => m.probes?.length);
  const keys = unique(methods.flatMap((m) => m.probes!.map((p) => `${p.source}\u0000${p.target}`)));
  const find = (m: MethodReport, key: string): ProbeEntry | undefined =>
    m.probes?.find((p) => `${p.source}\u0000${p.target}` === key);
  const sortKey = (key: string): number => {
    const sample = methods.map((m) => find(m, key)).find((p) => p)!;
    const fy = `f_${data.tasks.primary}`;
    if (sample.kind === "own" || sample.source === `f_${sample.target}`) return 3;
    if (sample.source === fy) return 0;
    return sample.target === data.tasks.primary ? 1 : 2;
  };
  keys.sort((a, b) => sortKey(a) - sortKey(b));
  const rows = keys.map((key) => {
    const [source, target] = key.split("\u0000");
    const own = sortKey(key) === 3;
    const sample = methods.map((m) => find(m, key)).find((p) => p)!;
    const chance = Math.max(sample.chance.majority, sample.chance.uniform);
    const cells = methods.map((m) => {
      const p = find(m, key);
      if (!p) return "<td>–</td>";
      const c = Math.max(p.chance.majority, p.chance.uniform);
      // Colour switched probes by how far they sit above chance: white = no leakage, red = leakage.
      const bg = own ? "" : ` style="background:${deviationColour(p.accuracy - c, 0.4)}"`;
      return `<td${bg}>${pct1(p.accuracy)}${p.accuracyCi ? `<span class="ci">${ciText(p.accuracyCi)}</span>` : ""}</td>`;
    });
    return `<tr><td>${e(source)} → ${e(target)}</td><td class="left">${own ? "own label (should be high)" : "switched (should be at chance)"}</td><td>${pct1(chance)}</td>${cells.join("")}</tr>`;
  });
  const leaks = methods.map((m) => {
    const worst = primaryLeakProbes(data, m).reduce<ProbeEntry | undefined>(
      (w, p) =>
        !w ||
        p.accuracy - Math.max(p.chance.majority, p.chance.uniform) >
          w.accuracy - Math.max(w.chance.majority, w.chance.uniform)
          ? p
          : w,
      undefined,
    );
    return worst ? `${m.name}: ${worst.source} → ${worst.target} ${pct1(worst.accuracy)}` : "";
  });
  return `<section id="probes"><h2>Switched-label probes</h2>
<div class="scroll"><table><thead><tr><th class="left">Probe</th><th class="left">Kind</th><th>Chance</th>${methods.map((m) => `<th>${e(m.name)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>
<figcaption><b>Linear probes on frozen features</b> (logistic regression fitted on one half of the ${e(data.splits.balanced ? splitLabel(data.splits.balanced) : "held-out data")}, scored on the other half; 95% Wilson interval below each value). A probe f<sub>a</sub> → b asks whether feature part f<sub>a</sub> still encodes label b. <b>Good:</b> every switched probe is at chance — white cells, intervals that contain the chance column — while the own-label probes stay high. Red cells mark information that leaked into the wrong part.${leaks.some(Boolean) ? ` Strongest f_${e(data.tasks.primary)} leak per method: ${e(leaks.filter(Boolean).join("; "))}.` : ""}</figcaption>
</section>`;
}

function miSection(data: ReportData): string {
  const methods = data.methods.filter((m) => m.miAudit?.length);
  const pairs = unique(methods.flatMap((m) => m.miAudit!.map((a) => a.pair)));
  const all = methods.flatMap((m) => m.miAudit!.map((a) => a.estimate)).filter(isNum);
  const hi = Math.max(0.05, ...all);
  const rows = pairs.map((pair) => {
    const cells = methods.map((m) => {
      const a = m.miAudit!.find((x) => x.pair === pair);
      if (!a) return "<td>–</td>";
      const ci =
        a.ci && isNum(a.ci.low) ? `<span class="ci">[${nats(a.ci.low)}, ${nats(a.ci.high)}]</span>` : "";
      return `<td style="background:${deviationColour(a.estimate, hi)}">${nats(a.estimate)}${ci}</td>`;
    });
    return `<tr><td>${e(pair)}</td>${cells.join("")}</tr>`;
  });
  const estimators = unique(
    methods.flatMap((m) => m.miAudit!.map((a) => a.estimator).filter((s): s is string => !!s)),
  );
  return `<section id="mi"><h2>Mutual-information audit</h2>
<div class="scroll"><table><thead><tr><th class="left">Pair</th>${methods.map((m) => `<th>${e(m.name)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>
<figcaption><b>MI between feature parts, in nats</b>, estimated by a fresh critic trained to convergence on frozen features of held-out data${estimators.length ? ` (${e(estimators.join("; "))})` : ""}. <b>Good:</b> values near 0 for every pair. Read together with accuracy: a collapsed encoder also has MI near 0.</figcaption>
</section>`;
}

function tsneSection(data: ReportData): string {
  const blocks = data.methods
    .filter((m) => m.tsne?.length)
    .map((m) => {
      const panels = m.tsne!.flatMap((p) =>
        p.colourings.map((c) => {
          const sub =
            isNum(c.knnAgreement) && isNum(c.knnChance)
              ? `5-NN agreement ${pct(c.knnAgreement)} (chance ${pct(c.knnChance)})`
              : isNum(c.knnAgreement)
                ? `5-NN agreement ${pct(c.knnAgreement)}`
                : undefined;
          return `<div class="panel">${scatterPlot({ x: p.x, y: p.y, labels: c.labels, classNames: c.classNames, title: `${p.features} coloured by ${c.by}`, subtitle: sub, width: 340, height: 360 })}</div>`;
        }),
      );
      return `<h3>${e(m.name)}</h3><div class="grid small">${panels.join("")}</div>`;
    });
  return `<section id="tsne"><h2>t-SNE of feature parts</h2>
${blocks.join("\n")}
<figcaption><b>Two-dimensional t-SNE embeddings of frozen features</b>, one panel per colouring. Coloured by the primary label, f_${e(data.tasks.primary)} should form clusters (it must predict ${e(data.tasks.primary)}). <b>Good:</b> coloured by a spurion, f_${e(data.tasks.primary)} shows no clusters — colours are mixed everywhere, and the k-nearest-neighbour agreement sits at its chance level. Separate islands of one colour mean the features still encode that spurion.</figcaption>
</section>`;
}

function curveSection(data: ReportData): string {
  const blocks = data.methods
    .filter((m) => m.curves?.length)
    .map((m) => {
      const charts = m.curves!.map((c) => `<div class="panel">${curveChart(c)}</div>`);
      return `<h3>${e(m.name)}${m.failure ? ` <span class="failure">— ${e(m.failure)}</span>` : ""}</h3><div class="grid">${charts.join("")}</div>`;
    });
  return `<section id="curves"><h2>Training</h2>
${blocks.join("\n")}
<figcaption><b>Training curves per method</b> (gaps mark steps without a value, e.g. NaN). <b>Good:</b> losses settle without spikes; per-pair MI estimates fall towards 0 and stay there while the primary loss still falls; GradNorm weights and attention change smoothly. An MI estimate that climbs steeply, or a loss that jumps to NaN, is an unstable critic.</figcaption>
</section>`;
}

function curveChart(c: CurveSet): string {
  return lineChart({
    title: c.title,
    series: c.series,
    xLabel: c.x === "epoch" ? "epoch" : "step",
    yLabel: c.yLabel,
    logY: c.logY,
    xStart: c.x === "epoch" ? 1 : 0,
    width: 540,
    height: 290,
  });
}

function datasetSection(data: ReportData): string {
  const tables = data.dataset!.groupCounts.map((t) => {
    const max = Math.max(1, ...t.counts.flat());
    const totals = t.columns.map((_, j) => t.counts.reduce((s, row) => s + (row[j] ?? 0), 0));
    const rows = t.rows.map(
      (r, i) =>
        `<tr><td>${e(r)}</td>${t.columns
          .map((_, j) => {
            const v = t.counts[i]?.[j] ?? 0;
            const share =
              totals[j] > 0 ? ` <span class="note">(${((v / totals[j]) * 100).toFixed(0)}%)</span>` : "";
            return `<td style="background:${heatColour(v, 0, max)}">${v}${share}</td>`;
          })
          .join("")}</tr>`,
    );
    return `<h3>${e(t.title)}</h3><div class="scroll"><table><thead><tr><th class="left">Group</th>${t.columns.map((c) => `<th>${e(splitLabel(c))}</th>`).join("")}</tr></thead><tbody>${rows.join("")}<tr><td><b>total</b></td>${totals.map((v) => `<td><b>${v}</b></td>`).join("")}</tr></tbody></table></div>`;
  });
  const skipped = data.dataset!.skipped ?? [];
  const sizes = data.dataset!.sizes;
  const sizeLine = sizes
    ? `<p>Images per split used: ${Object.entries(sizes)
        .map(([k, v]) => `${e(splitLabel(k))} ${v}`)
        .join(", ")}.</p>`
    : "";
  const skippedTable =
    skipped.length > 0
      ? `<h3>${skipped.length} unreadable image${skipped.length === 1 ? "" : "s"} left out</h3><div class="scroll"><table><thead><tr><th class="left">Split</th><th class="left">CSV line</th><th class="left">File</th><th class="left">Reason</th></tr></thead><tbody>${skipped
          .map(
            (f) =>
              `<tr><td class="left">${e(splitLabel(f.split))}</td><td class="left">${e(f.csv ? `${f.csv}:${f.line}` : "")}</td><td class="left">${e(f.path)}</td><td class="left">${e(f.reason)}</td></tr>`,
          )
          .join("")}</tbody></table></div>`
      : "";
  return `<section id="data"><h2>Data${data.dataset!.name ? `: ${e(data.dataset!.name)}` : ""}</h2>
${sizeLine}${skippedTable}
${tables.join("\n")}
<figcaption><b>Group counts per split</b> (percent of the split in brackets). In training and validation the groups where a spurion agrees with the label dominate (the confounding ratio); the inverted test reverses this; the balanced test holds every combination in equal share.</figcaption>
</section>`;
}

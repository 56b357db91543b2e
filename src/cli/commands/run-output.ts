// The lines a finished run prints on stdout: where the report is, and the headline.
import type { RunResult } from "../../run/index.js";

export function printRunResult(r: RunResult, resumeHint: string): number {
  if (r.status === "aborted") {
    console.log(`interrupted; the run is in ${r.dir}. Continue with: ${resumeHint}`);
    return 130;
  }
  if (r.summary) {
    console.log(r.summary.headline);
    for (const m of r.summary.methods) console.log(`  ${m.label}: ${m.verdict} — ${m.reason}`);
    // The external cohorts (natural shift) beside the induced-shift verdicts.
    const pct = (v: number | undefined) => (v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);
    for (const m of r.summary.methods)
      for (const [test, x] of Object.entries(m.external))
        console.log(
          `  ${m.label} on ${test} (${x.from}, as it comes): accuracy ${pct(x.accuracy)}, balanced ${pct(x.balancedAccuracy)}, AUC ${x.auc === undefined ? "–" : x.auc.toFixed(3)}, worst group ${pct(x.worstGroupAccuracy)}`,
        );
  }
  console.log(`report: ${r.reportHtml}`);
  console.log(`        ${r.reportMd}`);
  console.log(`summary: ${r.summaryPath}`);
  return 0;
}

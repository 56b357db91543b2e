// Number and text formatting shared by the HTML and Markdown renderers, so both print the same
// figures the same way.

import { humanSplit } from "./headline.js";
import type { Interval } from "./types.js";

export { humanSplit, pct } from "./headline.js";
export { escapeXml as escapeHtml } from "./svg.js";

export function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** "85.2%" with one decimal, or "–" when absent. */
export function pct1(v: number | undefined | null): string {
  return isNum(v) ? `${(v * 100).toFixed(1)}%` : "–";
}

/** "[80.1, 89.0]" in percent, or "" when absent. */
export function ciText(ci: Interval | undefined | null): string {
  return ci && isNum(ci.low) && isNum(ci.high)
    ? `[${(ci.low * 100).toFixed(1)}, ${(ci.high * 100).toFixed(1)}]`
    : "";
}

/** A value in nats with 3 significant decimals. */
export function nats(v: number | undefined | null): string {
  return isNum(v) ? v.toFixed(3) : "–";
}

/** Human-readable duration: 42 s, 3 min 5 s, 2 h 4 min. */
export function duration(seconds: number | undefined): string {
  if (!isNum(seconds)) return "–";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Split display order: the configured order, else in-distribution, inverted, balanced, then any others seen. */
export function splitOrder(
  splits: { inDistribution: string; inverted: string; balanced?: string; order?: string[] },
  seen: string[],
): string[] {
  const base = splits.order ?? [
    splits.inDistribution,
    splits.inverted,
    ...(splits.balanced ? [splits.balanced] : []),
  ];
  const out = [...base];
  for (const s of seen) if (!out.includes(s)) out.push(s);
  return out;
}

export function splitLabel(name: string): string {
  return humanSplit(name);
}

/** Stable ascending unique values. */
export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

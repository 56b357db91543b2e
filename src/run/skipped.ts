// Accounting for the images a run could not read. `on_unreadable: skip` drops them, but never out
// of sight: each goes by split, CSV file and line, path and reason into skipped.csv, the report and
// summary.json, and past `max_skipped` (a fraction of each split) the run stops before training,
// because a split that lost a large share of its rows no longer has the group counts it was built
// with. `on_unreadable: fail` stops at the first split with an unreadable image, naming them all.
import type { DataConfig } from "../config/index.js";

export interface SkippedFile {
  split: string;
  path: string;
  /** the CSV file and line the image was listed on (empty / 0 for sources without one) */
  csv: string;
  line: number;
  reason: string;
}

/** How many names an error message lists before "... and N more" (skipped.csv has them all). */
const LISTED = 10;

function listFiles(files: readonly SkippedFile[]): string {
  const shown = files
    .slice(0, LISTED)
    .map((f) => `  ${f.csv ? `${f.csv}:${f.line}: ` : ""}${f.path}: ${f.reason}`);
  if (files.length > LISTED) shown.push(`  ... and ${files.length - LISTED} more`);
  return shown.join("\n");
}

/**
 * Stops the run when a split lost unreadable images that data.on_unreadable / data.max_skipped do
 * not allow; returns a warning line (or undefined) when it may go on.
 */
export function checkSkipped(
  d: Pick<DataConfig, "on_unreadable" | "max_skipped">,
  split: string,
  planned: number,
  skipped: readonly SkippedFile[],
): string | undefined {
  if (skipped.length === 0) return undefined;
  const n = skipped.length;
  const images = `${n} unreadable image${n === 1 ? "" : "s"}`;
  if (d.on_unreadable === "fail")
    throw new Error(
      `data: split ${split}: ${images} (data.on_unreadable: fail):\n${listFiles(skipped)}\nFix or remove them, or set data.on_unreadable: skip (with data.max_skipped, default 0.01 of a split)`,
    );
  const allowed = Math.floor(d.max_skipped * planned);
  const share = `${((100 * n) / planned).toFixed(1)}% of its ${planned}`;
  if (n > allowed)
    throw new Error(
      `data: split ${split}: ${images}, ${share}; data.max_skipped ${d.max_skipped} allows ${allowed}. Nothing was trained:\n${listFiles(skipped)}\nFix or remove them, or raise data.max_skipped`,
    );
  return `data: split ${split}: skipped ${images} (${share}, within data.max_skipped ${d.max_skipped}):\n${listFiles(skipped)}`;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** skipped.csv: one row per unreadable image; a header alone when every image was read. */
export function skippedCsv(files: readonly SkippedFile[]): string {
  const rows = files.map((f) => [f.split, f.csv, f.line, f.path, f.reason].map(csvCell).join(","));
  return `${["split", "csv", "line", "path", "reason"].join(",")}\n${rows.map((r) => `${r}\n`).join("")}`;
}

// Writes a report's three files side by side: report.json (the data, to re-render later),
// report.html (self-contained, with figures) and report.md (tables and headline).

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import type { ReportData } from "./types.js";

export interface WrittenReport {
  html: string;
  markdown: string;
  json: string;
}

export async function writeReport(
  dir: string,
  data: ReportData,
  basename = "report",
): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const paths = {
    html: join(dir, `${basename}.html`),
    markdown: join(dir, `${basename}.md`),
    json: join(dir, `${basename}.json`),
  };
  // JSON first: if rendering throws, the data is still on disk to debug and re-render.
  await writeFile(paths.json, `${JSON.stringify(data, null, 1)}\n`);
  await writeFile(paths.html, renderHtml(data));
  await writeFile(paths.markdown, renderMarkdown(data));
  return paths;
}

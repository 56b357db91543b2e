// Run reports: the ReportData document, its HTML and Markdown renderers, and the headline verdicts.
export * from "./from-eval.js";
export * from "./headline.js";
export { renderHtml } from "./html.js";
export { mdCell, renderMarkdown } from "./markdown.js";
export * from "./svg.js";
export type * from "./types.js";
export { type WrittenReport, writeReport } from "./write.js";

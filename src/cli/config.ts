// Moved to src/config/ (issue 12). This re-export keeps branches written against the old path
// compiling until they are merged; new code imports src/config/index.js.
export * from "../config/index.js";

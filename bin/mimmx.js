#!/usr/bin/env node
// The `mimmx` command. The TypeScript sources are compiled to dist/ by `make setup` (or `npm run build`).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "cli", "main.js");
if (!existsSync(main)) {
  console.error("mimmx: not built yet (dist/ is missing). Run `make setup` in the mimmx folder first.");
  process.exit(1);
}
const { run } = await import(pathToFileURL(main).href);
process.exitCode = await run(process.argv.slice(2));

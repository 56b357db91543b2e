#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Pass a substring to run only the files whose path contains it: `node scripts/run-tests.js nn/`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const filter = process.argv[2] ?? "";
const compiled = collect("dist/test");
// tsc never deletes the output of a source that was moved or removed: such a file would still run
// (and count) in a long-lived checkout, so only compiled tests whose .ts source exists are run.
const isCurrent = (f) => existsSync(f.replace(/^dist[\\/]/, "").replace(/\.js$/, ".ts"));
const stale = compiled.filter((f) => !isCurrent(f));
if (stale.length)
  console.error(`skipping ${stale.length} compiled test(s) without a source: ${stale.join(", ")}`);
const files = compiled
  .filter(isCurrent)
  .filter((f) => f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files match "${filter}" under dist/test (run the TypeScript build first)`);
  process.exit(1);
}
// The prepared-image cache defaults to the user's (~/.cache/mimmx): the tests get their own,
// removed afterwards, so a run neither reads another's entries nor leaves any behind.
const cacheDir = mkdtempSync(join(tmpdir(), "mimmx-test-cache-"));
const res = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
  env: { ...process.env, MIMMX_CACHE_DIR: process.env.MIMMX_CACHE_DIR ?? cacheDir },
});
rmSync(cacheDir, { recursive: true, force: true });
process.exit(res.status ?? 1);

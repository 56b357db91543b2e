// The quick tier's shortcut check (CI): on every benchmark of the suite, ERM's inverted accuracy is
// at least 15 points below its oracle's (ERM on the uncorrelated split), i.e. each benchmark has a
// real shortcut that ERM takes. Trains ERM and the oracle once per benchmark (seed 0): a few
// minutes on 2 idle cores (about 20 s per run at 1 thread when the machine was busy, 2 at a time).
import assert from "node:assert/strict";
import { test } from "node:test";
import { SUITE_BENCHMARKS } from "../../bench/suite/benchmarks.js";
import { runSuite } from "../../bench/suite/runner.js";
import { shortcutGaps } from "../../bench/suite/tables.js";
import { tempDir } from "../data/helpers.js";

test("quick tier: every benchmark's ERM inverted accuracy is >= 15 points below its oracle's", async () => {
  const res = await runSuite({
    tier: "quick",
    seeds: 1,
    seedOffset: 0,
    methods: ["erm", "oracle"],
    // One run per core at 1 thread each (child processes of the built bin/mimmx.js).
    jobs: 2,
    threads: 1,
    out: tempDir("mimmx-suite-quick-"),
    log: () => {},
  });
  assert.equal(res.rows.length, 2 * SUITE_BENCHMARKS.length, "every benchmark ran ERM and the oracle");
  for (const r of res.rows) {
    assert.equal(r.status, "completed", `${r.bench} ${r.method}`);
    assert.ok(r.inverted >= 0 && r.inverted <= 1 && r.balanced >= 0 && r.balanced <= 1);
  }
  const gaps = shortcutGaps(res.rows);
  assert.deepEqual(
    gaps.map((g) => g.bench),
    SUITE_BENCHMARKS.map((b) => b.name),
  );
  const report = gaps.map(
    (g) => `${g.bench}: ERM ${(100 * g.erm).toFixed(1)}, oracle ${(100 * g.oracle).toFixed(1)}`,
  );
  for (const g of gaps)
    assert.ok(
      g.gap >= 15,
      `no shortcut on ${g.bench} (gap ${g.gap.toFixed(1)} points):\n${report.join("\n")}`,
    );
});

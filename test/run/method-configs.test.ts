// A comparison run where a method trains under its own configuration (runExperiment's
// methodConfigs): the demo gives each method its defaults, e.g. MIMM-X its own k and checkpoint rule.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import { type DeepPartial, type RunConfig, resolveDefaults } from "../../src/config/index.js";
import { methodConfigFromRun, openRun, reevaluateRun, runExperiment } from "../../src/run/index.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "mimmx-mcfg-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const DATA: DeepPartial<RunConfig["data"]> = {
  source: "fashion-confounded",
  spurions: [{ name: "marker", kind: "patch", ratio: 0.9 }],
  splits: { train: 256, validation: 96, test_inverted: 96, test_balanced: 96 },
};
const EVAL: DeepPartial<RunConfig["eval"]> = {
  bootstrap: 0,
  probes: { enabled: false },
  tsne: { enabled: false },
  mi_audit: { enabled: false },
};

function config(method: DeepPartial<RunConfig["method"]>, k: number, batch: number, data = DATA): RunConfig {
  return resolveDefaults(
    {
      name: "mcfg",
      seed: 3,
      data,
      model: { feature_dim: k },
      method,
      train: { epochs: 1, batch_size: batch },
      eval: EVAL,
    },
    "test",
  );
}

const runConfig = () => config({ name: "groupdro" }, 4, 64);
const ermConfig = (k = 6) => config({ name: "erm" }, k, 32);

describe("runExperiment with a method's own config", () => {
  it("trains that method under it, writes it beside its checkpoints and reloads it", async () => {
    const dir = tmp();
    const r = await runExperiment(runConfig(), {
      outDir: dir,
      quiet: true,
      methods: ["erm", "groupdro"],
      methodConfigs: { erm: ermConfig() },
      log: () => {},
    });
    assert.equal(r.status, "completed");
    const own = parse(readFileSync(join(dir, "methods", "erm", "config.yaml"), "utf8")) as RunConfig;
    assert.equal(own.model.feature_dim, 6);
    assert.equal(own.train.batch_size, 32);
    assert.ok(!existsSync(join(dir, "methods", "groupdro", "config.yaml")), "groupdro uses the run's config");
    // 256 training images: 8 steps at ERM's batch 32, 4 at the run's batch 64.
    const steps = (m: string) =>
      (JSON.parse(readFileSync(join(dir, "methods", m, "train.json"), "utf8")) as { globalStep: number })
        .globalStep;
    assert.equal(steps("erm"), 8);
    assert.equal(steps("groupdro"), 4);
    const run = openRun(dir);
    assert.equal(methodConfigFromRun(run, "erm").model.feature_dim, 6);
    assert.equal(methodConfigFromRun(run, "groupdro").model.feature_dim, 4);
    // Re-evaluating loads ERM's k = 6 checkpoint under its own config (the run's k = 4 would not fit).
    const again = await reevaluateRun(dir, { quiet: true, log: () => {} });
    assert.equal(again.status, "completed");

    await assert.rejects(
      runExperiment(runConfig(), {
        outDir: dir,
        quiet: true,
        resume: true,
        methods: ["erm", "groupdro"],
        methodConfigs: { erm: ermConfig(8) },
        log: () => {},
      }),
      /--resume: the config differs .*feature_dim/,
    );
  });

  it("refuses a method config whose data differs from the run's", async () => {
    const other = config({ name: "erm" }, 6, 32, { ...DATA, splits: { ...DATA.splits, train: 320 } });
    await assert.rejects(
      runExperiment(runConfig(), {
        outDir: tmp(),
        quiet: true,
        methods: ["erm", "groupdro"],
        methodConfigs: { erm: other },
        log: () => {},
      }),
      /erm: its own config differs from the run's in "data"/,
    );
  });
});

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type DeepPartial, type RunConfig, resolveDefaults } from "../../src/config/index.js";
import { loadSafetensors } from "../../src/io/safetensors.js";
import { reportRun, runExperiment } from "../../src/run/index.js";
import { ResumeRefusedError } from "../../src/run/resume.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "mimmx-run-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tinyConfig(extra: DeepPartial<RunConfig> = {}): RunConfig {
  const base: DeepPartial<RunConfig> = {
    name: "tiny",
    seed: 1,
    data: {
      source: "fashion-confounded",
      spurions: [
        { name: "marker", kind: "patch", ratio: 0.9 },
        { name: "contrast", kind: "contrast", ratio: 0.9 },
      ],
      splits: { train: 256, validation: 96, test_inverted: 96, test_balanced: 96 },
    },
    model: { feature_dim: 4 },
    method: { name: "mimmx", n_mi: 1, estimator: { hidden: 8, layers: 1, negatives: 4 } },
    train: { epochs: 1, batch_size: 64, log_every: 1 },
    eval: {
      bootstrap: 10,
      probes: { max_iter: 30 },
      tsne: { max_points: 40, iterations: 60, perplexity: 5 },
      mi_audit: { steps: 20, hidden: 8, layers: 1, batch_size: 16 },
    },
  };
  return resolveDefaults({ ...base, ...extra }, "test");
}

describe("runExperiment", () => {
  it("trains ERM + MIMM-X end to end and writes every artefact", async () => {
    const dir = tmp();
    const r = await runExperiment(tinyConfig(), {
      outDir: dir,
      quiet: true,
      methods: ["erm", "mimmx"],
      log: () => {},
    });
    assert.equal(r.status, "completed");
    for (const f of [
      "config.yaml",
      "run.json",
      "splits.json",
      "splits.md",
      "summary.json",
      "report.html",
      "report.md",
      "report.json",
    ])
      assert.ok(existsSync(join(dir, f)), `missing ${f}`);
    for (const m of ["erm", "mimmx"])
      for (const f of ["last.safetensors", "metrics.jsonl", "train.json", "eval.json", "audit.json"])
        assert.ok(existsSync(join(dir, "methods", m, f)), `missing methods/${m}/${f}`);

    const s = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    assert.equal(s.methods.length, 2);
    assert.deepEqual(
      s.methods.map((m: { key: string }) => m.key),
      ["erm", "mimmx"],
    );
    for (const m of s.methods) {
      assert.equal(m.train.status, "completed");
      for (const split of ["validation", "test_inverted", "test_balanced"]) {
        const a = m.primary[split].accuracy;
        assert.ok(a >= 0 && a <= 1, `${m.key} ${split} accuracy ${a}`);
        assert.ok(m.primary[split].worstGroupAccuracy <= a + 1e-9);
      }
      // 2 spurions: f_y->z (2), f_z->y (2), f_zi->f_zj (2) switched probes; 3 audited part pairs
      // and f_y against each spurion's label.
      assert.equal(m.probes.length, 6);
      assert.deepEqual(
        m.miAudit.map((p: { pair: string }) => p.pair),
        [
          "f_y ; f_marker",
          "f_y ; f_contrast",
          "f_marker ; f_contrast",
          "f_y ; marker (label)",
          "f_y ; contrast (label)",
        ],
      );
      for (const p of m.miAudit) assert.ok(Number.isFinite(p.estimate) && p.low <= p.high);
      assert.ok(typeof m.verdict === "string");
    }
    assert.match(s.headline, /ERM/);
    const splits = JSON.parse(readFileSync(join(dir, "splits.json"), "utf8"));
    assert.deepEqual(
      splits.tasks.map((t: { name: string }) => t.name),
      ["y", "marker", "contrast"],
    );
    assert.equal(splits.counts.find((c: { split: string }) => c.split === "train").size, 256);
    assert.match(readFileSync(join(dir, "report.md"), "utf8"), /MIMM-X/);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    assert.match(html, /<svg/);

    // The report can be re-rendered from the folder alone.
    const again = await reportRun(dir);
    assert.equal(again.status, "completed");
  });

  it("an interrupted run resumed with resume=true ends with the same weights", async () => {
    const cfg = tinyConfig({
      train: { epochs: 2, batch_size: 32, log_every: 1 },
      eval: {
        probes: { enabled: false },
        tsne: { enabled: false },
        mi_audit: { enabled: false },
        bootstrap: 0,
      },
    } as DeepPartial<RunConfig>);
    const full = tmp();
    await runExperiment(cfg, { outDir: full, quiet: true, methods: ["mimmx"], log: () => {} });

    const cut = tmp();
    const ac = new AbortController();
    const metrics = join(cut, "methods", "mimmx", "metrics.jsonl");
    // Abort after a few steps; the loop yields to the event loop between batches, so this fires mid-epoch.
    const timer = setInterval(() => {
      if (existsSync(metrics) && readFileSync(metrics, "utf8").split("\n").length > 4) ac.abort();
    }, 2);
    const first = await runExperiment(cfg, {
      outDir: cut,
      quiet: true,
      methods: ["mimmx"],
      signal: ac.signal,
      log: () => {},
    });
    clearInterval(timer);
    assert.equal(first.status, "aborted");
    const second = await runExperiment(cfg, {
      outDir: cut,
      quiet: true,
      methods: ["mimmx"],
      resume: true,
      log: () => {},
    });
    assert.equal(second.status, "completed");

    const a = loadSafetensors(join(full, "methods", "mimmx", "last.safetensors")).tensors;
    const b = loadSafetensors(join(cut, "methods", "mimmx", "last.safetensors")).tensors;
    let compared = 0;
    for (const [k, t] of a) {
      if (!k.startsWith("model.")) continue;
      const u = b.get(k);
      assert.ok(u, `resumed checkpoint lacks ${k}`);
      assert.deepEqual(Array.from(u.dataSync() as Float32Array), Array.from(t.dataSync() as Float32Array), k);
      compared++;
    }
    assert.ok(compared > 4);
  });

  it("--resume refuses a missing folder and a changed config unless forced, naming the keys", async () => {
    const cfg = tinyConfig({
      train: { epochs: 1, batch_size: 64, log_every: 1 },
      eval: { probes: { enabled: false }, tsne: { enabled: false }, mi_audit: { enabled: false } },
    } as DeepPartial<RunConfig>);
    const quiet = { quiet: true, methods: ["mimmx" as const], log: () => {} };
    await assert.rejects(
      runExperiment(cfg, { ...quiet, outDir: join(tmp(), "nope"), resume: true }),
      (e: Error) => e instanceof ResumeRefusedError && /--resume: .*nope does not exist/.test(e.message),
    );
    const empty = tmp();
    await assert.rejects(
      runExperiment(cfg, { ...quiet, outDir: empty, resume: true }),
      /is not a run folder \(no config\.yaml\)/,
    );
    // A run stopped at its first step (the signal is already aborted).
    const dir = tmp();
    const stopped = await runExperiment(cfg, { ...quiet, outDir: dir, signal: AbortSignal.abort() });
    assert.equal(stopped.status, "aborted");
    const original = readFileSync(join(dir, "config.yaml"), "utf8");
    const changed = tinyConfig({
      seed: 2,
      train: { epochs: 2, batch_size: 64, log_every: 1, lr: 0.01 },
      eval: { probes: { enabled: false }, tsne: { enabled: false }, mi_audit: { enabled: false } },
    } as DeepPartial<RunConfig>);
    await assert.rejects(runExperiment(changed, { ...quiet, outDir: dir, resume: true }), (e: Error) => {
      assert.match(e.message, /seed: 1 -> 2/);
      assert.match(e.message, /train\.epochs: 1 -> 2/);
      assert.match(e.message, /train\.lr: 0\.001 -> 0\.01/);
      assert.match(e.message, /--force/);
      return true;
    });
    assert.equal(readFileSync(join(dir, "config.yaml"), "utf8"), original, "config.yaml was overwritten");
    // --force continues under the new config and keeps the old one beside it.
    const log: string[] = [];
    const forced = await runExperiment(changed, {
      ...quiet,
      outDir: dir,
      resume: true,
      force: true,
      signal: AbortSignal.abort(),
      log: (m) => log.push(m),
    });
    assert.equal(forced.status, "aborted");
    assert.equal(readFileSync(join(dir, "config.previous-1.yaml"), "utf8"), original);
    assert.match(readFileSync(join(dir, "config.yaml"), "utf8"), /^seed: 2$/m);
    assert.match(log.join("\n"), /--force: resuming under a changed config \(seed: 1 -> 2/);
    // The unchanged config resumes without a word; a hand-edited folder is compared key by key.
    writeFileSync(join(dir, "config.yaml"), original.replace(/^name: tiny$/m, "name: renamed"));
    await assert.rejects(
      runExperiment(changed, { ...quiet, outDir: dir, resume: true }),
      /name: "renamed" -> "tiny"/,
    );
  });
});

// The peers' run-level stages: JTT's identification model and fresh second stage, DFR's last-layer
// refit on the held-out part of validation only, and `mimmx train --compare` with all of them.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { run } from "../../src/cli/main.js";
import { type DeepPartial, type RunConfig, resolveDefaults } from "../../src/config/index.js";
import { infer } from "../../src/eval/driver.js";
import { loadCheckpoint } from "../../src/io/checkpoint.js";
import { Dfr, errorSet, fitDfrHead, Jtt } from "../../src/methods/index.js";
import {
  buildMethod,
  dfrFitSeed,
  dfrSplitOf,
  prepareData,
  refitInputsOf,
  stagePeer,
  subsetOf,
  taskLabelsOf,
} from "../../src/run/index.js";
import * as torch from "../../src/tensor/index.js";

torch.setNumThreads(1);
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "mimmx-peers-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const BASE: DeepPartial<RunConfig> = {
  name: "peers",
  seed: 2,
  data: {
    source: "fashion-confounded",
    spurions: [
      { name: "marker", kind: "patch", ratio: 0.8 },
      { name: "block", kind: "block", ratio: 0.8 },
    ],
    splits: { train: 320, validation: 128, test_inverted: 64, test_balanced: 64 },
  },
  model: { feature_dim: 4 },
  method: { name: "erm", jtt: { first_epochs: 1, upweight: 7 }, dfr: { subsamples: 2, c_grid: [1, 0.1] } },
  train: { epochs: 1, batch_size: 16, log_every: 1 },
  eval: {
    bootstrap: 0,
    probes: { max_iter: 20 },
    tsne: { max_points: 20, iterations: 50, perplexity: 5 },
    mi_audit: { enabled: false },
  },
};

function snapshot(m: { stateModule: { stateDict(): Map<string, torch.Tensor> } }): Map<string, number[]> {
  return new Map([...m.stateModule.stateDict()].map(([k, v]) => [k, v.toArray()]));
}

describe("peer stages", () => {
  const config = resolveDefaults(BASE, "test");
  const quiet = () => {};

  it("JTT: stage 1 finds the identification model's errors; stage 2 keeps its fresh weights", async () => {
    const data = await prepareData(config);
    const dir = tmp();
    torch.manualSeed(config.seed);
    const jtt = buildMethod(config, data.tasks, "jtt");
    assert.ok(jtt instanceof Jtt);
    const fresh = snapshot(jtt);
    const stage = await stagePeer({
      config,
      method: jtt,
      tasks: data.tasks,
      trainSet: data.splits.train,
      validation: data.splits.validation,
      dir,
      label: "jtt",
      progressMode: "quiet",
      log: quiet,
    });
    assert.equal(stage.trainSet, data.splits.train);
    // stage 2 starts from the weights it was built with, not the identification model's
    assert.deepEqual(snapshot(jtt), fresh);
    torch.manualSeed(0);
    const identify = buildMethod(config, data.tasks, "erm");
    loadCheckpoint(join(dir, "identify", "last.safetensors"), { model: identify.stateModule });
    const trained = snapshot(identify);
    const encoderKey = [...trained.keys()].find((k) => k.includes("encoder")) as string;
    assert.notDeepEqual(trained.get(encoderKey), fresh.get(encoderKey));
    // the error set is exactly what the identification model gets wrong on the training split
    const out = infer(identify, data.splits.train);
    const expected = errorSet(out.logits[0], 2, data.splits.train.labels[data.tasks[0].name]);
    assert.ok(expected.length > 0 && expected.length < data.splits.train.length, `${expected.length} errors`);
    assert.deepEqual(jtt.getState(), { errorSet: [...expected], numRows: data.splits.train.length });
    assert.equal(stage.record.error_set, expected.length);
  });

  for (const name of ["reweight", "groupdro"] as const)
    it(`${name}: the sampler stage hands the batch source row weights that balance every (y, z_i) cell; the loss stage none`, async () => {
      const data = await prepareData(config);
      const train = data.splits.train;
      const stageOf = async (balance_by: "sampler" | "loss") => {
        const c = resolveDefaults({ ...BASE, method: { ...BASE.method, balance_by } }, "test");
        const m = buildMethod(c, data.tasks, name);
        const stage = await stagePeer({
          config: c,
          method: m,
          tasks: data.tasks,
          trainSet: train,
          validation: data.splits.validation,
          dir: tmp(),
          label: name,
          log: quiet,
        });
        return stage;
      };
      const loss = await stageOf("loss");
      assert.equal(loss.sampleWeights, undefined);
      if (name === "reweight") assert.equal(loss.record.balance_by, "loss");
      const sampled = await stageOf("sampler");
      const w = sampled.sampleWeights as Float64Array;
      assert.equal(w.length, train.length);
      assert.equal(sampled.record.balance_by, "sampler");
      // every (y, z_i) cell carries the same total weight: the sampler draws each as often
      const y = train.labels[data.tasks[0].name];
      for (const t of data.tasks.slice(1)) {
        const z = train.labels[t.name];
        const totals = new Map<string, number>();
        for (let r = 0; r < train.length; r++)
          totals.set(`${y[r]},${z[r]}`, (totals.get(`${y[r]},${z[r]}`) ?? 0) + w[r]);
        const v = [...totals.values()];
        assert.equal(v.length, 4, `${t.name}: ${[...totals.keys()]}`);
        for (const x of v) assert.ok(Math.abs(x - v[0]) < 1e-6 * v[0], `${t.name}: ${v}`);
      }
    });

  for (const features of ["last_layer", "embedding"] as const)
    it(`DFR (${features}): ERM selects on the selection part; only the refitted layers change, to the fit on the held-out part`, async () => {
      const cfg = resolveDefaults(
        { ...BASE, method: { ...BASE.method, dfr: { ...BASE.method?.dfr, features } } },
        "test",
      );
      const data = await prepareData(cfg);
      const dir = tmp();
      torch.manualSeed(cfg.seed);
      const dfr = buildMethod(cfg, data.tasks, "dfr");
      assert.ok(dfr instanceof Dfr);
      assert.equal(dfr.refitOn, features);
      const validation = data.splits.validation;
      const stage = await stagePeer({
        config: cfg,
        method: dfr,
        tasks: data.tasks,
        trainSet: data.splits.train,
        validation,
        dir,
        label: "dfr",
        log: quiet,
      });
      const split = dfrSplitOf(cfg, dfr, validation);
      assert.equal(split.holdout.length + split.selection.length, validation.length);
      assert.equal(new Set([...split.holdout, ...split.selection]).size, validation.length);
      // the training loop validates on the selection part only
      assert.equal(stage.validation.length, split.selection.length);
      assert.deepEqual(
        stage.validation.labels.y,
        Int32Array.from(split.selection, (r) => validation.labels.y[r]),
      );
      // a few ERM steps, then the refit
      for (let s = 0; s < 3; s++)
        torch.tidy(() =>
          dfr.update({
            x: torch.tensor(data.splits.train.images.subarray(0, 16 * 784), { shape: [16, 1, 28, 28] }),
            y: torch.tensor(data.splits.train.labels.y.subarray(0, 16), { dtype: "int64" }),
            z: [],
          }),
        );
      // the refit's inputs, taken before the refit rewrites anything
      const holdout = subsetOf(validation, split.holdout, "h");
      const selection = subsetOf(validation, split.selection, "s");
      const h = refitInputsOf(dfr, holdout);
      const s = refitInputsOf(dfr, selection);
      assert.equal(h.d, features === "embedding" ? 256 : 4, "the small CNN's embedding, or f_y (k = 4)");
      const before = snapshot(dfr);
      const record = stage.finish?.(dfr) as { dfr: { c: number; subset_rows: number } };
      const refitted = (k: string) =>
        k.startsWith("model.heads.0.") || (features === "embedding" && k.startsWith("model.encoder.out."));
      for (const [k, v] of snapshot(dfr)) {
        const changed = JSON.stringify(v) !== JSON.stringify(before.get(k));
        if (!refitted(k)) assert.equal(changed, false, `${k} changed`);
      }
      // the model is exactly the fit on balanced subsets of the held-out rows, C chosen on the selection rows
      const fit = fitDfrHead(
        { x: h.x, labels: taskLabelsOf(holdout, dfr.tasks) },
        { x: s.x, labels: taskLabelsOf(selection, dfr.tasks) },
        h.d,
        [2, 2, 2],
        { ...dfr.groupOptions, subsamples: 2, cGrid: [1, 0.1], seed: dfrFitSeed(cfg) },
      );
      assert.equal(record.dfr.c, fit.c);
      assert.equal(record.dfr.subset_rows, fit.subsets[0].length);
      // logit(class 1) - logit(class 0) of the refitted model = the fit's score, row by row
      const out = infer(dfr, selection);
      for (let r = 0; r < selection.length; r++) {
        let score = fit.fit.bias[0];
        for (let f = 0; f < h.d; f++) score += fit.fit.weight[f] * s.x[r * h.d + f];
        const got = out.logits[0][2 * r + 1] - out.logits[0][2 * r];
        assert.ok(
          Math.abs(got - score) < 1e-3 * Math.max(1, Math.abs(score)),
          `row ${r}: ${got} vs ${score}`,
        );
      }
      // balanced subsets of the held-out part: every (y, z_i) cell of each subset the same size
      for (const rows of fit.subsets) {
        assert.ok(rows.every((r) => r < holdout.length));
      }
      assert.ok(existsSync(join(dir, "final.safetensors")));
    });
});

describe("mimmx train --compare erm,subsample,reweight,dfr,jtt", () => {
  it("trains, evaluates and reports every peer", async () => {
    const dir = tmp();
    const yaml = join(dir, "run.yaml");
    writeFileSync(yaml, stringify({ ...BASE, output_dir: join(dir, "run") }));
    const write = process.stderr.write.bind(process.stderr);
    const said: string[] = [];
    process.stderr.write = ((s: string) => said.push(String(s)) > 0) as typeof process.stderr.write;
    const log = console.log;
    const error = console.error;
    console.log = () => {};
    console.error = (...a: unknown[]) => said.push(a.join(" "));
    let code: number;
    try {
      code = await run([
        "train",
        "--config",
        yaml,
        "--compare",
        "erm,subsample,reweight,dfr,jtt",
        "--max-steps",
        "3",
        "--quiet",
      ]);
    } finally {
      process.stderr.write = write;
      console.log = log;
      console.error = error;
    }
    assert.equal(code, 0, said.join("\n"));
    const runDir = join(dir, "run");
    const trainJson = (m: string) =>
      JSON.parse(readFileSync(join(runDir, "methods", m, "train.json"), "utf8"));
    const sub = trainJson("subsample");
    assert.ok(sub.subset_rows > 0 && sub.subset_rows < sub.train_rows, JSON.stringify(sub));
    assert.ok(trainJson("reweight").max_weight > 1);
    assert.equal(trainJson("reweight").balance_by, "sampler");
    const jtt = trainJson("jtt");
    assert.equal(jtt.upweight, 7);
    assert.equal(
      JSON.parse(readFileSync(join(runDir, "methods", "jtt", "jtt-error-set.json"), "utf8")).rows.length,
      jtt.error_set,
    );
    const dfr = trainJson("dfr");
    assert.equal(dfr.dfr.holdout_rows + dfr.dfr.selection_rows, 128);
    assert.ok(existsSync(join(runDir, "methods", "dfr", "final.safetensors")));
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
    const text = JSON.stringify(summary);
    for (const m of ["subsample", "reweight", "dfr", "jtt"]) assert.ok(text.includes(`"${m}"`), m);
  });
});

// The model optimiser of every method comes from its config (optimizer, schedule, gradient
// clipping); the loop steps schedules once per epoch, logs lr and gradient norm, and resumes them
// exactly.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type CommonConfig, createMethod, type Method, type MethodConfig } from "../../src/methods/index.js";
import { Adam, AdamW, SGD } from "../../src/optim/index.js";
import * as torch from "../../src/tensor/index.js";
import { arraySource, train } from "../../src/train/index.js";
import {
  asBatch,
  mimmOptions,
  mimmxOptions,
  shortcutDataset,
  TASK_NAMES,
  TASKS,
} from "../methods/helpers.js";

torch.setNumThreads(1);

const ds = shortcutDataset(64, 5);
const source = arraySource(ds, { batchSize: 16, tasks: TASK_NAMES, seed: 3 });
const tmp = () => mkdtempSync(join(tmpdir(), "mimmx-sched-"));

const base: CommonConfig = { tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2 };

function method(extra: Partial<MethodConfig>, name: MethodConfig["method"] = "erm"): Method {
  torch.manualSeed(11);
  return createMethod({ ...base, method: name, ...extra } as MethodConfig);
}

function weights(m: Method): number[][] {
  return [...m.stateModule.stateDict().values()].map((t) => t.toArray());
}

function epochRecords(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === "epoch");
}

describe("configured model optimiser", () => {
  it("every method builds its model optimiser from the config; critics keep their own Adam", () => {
    const sgd = { optimizer: { name: "sgd" as const, momentum: 0.8 }, lr: 0.05, weightDecay: 1e-4 };
    for (const name of ["erm", "mtl", "mimm", "mimmx", "adversarial", "groupdro"] as const) {
      const own = name === "mimmx" ? mimmxOptions() : name === "mimm" ? mimmOptions() : {};
      const m = method({ ...sgd, scheduler: { name: "step", stepSize: 1 }, ...own }, name);
      const opt = m.optimizers.model;
      assert.ok(opt instanceof SGD, `${name}: model optimiser is ${opt.constructor.name}`);
      assert.equal(opt.paramGroups[0].lr, 0.05);
      assert.equal(opt.paramGroups[0].momentum, 0.8);
      assert.equal(opt.paramGroups[0].weightDecay, 1e-4);
      assert.deepEqual(Object.keys(m.schedulers ?? {}), ["model"], name);
      if (m.optimizers.critics) {
        assert.ok(m.optimizers.critics instanceof Adam, `${name}: critics`);
        assert.ok(!(m.optimizers.critics instanceof SGD));
      }
    }
    // The adversaries train with the model optimiser (one descent through gradient reversal).
    const adv = method({ optimizer: { name: "adamw" } }, "adversarial");
    assert.ok(adv.optimizers.model instanceof AdamW);
    const n = adv.optimizers.model.paramGroups[0].params.length;
    assert.ok(n > adv.model.parameters().length, "adversary parameters are in the model optimiser");
    // Without a config: Adam, as before.
    assert.ok(method({}).optimizers.model instanceof Adam);
    assert.deepEqual(method({}).schedulers, {});
  });

  it("grad clipping: one SGD step of lr 1 moves the parameters by exactly max_norm", () => {
    const m = method({ optimizer: { name: "sgd", momentum: 0 }, lr: 1, gradClip: 1e-3 });
    const params = m.optimizers.model.paramGroups.flatMap((g) => g.params);
    const before = params.map((p) => p.toArray());
    m.update(asBatch(ds));
    const total = m.optimizers.model.lastGradNorm;
    assert.ok(total !== null && total > 1e-3, `gradient norm ${total} should exceed the clip`);
    // x -= lr * g * max / (total + 1e-6): the step's norm is max * total / (total + 1e-6).
    const moved = Math.sqrt(
      params.reduce((s, p, i) => s + p.toArray().reduce((a, v, j) => a + (v - before[i][j]) ** 2, 0), 0),
    );
    assert.ok(Math.abs(moved - (1e-3 * total) / (total + 1e-6)) < 1e-8, `moved ${moved}`);
  });
});

describe("schedules in the training loop", () => {
  const cfg: Partial<MethodConfig> = {
    optimizer: { name: "sgd", momentum: 0.9 },
    lr: 0.1,
    scheduler: { name: "step", stepSize: 1, gamma: 0.5 },
    gradClip: 5,
  };

  it("StepLR halves the lr every epoch; lr and gradient norm are logged", async () => {
    const dir = tmp();
    const m = method(cfg);
    await train({ method: m, data: source, epochs: 3, seed: 1, outDir: dir });
    assert.equal(m.optimizers.model.paramGroups[0].lr, 0.1 * 0.5 ** 3);
    assert.deepEqual(
      epochRecords(dir).map((r) => r["lr/model"]),
      [0.1, 0.05, 0.025],
    );
    const steps = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === "step");
    assert.equal(steps.length, 12);
    for (const s of steps) assert.ok(s["grad_norm/model"] > 0, JSON.stringify(s));
  });

  it("cosine schedule after 3 epochs, and the same after 2 epochs + resume + 1 epoch", async () => {
    const cos: Partial<MethodConfig> = { ...cfg, scheduler: { name: "cosine", tMax: 4, etaMin: 0.01 } };
    const straight = method(cos);
    await train({ method: straight, data: source, epochs: 3, seed: 2, outDir: tmp() });
    const want = 0.01 + ((0.1 - 0.01) * (1 + Math.cos((Math.PI * 3) / 4))) / 2;
    assert.ok(Math.abs(straight.optimizers.model.paramGroups[0].lr - want) < 1e-15);

    const dir = tmp();
    await train({ method: method(cos), data: source, epochs: 2, seed: 2, outDir: dir });
    const resumed = method(cos);
    // A fresh schedule starts at the base lr; the checkpoint must put it at epoch 2.
    assert.equal(resumed.optimizers.model.paramGroups[0].lr, 0.1);
    await train({
      method: resumed,
      data: source,
      epochs: 3,
      seed: 2,
      outDir: dir,
      resumeFrom: join(dir, "last.safetensors"),
    });
    assert.equal(resumed.optimizers.model.paramGroups[0].lr, straight.optimizers.model.paramGroups[0].lr);
    assert.deepEqual(resumed.schedulers?.model.stateDict(), straight.schedulers?.model.stateDict());
    assert.deepEqual(weights(resumed), weights(straight));
    const lrs = epochRecords(dir).map((r) => r["lr/model"]);
    assert.equal(lrs.length, 3);
    assert.ok(Math.abs(lrs[2] - (0.01 + ((0.1 - 0.01) * (1 + Math.cos((Math.PI * 2) / 4))) / 2)) < 1e-15);
  });

  it("MIMM-X: the schedule drives the model optimiser only; the critics' lr stays", async () => {
    const m = method({ ...cfg, ...mimmxOptions({ nMI: 1, criticLr: 2e-3 }) }, "mimmx");
    await train({ method: m, data: source, epochs: 2, seed: 4 });
    assert.equal(m.optimizers.model.paramGroups[0].lr, 0.025);
    assert.equal(m.optimizers.critics.paramGroups[0].lr, 2e-3);
  });
});

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type Batch, createMethod, type Method } from "../../src/methods/index.js";
import * as torch from "../../src/tensor/index.js";
import { arraySource, type BatchSource, train } from "../../src/train/index.js";
import { mimmxOptions, shortcutDataset, TASK_NAMES, TASKS } from "../methods/helpers.js";

torch.setNumThreads(1);

const ds = shortcutDataset(64, 5);
const source = arraySource(ds, { batchSize: 16, tasks: TASK_NAMES, seed: 7 });

/** A fresh MIMM-X (the method with the most state: two optimisers, EMAs, GradNorm, attention). */
function freshMethod(): Method {
  torch.manualSeed(123);
  return createMethod({
    method: "mimmx",
    tasks: TASKS,
    encoder: { name: "small-cnn" },
    partSize: 2,
    ...mimmxOptions({ nMI: 2 }),
  });
}

function weights(m: Method): Map<string, number[]> {
  return new Map([...m.stateModule.stateDict()].map(([k, v]) => [k, v.toArray()]));
}

function assertSameWeights(a: Method, b: Method): void {
  const wa = weights(a);
  const wb = weights(b);
  assert.deepEqual([...wa.keys()], [...wb.keys()]);
  for (const [k, v] of wa) assert.deepEqual(wb.get(k), v, `tensor ${k} differs`);
  assert.deepEqual(JSON.stringify(a.getState()), JSON.stringify(b.getState()));
}

const tmp = () => mkdtempSync(join(tmpdir(), "mimmx-train-"));

describe("training loop", () => {
  it("2 epochs straight = 1 epoch + resume + 1 epoch (identical weights and state)", async () => {
    const straight = freshMethod();
    const r1 = await train({ method: straight, data: source, epochs: 2, seed: 1, outDir: tmp() });
    assert.equal(r1.status, "completed");
    assert.equal(r1.globalStep, 8);

    const dir = tmp();
    const firstHalf = freshMethod();
    await train({ method: firstHalf, data: source, epochs: 1, seed: 1, outDir: dir });
    const resumed = freshMethod();
    const r2 = await train({
      method: resumed,
      data: source,
      epochs: 2,
      seed: 1,
      outDir: dir,
      resumeFrom: join(dir, "last.safetensors"),
    });
    assert.equal(r2.globalStep, 8);
    assertSameWeights(straight, resumed);
  });

  it("an abort mid-epoch saves a checkpoint and resuming continues identically", async () => {
    const straight = freshMethod();
    await train({ method: straight, data: source, epochs: 2, seed: 2 });

    const dir = tmp();
    const ctl = new AbortController();
    const first = freshMethod();
    const r = await train({
      method: first,
      data: source,
      epochs: 2,
      seed: 2,
      outDir: dir,
      signal: ctl.signal,
      onProgress: (e) => {
        if (e.globalStep === 5) ctl.abort();
      },
    });
    assert.equal(r.status, "aborted");
    assert.equal(r.globalStep, 6);
    const resumed = freshMethod();
    await train({
      method: resumed,
      data: source,
      epochs: 2,
      seed: 2,
      outDir: dir,
      resumeFrom: join(dir, "last.safetensors"),
    });
    assertSameWeights(straight, resumed);
  });

  it("evaluation each epoch, best checkpoint, early stopping, metrics JSONL", async () => {
    const dir = tmp();
    const scores = [0.5, 0.7, 0.6, 0.65, 0.6];
    const r = await train({
      method: freshMethod(),
      data: source,
      epochs: 5,
      outDir: dir,
      evaluate: (_m, epoch) => ({ "val/acc": scores[epoch] }),
      criterion: { metric: "val/acc", mode: "max" },
      patience: 2,
    });
    assert.equal(r.status, "early-stopped");
    assert.deepEqual(r.best, { epoch: 1, value: 0.7 });
    assert.equal(r.epochs, 4);
    assert.ok(existsSync(join(dir, "best.safetensors")));
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.type === "step").length, 16);
    assert.equal(lines.filter((l) => l.type === "epoch").length, 4);
    assert.ok(Number.isFinite(lines[0]["mi/y;z0"]));
  });

  it("NaN/Inf stops the run naming the loss term and keeps the last good checkpoint", async () => {
    const dir = tmp();
    // Epoch 1 serves images with NaN: the primary cross-entropy is the first term to go bad.
    const poisoned: BatchSource = function* (epoch) {
      for (const make of source(epoch) as Iterable<() => Batch>) {
        yield epoch === 1 ? () => ({ ...make(), x: torch.full([16, 1, 28, 28], Number.NaN) }) : make;
      }
    };
    const method = createMethod({ method: "erm", tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2 });
    const r = await train({ method, data: poisoned, epochs: 3, outDir: dir });
    assert.equal(r.status, "non-finite");
    assert.equal(r.nonFiniteTerm, "ce/y");
    assert.equal(r.epochs, 1);
    assert.ok(r.lastCheckpoint);
    // The weights in memory were never stepped with NaN, and equal the checkpoint's.
    const reloaded = createMethod({
      method: "erm",
      tasks: TASKS,
      encoder: { name: "small-cnn" },
      partSize: 2,
    });
    await train({ method: reloaded, data: source, epochs: 1, resumeFrom: r.lastCheckpoint });
    assertSameWeights(method, reloaded);
    for (const v of weights(method).values()) assert.ok(v.every(Number.isFinite));
  });
});

// model.dropout: dropout on each head's input part (the feature vector) in training mode only.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMethod } from "../../src/methods/index.js";
import { Heads } from "../../src/models/heads.js";
import { Module } from "../../src/nn/module.js";
import * as torch from "../../src/tensor/index.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { asBatch, shortcutDataset, TASKS } from "../methods/helpers.js";

/** A head that records what it is given and passes it through. */
class Recorder extends Module {
  seen: number[] = [];
  forward(x: Tensor): Tensor {
    this.seen = x.toArray();
    return x;
  }
}

describe("dropout before the heads", () => {
  it("zeroes about p of the features in training, scales the rest by 1/(1-p), none in eval", () => {
    torch.manualSeed(5);
    const p = 0.3;
    const heads = new Heads(TASKS, 64, { dropout: p });
    const rec = new Recorder();
    heads.items[1] = rec;
    const x = torch.ones([32, 64]); // 2048 features
    heads.train();
    heads.head(1, x);
    const zeros = rec.seen.filter((v) => v === 0).length / rec.seen.length;
    // Binomial(2048, 0.3): sd ~ 0.010; 5 sd.
    assert.ok(Math.abs(zeros - p) < 0.05, `fraction dropped ${zeros}`);
    for (const v of rec.seen) if (v !== 0) assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-6, `kept value ${v}`);
    heads.eval();
    heads.head(1, x);
    assert.ok(
      rec.seen.every((v) => v === 1),
      "eval passes the features unchanged",
    );
    assert.throws(() => new Heads(TASKS, 4, { dropout: 1 }), /dropout must be in \[0, 1\)/);
  });

  it("a method with dropout: training logits vary with the draw, predictions do not", () => {
    torch.manualSeed(1);
    const m = createMethod({
      method: "erm",
      tasks: TASKS,
      encoder: { name: "small-cnn" },
      partSize: 16,
      head: { dropout: 0.5 },
    });
    torch.manualSeed(2);
    const ds = shortcutDataset(8, 1);
    const x = asBatch(ds).x;
    const a = m.predict(x)[0].toArray();
    const b = m.predict(x)[0].toArray();
    assert.deepEqual(a, b);
    m.model.train();
    const f = torch.noGrad(() => m.model.forward(x));
    m.model.eval();
    const parts = m.model.split(f);
    const evalLogits = torch.noGrad(() => m.model.heads.head(0, parts[0])).toArray();
    m.model.train();
    const t1 = torch.noGrad(() => m.model.heads.head(0, parts[0])).toArray();
    const t2 = torch.noGrad(() => m.model.heads.head(0, parts[0])).toArray();
    assert.notDeepEqual(t1, evalLogits);
    assert.notDeepEqual(t1, t2);
  });
});

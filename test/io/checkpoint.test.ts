// Training checkpoints (src/io/checkpoint.ts): model + optimizer state + JSON training state in one
// .safetensors file; loading it into fresh objects gives a bit-identical continuation of training.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/checkpoint.js";
import { loadSafetensors } from "../../src/io/safetensors.js";
import * as nn from "../../src/nn/index.js";
import { Adam, type Optimizer, SGD } from "../../src/optim/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertThrowsWith } from "../helpers/assert.js";

const dir = mkdtempSync(join(tmpdir(), "mimmx-checkpoint-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function makeModel(seed: number): nn.Sequential {
  torch.manualSeed(seed);
  return new nn.Sequential(new nn.Linear(5, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 3));
}

torch.manualSeed(42);
const X = torch.randn([6, 5]).keep();
const Y = torch.tensor([0, 1, 2, 1, 0, 2], { dtype: "int64" }).keep();

/** One step: the body with its own optimizer (Adam) and a second one (SGD, nesterov) on the head only. */
function train(model: nn.Sequential, opts: Optimizer[], steps: number): number[] {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(
      torch.tidy(() => {
        for (const o of opts) o.zeroGrad();
        const loss = nn.F.crossEntropy(model.forward(X), Y);
        loss.backward();
        for (const o of opts) o.step();
        return loss.item();
      }),
    );
  }
  return losses;
}

function makeOptimizers(model: nn.Sequential): Record<string, Optimizer> {
  const params = [...model.namedParameters()];
  const body = params.filter(([k]) => !k.startsWith("3.")).map(([, p]) => p);
  const head = params.filter(([k]) => k.startsWith("3.")).map(([, p]) => p);
  return {
    body: new Adam(
      [
        { params: body.slice(0, 2), lr: 0.01 },
        { params: body.slice(2), lr: 0.02 },
      ],
      { weightDecay: 0.01 },
    ),
    head: new SGD(head, { lr: 0.1, momentum: 0.9, nesterov: true }),
  };
}

describe("checkpoint", () => {
  it("save at step 3, load into fresh objects: the next 3 steps are identical", () => {
    const path = join(dir, "run.safetensors");
    const a = makeModel(1);
    const optsA = makeOptimizers(a);
    train(a, Object.values(optsA), 3);
    saveCheckpoint(path, { model: a, optimizers: optsA, state: { epoch: 3, best: 0.25, history: [1, 2] } });
    const lossesA = train(a, Object.values(optsA), 3);

    const b = makeModel(2); // different initial weights: everything must come from the file
    const optsB = makeOptimizers(b);
    const state = loadCheckpoint(path, { model: b, optimizers: optsB });
    assert.deepEqual(state, { epoch: 3, best: 0.25, history: [1, 2] });
    const lossesB = train(b, Object.values(optsB), 3);
    assert.deepEqual(lossesB, lossesA);
    for (const [k, v] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toArray(), v.toArray(), k);
    // the loaded optimizer state is a copy: the file's tensors were freed, training went on
    assert.equal(optsB.body.stateDict().state[0].step, 6);
    assert.equal(optsB.head.paramGroups[0].nesterov, true);
  });
  it("without the optimizer state the continuation differs (the test above is sharp)", () => {
    const path = join(dir, "run2.safetensors");
    const a = makeModel(1);
    const optsA = makeOptimizers(a);
    train(a, Object.values(optsA), 3);
    saveCheckpoint(path, { model: a, optimizers: optsA });
    const lossesA = train(a, Object.values(optsA), 3);
    const b = makeModel(2);
    loadCheckpoint(path, { model: b });
    const lossesB = train(b, Object.values(makeOptimizers(b)), 3);
    assert.equal(lossesB[0], lossesA[0], "same weights give the same first loss");
    assert.notDeepEqual(lossesB, lossesA);
  });
  it("the file is a plain safetensors file with PyTorch-style keys and JSON metadata", () => {
    const path = join(dir, "keys.safetensors");
    const m = makeModel(3);
    const opts = makeOptimizers(m);
    train(m, Object.values(opts), 1);
    saveCheckpoint(path, { model: m, optimizers: opts, state: { epoch: 1 } });
    const { tensors, metadata } = loadSafetensors(path);
    const keys = [...tensors.keys()];
    for (const k of [
      "model.0.weight",
      "model.1.running_mean",
      "model.1.num_batches_tracked",
      "model.3.bias",
      "optim.body.0.exp_avg",
      "optim.body.0.exp_avg_sq",
      "optim.head.0.momentum_buffer",
    ]) {
      assert.ok(keys.includes(k), `missing ${k} in ${keys.join(", ")}`);
    }
    assert.equal(tensors.get("model.1.num_batches_tracked")!.item(), 1);
    assert.equal(metadata.format, "mimmx-checkpoint-1");
    assert.deepEqual(JSON.parse(metadata.state), { epoch: 1 });
    const optim = JSON.parse(metadata.optimizers);
    assert.deepEqual(
      optim.body.groups.map((g: { lr: number }) => g.lr),
      [0.01, 0.02],
    );
  });
  it("errors name the path (missing optimizer) or the key and shapes (another architecture)", () => {
    const path = join(dir, "small.safetensors");
    const m = makeModel(4);
    saveCheckpoint(path, { model: m });
    assertThrowsWith(
      () => loadCheckpoint(path, { model: makeModel(4), optimizers: makeOptimizers(makeModel(4)) }),
      ["small.safetensors", 'optimizer "body"'],
    );
    const other = new nn.Sequential(
      new nn.Linear(5, 9),
      new nn.BatchNorm1d(9),
      new nn.ReLU(),
      new nn.Linear(9, 3),
    );
    assertThrowsWith(() => loadCheckpoint(path, { model: other }), ["0.weight", "[9, 5]", "[8, 5]"]);
  });
});

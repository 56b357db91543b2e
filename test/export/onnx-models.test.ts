// exportOnnx of encoder + heads, checked against mimmx's own eval-mode predictions in onnxruntime-node.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exportOnnx } from "../../src/export/index.js";
import { buildEncoder, type EncoderConfig, PartitionedModel, type TaskSpec } from "../../src/models/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertMatches, openSession, runSession, tempDir } from "./ort-helpers.js";

torch.setNumThreads(1);

const TASKS: TaskSpec[] = [
  { name: "y", numClasses: 2 },
  { name: "z0", numClasses: 3 },
  { name: "z1", numClasses: 2 },
];

interface Case {
  title: string;
  encoder: EncoderConfig;
  tasks: TaskSpec[];
  inputShape: number[];
  hidden?: number;
  opset?: number;
  /** training-mode forward passes before export, so BatchNorm running stats are not the defaults */
  warmup?: number;
}

const CASES: Case[] = [
  {
    title: "small-cnn, 3 tasks (y, z0, z1)",
    encoder: { name: "small-cnn", numParts: 3, partSize: 4 },
    tasks: TASKS,
    inputShape: [1, 28, 28],
  },
  {
    title: "small-cnn, MLP heads, 2 input channels, opset 13",
    encoder: { name: "small-cnn", numParts: 3, partSize: 4, inChannels: 2 },
    tasks: TASKS,
    inputShape: [2, 28, 28],
    hidden: 6,
    opset: 13,
  },
  {
    title: "tiny resnet18 (7x7/2 stem + max-pool, projected and identity shortcuts)",
    encoder: { name: "resnet18", numParts: 2, partSize: 3, widths: [4, 8], blocks: [2, 1] },
    tasks: TASKS.slice(0, 2),
    inputShape: [1, 32, 32],
  },
  {
    title: "tiny resnet18, small-input stem, trained BatchNorm statistics",
    encoder: { name: "resnet18", numParts: 3, partSize: 2, widths: [4, 8], blocks: [1, 1], smallInput: true },
    tasks: TASKS,
    inputShape: [3, 12, 12],
    warmup: 4,
  },
  {
    title: "tiny densenet121 (concatenations, transitions), trained BatchNorm statistics",
    encoder: {
      name: "densenet121",
      numParts: 3,
      partSize: 2,
      growthRate: 4,
      blockConfig: [2, 2],
      initFeatures: 8,
      bnSize: 2,
    },
    tasks: TASKS,
    inputShape: [3, 32, 32],
    warmup: 3,
  },
  {
    title: "tiny cnn3d, trained BatchNorm statistics",
    encoder: { name: "cnn3d", numParts: 3, partSize: 2, channels: [2, 4], hidden: 8 },
    tasks: TASKS,
    inputShape: [1, 8, 8, 8],
    warmup: 3,
  },
];

describe("exportOnnx: encoder + heads in onnxruntime-node", () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());

  CASES.forEach((c, ci) => {
    it(`${c.title} matches mimmx within 1e-4 at batch 1 and 5`, async () => {
      torch.manualSeed(100 + ci);
      const encCfg = { ...c.encoder, inChannels: c.inputShape[0] } as EncoderConfig;
      const model = new PartitionedModel(buildEncoder(encCfg), c.tasks, { hidden: c.hidden ?? 0 });
      if (c.warmup) {
        // Training-mode passes on shifted, scaled inputs move every running mean/var far from 0/1.
        model.train();
        for (let i = 0; i < c.warmup; i++) {
          torch.tidy(() => {
            torch.noGrad(() =>
              model.forward(
                torch
                  .randn([4, ...c.inputShape])
                  .mul(3)
                  .add(1.5),
              ),
            );
          });
        }
        const bnMean = [...model.namedBuffers()].find(([k]) => k.endsWith("running_mean"));
        assert.ok(bnMean, "the model has BatchNorm layers");
        assert.ok(bnMean[1].abs().max().item() > 0.05, "running means moved away from 0");
      }
      model.train(); // exportOnnx must switch to eval itself, then restore this
      const path = join(tmp.dir, `model-${ci}.onnx`);
      const res = exportOnnx(model, path, { inputShape: c.inputShape, opset: c.opset });
      assert.ok(
        model.training && [...model.namedModules()].every(([, m]) => m.training),
        "training mode restored",
      );
      assert.deepEqual(res.outputs, ["features", ...c.tasks.map((t) => `logits_${t.name}`)]);
      assert.equal(res.bytes, readFileSync(path).length);

      const session = await openSession(path);
      try {
        assert.deepEqual([...session.inputNames], ["input"]);
        assert.deepEqual([...session.outputNames], res.outputs);
        model.eval();
        for (const batch of [1, 5]) {
          await torch.tidyAsync(async () => {
            const x = torch.randn([batch, ...c.inputShape]);
            const out = await runSession(session, x);
            const { features, logits } = torch.noGrad(() => {
              const f = model.forward(x);
              return { features: f, logits: model.logits(model.split(f)) };
            });
            assert.deepEqual(features.shape, [batch, encCfg.numParts * encCfg.partSize]);
            assertMatches(`${c.title} features (batch ${batch})`, out.features, features);
            c.tasks.forEach((t, i) => {
              assertMatches(
                `${c.title} logits_${t.name} (batch ${batch})`,
                out[`logits_${t.name}`],
                logits[i],
              );
            });
          });
        }
      } finally {
        await session.release();
      }
    });
  });

  it("refuses an input shape the encoder cannot take, with the model's own error", () => {
    const model = new PartitionedModel(buildEncoder({ name: "small-cnn", numParts: 3, partSize: 2 }), TASKS);
    assert.throws(
      () => exportOnnx(model, join(tmp.dir, "bad.onnx"), { inputShape: [1, 32, 32] }),
      /SmallCnn: expects \[B, C, 28, 28\]/,
    );
    assert.throws(
      () => exportOnnx(model, join(tmp.dir, "bad.onnx"), { inputShape: [1, 28.5, 28] }),
      /inputShape must list positive integer/,
    );
    assert.throws(
      () => exportOnnx(model, join(tmp.dir, "bad.onnx"), { inputShape: [1, 28, 28], opset: 11 }),
      /opset 11 is not supported/,
    );
  });
});

// verifyOnnx (what `mimmx export --onnx` runs after writing): passes for a faithful export and
// fails, naming the file, when the file holds another model's weights.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { exportOnnx } from "../../src/export/index.js";
import { verifyOnnx } from "../../src/export/verify.js";
import { buildEncoder, PartitionedModel } from "../../src/models/index.js";
import * as torch from "../../src/tensor/index.js";
import { tempDir } from "./ort-helpers.js";

torch.setNumThreads(1);
const tasks = [
  { name: "y", numClasses: 2 },
  { name: "z", numClasses: 2 },
];
const model = () =>
  new PartitionedModel(buildEncoder({ name: "small-cnn", numParts: 2, partSize: 3 }), tasks);

describe("verifyOnnx", () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it("verifies a faithful export and restores training mode", async () => {
    torch.manualSeed(0);
    const m = model();
    const path = join(tmp.dir, "a.onnx");
    exportOnnx(m, path, { inputShape: [1, 28, 28] });
    m.train();
    const check = await verifyOnnx(m, path, [1, 28, 28]);
    assert.ok(check.verified, JSON.stringify(check));
    assert.ok(check.maxRelDiff <= check.tolerance);
    assert.ok(m.training);
  });

  it("fails, naming the file, when the file is not this model", async () => {
    torch.manualSeed(1);
    const other = model();
    const path = join(tmp.dir, "b.onnx");
    exportOnnx(other, path, { inputShape: [1, 28, 28] });
    await assert.rejects(
      verifyOnnx(model(), path, [1, 28, 28]),
      /ONNX check of .*b\.onnx: onnxruntime's outputs differ/,
    );
  });
});

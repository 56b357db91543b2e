// model.pretrained: PATH initialises the encoder from a .safetensors file (a mimmx checkpoint or an
// encoder state dict); heads stay fresh; a file that does not fit says what it holds.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type DeepPartial, type RunConfig, resolveDefaults } from "../../src/config/index.js";
import type { TaskInfo } from "../../src/data/types.js";
import { saveCheckpoint } from "../../src/io/checkpoint.js";
import { saveSafetensors } from "../../src/io/safetensors.js";
import type { Method } from "../../src/methods/index.js";
import { buildMethod, initEncoderFrom } from "../../src/run/method.js";
import * as torch from "../../src/tensor/index.js";

const dir = mkdtempSync(join(tmpdir(), "mimmx-pre-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const TASKS: TaskInfo[] = [
  { name: "y", role: "primary", numClasses: 2 },
  { name: "marker", role: "spurion", numClasses: 2 },
];

function config(model: Record<string, unknown> = {}, method = "erm"): RunConfig {
  return resolveDefaults(
    {
      name: "pre",
      data: { source: "fashion-confounded", spurions: [{ name: "marker", kind: "patch" }] },
      model: { feature_dim: 4, ...model },
      method: { name: method },
    } as DeepPartial<RunConfig>,
    "test",
  );
}

function build(seed: number, method = "erm", model: Record<string, unknown> = {}): Method {
  torch.manualSeed(seed);
  return buildMethod(config(model, method), TASKS);
}

const arrays = (m: Map<string, torch.Tensor>) => [...m].map(([k, v]) => [k, v.toArray()]);

describe("model.pretrained", () => {
  it("loads the encoder of a mimmx checkpoint (another method's) and leaves the heads fresh", () => {
    const source = build(1, "mimmx");
    const path = join(dir, "last.safetensors");
    saveCheckpoint(path, { model: source.stateModule, optimizers: source.optimizers, state: {} });
    const target = build(2);
    const heads = arrays(target.model.heads.stateDict());
    assert.notDeepEqual(arrays(target.model.encoder.stateDict()), arrays(source.model.encoder.stateDict()));
    assert.equal(initEncoderFrom(target, path), "model.model.encoder.");
    assert.deepEqual(arrays(target.model.encoder.stateDict()), arrays(source.model.encoder.stateDict()));
    assert.deepEqual(arrays(target.model.heads.stateDict()), heads);
  });

  it("loads a bare encoder state dict", () => {
    const source = build(3);
    const path = join(dir, "encoder.safetensors");
    saveSafetensors(path, source.model.encoder.stateDict());
    const target = build(4);
    assert.equal(initEncoderFrom(target, path), "");
    assert.deepEqual(arrays(target.model.encoder.stateDict()), arrays(source.model.encoder.stateDict()));
  });

  it("a file for another encoder, a missing file or a non-safetensors file is a clear error", () => {
    const path = join(dir, "encoder.safetensors");
    saveSafetensors(path, build(3).model.encoder.stateDict());
    // feature_dim 8 instead of 4: the last layer has another shape.
    assert.throws(
      () => initEncoderFrom(build(5, "erm", { feature_dim: 8 }), path),
      /model\.pretrained: .*encoder\.safetensors: loadStateDict: .* has shape/,
    );
    assert.throws(
      () => initEncoderFrom(build(5, "erm", { encoder: "resnet18" }), path),
      /holds no complete set of weights for this encoder .* the file has \d+ tensors such as/,
    );
    assert.throws(() => initEncoderFrom(build(5), join(dir, "nope.safetensors")), /no such file/);
    const junk = join(dir, "junk.safetensors");
    writeFileSync(junk, "not a tensor file");
    assert.throws(() => initEncoderFrom(build(5), junk), /not a readable \.safetensors file/);
  });
});

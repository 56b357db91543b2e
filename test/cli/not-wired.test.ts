// Settings that used to be accepted but not applied (optimizer, scheduler, grad_clip, dropout,
// augmentation) are applied now and give no warning; those that cannot be honoured (pretrained: true,
// device: cuda) are clear errors, not silent fallbacks.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseConfig, parseConfigWithWarnings } from "../../src/config/index.js";
import { checkDevice, runExperiment } from "../../src/run/experiment.js";
import { cudaIsAvailable } from "../../src/tensor/runtime.js";
import { configErrorOf } from "../helpers/config.js";

const DATA =
  "data:\n  source: fashion-confounded\n  spurions:\n    - { name: marker, kind: patch, ratio: 0.9 }\n";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const errorOf = configErrorOf;

test("optimizer, scheduler, grad_clip, dropout and augmentation are applied: no 'not applied' warning", () => {
  const text = `name: t
train:
  optimizer: sgd
  momentum: 0.8
  nesterov: true
  scheduler: step
  step_size: 3
  gamma: 0.5
  grad_clip: 1.0
model:
  dropout: 0.2
${DATA}  transforms: { hflip: true, rotate_deg: 10, crop_padding: 2, intensity_jitter: 0.1 }
`;
  const { config, warnings } = parseConfigWithWarnings(text, "t.yaml");
  assert.deepEqual(warnings, []);
  assert.equal(config.train.optimizer, "sgd");
  assert.equal(config.train.nesterov, true);
  assert.equal(config.model.dropout, 0.2);
});

test("optimiser keys: AdamW decays by 1e-2 unless told; keys of another optimiser or schedule warn", () => {
  assert.equal(parseConfig(`name: t\ntrain: {optimizer: adamw}\n${DATA}`).train.weight_decay, 0.01);
  assert.equal(
    parseConfig(`name: t\ntrain: {optimizer: adamw, weight_decay: 0}\n${DATA}`).train.weight_decay,
    0,
  );
  assert.equal(parseConfig(`name: t\n${DATA}`).train.weight_decay, 0);
  const { warnings } = parseConfigWithWarnings(
    `name: t\ntrain: {optimizer: adam, momentum: 0.5, gamma: 0.5, min_lr: 0.001}\n${DATA}`,
    "t.yaml",
  );
  assert.ok(warnings.some((w) => w.startsWith("train.momentum") && w.includes('optimizer "sgd"')));
  assert.ok(warnings.some((w) => w.startsWith("train.gamma") && w.includes('scheduler "step"')));
  assert.ok(warnings.some((w) => w.startsWith("train.min_lr") && w.includes('scheduler "cosine"')));
  assert.match(
    errorOf(`name: t\ntrain: {optimizer: sgd, momentum: 0, nesterov: true}\n${DATA}`),
    /train\.nesterov.*momentum > 0/,
  );
});

test("model.pretrained: true is an error that says what to give; a path is kept", () => {
  const msg = errorOf(`name: t\nmodel: {pretrained: true}\n${DATA}`);
  assert.match(msg, /model\.pretrained \(line 2\): no pretrained weights are bundled or downloaded/);
  assert.match(msg, /\.safetensors/);
  const c = parseConfig(`name: t\nmodel: {pretrained: runs/a/methods/erm/last.safetensors}\n${DATA}`);
  assert.equal(c.model.pretrained, "runs/a/methods/erm/last.safetensors");
  assert.equal(parseConfig(`name: t\n${DATA}`).model.pretrained, false);
  assert.match(
    errorOf(`name: t\nmodel: {pretrained: 3}\n${DATA}`),
    /model\.pretrained.*expected false or the path/,
  );
});

test("train.device: cuda is refused without CUDA, before a run folder is written; cuda:N is checked", async () => {
  const c = parseConfig(`name: t\ntrain: {device: cuda}\n${DATA}`);
  assert.throws(
    () => checkDevice(c, () => false),
    /train\.device: "cuda" is not available: the libtorch .* Set train\.device: cpu/,
  );
  checkDevice(
    c,
    () => true,
    () => 1,
  );
  const c3 = parseConfig(`name: t\ntrain: {device: "cuda:3"}\n${DATA}`);
  assert.equal(c3.train.device, "cuda:3");
  checkDevice(
    c3,
    () => true,
    () => 4,
  );
  assert.throws(
    () =>
      checkDevice(
        c3,
        () => true,
        () => 2,
      ),
    /"cuda:3" does not exist: this process sees 2 CUDA devices \(cuda:0 to cuda:1\)/,
  );
  assert.throws(
    () =>
      checkDevice(
        c,
        () => true,
        () => 0,
      ),
    /"cuda" does not exist: this process sees 0 CUDA devices/,
  );
  assert.match(
    errorOf(`name: t\ntrain: {device: gpu}\n${DATA}`),
    /train\.device.*expected "cpu", "cuda" or "cuda:N", got/,
  );
  checkDevice(parseConfig(`name: t\n${DATA}`), () => false);
  const parent = mkdtempSync(join(tmpdir(), "mimmx-dev-"));
  dirs.push(parent);
  const dir = join(parent, "run");
  if (!cudaIsAvailable()) {
    await assert.rejects(runExperiment(c, { outDir: dir, quiet: true, log: () => {} }), /not available/);
    assert.equal(existsSync(dir), false);
  }
});

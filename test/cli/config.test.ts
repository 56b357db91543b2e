import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exampleConfig } from "../../src/config/doc.js";
import {
  ConfigError,
  loadConfig,
  parseConfig,
  parseConfigWithWarnings,
  resolveDefaults,
} from "../../src/config/index.js";
import { editDistance, suggest } from "../../src/config/schema.js";

/** Runs `fn`, expects a ConfigError, returns its message. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.message;
  }
  assert.fail("no error thrown");
}

const minimal = "name: t\ndata:\n  source: fashion-confounded\n  spurions: [{name: marker, kind: patch}]\n";

describe("config: valid files", () => {
  it("parses the generated example and fills every default", () => {
    const { config: c, warnings } = parseConfigWithWarnings(exampleConfig(), "example.yaml");
    assert.deepEqual(warnings, []);
    assert.equal(c.name, "fashion-demo");
    assert.equal(c.output_dir, "runs/fashion-demo");
    assert.equal(c.method.estimator.ema_rate, 0.9);
    assert.equal(c.data.spurions[1].ratio, 0.95);
    assert.deepEqual(c.data.image_size, [28, 28]);
    assert.deepEqual(c.eval.splits, ["validation", "test_inverted", "test_balanced"]);
  });
  it("a minimal file gets documented defaults", () => {
    const c = parseConfig(minimal);
    assert.equal(c.seed, 0);
    assert.equal(c.data.spurions[0].ratio, 0.9);
    assert.equal(c.method.name, "mimmx");
    assert.equal(c.method.preset, "kernel-rs", "mimmx without a preset gets its default");
    assert.equal(c.method.estimator.critic, "kernel");
    assert.equal(c.method.estimator.hidden, 64);
    assert.equal(c.train.optimizer, "adam");
    assert.equal(c.train.early_stopping.patience, 0);
    assert.equal(c.model.feature_dim, 2);
  });
  it("accepts shorthands: scalar image size, task as a column name, early_stopping as a number", () => {
    const c = parseConfig(
      "name: cx\ndata:\n  source: chexpert\n  root: /data/chexpert\n  task: Pleural Effusion\n  image_size: 128\n  spurions:\n    - {name: sex, kind: metadata, column: Sex, positive: [Male]}\ntrain: {early_stopping: 5}\nmodel: {encoder: resnet18}\n",
    );
    assert.deepEqual(c.data.task, { column: "Pleural Effusion" });
    assert.deepEqual(c.data.image_size, [128, 128]);
    assert.equal(c.train.early_stopping.patience, 5);
  });
  it("uses source-dependent defaults and fixes the published critic", () => {
    const c = parseConfig(
      "name: m\ndata: {source: mri, root: /d, csv: subjects.csv, task: {column: age, threshold: 60}, spurions: [{name: site, kind: metadata, column: site}]}\nmodel: {encoder: cnn3d}\nmethod: {estimator: {critic: published}}\n",
    );
    assert.deepEqual(c.data.image_size, [96, 96, 96]);
    assert.equal(c.method.estimator.hidden, 400);
    assert.equal(c.method.estimator.layers, 3);
  });
  it("resolveDefaults completes a partial object built in code", () => {
    const c = resolveDefaults({
      name: "code",
      data: { source: "fashion-confounded", spurions: [{ name: "z", kind: "noise" }] },
      method: { name: "erm" },
    });
    assert.equal(c.method.name, "erm");
    assert.equal(c.train.epochs, 10);
  });
  it("loads from a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mimmx-cfg-"));
    try {
      writeFileSync(join(dir, "run.yaml"), minimal);
      assert.equal((await loadConfig(join(dir, "run.yaml"))).name, "t");
      await assert.rejects(loadConfig(join(dir, "missing.yaml")), /cannot read config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("config: errors name the key path, the value and what is allowed", () => {
  it("wrong type, with line number", () => {
    const msg = errorOf(() => parseConfig(`${minimal}method:\n  estimator:\n    hidden: wide\n`, "run.yaml"));
    assert.match(msg, /^run\.yaml: 1 problem/);
    assert.match(
      msg,
      /method\.estimator\.hidden \(line 7\): expected an integer >= 1 and <= 8192, got string "wide"/,
    );
  });
  it("enum value with suggestion", () => {
    const msg = errorOf(() => parseConfig(`${minimal}method: {name: mimx}\n`));
    assert.match(msg, /method\.name .*"mimx" is not allowed; expected one of "erm", "mtl", "mimm", "mimmx"/);
    assert.match(msg, /Did you mean "mimm" or "mimmx"\?/);
  });
  it("unknown key with did-you-mean and the allowed keys", () => {
    const msg = errorOf(() => parseConfig(`${minimal}train: {optimiser: sgd}\n`));
    assert.match(
      msg,
      /train\.optimiser .*unknown key; did you mean "optimizer"\? Allowed here: epochs, batch_size/,
    );
  });
  it("ranges and required keys, all reported at once", () => {
    const msg = errorOf(() =>
      parseConfig(
        "data:\n  source: fashion-confounded\n  spurions: [{name: m, kind: patch, ratio: 1.5}]\ntrain: {epochs: 0, lr: -1}\n",
      ),
    );
    assert.match(msg, /4 problems/);
    assert.match(msg, /name \(line 1\): required key is missing/);
    assert.match(
      msg,
      /data\.spurions\[0\]\.ratio \(line 3\): expected a number >= 0 and <= 1, got number 1\.5/,
    );
    assert.match(msg, /train\.epochs .*expected an integer >= 1, got number 0/);
    assert.match(msg, /train\.lr .*expected a number > 0, got number -1/);
  });
  it("source-specific requirements", () => {
    const msg = errorOf(() =>
      parseConfig("name: x\ndata: {source: chexpert, spurions: [{name: sex, kind: metadata}]}\n"),
    );
    assert.match(msg, /data\.spurions\[0\]\.column .*required for kind "metadata"/);
    const msg2 = errorOf(() =>
      parseConfig(
        "name: x\ndata: {source: manifest, root: /d, task: y, spurions: [{name: s, kind: metadata, column: s}]}\n",
      ),
    );
    assert.match(msg2, /data\.csv \(line 2\): required for source "manifest"/);
  });
  it("cross-section rules: encoder vs image size, published critic, mimm spurion", () => {
    assert.match(
      errorOf(() => parseConfig(`${minimal}model: {encoder: cnn3d}\n`)),
      /data\.image_size .*encoder "cnn3d" needs a 3-D size/,
    );
    assert.match(
      errorOf(() => parseConfig(`${minimal}method: {estimator: {critic: published, hidden: 64}}\n`)),
      /method\.estimator\.hidden .*published critic is fixed at 3 x 400/,
    );
    assert.match(
      errorOf(() => parseConfig(`${minimal}method: {name: mimm, spurion: sex}\n`)),
      /method\.spurion .*"sex" is not a spurion.*"marker"/,
    );
  });
  it("warns about settings the chosen method ignores", () => {
    const { warnings } = parseConfigWithWarnings(
      `${minimal}method: {name: erm, gradnorm: {enabled: false}}\n`,
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /method\.gradnorm \(line 5\): ignored by method "erm"/);
    const seen: string[] = [];
    parseConfig(`${minimal}method: {name: erm, lambda: 3}\n`, "w.yaml", { onWarning: (w) => seen.push(w) });
    assert.match(seen[0], /^w\.yaml: method\.lambda/);
  });
  it("invalid YAML and a non-mapping top level", () => {
    assert.match(
      errorOf(() => parseConfig("name: [1", "bad.yaml")),
      /^bad\.yaml: invalid YAML/,
    );
    assert.match(
      errorOf(() => parseConfig("- a\n- b\n")),
      /top level must be a mapping/,
    );
    assert.match(
      errorOf(() => parseConfig("name: a\nname: b\n")),
      /invalid YAML/,
    );
  });
});

describe("schema helpers", () => {
  it("edit distance counts adjacent swaps as one", () => {
    assert.equal(editDistance("hidden", "hidden"), 0);
    assert.equal(editDistance("hiden", "hidden"), 1);
    assert.equal(editDistance("lamdba", "lambda"), 1);
    assert.equal(suggest("zzzzz", ["hidden", "layers"]), undefined);
    assert.equal(suggest("batch-size", ["batch_size", "lr"]), '"batch_size"');
  });
});

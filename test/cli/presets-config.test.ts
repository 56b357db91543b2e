// method.preset: a preset fills the keys a config leaves out, the config's own keys win, preset
// values never count as "given" (rules about what the user wrote keep their meaning), and a bad
// name is an error with a "did you mean".
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DEFAULT_PRESET,
  PRESETS,
  type Preset,
  parseConfig,
  parseConfigWithWarnings,
} from "../../src/config/index.js";
import { configErrorOf } from "../helpers/config.js";

const base =
  "name: t\ndata:\n  source: fashion-confounded\n  spurions: [{name: marker, kind: patch}, {name: block, kind: block}]\n";
const registry = PRESETS as Record<string, Preset>;

describe("method.preset", () => {
  before(() => {
    registry["test-bundle"] = {
      description: "for this test",
      methods: ["mimmx"],
      values: {
        method: { lambda: 3, gradnorm: { enabled: false }, estimator: { hidden: 16, layers: 1 } },
        model: { feature_dim: 8 },
        train: { select_by: "val_loss" },
      },
    };
  });
  after(() => {
    delete registry["test-bundle"];
  });

  it("fills the keys the config leaves out, in method, model and train", () => {
    const c = parseConfig(`${base}method: {preset: test-bundle}\n`);
    assert.equal(c.method.preset, "test-bundle");
    assert.equal(c.method.lambda, 3);
    assert.equal(c.method.gradnorm.enabled, false);
    assert.equal(c.method.gradnorm.alpha, 1.5, "keys the preset does not name keep the schema default");
    assert.equal(c.method.estimator.hidden, 16);
    assert.equal(c.model.feature_dim, 8);
    assert.equal(c.train.select_by, "val_loss");
  });

  it("loses to every key the config gives", () => {
    const c = parseConfig(
      `${base}model: {feature_dim: 4}\ntrain: {select_by: last}\nmethod: {preset: test-bundle, lambda: 2, estimator: {hidden: 32}}\n`,
    );
    assert.equal(c.method.lambda, 2);
    assert.equal(c.method.estimator.hidden, 32);
    assert.equal(c.method.estimator.layers, 1, "the preset still fills the sibling key");
    assert.equal(c.model.feature_dim, 4);
    assert.equal(c.train.select_by, "last");
  });

  it("does not count as given: the published critic replaces the preset's size without an error", () => {
    const { config, warnings } = parseConfigWithWarnings(
      `${base}method: {preset: test-bundle, estimator: {critic: published}}\n`,
    );
    assert.equal(config.method.estimator.hidden, 400);
    assert.equal(config.method.estimator.layers, 3);
    assert.deepEqual(warnings, []);
  });

  it("published equals the schema defaults; mimmx's default is the preset the suite chose", () => {
    assert.equal(DEFAULT_PRESET.mimmx, "kernel-rs");
    const byDefault = parseConfig(base);
    const published = parseConfig(`${base}method: {preset: published}\n`);
    const none = parseConfig(`${base}method: {preset: none}\n`);
    const chosen = parseConfig(`${base}method: {preset: kernel-rs}\n`);
    assert.equal(byDefault.method.preset, "kernel-rs");
    assert.deepEqual(chosen, byDefault);
    assert.equal(none.method.preset, "none");
    assert.deepEqual({ ...none, method: { ...none.method, preset: "published" } }, published);
    // What the default sets (docs/tuning-log.md, rounds 5 and 6).
    assert.equal(byDefault.method.balance_by, "sampler");
    assert.equal(parseConfig(`${base}method: {preset: kernel-rw}\n`).method.balance_by, "loss");
    assert.equal(byDefault.method.spurion_view, "labels");
    assert.equal(byDefault.method.estimator.critic, "kernel");
    assert.equal(byDefault.method.y_loss, "reweight");
    assert.equal(byDefault.method.spurion_grad, "lastLayer");
    assert.equal(byDefault.method.adaptive_scaling, false);
    assert.equal(byDefault.model.feature_dim, 2);
    assert.equal(byDefault.train.select_by, "val_worst_group");
    assert.equal(parseConfig(`${base}method: {name: erm}\n`).method.preset, "none");
  });

  it("an unknown name is an error with a did-you-mean; a preset of another method is an error", () => {
    assert.match(
      configErrorOf(`${base}method: {preset: publishd}\n`),
      /method\.preset \(line \d+\).*Did you mean "published"\?/,
    );
    assert.match(
      configErrorOf(`${base}method: {name: erm, preset: published}\n`),
      /method\.preset.*made for method "mimmx", not "erm"/,
    );
  });
});

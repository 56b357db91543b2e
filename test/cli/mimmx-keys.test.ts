// The MIMM-X config keys of the third tuning round reach the method: spurion_view, mi_distribution,
// estimator.objective, mi_warmup, lambda_ramp, penalise; bad values are named by key path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import type { Mimmx } from "../../src/methods/mimmx.js";
import { buildMethod } from "../../src/run/method.js";
import * as torch from "../../src/tensor/index.js";

const base =
  "name: t\ndata:\n  source: fashion-confounded\n  spurions: [{name: marker, kind: patch}, {name: block, kind: block}]\nmodel: {encoder: small-cnn, feature_dim: 4}\n";
const tasks = [
  { name: "y", role: "primary" as const, numClasses: 2 },
  { name: "marker", role: "spurion" as const, numClasses: 2 },
  { name: "block", role: "spurion" as const, numClasses: 2 },
];

describe("MIMM-X round-3 config keys", () => {
  it("default to the published behaviour", () => {
    const c = parseConfig(base);
    assert.equal(c.method.spurion_view, "part");
    assert.equal(c.method.mi_distribution, "train");
    assert.equal(c.method.estimator.objective, "dv");
    const m = buildMethod(c, tasks) as Mimmx;
    assert.deepEqual(
      m.pairs.map((p) => p.name),
      ["y;marker", "y;block", "marker;block"],
    );
  });

  it("are passed to the method", () => {
    torch.manualSeed(0);
    const c = parseConfig(
      `${base}method:\n  spurion_view: probs\n  mi_distribution: balanced\n  mi_warmup: 3\n  lambda_ramp: 5\n  penalise: y\n  estimator: {objective: jsd, negatives: 8, layers: 1}\n`,
    );
    const m = buildMethod(c, tasks) as Mimmx;
    assert.equal(m.cfg.spurionView, "probs");
    assert.equal(m.cfg.miDistribution, "balanced");
    assert.equal(m.cfg.miWarmup, 3);
    assert.equal(m.cfg.lambdaRamp, 5);
    assert.equal(m.cfg.penalise, "y");
    assert.equal((m.cfg.estimator as { objective?: string }).objective, "jsd");
    assert.deepEqual(
      m.pairs.map((p) => p.name),
      ["y;marker", "y;block"],
    );
  });

  it("name the key path of a bad value", () => {
    assert.throws(
      () => parseConfig(`${base}method:\n  mi_distribution: test\n`),
      /method\.mi_distribution.*"train".*"balanced"|method\.mi_distribution/,
    );
    assert.throws(
      () => parseConfig(`${base}method:\n  estimator: {objective: nce}\n`),
      /method\.estimator\.objective/,
    );
  });
});

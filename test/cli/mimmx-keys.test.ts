// The MIMM-X config keys of the third tuning round reach the method: spurion_view, mi_distribution,
// estimator.objective, mi_warmup, lambda_ramp, penalise; bad values are named by key path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type MethodConfig,
  methodSchema,
  parseConfig,
  parseConfigWithWarnings,
} from "../../src/config/index.js";
import type { Mimmx } from "../../src/methods/mimmx.js";
import { resolveEstimator } from "../../src/mi/index.js";
import { buildMethod, estimatorOf } from "../../src/run/method.js";
import * as torch from "../../src/tensor/index.js";
import { configErrorOf } from "../helpers/config.js";

const base =
  "name: t\ndata:\n  source: fashion-confounded\n  spurions: [{name: marker, kind: patch}, {name: block, kind: block}]\nmodel: {encoder: small-cnn, feature_dim: 4}\n";
const tasks = [
  { name: "y", role: "primary" as const, numClasses: 2 },
  { name: "marker", role: "spurion" as const, numClasses: 2 },
  { name: "block", role: "spurion" as const, numClasses: 2 },
];

describe("MIMM-X round-3 config keys", () => {
  it("default to the published behaviour under preset published", () => {
    const c = parseConfig(`${base}method: {preset: published}\n`);
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
      `${base}method:\n  preset: published\n  spurion_view: probs\n  mi_distribution: balanced\n  mi_warmup: 3\n  lambda_ramp: 5\n  penalise: y\n  estimator: {objective: jsd, negatives: 8, layers: 1}\n`,
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

describe("MIMM-X switches and estimator keys say what they do", () => {
  it("scaling_scope, spurion_grad, mi_grad and gradnorm.mi reach the method", () => {
    const c = parseConfig(
      `${base}method:\n  preset: published\n  spurion_grad: lastLayer\n  mi_grad: lastLayer\n  gradnorm: {mi: false}\n`,
    );
    const m = buildMethod(c, tasks) as Mimmx;
    assert.equal(m.cfg.scalingScope, "lastLayer");
    assert.equal(m.cfg.spurionGrad, "lastLayer");
    assert.equal(m.cfg.miGrad, "lastLayer");
    assert.equal((m.cfg as { gradNormMi?: boolean }).gradNormMi, false);
    assert.deepEqual(
      m.gradNorm?.names,
      ["ce/y", "ce/marker", "ce/block"],
      "GradNorm weights the CE terms only",
    );
    const e = buildMethod(
      parseConfig(`${base}method: {preset: published, scaling_scope: encoder}\n`),
      tasks,
    ) as Mimmx;
    assert.equal(e.cfg.scalingScope, "encoder");
    assert.deepEqual(e.gradNorm?.names, ["ce/y", "ce/marker", "ce/block", "mi"]);
  });

  it("spurion_grad / mi_grad lastLayer need scaling_scope lastLayer", () => {
    for (const key of ["spurion_grad", "mi_grad"])
      assert.match(
        configErrorOf(`${base}method: {scaling_scope: encoder, ${key}: lastLayer}\n`),
        new RegExp(`method\\.${key}.*needs scaling_scope "lastLayer"`),
      );
  });

  it("a removed key is an error that says what to do instead", () => {
    const msg = configErrorOf(`${base}method: {estimator: {batch_norm: true}}\n`);
    assert.match(
      msg,
      /method\.estimator\.batch_norm \(line 6\): this key was removed: delete it; it was never read/,
    );
    assert.doesNotMatch(msg, /unknown key/);
  });

  it("score bounds: cosine is for separable critics, separable critics are bounded, the published one is not", () => {
    assert.match(
      configErrorOf(`${base}method: {estimator: {score_bound: cosine}}\n`),
      /method\.estimator\.score_bound.*"cosine" bounds separable critics/,
    );
    assert.match(
      configErrorOf(`${base}method: {estimator: {critic: separable, score_bound: none}}\n`),
      /method\.estimator\.score_bound.*separable critics are always bounded/,
    );
    assert.match(
      configErrorOf(`${base}method: {estimator: {critic: published, score_bound: tanh}}\n`),
      /method\.estimator\.score_bound.*the published critic is unbounded/,
    );
    const sep = buildMethod(
      parseConfig(`${base}method: {estimator: {critic: separable, score_bound: cosine, temperature: 7}}\n`),
      tasks,
    ) as Mimmx;
    assert.deepEqual(sep.cfg.estimator, {
      critic: "separable",
      hidden: 64,
      embed: 32,
      bound: "cosine",
      scale: 7,
      conditional: false,
      emaRate: 0.9,
      objective: "dv",
    });
  });

  it("the published critic keeps the config's EMA rate, conditioning and objective", () => {
    const c = parseConfig(
      `${base}method: {estimator: {critic: published, ema_rate: 0.5, objective: jsd, conditional_negatives: true}}\n`,
    );
    assert.equal(c.method.estimator.score_bound, "none");
    assert.deepEqual(estimatorOf(c.method.estimator), {
      critic: "joint",
      hidden: [400, 400, 400],
      firstLayer: "concat",
      negatives: "all",
      conditional: true,
      emaRate: 0.5,
      objective: "jsd",
    });
  });

  it("a config with preset none builds the method with the schema's defaults at every layer", () => {
    const c = parseConfig(`${base}method: {preset: none}\n`);
    const d = methodSchema.defaultValue?.() as MethodConfig;
    const m = buildMethod(c, tasks) as Mimmx;
    const cfg = m.cfg;
    const expected: Record<string, unknown> = {
      lambda: d.lambda,
      nFE: d.n_fe,
      nMI: d.n_mi,
      criticData: d.critic_data,
      criticLr: d.estimator.lr,
      conditional: d.estimator.conditional_negatives,
      objective: d.estimator.objective,
      adaptiveScaling: d.adaptive_scaling,
      scalingScope: d.scaling_scope,
      spurionGrad: d.spurion_grad,
      miGrad: d.mi_grad,
      pairs: d.pairs,
      gradNorm: d.gradnorm.enabled,
      gradNormAlpha: d.gradnorm.alpha,
      gradNormLr: d.gradnorm.lr,
      gradNormMi: d.gradnorm.mi,
      attention: d.attention.enabled,
      attentionTau: d.attention.tau,
      attentionFloor: d.attention.floor,
      attentionEma: d.attention.ema,
      miWarmup: d.mi_warmup,
      lambdaRamp: d.lambda_ramp,
      penalise: d.penalise,
      spurionView: d.spurion_view,
      miDistribution: d.mi_distribution,
    };
    for (const [key, want] of Object.entries(expected))
      assert.deepEqual((cfg as unknown as Record<string, unknown>)[key], want, `MimmxConfig.${key}`);
    // The lower layers' own defaults are the same values.
    assert.deepEqual(cfg.estimator, resolveEstimator(undefined), "src/mi's DEFAULT_ESTIMATOR");
    assert.deepEqual(cfg.estimator, {
      critic: "joint",
      hidden: [64, 64, 64],
      firstLayer: "split",
      negatives: "all",
      scoreBound: d.estimator.temperature,
      conditional: false,
      emaRate: d.estimator.ema_rate,
      objective: "dv",
    });
    // GradNormWeights and ConfounderAttention keep no defaults of their own (every option is
    // required), so the method's values can only be the config's:
    assert.equal(m.gradNorm?.alpha, d.gradnorm.alpha);
    assert.equal(m.attention?.tau, d.attention.tau);
    assert.deepEqual(
      [m.attention?.floor, m.attention?.ema, m.gradNorm?.lr],
      [d.attention.floor, d.attention.ema, d.gradnorm.lr],
    );
    const adv = buildMethod(c, tasks, "adversarial") as unknown as { cfg: { lambda: number } };
    assert.equal(adv.cfg.lambda, d.adversarial.lambda);
    const dro = buildMethod(c, tasks, "groupdro") as unknown as { cfg: { eta: number } };
    assert.equal(dro.cfg.eta, d.groupdro.eta);
  });
});

describe("dead keys are gone or say so", () => {
  it("train.early_stopping.min_delta is a removed key; the patience shorthand still works", () => {
    assert.match(
      configErrorOf(`${base}train: {early_stopping: {patience: 3, min_delta: 0.01}}\n`),
      /train\.early_stopping\.min_delta.*this key was removed: delete it; it was never applied/,
    );
    assert.deepEqual(parseConfig(`${base}train: {early_stopping: 3}\n`).train.early_stopping, {
      patience: 3,
    });
  });

  it("separable critics warn about the keys they ignore; so do the audit critics", () => {
    const { warnings } = parseConfigWithWarnings(
      `${base}method: {estimator: {critic: separable, layers: 2, negatives: 8}}\neval: {mi_audit: {critic: published, hidden: 64}}\n`,
    );
    assert.ok(
      warnings.some((w) => w.startsWith("method.estimator.layers") && w.includes("ignored by separable")),
    );
    assert.ok(
      warnings.some((w) => w.startsWith("method.estimator.negatives") && w.includes("ignored by separable")),
    );
    assert.ok(
      warnings.some((w) => w.startsWith("eval.mi_audit.hidden") && w.includes("ignored by the published")),
    );
  });
});

// Config -> Method. The oracle is not a method of its own: it is ERM trained on the uncorrelated
// split, so here it builds an ERM model and the experiment picks its training data.
import type { EstimatorConfig as ConfigEstimator, MethodName, RunConfig } from "../cli/config.js";
import type { TaskInfo } from "../data/index.js";
import { createMethod, type EncoderSpec, type Method, type MethodConfig } from "../methods/index.js";
import type { EstimatorConfig } from "../mi/index.js";
import { ESTIMATOR_PRESETS } from "../mi/index.js";

/** The config's estimator section as a src/mi estimator. */
export function estimatorOf(e: ConfigEstimator): EstimatorConfig {
  if (e.critic === "published") return ESTIMATOR_PRESETS.published as EstimatorConfig;
  if (e.critic === "separable") {
    return {
      critic: "separable",
      hidden: e.hidden,
      embed: Math.max(1, Math.round(e.hidden / 2)),
      bound: e.score_bound === "tanh" ? "tanh" : "cosine",
      scale: e.temperature,
      conditional: e.conditional_negatives,
      emaRate: e.ema_rate,
    };
  }
  return {
    critic: "joint",
    hidden: new Array<number>(e.layers).fill(e.hidden),
    // "joint" and "split" compute the same function; "split" says how (W_a a + W_c c), which is
    // the cheap form; the published critic concatenates.
    firstLayer: "split",
    negatives: e.negatives === 0 ? "all" : e.negatives,
    scoreBound: e.score_bound === "none" ? undefined : e.temperature,
    conditional: e.conditional_negatives,
    emaRate: e.ema_rate,
  };
}

function encoderOf(config: RunConfig): EncoderSpec {
  const m = config.model;
  const inChannels = m.in_channels;
  switch (m.encoder) {
    case "small-cnn":
      return { name: "small-cnn", inChannels };
    case "resnet18":
      return { name: "resnet18", inChannels, smallInput: config.data.image_size[0] <= 64 };
    case "densenet121":
      return { name: "densenet121", inChannels };
    case "cnn3d":
      return { name: "cnn3d", inChannels };
  }
}

export function buildMethod(
  config: RunConfig,
  tasks: TaskInfo[],
  name: MethodName = config.method.name,
): Method {
  const m = config.method;
  const common = {
    tasks: tasks.map((t) => ({ name: t.name, numClasses: Math.max(2, t.numClasses) })),
    encoder: encoderOf(config),
    partSize: config.model.feature_dim,
    lr: config.train.lr,
    weightDecay: config.train.weight_decay,
  };
  const mi = {
    lambda: m.lambda,
    estimator: estimatorOf(m.estimator),
    conditional: m.estimator.conditional_negatives,
    nFE: m.n_fe,
    nMI: m.n_mi,
    criticData: m.critic_data,
    criticLr: m.estimator.lr,
    adaptiveScaling: m.adaptive_scaling,
  };
  let cfg: MethodConfig;
  switch (name) {
    case "erm":
    case "oracle":
      cfg = { method: "erm", ...common };
      break;
    case "mtl":
      cfg = { method: "mtl", ...common };
      break;
    case "mimm": {
      const spurion = Math.max(
        0,
        tasks.slice(1).findIndex((t) => t.name === m.spurion),
      );
      cfg = { method: "mimm", ...common, ...mi, spurion };
      break;
    }
    case "mimmx":
      cfg = {
        method: "mimmx",
        ...common,
        ...mi,
        pairs: m.pairs,
        gradNorm: m.gradnorm.enabled,
        gradNormAlpha: m.gradnorm.alpha,
        gradNormLr: m.gradnorm.lr,
        attention: m.attention.enabled,
        attentionTau: m.attention.tau,
        attentionFloor: m.attention.floor,
        attentionEma: m.attention.ema,
      };
      break;
    case "adversarial":
      cfg = { method: "adversarial", ...common, lambda: m.adversarial.lambda } as MethodConfig;
      break;
    case "groupdro":
      cfg = { method: "groupdro", ...common, eta: m.groupdro.eta } as MethodConfig;
      break;
  }
  return createMethod(cfg);
}

/** Display names for reports. */
export const METHOD_LABELS: Record<MethodName, string> = {
  erm: "ERM",
  mtl: "MTL",
  mimm: "MIMM",
  mimmx: "MIMM-X",
  adversarial: "Adversarial",
  groupdro: "GroupDRO",
  oracle: "Oracle (ERM, uncorrelated data)",
};

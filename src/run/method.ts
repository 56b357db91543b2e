// Config -> Method. The oracle is not a method of its own: it is ERM trained on the uncorrelated
// split, so here it builds an ERM model and the experiment picks its training data.

import { existsSync } from "node:fs";
import type { EstimatorConfig as ConfigEstimator, MethodName, RunConfig } from "../config/index.js";
import type { TaskInfo } from "../data/index.js";
import { loadSafetensors } from "../io/safetensors.js";
import {
  type CommonConfig,
  createMethod,
  type EncoderSpec,
  type Method,
  type MethodConfig,
} from "../methods/index.js";
import type { EstimatorConfig } from "../mi/index.js";
import { ESTIMATOR_PRESETS } from "../mi/index.js";
import type { KernelEstimatorConfig } from "../mi/kernel-pairs.js";
import type { SchedulerSpec } from "../optim/index.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * The config's estimator section as a src/mi estimator. Every key reaches it: the published critic
 * is ESTIMATOR_PRESETS.published with the config's EMA rate, conditioning and objective (its size
 * and unboundedness are fixed by the schema).
 */
export function estimatorOf(e: ConfigEstimator): EstimatorConfig | KernelEstimatorConfig {
  const shared = { conditional: e.conditional_negatives, emaRate: e.ema_rate, objective: e.objective };
  if (e.critic === "kernel")
    return {
      critic: "kernel",
      bandwidths: e.bandwidths,
      linear: e.linear,
      bandwidthPairs: e.bandwidth_pairs,
    };
  if (e.critic === "published") return { ...(ESTIMATOR_PRESETS.published as EstimatorConfig), ...shared };
  if (e.critic === "separable") {
    // The schema allows only "tanh" and "cosine" here.
    return {
      critic: "separable",
      hidden: e.hidden,
      embed: Math.max(1, Math.round(e.hidden / 2)),
      bound: e.score_bound === "tanh" ? "tanh" : "cosine",
      scale: e.temperature,
      ...shared,
    };
  }
  return {
    critic: "joint",
    hidden: new Array<number>(e.layers).fill(e.hidden),
    // "joint" and "split" compute the same function; "split" says how (W_a a + W_c c), which is
    // the cheap form; the published critic concatenates. The schema allows "tanh" and "none" here.
    firstLayer: "split",
    negatives: e.negatives === 0 ? "all" : e.negatives,
    scoreBound: e.score_bound === "none" ? undefined : e.temperature,
    ...shared,
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

/** train.scheduler as the optimiser layer's schedule (stepped once per epoch). */
export function schedulerOf(t: RunConfig["train"]): SchedulerSpec {
  switch (t.scheduler) {
    case "none":
      return { name: "none" };
    case "step":
      return { name: "step", stepSize: t.step_size, gamma: t.gamma };
    case "cosine":
      return { name: "cosine", tMax: t.epochs, etaMin: t.min_lr };
  }
}

/**
 * What MIMM (2023) fixes of MIMM-X's options: one pair, no loss weighting, no attention, no warm-up,
 * the published view and distribution. The schema warns that these keys are ignored for mimm.
 */
const MIMM_FIXED = {
  pairs: "all",
  gradNorm: false,
  attention: false,
  miWarmup: 0,
  lambdaRamp: 0,
  penalise: "all",
  spurionView: "part",
  miDistribution: "train",
  yLoss: { kind: "ce" },
} as const;

export function buildMethod(
  config: RunConfig,
  tasks: TaskInfo[],
  name: MethodName = config.method.name,
): Method {
  const m = config.method;
  const t = config.train;
  const common: CommonConfig = {
    tasks: tasks.map((t) => ({ name: t.name, numClasses: Math.max(2, t.numClasses) })),
    encoder: encoderOf(config),
    partSize: config.model.feature_dim,
    head: { dropout: config.model.dropout },
    lr: t.lr,
    weightDecay: t.weight_decay,
    optimizer: { name: t.optimizer, momentum: t.momentum, nesterov: t.nesterov },
    scheduler: schedulerOf(t),
    gradClip: t.grad_clip,
    device: t.device,
  };
  // The MI options MIMM shares with MIMM-X; every field is given, so no method default applies.
  const mi = {
    lambda: m.lambda,
    estimator: estimatorOf(m.estimator),
    conditional: m.estimator.conditional_negatives,
    objective: m.estimator.objective,
    nFE: m.n_fe,
    nMI: m.n_mi,
    criticData: m.critic_data,
    criticLr: m.estimator.lr,
    adaptiveScaling: m.adaptive_scaling,
    scalingScope: m.scaling_scope,
    spurionGrad: m.spurion_grad,
    miGrad: m.mi_grad,
  };
  // The MIMM-X-only options; MIMM fixes them (one spurion, no weighting).
  const mimmxOnly = {
    pairs: m.pairs,
    gradNorm: m.gradnorm.enabled,
    gradNormAlpha: m.gradnorm.alpha,
    gradNormLr: m.gradnorm.lr,
    gradNormMi: m.gradnorm.mi,
    attention: m.attention.enabled,
    attentionTau: m.attention.tau,
    attentionFloor: m.attention.floor,
    attentionEma: m.attention.ema,
    miWarmup: m.mi_warmup,
    lambdaRamp: m.lambda_ramp,
    penalise: m.penalise,
    spurionView: m.spurion_view,
    miDistribution: m.mi_distribution,
    yLoss:
      m.y_loss === "groupdro"
        ? { kind: "groupdro" as const, eta: m.groupdro.eta, groups: m.groups }
        : m.y_loss === "reweight"
          ? { kind: "reweight" as const, groups: m.groups, minCount: m.group_min_count, by: m.balance_by }
          : { kind: "ce" as const },
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
      cfg = { method: "mimm", ...common, ...mi, ...mimmxOnly, ...MIMM_FIXED, spurion };
      break;
    }
    case "mimmx":
      cfg = { method: "mimmx", ...common, ...mi, ...mimmxOnly };
      break;
    case "adversarial":
      cfg = { method: "adversarial", ...common, lambda: m.adversarial.lambda } as MethodConfig;
      break;
    case "groupdro":
      cfg = {
        method: "groupdro",
        ...common,
        eta: m.groupdro.eta,
        groups: m.groups,
        balanceBy: m.balance_by,
        minCount: m.group_min_count,
      } as MethodConfig;
      break;
    case "subsample":
      cfg = { method: name, ...common, scheme: m.groups, minCount: m.group_min_count };
      break;
    case "reweight":
      cfg = {
        method: name,
        ...common,
        scheme: m.groups,
        minCount: m.group_min_count,
        balanceBy: m.balance_by,
      };
      break;
    case "dfr": {
      const d = m.dfr;
      const g = { scheme: m.groups, minCount: m.group_min_count };
      cfg = {
        method: "dfr",
        ...common,
        ...g,
        holdout: d.holdout,
        subsamples: d.subsamples,
        cGrid: d.c_grid,
        features: d.features,
      };
      break;
    }
    case "jtt":
      cfg = { method: "jtt", ...common, upweight: m.jtt.upweight };
      break;
  }
  return createMethod(cfg);
}

/**
 * Initialises a method's encoder from a .safetensors file (model.pretrained): a mimmx checkpoint
 * (its "model.model.encoder." tensors), a saved PartitionedModel ("model.encoder." or "encoder.")
 * or a bare encoder state dict. Every tensor of the encoder must be there with its shape; heads
 * and critics keep their fresh initialisation. Returns the prefix the weights were found under.
 */
export function initEncoderFrom(method: Method, path: string): string {
  if (!existsSync(path)) throw new Error(`model.pretrained: no such file: ${path}`);
  let file: Map<string, Tensor>;
  try {
    file = loadSafetensors(path).tensors;
  } catch (e) {
    throw new Error(`model.pretrained: ${path} is not a readable .safetensors file: ${(e as Error).message}`);
  }
  const encoder = method.model.encoder;
  const own = [...encoder.stateDict().keys()];
  try {
    for (const prefix of ["model.model.encoder.", "model.encoder.", "encoder.", ""]) {
      if (!own.every((k) => file.has(prefix + k))) continue;
      try {
        encoder.loadStateDict(new Map(own.map((k) => [k, file.get(prefix + k) as Tensor])));
      } catch (e) {
        throw new Error(`model.pretrained: ${path}: ${(e as Error).message}`);
      }
      return prefix;
    }
    const sample = [...file.keys()].slice(0, 5).join(", ");
    throw new Error(
      `model.pretrained: ${path} holds no complete set of weights for this encoder (${own.length} tensors such as ${own.slice(0, 3).join(", ")}, under "model.model.encoder.", "model.encoder.", "encoder." or no prefix); the file has ${file.size} tensors such as ${sample}`,
    );
  } finally {
    for (const v of file.values()) v.dispose();
  }
}

/** Display names for reports. */
export const METHOD_LABELS: Record<MethodName, string> = {
  erm: "ERM",
  mtl: "MTL",
  mimm: "MIMM",
  mimmx: "MIMM-X",
  adversarial: "Adversarial",
  groupdro: "GroupDRO",
  subsample: "Subsampling (SUBG)",
  reweight: "Reweighting (RWG)",
  dfr: "DFR",
  jtt: "JTT",
  oracle: "Oracle (ERM, uncorrelated data)",
};

// One MI estimator = a critic + the running EMA of its corrected gradient + how negatives are drawn.
// Named presets keep experiments comparable (bench/mi-gaussian.ts measures their accuracy,
// bench/mimmx-step.ts their cost); DEFAULT_ESTIMATOR is the configuration's default critic.
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Critic, JointCritic, SeparableCritic } from "./critics.js";
import { correctedSurrogate, dvEstimate, jsdSurrogate, LogEma, logMeanExp, type PairScores } from "./dv.js";
import { assertFinite } from "./guard.js";

export type EstimatorConfig =
  | {
      critic: "joint";
      hidden: number[];
      firstLayer?: "split" | "concat";
      negatives?: "all" | number;
      scoreBound?: number;
      conditional?: boolean;
      emaRate?: number;
      objective?: CriticObjective;
    }
  | {
      critic: "separable";
      hidden: number;
      embed: number;
      bound?: "cosine" | "tanh";
      scale?: number;
      conditional?: boolean;
      emaRate?: number;
      objective?: CriticObjective;
    };

/**
 * What the critics ascend and the encoder descends (the reported estimate is always DV):
 * "dv": MINE's corrected DV surrogate (published); "jsd" (our design): the Jensen-Shannon bound
 * mean(-softplus(-T_pos)) - mean(softplus(T_neg)) of Deep InfoMax. Its optimal critic is the same
 * log density ratio, so the DV estimate read off the critic stays valid, while its gradients are
 * bounded (sigmoids) instead of exp(T) - the exp term is what lets the DV game blow up.
 */
export type CriticObjective = "dv" | "jsd";

export const ESTIMATOR_PRESETS = {
  /** MINE as published: 3 x 400 BN-ReLU on every concatenated pair. Exact, very costly. */
  published: { critic: "joint", hidden: [400, 400, 400], firstLayer: "concat", negatives: "all" },
  /** the same function on every pair, first layer split (O(B) first-layer matmuls) */
  "joint-400-split": { critic: "joint", hidden: [400, 400, 400], firstLayer: "split", negatives: "all" },
  /** narrower joint critic, all pairs (the 3 x 64 of METHOD.md's prototype runs) */
  "joint-64x3": { critic: "joint", hidden: [64, 64, 64], firstLayer: "split", negatives: "all" },
  /** the same with K = 16 sampled negatives per row */
  "joint-64x3-k16": { critic: "joint", hidden: [64, 64, 64], firstLayer: "split", negatives: 16 },
  /** the configuration's default (method.estimator): 3 x 64, all pairs, scores bounded by 5 tanh(./5) */
  "joint-64x3-tanh5": {
    critic: "joint",
    hidden: [64, 64, 64],
    firstLayer: "split",
    negatives: "all",
    scoreBound: 5,
    conditional: false,
    emaRate: 0.9,
    objective: "dv",
  },
  /** one hidden layer of 64 on the pair (split first layer), K = 8 sampled negatives */
  "joint-64-k8": { critic: "joint", hidden: [64], firstLayer: "split", negatives: 8 },
  /** separable, cosine x temperature 10 */
  "separable-cosine": { critic: "separable", hidden: 64, embed: 32, bound: "cosine", scale: 10 },
  /** separable, 10 tanh(g.h / 10) */
  "separable-tanh": { critic: "separable", hidden: 64, embed: 32, bound: "tanh", scale: 10 },
} satisfies Record<string, EstimatorConfig>;

export type EstimatorPreset = keyof typeof ESTIMATOR_PRESETS;

/**
 * The estimator used where none is given: the same as the configuration's default, so a method built
 * in code and one built from a config with no estimator keys agree (test/cli/mimmx-keys.test.ts).
 * "joint-64-k8" is the cheapest accurate one measured: within 0.07 nats of the truth on Gaussians
 * (d = 2..8, I = 0.1..2 nats) and the only joint critic whose MIMM-X step stays within ~2x an MTL
 * step on the small CNN; deeper critics cost 4-10x.
 */
export const DEFAULT_ESTIMATOR: EstimatorPreset = "joint-64x3-tanh5";

export function resolveEstimator(cfg: EstimatorConfig | EstimatorPreset | undefined): EstimatorConfig {
  if (cfg === undefined) return ESTIMATOR_PRESETS[DEFAULT_ESTIMATOR] as EstimatorConfig;
  if (typeof cfg === "string") {
    const p = ESTIMATOR_PRESETS[cfg];
    if (!p)
      throw new Error(
        `unknown estimator preset "${cfg}" (known: ${Object.keys(ESTIMATOR_PRESETS).join(", ")})`,
      );
    return p as EstimatorConfig;
  }
  return cfg;
}

export function buildCritic(dimA: number, dimC: number, cfg: EstimatorConfig): Critic {
  return cfg.critic === "joint"
    ? new JointCritic(dimA, dimC, {
        hidden: cfg.hidden,
        firstLayer: cfg.firstLayer,
        scoreBound: cfg.scoreBound,
      })
    : new SeparableCritic(dimA, dimC, {
        hidden: cfg.hidden,
        embed: cfg.embed,
        bound: cfg.bound,
        scale: cfg.scale,
      });
}

/** What one evaluation of the estimator gives: the loss to differentiate and the DV estimate (nats). */
export interface MiTerm {
  /** corrected surrogate S (critics maximise it, encoders minimise it) */
  surrogate: Tensor;
  /** detached DV estimate of the batch, in nats */
  estimate: number;
}

export class MiEstimator {
  readonly critic: Critic;
  readonly ema: LogEma;
  readonly cfg: EstimatorConfig;
  constructor(
    /** a name for messages and logs, e.g. "y;z0" */
    readonly name: string,
    dimA: number,
    dimC: number,
    cfg?: EstimatorConfig | EstimatorPreset,
    /** switches that override the config (undefined keeps the config's value) */
    overrides: { conditional?: boolean } = {},
  ) {
    // A copy: presets are shared objects.
    this.cfg = { ...resolveEstimator(cfg) };
    if (overrides.conditional !== undefined) this.cfg.conditional = overrides.conditional;
    this.critic = buildCritic(dimA, dimC, this.cfg);
    this.ema = new LogEma(this.cfg.emaRate ?? 0.9);
  }

  scores(a: Tensor, c: Tensor, condition?: Tensor): PairScores {
    const negatives = this.cfg.critic === "joint" ? (this.cfg.negatives ?? "all") : "all";
    return this.critic.score(a, c, { negatives, condition: this.cfg.conditional ? condition : undefined });
  }

  /**
   * Scores the pairs, folds the batch into the EMA and returns the corrected surrogate and the DV
   * estimate. Throws NonFiniteError naming this estimator when the estimate is NaN or infinite.
   */
  term(a: Tensor, c: Tensor, condition?: Tensor): MiTerm {
    const s = this.scores(a, c, condition);
    const lme = noGrad(() => logMeanExp(s.neg).item());
    const posMean = noGrad(() => s.pos.mean().item());
    const estimate = assertFinite(`mi[${this.name}]`, posMean - lme);
    const logEma = this.ema.update(lme);
    const surrogate =
      (this.cfg.objective ?? "dv") === "jsd" ? jsdSurrogate(s) : correctedSurrogate(s, logEma);
    return { surrogate, estimate };
  }

  /** The DV estimate without gradients and without touching the EMA (evaluation, audits). */
  estimate(a: Tensor, c: Tensor, condition?: Tensor): number {
    return noGrad(() => dvEstimate(this.scores(a, c, condition)).item());
  }
}

// MimmxConfig: every switch of MIMM-X, each required. The method layer keeps no defaults of its
// own; the run configuration's schema is their single source (src/config/), and tests take theirs
// from test/methods/helpers.ts.
import type { CriticObjective, EstimatorConfig, EstimatorPreset } from "../../mi/estimator.js";
import type { KernelEstimatorConfig } from "../../mi/kernel-pairs.js";
import type { PairSet } from "../../mi/pair-sets.js";
import type { GroupScheme } from "../groups.js";
import type { CommonConfig } from "../method.js";
import type { BalanceBy } from "../reweight-loss.js";
import type { GradientRoute } from "./assemble.js";
import type { ScalingScope } from "./scale.js";

export interface MimmxSwitches {
  /** weight lambda of the MI penalty */
  lambda: number;
  /** estimator preset or full config */
  estimator: EstimatorConfig | EstimatorPreset | KernelEstimatorConfig;
  /** "all" pairs (y-z_i and z_i-z_j) or the "chain" */
  pairs: PairSet;
  /** negatives only among samples with the same y: estimates I(f_y; f_z | y); overrides the estimator's */
  conditional: boolean;
  /** encoder batches per cycle (N_FE) */
  nFE: number;
  /** critic batches per cycle (N_MI) */
  nMI: number;
  /**
   * where critic batches come from: "reuse": every update() is one encoder batch; after each N_FE
   * of them the critics take N_MI steps on the detached features of the batch just seen (fresh
   * negative samples each step; no extra encoder passes). "fresh" (published): update() calls cycle
   * through N_FE encoder batches and N_MI critic batches, the critic batches getting their features
   * from a no-grad encoder pass.
   */
  criticData: "reuse" | "fresh";
  /** critic Adam lr */
  criticLr: number;
  /** s = min(||g_class||, ||g_MI||) / ||g_MI|| */
  adaptiveScaling: boolean;
  /**
   * where s's gradients are taken: "encoder" = every encoder parameter (exact, one extra backward
   * through the encoder), "lastLayer" = the last shared layer only (nearly free)
   */
  scalingScope: ScalingScope;
  /** encoder steps at the start without the MI penalty while the critics train */
  miWarmup: number;
  /** after the warm-up, lambda rises linearly from 0 over this many encoder steps (0: at once) */
  lambdaRamp: number;
  /** which pairs are penalised: "all" pairs of the pair set, or only those with f_y ("y") */
  penalise: "all" | "y";
  /**
   * where the spurion parts' gradients (CE_zi and the MI gradient on f_zi) go: "trunk" through the
   * whole encoder; "lastLayer" only onto the last shared layer's rows of f_zi (see assemble.ts).
   */
  spurionGrad: GradientRoute;
  /**
   * where the MI gradient goes: "trunk" through the whole encoder; "lastLayer" only onto the last
   * shared layer's weight (see assemble.ts). Both routes other than "trunk" need scalingScope
   * "lastLayer" when adaptive scaling is on.
   */
  miGrad: GradientRoute;
  /**
   * what the critics see of each spurion (our design): "part" (METHOD.md) the part f_zi itself;
   * "probs": its head's class probabilities softmax(h_zi(f_zi)), detached. A part is a projection
   * of the shared trunk and carries much besides z_i, so I(f_y; f_zi) is dominated by that shared
   * nuisance; the head's output keeps what f_zi says about z_i only, so the penalty estimates
   * I(f_y; z_i as the model sees it) and all of it lands on f_y. Only the y-z_i pairs are penalised
   * in this view (z_i-z_j would compare two detached views).
   * "labels": the spurion's ground-truth label (one-hot), known at training time; f_zi then shares
   * no trunk nuisance with f_y by construction. The "kernel" estimator reads only this view.
   */
  spurionView: "part" | "probs" | "labels";
  /** what critics ascend and the encoder descends: "dv" (published) or "jsd"; overrides the estimator's */
  objective: CriticObjective;
  /**
   * the distribution the MI terms refer to: "train" (METHOD.md) or "balanced" (our design): every
   * batch reweighted so that the labels of each pair's tasks are independent and uniform, as in the
   * balanced test (see ../pair-weights.ts). Needs the stacked (joint, split-first-layer) critics.
   */
  miDistribution: "train" | "balanced";
  /**
   * the loss on y (our design, "MIMM-X combined with a group-robust loss on y"): plain
   * cross-entropy, or GroupDRO's weighted group losses (../group-dro-loss.ts) over the given groups.
   */
  yLoss: YLoss;
}

export type YLoss =
  | { kind: "ce" }
  | { kind: "groupdro"; eta: number; groups: GroupScheme }
  | { kind: "reweight"; groups: GroupScheme; minCount: number; by?: BalanceBy };

/** GradNorm loss weights w_k (../gradnorm.ts), or none (every w_k = 1). */
export type GradNormSwitch =
  | { gradNorm: false }
  | {
      gradNorm: true;
      gradNormAlpha: number;
      gradNormLr: number;
      /**
       * whether GradNorm also weights the MI term. false: it balances the CE terms only and the MI
       * term keeps w_MI = 1, so lambda keeps its meaning (GradNorm otherwise shrinks w_MI ~ 1/lambda).
       */
      gradNormMi: boolean;
    };

/** The Confounder Attention Weighter a_p (../attention.ts), or uniform a_p = 1. */
export type AttentionSwitch =
  | { attention: false }
  | { attention: true; attentionTau: number; attentionFloor: number; attentionEma: number };

export type MimmxConfig = CommonConfig & MimmxSwitches & GradNormSwitch & AttentionSwitch;

const SWITCH_KEYS: (keyof MimmxSwitches)[] = [
  "lambda",
  "estimator",
  "pairs",
  "conditional",
  "nFE",
  "nMI",
  "criticData",
  "criticLr",
  "adaptiveScaling",
  "scalingScope",
  "miWarmup",
  "lambdaRamp",
  "penalise",
  "spurionGrad",
  "miGrad",
  "spurionView",
  "objective",
  "miDistribution",
  "yLoss",
];

/**
 * Refuses a config with a missing key (configs built as JSON or cast past the type checker would
 * otherwise run with `undefined` in a switch) or with routes that a scaling scope cannot honour.
 */
export function checkMimmxConfig(cfg: MimmxConfig, who = "Mimmx"): void {
  const required: string[] = [...SWITCH_KEYS, "gradNorm", "attention"];
  if (cfg.gradNorm) required.push("gradNormAlpha", "gradNormLr", "gradNormMi");
  if (cfg.attention) required.push("attentionTau", "attentionFloor", "attentionEma");
  const missing = required.filter((k) => (cfg as unknown as Record<string, unknown>)[k] === undefined);
  if (missing.length > 0)
    throw new Error(
      `${who}: config key${missing.length > 1 ? "s" : ""} ${missing.join(", ")} missing (the method layer has no defaults; the run config's schema holds them)`,
    );
  if (
    cfg.adaptiveScaling &&
    cfg.scalingScope === "encoder" &&
    (cfg.spurionGrad !== "trunk" || cfg.miGrad !== "trunk")
  )
    throw new Error(
      `${who}: spurionGrad "${cfg.spurionGrad}" / miGrad "${cfg.miGrad}" need scalingScope "lastLayer" (with scalingScope "encoder" every gradient goes through the trunk)`,
    );
  const kernel = typeof cfg.estimator === "object" && cfg.estimator.critic === "kernel";
  if (kernel && cfg.spurionView !== "labels")
    throw new Error(
      `${who}: the kernel estimator scores f_y against the spurion labels; it needs spurionView "labels", got "${cfg.spurionView}"`,
    );
  if (kernel && cfg.miDistribution !== "train")
    throw new Error(
      `${who}: the kernel estimator balances the (y, z_i) groups itself; miDistribution "${cfg.miDistribution}" does not apply (use "train")`,
    );
}

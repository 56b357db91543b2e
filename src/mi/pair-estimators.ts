// The MI estimators of a method: one per pair of feature parts. Two interchangeable forms:
// - StackedPairEstimators: every pair's joint critic in one StackedJointCritic (batched matmuls),
//   used when the critics are joint, split-first-layer, and all pairs have the same widths;
// - SeparatePairEstimators: one MiEstimator per pair (any critic, e.g. the published or separable).

import type { Module } from "../nn/module.js";
import { ModuleList } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { cat, stack } from "../tensor/functions.js";
import { native } from "../tensor/native.js";
import type { Tensor } from "../tensor/tensor.js";
import { LogEma } from "./dv.js";
import {
  type CriticObjective,
  type EstimatorConfig,
  type EstimatorPreset,
  MiEstimator,
  resolveEstimator,
} from "./estimator.js";
import { assertFinite } from "./guard.js";
import type { PartPair } from "./pair-sets.js";
import { StackedJointCritic } from "./stacked-critic.js";
import {
  stackedDv,
  stackedJsdSurrogate,
  stackedLogMeanExp,
  stackedPosMean,
  stackedSurrogate,
} from "./stacked-dv.js";

export interface PairTerms {
  /** corrected surrogate per pair [P] (critics maximise, the encoder minimises) */
  surrogates: Tensor;
  /** DV estimate per pair, nats, detached */
  estimates: number[];
}

export interface PairEstimatorSet {
  readonly pairs: PartPair[];
  /** every critic parameter, for the critic optimiser and checkpoints */
  readonly module: Module;
  /**
   * Scores every pair on the parts, folds the batch into the EMAs; NaN/Inf -> NonFiniteError.
   * condition: labels for conditional negatives; logWeights [P, B]: per-pair log importance weights
   * of the samples (the estimates then refer to the reweighted distribution).
   */
  terms(parts: Tensor[], condition?: Tensor, logWeights?: Tensor): PairTerms;
  /** DV estimates without gradient and without touching the EMAs. */
  estimates(parts: Tensor[], condition?: Tensor, logWeights?: Tensor): number[];
  emaState(): (number | null)[];
  setEmaState(s: (number | null)[]): void;
}

/** Concatenation of the given parts (one part: the part itself). */
export function gatherParts(parts: Tensor[], idx: number[]): Tensor {
  return idx.length === 1
    ? parts[idx[0]]
    : cat(
        idx.map((i) => parts[i]),
        1,
      );
}

/** Width of each part: one number for all parts, or one per part index. */
export type PartWidths = number | number[];

/** Width of the concatenation of the given parts. */
export function gatheredWidth(widths: PartWidths, idx: number[]): number {
  return idx.reduce((acc, i) => acc + (typeof widths === "number" ? widths : widths[i]), 0);
}

/** Stacked critic inputs: a [P, B, dA] and c [P, B, dC], pair p in row p. */
export interface StackedInputs {
  a: Tensor;
  c: Tensor;
}

/**
 * How critic steps of stacked estimators run: true (default) the fused native step, with its
 * hand-written kernel for one-hidden-layer float32 critics; "aten" the fused step through ATen ops
 * only; false the TS path (the reference). Env MIMMX_FUSED_CRITIC=0 / aten sets the default.
 */
export type FusedCriticMode = boolean | "aten";
let fusedCriticMode: FusedCriticMode =
  process.env.MIMMX_FUSED_CRITIC === "0" ? false : process.env.MIMMX_FUSED_CRITIC === "aten" ? "aten" : true;
/** Sets the critic step mode (see FusedCriticMode); returns the previous one. */
export function setFusedCriticStep(mode: FusedCriticMode): FusedCriticMode {
  const prev = fusedCriticMode;
  fusedCriticMode = mode;
  return prev;
}

export class StackedPairEstimators implements PairEstimatorSet {
  readonly module: StackedJointCritic;
  readonly emas: LogEma[];
  constructor(
    readonly pairs: PartPair[],
    readonly widths: PartWidths,
    readonly cfg: Extract<EstimatorConfig, { critic: "joint" }>,
  ) {
    const dimA = gatheredWidth(widths, pairs[0].a);
    const dimC = gatheredWidth(widths, pairs[0].c);
    this.module = new StackedJointCritic(pairs.length, dimA, dimC, {
      hidden: cfg.hidden,
      negatives: cfg.negatives ?? "all",
      scoreBound: cfg.scoreBound,
    });
    this.emas = pairs.map(() => new LogEma(cfg.emaRate ?? 0.9));
  }
  /** The stacked critic inputs of the parts: a [P, B, dA], c [P, B, dC]. */
  stackInputs(parts: Tensor[]): StackedInputs {
    return {
      a: stack(this.pairs.map((p) => gatherParts(parts, p.a))),
      c: stack(this.pairs.map((p) => gatherParts(parts, p.c))),
    };
  }
  /** Critic scores of stacked inputs; the condition applies only to a conditional estimator. */
  private score(inputs: StackedInputs, condition?: Tensor, logWeights?: Tensor) {
    return this.module.score(inputs.a, inputs.c, this.cfg.conditional ? condition : undefined, logWeights);
  }
  terms(parts: Tensor[], condition?: Tensor, logWeights?: Tensor): PairTerms {
    return this.stackedTerms(this.stackInputs(parts), condition, logWeights);
  }
  /** terms() on inputs already stacked (stackInputs), e.g. shared by several critic steps. */
  stackedTerms(inputs: StackedInputs, condition?: Tensor, logWeights?: Tensor): PairTerms {
    const s = this.score(inputs, condition, logWeights);
    const lme = stackedLogMeanExp(s);
    const [lmeValues, posMeans] = noGrad(() => [lme.toArray(), stackedPosMean(s).toArray()]);
    const estimates = this.pairs.map((p, i) => assertFinite(`mi[${p.name}]`, posMeans[i] - lmeValues[i]));
    const logEma = tensor(
      this.emas.map((e, i) => e.update(lmeValues[i])),
      { device: s.pos.device },
    );
    const surrogates =
      (this.cfg.objective ?? "dv") === "jsd" ? stackedJsdSurrogate(s) : stackedSurrogate(s, lme, logEma);
    return { surrogates, estimates };
  }
  /**
   * The critic half of a critic step in one native call (native/src/critic.cc): scores, estimates,
   * EMA update, surrogate and its backward pass, which accumulates into the critic parameters' .grad
   * exactly as `stackedTerms(...).surrogates.sum().neg().backward()` does. Returns the estimates;
   * null where the addon lacks the fused op or fusing is switched off (the caller takes the TS path).
   * Inputs must not require grad. NaN/Inf -> NonFiniteError before any state changes, as terms().
   */
  fusedCriticBackward(inputs: StackedInputs, condition?: Tensor, logWeights?: Tensor): number[] | null {
    if (fusedCriticMode === false || typeof native.stacked_critic_step !== "function") return null;
    const m = this.module;
    const params = [m.wa, m.wc, m.biases[0]];
    m.gammas.forEach((g, l) => {
      params.push(g, m.betas[l], m.weights[l], m.biases[l + 1]);
    });
    const negatives = this.module.cfg.negatives;
    const out = native.stacked_critic_step(
      inputs.a._h,
      inputs.c._h,
      params.map((p) => p._h),
      negatives === "all" ? 0 : negatives,
      this.cfg.conditional && condition ? condition._h : null,
      logWeights ? logWeights._h : null,
      this.module.cfg.scoreBound ?? 0,
      this.cfg.objective ?? "dv",
      this.emas.map((e) => e.logValue ?? Number.NaN),
      this.emas[0]?.rate ?? 0.9,
      fusedCriticMode === "aten",
    ) as { lme: number[]; posMean: number[]; logEma?: number[]; finite: boolean };
    const estimates = this.pairs.map((p, i) => assertFinite(`mi[${p.name}]`, out.posMean[i] - out.lme[i]));
    out.logEma!.forEach((v, i) => {
      this.emas[i].logValue = v;
    });
    return estimates;
  }
  estimates(parts: Tensor[], condition?: Tensor, logWeights?: Tensor): number[] {
    return noGrad(() => stackedDv(this.score(this.stackInputs(parts), condition, logWeights)).toArray());
  }
  emaState(): (number | null)[] {
    return this.emas.map((e) => e.logValue);
  }
  setEmaState(s: (number | null)[]): void {
    this.emas.forEach((e, i) => {
      e.logValue = s[i] ?? null;
    });
  }
}

export class SeparatePairEstimators implements PairEstimatorSet {
  readonly estimators: MiEstimator[];
  readonly module: ModuleList;
  constructor(
    readonly pairs: PartPair[],
    widths: PartWidths,
    cfg: EstimatorConfig,
  ) {
    this.estimators = pairs.map(
      (p) => new MiEstimator(p.name, gatheredWidth(widths, p.a), gatheredWidth(widths, p.c), cfg),
    );
    this.module = new ModuleList(this.estimators.map((e) => e.critic));
  }
  terms(parts: Tensor[], condition?: Tensor, logWeights?: Tensor): PairTerms {
    refuseWeights(logWeights);
    const ts = this.pairs.map((p, i) =>
      this.estimators[i].term(gatherParts(parts, p.a), gatherParts(parts, p.c), condition),
    );
    return { surrogates: stack(ts.map((t) => t.surrogate)), estimates: ts.map((t) => t.estimate) };
  }
  estimates(parts: Tensor[], condition?: Tensor, logWeights?: Tensor): number[] {
    refuseWeights(logWeights);
    return this.pairs.map((p, i) =>
      this.estimators[i].estimate(gatherParts(parts, p.a), gatherParts(parts, p.c), condition),
    );
  }
  emaState(): (number | null)[] {
    return this.estimators.map((e) => e.ema.logValue);
  }
  setEmaState(s: (number | null)[]): void {
    this.estimators.forEach((e, i) => {
      e.ema.logValue = s[i] ?? null;
    });
  }
}

function refuseWeights(logWeights?: Tensor): void {
  if (logWeights)
    throw new Error(
      'MI estimates under a reweighted distribution (miDistribution "balanced") need the stacked ' +
        "estimators: a joint critic with a split first layer and equal part widths",
    );
}

/**
 * The estimators for a set of pairs: stacked when possible (joint critic, split first layer, equal
 * widths across pairs), else one per pair. `widths`: the width of every part (a number when all
 * parts are equal). `conditional` overrides the config's switch when given.
 */
export function buildPairEstimators(
  pairs: PartPair[],
  widths: PartWidths,
  estimator?: EstimatorConfig | EstimatorPreset,
  overrides: { conditional?: boolean; stacked?: boolean; objective?: CriticObjective } = {},
): PairEstimatorSet {
  const cfg = { ...resolveEstimator(estimator) };
  if (overrides.conditional !== undefined) cfg.conditional = overrides.conditional;
  if (overrides.objective !== undefined) cfg.objective = overrides.objective;
  const wa = (p: PartPair) => gatheredWidth(widths, p.a);
  const wc = (p: PartPair) => gatheredWidth(widths, p.c);
  const sameWidths = pairs.every((p) => wa(p) === wa(pairs[0]) && wc(p) === wc(pairs[0]));
  const stackable =
    cfg.critic === "joint" && (cfg.firstLayer ?? "split") === "split" && sameWidths && pairs.length > 0;
  if (stackable && overrides.stacked !== false) return new StackedPairEstimators(pairs, widths, cfg);
  return new SeparatePairEstimators(pairs, widths, cfg);
}

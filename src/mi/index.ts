// Mutual-information estimation (MINE / Donsker-Varadhan) for MIMM-X.
export {
  Critic,
  JointCritic,
  type JointCriticConfig,
  SeparableCritic,
  type SeparableCriticConfig,
} from "./critics.js";
export { correctedSurrogate, dvEstimate, LogEma, logMeanExp, type PairScores } from "./dv.js";
export {
  buildCritic,
  DEFAULT_ESTIMATOR,
  ESTIMATOR_PRESETS,
  type EstimatorConfig,
  type EstimatorPreset,
  MiEstimator,
  type MiTerm,
  resolveEstimator,
} from "./estimator.js";
export { assertAllFinite, assertFinite, NonFiniteError } from "./guard.js";
export {
  buildPairEstimators,
  type FusedCriticMode,
  gatherParts,
  type PairEstimatorSet,
  type PairTerms,
  SeparatePairEstimators,
  type StackedInputs,
  StackedPairEstimators,
  setFusedCriticStep,
} from "./pair-estimators.js";
export { miPairs, type PairSet, type PartPair } from "./pair-sets.js";
export { allPairsMask, type NegativeSampling, sampledMask, sampledPartners } from "./pairs.js";
export { type StackedCriticConfig, StackedJointCritic, type StackedScores } from "./stacked-critic.js";
export { stackedDv, stackedLogMeanExp, stackedSurrogate } from "./stacked-dv.js";

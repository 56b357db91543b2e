// Orchestration of a whole run: config -> data -> method -> train -> evaluate -> audit -> report.

export { type PreparedData, prepareData, syntheticSpurion } from "./data.js";
export { DEMO_CONFIG, DEMO_DATA, DEMO_METHODS, demoConfigs } from "./demo.js";
export {
  dataRecordFromRun,
  loadData,
  loadTrainedMethod,
  methodConfigFromRun,
  openRun,
  type RunOptions,
  type RunResult,
  reevaluateRun,
  reportRun,
  runExperiment,
} from "./experiment.js";
export { METHOD_FILES, methodDir, RUN_FILES } from "./layout.js";
export { buildMethod, estimatorOf, METHOD_LABELS } from "./method.js";
export {
  dfrFitSeed,
  dfrSplitOf,
  PEER_FILES,
  refitInputsOf,
  stagePeer,
  subsetOf,
  taskLabelsOf,
} from "./peers.js";

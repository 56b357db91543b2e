// torch.optim for mimmx.
export { Adam, type AdamOptions, AdamW } from "./adam.js";
export { clipGradNorm_, globalGradNorm } from "./clip.js";
export {
  makeOptimizer,
  makeScheduler,
  OPTIMIZER_NAMES,
  type OptimizerName,
  type OptimizerSpec,
  SCHEDULER_NAMES,
  type SchedulerName,
  type SchedulerSpec,
} from "./factory.js";
export { Optimizer, type OptimizerStateDict, type ParamGroup } from "./optimizer.js";
export { CosineAnnealingLR, LRScheduler, type SchedulerStateDict, StepLR } from "./scheduler.js";
export { SGD, type SGDOptions } from "./sgd.js";

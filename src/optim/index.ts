// torch.optim for mimmx.
export { Adam, type AdamOptions, AdamW } from "./adam.js";
export { Optimizer, type OptimizerStateDict, type ParamGroup } from "./optimizer.js";
export { CosineAnnealingLR, LRScheduler, StepLR } from "./scheduler.js";
export { SGD, type SGDOptions } from "./sgd.js";

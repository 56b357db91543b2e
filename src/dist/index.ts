// Distributed data parallel training on c10d (PyTorch's collective layer): torchrun's environment
// contract, the default process group and its collectives, DistributedDataParallel (bucketed,
// overlapped gradient all-reduce), SyncBatchNorm, the distributed sampler and the launcher.
export * from "./ddp.js";
export * from "./env.js";
export * from "./global-batch.js";
export * from "./launch.js";
export * from "./method.js";
export * from "./process-group.js";
export * from "./run.js";
export * from "./sampler.js";
export * from "./sync-batchnorm.js";

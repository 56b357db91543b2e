// Training methods behind one interface (see method.ts) and a registry by name.
export { Adversarial, type AdversarialConfig } from "./adversarial.js";
export { type AttentionConfig, ConfounderAttention } from "./attention.js";
export { type Batch, type DataBatch, type TaskNames, taskLabels, toBatch } from "./batch.js";
export { Dfr, type DfrConfig, fitDfrHead, fitL1Logistic, splitHoldout } from "./dfr.js";
export { Erm } from "./erm.js";
export { type GradNormConfig, GradNormWeights } from "./gradnorm.js";
export { GroupDro, type GroupDroConfig } from "./groupdro.js";
export * as groups from "./groups.js";
export { errorSet, Jtt, type JttConfig } from "./jtt.js";
export { BaseMethod, type CommonConfig, type EncoderSpec, type Method, ModuleHolder } from "./method.js";
export { Mimm, type MimmConfig } from "./mimm.js";
export { Mimmx, type MimmxConfig } from "./mimmx.js";
export { Mtl } from "./mtl.js";
export { createMethod, METHOD_NAMES, type MethodConfig, type MethodName } from "./registry.js";
export { Reweight, type ReweightConfig } from "./reweight.js";
export { GroupReweightLoss, weightedCe } from "./reweight-loss.js";
export { Subsample, type SubsampleConfig } from "./subsample.js";

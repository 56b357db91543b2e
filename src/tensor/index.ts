// The tensor engine's public surface: `import * as torch from "../tensor/index.js"` reads like PyTorch.
export * from "./autograd.js";
export * from "./creation.js";
export * from "./functions.js";
export { type PlacementRecord, recordDevices, recordedPlacements } from "./placement.js";
export * from "./runtime.js";
export { scopeDepth, tidy, tidyAsync } from "./scope.js";
export { type AnyTypedArray, type Device, type DType, type Operand, Tensor } from "./tensor.js";

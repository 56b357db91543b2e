// The training loop and its data plumbing.
export {
  type ArrayDataset,
  type ArraySourceOptions,
  arraySource,
  type BatchSource,
  dataBatchSource,
  gatherBatch,
} from "./data.js";
export { type Criterion, type ProgressEvent, type TrainOptions, type TrainResult, train } from "./loop.js";
export { mixSeed, mulberry32, permutation } from "./rng.js";

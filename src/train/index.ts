// The training loop and its data plumbing.

export { hashSeed, permutation, Rng } from "../util/random.js";
export {
  type ArrayDataset,
  type ArraySourceOptions,
  type Augmentation,
  arraySource,
  augmentSeed,
  type BatchSource,
  dataBatchSource,
  gatherBatch,
} from "./data.js";
export { type Criterion, type ProgressEvent, type TrainOptions, type TrainResult, train } from "./loop.js";

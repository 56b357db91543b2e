// Public surface of the data layer (tensor-free: everything is typed arrays).

export { epochPermutation, hashSeed, Rng } from "../util/random.js";
export {
  benchmarkCountsMarkdown,
  type ConfoundedBenchmark,
  FASHION_CONFOUNDED_DEFAULTS,
  type FashionConfoundedOptions,
  fashionConfounded,
} from "./benchmarks/fashion-confounded.js";
export { ImageDecodeError, UnsupportedFormatError } from "./io/errors.js";
export { FASHION_CLASSES, loadFashionMnist } from "./io/fashion-mnist.js";
export { decodeImage, type ReadOptions, readImage, sniffFormat } from "./io/read.js";
export { DataLoader, type LoaderOptions, type LoaderSummary, materialize } from "./loader.js";
export type { FileDataset, FileItem, PipelineSpec } from "./pipeline.js";
export { type BrainLayout, type BrainMriOptions, brainMri } from "./sources/brain-mri.js";
export {
  CHEXPERT_COLUMNS,
  CHEXPERT_OBSERVATIONS,
  type ChexpertOptions,
  type ChexpertSpurion,
  chexpert,
  chexpertTransforms,
} from "./sources/chexpert.js";
export { fashionMnistDataset } from "./sources/fashion-mnist.js";
export type { LabelSpec, MissingPolicy } from "./sources/labels.js";
export { fromManifest, poolOf, type SourceResult, subsetFileDataset } from "./sources/manifest.js";
export {
  type ConfoundedConfig,
  type ConfoundedSplit,
  makeConfoundedSplits,
  type SplitRequest,
  type SpurionSpec,
} from "./splits/confounded.js";
export { countsToMarkdown, type SplitCounts } from "./splits/counts.js";
export { applySpurions } from "./spurions/compose.js";
export { applySpurion, type SyntheticSpurion } from "./spurions/synthetic.js";
export { Table } from "./table/csv.js";
export { Compose, type TransformSpec } from "./transforms/compose.js";
export type { Batch, ImageArray, InMemoryDataset, TaskInfo } from "./types.js";

// Tensor-free evaluation: metrics with intervals, linear probes, t-SNE. Everything takes plain
// typed arrays, so it runs without the tensor engine.

export { Rng } from "../util/random.js";
export * from "./ci.js";
export * from "./logistic.js";
export * from "./metrics.js";
export * from "./probe.js";
export * from "./tsne.js";

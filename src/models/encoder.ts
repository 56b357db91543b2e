// The encoder contract every method relies on: an image batch in, one feature vector of length
// (N+1)*k out, read as N+1 equal parts f_y, f_z1..f_zN (METHOD.md, "Model").
import type { Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";

/** How the feature vector is partitioned: numParts = 1 primary + N spurions, each partSize wide. */
export interface PartitionSpec {
  numParts: number;
  partSize: number;
}

export abstract class Encoder extends Module {
  readonly numParts: number;
  readonly partSize: number;
  constructor(spec: PartitionSpec) {
    super();
    if (!(spec.numParts >= 1 && spec.partSize >= 1)) {
      throw new Error(
        `Encoder: numParts and partSize must be >= 1, got ${spec.numParts} and ${spec.partSize}`,
      );
    }
    this.numParts = spec.numParts;
    this.partSize = spec.partSize;
  }
  /** Length of the whole feature vector, (N+1)*k. */
  get featureDim(): number {
    return this.numParts * this.partSize;
  }
  /**
   * The embedding: everything before the last shared layer, [B, ...image] -> [B, D] (the small
   * CNN's 256 hidden units, a ResNet's pooled channels). DFR refits its classifier on it.
   */
  abstract embed(x: Tensor): Tensor;
  /** The last layer shared by every task: the embedding -> the (N+1)k features. */
  abstract readonly out: Linear;
  /** [B, ...image] -> [B, featureDim]. */
  override forward(x: Tensor): Tensor {
    return this.out.forward(this.embed(x));
  }
  /**
   * The weight of the last layer shared by every task (the final Linear producing the features):
   * GradNorm measures per-loss gradient norms here, because it is cheap and every loss reaches it.
   */
  lastSharedWeight(): Tensor {
    return this.out.weight;
  }
}

/** Splits features [B, numParts*k] into numParts views [B, k]: f_y first, then f_z1..f_zN. */
export function splitFeatures(features: Tensor, numParts: number): Tensor[] {
  const dim = features.shape[1];
  if (dim % numParts !== 0)
    throw new Error(`splitFeatures: ${dim} features do not split into ${numParts} equal parts`);
  return features.split(dim / numParts, 1);
}

// The model every method trains: a partitioned encoder plus one head per task. Tasks and feature
// parts correspond one to one: tasks[0] is the primary task y (part f_y), tasks[i] is spurion z_i.
import { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Encoder, splitFeatures } from "./encoder.js";
import { type HeadConfig, Heads, type TaskSpec } from "./heads.js";

export class PartitionedModel extends Module {
  readonly encoder: Encoder;
  readonly heads: Heads;
  constructor(
    encoder: Encoder,
    readonly tasks: TaskSpec[],
    headCfg: HeadConfig = {},
  ) {
    super();
    if (tasks.length !== encoder.numParts) {
      throw new Error(
        `PartitionedModel: ${tasks.length} tasks but the encoder has ${encoder.numParts} feature parts`,
      );
    }
    this.encoder = this.registerModule("encoder", encoder);
    this.heads = this.registerModule("heads", new Heads(tasks, encoder.partSize, headCfg));
  }
  /** The whole feature vector [B, (N+1)k]. */
  forward(x: Tensor): Tensor {
    return this.encoder.forward(x);
  }
  /** f_y, f_z1..f_zN. */
  split(features: Tensor): Tensor[] {
    return splitFeatures(features, this.encoder.numParts);
  }
  /** Logits per task from the parts (tasks without a head call are still computed: they are cheap). */
  logits(parts: Tensor[]): Tensor[] {
    return parts.map((p, i) => this.heads.head(i, p));
  }
}

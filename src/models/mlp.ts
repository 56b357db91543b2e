// An MLP encoder for inputs that are already feature vectors [B, D] (precomputed embeddings,
// tabular features, the toy shortcut problems the method tests run on):
// linear(D->h1) ReLU ... linear(->(N+1)k).
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { Encoder, type PartitionSpec } from "./encoder.js";

export interface MlpConfig extends PartitionSpec {
  inputDim: number;
  /** hidden widths (default [64]) */
  hidden?: number[];
}

export class MlpEncoder extends Encoder {
  readonly body: nn.Sequential;
  readonly out: nn.Linear;
  readonly inputDim: number;
  constructor(cfg: MlpConfig) {
    super(cfg);
    if (!(Number.isInteger(cfg.inputDim) && cfg.inputDim >= 1))
      throw new Error(`MlpEncoder: inputDim must be a positive integer, got ${cfg.inputDim}`);
    this.inputDim = cfg.inputDim;
    const layers: nn.Module[] = [];
    let width = cfg.inputDim;
    for (const h of cfg.hidden ?? [64]) {
      layers.push(new nn.Linear(width, h), new nn.ReLU());
      width = h;
    }
    this.body = this.registerModule("body", new nn.Sequential(...layers));
    this.out = this.registerModule("out", new nn.Linear(width, this.featureDim));
  }
  embed(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.inputDim)
      throw new Error(`MlpEncoder: expects [B, ${this.inputDim}], got [${x.shape.join(", ")}]`);
    return this.body.forward(x);
  }
}

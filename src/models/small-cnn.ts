// The small CNN for 28x28 single-channel images used by the published precursor (Morpho-MNIST):
// conv(1->6,3) ReLU maxpool2, conv(6->16,3) ReLU, conv(16->16,3) ReLU maxpool2, flatten,
// linear(256->256) ReLU, linear(256->(N+1)k).
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { Encoder, type PartitionSpec } from "./encoder.js";

export interface SmallCnnConfig extends PartitionSpec {
  inChannels?: number;
}

export class SmallCnn extends Encoder {
  readonly body: nn.Sequential;
  readonly out: nn.Linear;
  constructor(cfg: SmallCnnConfig) {
    super(cfg);
    this.body = this.registerModule(
      "body",
      new nn.Sequential(
        new nn.Conv2d(cfg.inChannels ?? 1, 6, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(6, 16, 3),
        new nn.ReLU(),
        new nn.Conv2d(16, 16, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(256, 256),
        new nn.ReLU(),
      ),
    );
    this.out = this.registerModule("out", new nn.Linear(256, this.featureDim));
  }
  embed(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[2] !== 28 || x.shape[3] !== 28) {
      throw new Error(`SmallCnn: expects [B, C, 28, 28], got [${x.shape.join(", ")}]`);
    }
    return this.body.forward(x);
  }
}

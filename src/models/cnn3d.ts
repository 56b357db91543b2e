// A 3D CNN for MRI volumes [B, C, D, H, W]: stages of conv3d(3)-BN-ReLU-maxpool(2), global average
// pooling, linear(->hidden) ReLU, linear(->(N+1)k). Channel widths are configurable.
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { Encoder, type PartitionSpec } from "./encoder.js";

export interface Cnn3dConfig extends PartitionSpec {
  inChannels?: number;
  /** output channels of each conv stage (default 8, 16, 32, 64) */
  channels?: number[];
  hidden?: number;
}

export class Cnn3dEncoder extends Encoder {
  readonly body: nn.Sequential;
  readonly fc: nn.Linear;
  readonly out: nn.Linear;
  constructor(cfg: Cnn3dConfig) {
    super(cfg);
    const channels = cfg.channels ?? [8, 16, 32, 64];
    const layers: nn.Module[] = [];
    let c = cfg.inChannels ?? 1;
    for (const w of channels) {
      layers.push(
        new nn.Conv3d(c, w, 3, { padding: 1, bias: false }),
        new nn.BatchNorm3d(w),
        new nn.ReLU(),
        new nn.MaxPool3d(2),
      );
      c = w;
    }
    this.body = this.registerModule("body", new nn.Sequential(...layers));
    const hidden = cfg.hidden ?? 256;
    this.fc = this.registerModule("fc", new nn.Linear(c, hidden));
    this.out = this.registerModule("out", new nn.Linear(hidden, this.featureDim));
  }
  embed(x: Tensor): Tensor {
    if (x.ndim !== 5) throw new Error(`Cnn3dEncoder: expects [B, C, D, H, W], got [${x.shape.join(", ")}]`);
    return this.fc.forward(this.body.forward(x).mean([2, 3, 4])).relu();
  }
}

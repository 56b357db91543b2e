// DenseNet-121 (Huang et al. 2017) as a 2D encoder: dense blocks of BN-ReLU-conv1x1-BN-ReLU-conv3x3
// layers whose outputs are concatenated, transitions that halve channels and resolution. Growth rate,
// block sizes and initial width are configurable (tests build a tiny one); defaults are DenseNet-121's.
// Every ReLU follows a BatchNorm and runs in place, as in torchvision's DenseNet: BatchNorm's backward
// needs its input, not its output, so overwriting the output saves an activation per layer.

import * as nn from "../nn/index.js";
import { cat } from "../tensor/functions.js";
import type { Tensor } from "../tensor/tensor.js";
import { Encoder, type PartitionSpec } from "./encoder.js";

export interface DenseNetConfig extends PartitionSpec {
  inChannels?: number;
  growthRate?: number;
  /** layers per dense block (DenseNet-121: 6, 12, 24, 16) */
  blockConfig?: number[];
  initFeatures?: number;
  /** bottleneck width as a multiple of the growth rate */
  bnSize?: number;
}

class DenseLayer extends nn.Module {
  readonly body: nn.Sequential;
  constructor(inC: number, growth: number, bnSize: number) {
    super();
    this.body = this.registerModule(
      "body",
      new nn.Sequential(
        new nn.BatchNorm2d(inC),
        new nn.ReLU(true),
        new nn.Conv2d(inC, bnSize * growth, 1, { bias: false }),
        new nn.BatchNorm2d(bnSize * growth),
        new nn.ReLU(true),
        new nn.Conv2d(bnSize * growth, growth, 3, { padding: 1, bias: false }),
      ),
    );
  }
  /** Returns the input with the new growth channels appended. */
  forward(x: Tensor): Tensor {
    return cat([x, this.body.forward(x)], 1);
  }
}

export class DenseNetEncoder extends Encoder {
  readonly features: nn.Sequential;
  readonly out: nn.Linear;
  constructor(cfg: DenseNetConfig) {
    super(cfg);
    const growth = cfg.growthRate ?? 32;
    const blocks = cfg.blockConfig ?? [6, 12, 24, 16];
    const bnSize = cfg.bnSize ?? 4;
    let c = cfg.initFeatures ?? 64;
    const layers: nn.Module[] = [
      new nn.Conv2d(cfg.inChannels ?? 1, c, 7, { stride: 2, padding: 3, bias: false }),
      new nn.BatchNorm2d(c),
      new nn.ReLU(true),
      new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
    ];
    blocks.forEach((n, b) => {
      for (let i = 0; i < n; i++) {
        layers.push(new DenseLayer(c, growth, bnSize));
        c += growth;
      }
      if (b < blocks.length - 1) {
        const half = Math.floor(c / 2);
        layers.push(
          new nn.BatchNorm2d(c),
          new nn.ReLU(true),
          new nn.Conv2d(c, half, 1, { bias: false }),
          new nn.AvgPool2d(2),
        );
        c = half;
      }
    });
    layers.push(new nn.BatchNorm2d(c), new nn.ReLU(true));
    this.features = this.registerModule("features", new nn.Sequential(...layers));
    this.out = this.registerModule("out", new nn.Linear(c, this.featureDim));
  }
  embed(x: Tensor): Tensor {
    return this.features.forward(x).mean([2, 3]);
  }
}

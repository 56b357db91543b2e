// A ResNet-18-style 2D encoder (He et al. 2016): a stem, four stages of BasicBlocks, global average
// pooling, then a Linear to the partitioned features. Widths and block counts are configurable so
// tests can build a tiny one; the defaults are ResNet-18's.
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { Encoder, type PartitionSpec } from "./encoder.js";

export interface ResNetConfig extends PartitionSpec {
  inChannels?: number;
  /** channels of the four stages (ResNet-18: 64, 128, 256, 512) */
  widths?: number[];
  /** BasicBlocks per stage (ResNet-18: 2, 2, 2, 2) */
  blocks?: number[];
  /** 3x3 stride-1 stem without max-pool, for small images (CIFAR-style); default: 7x7/2 + maxpool */
  smallInput?: boolean;
}

/** conv3x3-BN-ReLU-conv3x3-BN plus a (projected when the shape changes) shortcut, then ReLU. */
class BasicBlock extends nn.Module {
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm2d;
  readonly shortcut: nn.Sequential | null;
  constructor(inC: number, outC: number, stride: number) {
    super();
    this.conv1 = this.registerModule(
      "conv1",
      new nn.Conv2d(inC, outC, 3, { stride, padding: 1, bias: false }),
    );
    this.bn1 = this.registerModule("bn1", new nn.BatchNorm2d(outC));
    this.conv2 = this.registerModule("conv2", new nn.Conv2d(outC, outC, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule("bn2", new nn.BatchNorm2d(outC));
    this.shortcut =
      stride !== 1 || inC !== outC
        ? this.registerModule(
            "shortcut",
            new nn.Sequential(new nn.Conv2d(inC, outC, 1, { stride, bias: false }), new nn.BatchNorm2d(outC)),
          )
        : null;
  }
  forward(x: Tensor): Tensor {
    const h = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
    return h.add(this.shortcut ? this.shortcut.forward(x) : x).relu();
  }
}

export class ResNetEncoder extends Encoder {
  readonly stem: nn.Sequential;
  readonly stages: nn.Sequential;
  readonly out: nn.Linear;
  constructor(cfg: ResNetConfig) {
    super(cfg);
    const widths = cfg.widths ?? [64, 128, 256, 512];
    const blocks = cfg.blocks ?? [2, 2, 2, 2];
    if (widths.length !== blocks.length)
      throw new Error("ResNetEncoder: widths and blocks need the same length");
    const inC = cfg.inChannels ?? 1;
    this.stem = this.registerModule(
      "stem",
      cfg.smallInput
        ? new nn.Sequential(
            new nn.Conv2d(inC, widths[0], 3, { padding: 1, bias: false }),
            new nn.BatchNorm2d(widths[0]),
            new nn.ReLU(),
          )
        : new nn.Sequential(
            new nn.Conv2d(inC, widths[0], 7, { stride: 2, padding: 3, bias: false }),
            new nn.BatchNorm2d(widths[0]),
            new nn.ReLU(),
            new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
          ),
    );
    const layers: nn.Module[] = [];
    let c = widths[0];
    widths.forEach((w, s) => {
      for (let b = 0; b < blocks[s]; b++) {
        layers.push(new BasicBlock(c, w, b === 0 && s > 0 ? 2 : 1));
        c = w;
      }
    });
    this.stages = this.registerModule("stages", new nn.Sequential(...layers));
    this.out = this.registerModule("out", new nn.Linear(c, this.featureDim));
  }
  embed(x: Tensor): Tensor {
    return this.stages.forward(this.stem.forward(x)).mean([2, 3]);
  }
}

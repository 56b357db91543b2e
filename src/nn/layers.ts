// The layers encoders, heads and critics are built from, with PyTorch's defaults.
import { empty, ones, zeros } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import * as F from "./functional.js";
import { defaultLayerInit_ } from "./init.js";
import { Module } from "./module.js";

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    withBias = true,
  ) {
    super();
    this.weight = this.registerParameter("weight", empty([outFeatures, inFeatures]));
    this.bias = withBias ? this.registerParameter("bias", empty([outFeatures])) : null;
    defaultLayerInit_(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    const last = x.shape[x.ndim - 1];
    if (last !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures}, ${this.outFeatures}): input has ${last} features, shape [${x.shape.join(", ")}]`,
      );
    }
    return F.linear(x, this.weight, this.bias);
  }
}

abstract class ConvNd extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly dims: 2 | 3,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    readonly options: F.ConvOptions & { bias?: boolean } = {},
  ) {
    super();
    const groups = options.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(
        `Conv${dims}d: channels (${inChannels} in, ${outChannels} out) must divide by groups=${groups}`,
      );
    }
    const k = F.ntuple(kernelSize, dims, `Conv${dims}d`, "kernel_size");
    this.weight = this.registerParameter("weight", empty([outChannels, inChannels / groups, ...k]));
    this.bias = options.bias === false ? null : this.registerParameter("bias", empty([outChannels]));
    defaultLayerInit_(this.weight, this.bias);
  }
}
export class Conv2d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | number[],
    options: F.ConvOptions & { bias?: boolean } = {},
  ) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.options);
  }
}
export class Conv3d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | number[],
    options: F.ConvOptions & { bias?: boolean } = {},
  ) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
  forward(x: Tensor): Tensor {
    return F.conv3d(x, this.weight, this.bias, this.options);
  }
}

/** Batch normalisation over [N, C, ...]; running statistics are buffers, as in PyTorch. */
/** Training-mode batch normalisation over more than this process's batch (see src/dist/sync-batchnorm.ts). */
export type BatchStatsSync = (bn: BatchNormNd, x: Tensor) => Tensor;

export abstract class BatchNormNd extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked: Tensor;
  /**
   * null (default): training batches are normalised with this process's batch statistics. Set by
   * src/dist's convertSyncBatchNorm: normalise with the statistics of the global batch of every
   * process (PyTorch's SyncBatchNorm). Evaluation always uses the running statistics.
   */
  syncStats: BatchStatsSync | null = null;
  constructor(
    readonly expectedDims: number[],
    readonly numFeatures: number,
    readonly options: { eps?: number; momentum?: number; affine?: boolean } = {},
  ) {
    super();
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter("weight", ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter("bias", zeros([numFeatures])) : null;
    // PyTorch's buffer names, so state dicts map one to one.
    this.runningMean = this.registerBuffer("running_mean", zeros([numFeatures]));
    this.runningVar = this.registerBuffer("running_var", ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer("num_batches_tracked", zeros([], { dtype: "int64" }));
  }
  forward(x: Tensor): Tensor {
    if (!this.expectedDims.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new Error(
        `${this.constructor.name}(${this.numFeatures}): expected a ${this.expectedDims.join(" or ")}-d input with ${this.numFeatures} channels, got [${x.shape.join(", ")}]`,
      );
    }
    if (this.training) this.numBatchesTracked.add_(1);
    if (this.training && this.syncStats) return this.syncStats(this, x);
    return F.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training,
      momentum: this.options.momentum ?? 0.1,
      eps: this.options.eps ?? 1e-5,
    });
  }
}
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super([2, 3], numFeatures, options);
  }
}
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super([4], numFeatures, options);
  }
}
export class BatchNorm3d extends BatchNormNd {
  constructor(numFeatures: number, options: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super([5], numFeatures, options);
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: number | number[],
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.options);
  }
}
export class MaxPool3d extends Module {
  constructor(
    readonly kernelSize: number | number[],
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool3d(x, this.kernelSize, this.options);
  }
}
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: number | number[],
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, this.options);
  }
}
export class AvgPool3d extends Module {
  constructor(
    readonly kernelSize: number | number[],
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool3d(x, this.kernelSize, this.options);
  }
}
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
}
export class AdaptiveAvgPool3d extends Module {
  constructor(readonly outputSize: number | number[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool3d(x, this.outputSize);
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p > 1) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
export class ReLU extends Module {
  /**
   * inplace: overwrite the input (PyTorch's ReLU(inplace=True)), saving one activation-sized
   * allocation; only where nothing else reads the input, as after a BatchNorm in DenseNet's layers.
   */
  constructor(readonly inplace = false) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.inplace ? x.relu_() : x.relu();
  }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
}
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

// One interface for every training method (DomainBed-style): build from a config, update on a batch
// returning named scalar losses, predict logits per task, expose features. The training loop and the
// evaluation layer only ever talk to this interface.

import { type HeadConfig, PartitionedModel, type TaskSpec } from "../models/index.js";
import { buildEncoder, type EncoderConfig } from "../models/registry.js";
import * as nn from "../nn/index.js";
import { Module } from "../nn/module.js";
import { Adam, type Optimizer } from "../optim/index.js";
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Batch } from "./batch.js";

/** An encoder config without the partition, which the method derives from its tasks. */
export type EncoderSpec = EncoderConfig extends infer T
  ? T extends EncoderConfig
    ? Omit<T, "numParts" | "partSize">
    : never
  : never;

/** What every method needs. Method-specific options live in each method's own config type. */
export interface CommonConfig {
  /** primary task first, then one per spurion, in the order of Batch.z */
  tasks: TaskSpec[];
  encoder: EncoderSpec;
  /** k: width of each feature part */
  partSize: number;
  head?: HeadConfig;
  /** encoder + heads learning rate (Adam), default 1e-3 */
  lr?: number;
  weightDecay?: number;
}

export interface Method {
  readonly name: string;
  /** the tasks this method's heads predict, in predict() order */
  readonly tasks: TaskSpec[];
  readonly model: PartitionedModel;
  /** every module with tensors a checkpoint must hold (model, critics, adversaries) */
  readonly stateModule: Module;
  readonly optimizers: Record<string, Optimizer>;
  /** One training update on a batch; returns named scalars to log (losses, weights, MI estimates). */
  update(batch: Batch): Record<string, number>;
  /** Logits per task (eval mode, no gradient). */
  predict(x: Tensor): Tensor[];
  /** The whole feature vector [B, (N+1)k] (eval mode, no gradient); split with model.split. */
  features(x: Tensor): Tensor;
  /** JSON-able state beyond tensors (EMAs, loss weights, counters), for checkpoints. */
  getState(): Record<string, unknown>;
  setState(state: Record<string, unknown>): void;
}

/** A module that just holds others under names (checkpoint layout: "model.", "critics.", ...). */
export class ModuleHolder extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.registerModule(name, m);
  }
  forward(): Tensor {
    throw new Error("ModuleHolder has no forward");
  }
}

/** Cross-entropy ignoring unknown labels (-1). */
export function ce(logits: Tensor, labels: Tensor): Tensor {
  return nn.F.crossEntropy(logits, labels, { ignoreIndex: -1 });
}

export abstract class BaseMethod implements Method {
  abstract readonly name: string;
  readonly tasks: TaskSpec[];
  readonly model: PartitionedModel;
  readonly stateModule = new ModuleHolder();
  readonly optimizers: Record<string, Optimizer> = {};

  constructor(readonly common: CommonConfig) {
    if (common.tasks.length < 1) throw new Error("a method needs at least the primary task");
    this.tasks = common.tasks;
    const encoder = buildEncoder({
      ...common.encoder,
      numParts: common.tasks.length,
      partSize: common.partSize,
    } as EncoderConfig);
    this.model = this.stateModule.add("model", new PartitionedModel(encoder, common.tasks, common.head));
  }

  /** Adam on the given parameters (default: the model's) with the common lr and weight decay. */
  protected adam(params: Tensor[] = this.model.parameters(), lr = this.common.lr ?? 1e-3): Optimizer {
    return new Adam(params, { lr, weightDecay: this.common.weightDecay ?? 0 });
  }

  abstract update(batch: Batch): Record<string, number>;

  predict(x: Tensor): Tensor[] {
    return this.inEval(() => this.model.logits(this.model.split(this.model.forward(x))));
  }
  features(x: Tensor): Tensor {
    return this.inEval(() => this.model.forward(x));
  }
  protected inEval<T>(fn: () => T): T {
    const was = this.model.training;
    this.model.eval();
    try {
      return noGrad(fn);
    } finally {
      this.model.train(was);
    }
  }
  getState(): Record<string, unknown> {
    return {};
  }
  setState(_state: Record<string, unknown>): void {}
}

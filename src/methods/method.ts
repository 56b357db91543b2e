// One interface for every training method (DomainBed-style): build from a config, update on a batch
// returning named scalar losses, predict logits per task, expose features. The training loop and the
// evaluation layer only ever talk to this interface.

import { type HeadConfig, PartitionedModel, type TaskSpec } from "../models/index.js";
import { buildEncoder, type EncoderConfig } from "../models/registry.js";
import * as nn from "../nn/index.js";
import { Module } from "../nn/module.js";
import {
  type LRScheduler,
  makeOptimizer,
  makeScheduler,
  type Optimizer,
  type OptimizerSpec,
  type SchedulerSpec,
} from "../optim/index.js";
import { noGrad } from "../tensor/autograd.js";
import type { Device, Tensor } from "../tensor/tensor.js";
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
  /** encoder + heads learning rate, default 1e-3 */
  lr?: number;
  weightDecay?: number;
  /** the model optimiser (default Adam): name, momentum, nesterov, betas */
  optimizer?: Omit<OptimizerSpec, "lr" | "weightDecay" | "maxGradNorm">;
  /** learning-rate schedule of the model optimiser, stepped once per epoch by the training loop */
  scheduler?: SchedulerSpec;
  /** > 0: clip the global gradient norm of the model optimiser's parameters before each step */
  gradClip?: number;
  /**
   * Where the model, critics, batches and every tensor the method makes live (train.device);
   * default "cpu".
   */
  device?: Device;
}

export interface Method {
  readonly name: string;
  /** the tasks this method's heads predict, in predict() order */
  readonly tasks: TaskSpec[];
  readonly model: PartitionedModel;
  /** the device of the model and of every tensor the method creates (CommonConfig.device) */
  readonly device: Device;
  /** every module with tensors a checkpoint must hold (model, critics, adversaries) */
  readonly stateModule: Module;
  readonly optimizers: Record<string, Optimizer>;
  /**
   * Learning-rate schedules by the name of the optimizer they drive; the training loop steps them
   * once per epoch and checkpoints their state.
   */
  readonly schedulers?: Record<string, LRScheduler>;
  /**
   * True when update() sets a .grad by hand (`p.grad = ...`) or changes one after its backward
   * pass. Under DDP those gradients are averaged right before each optimizer step, after the ranks
   * agree on which they are (one collective per step); without the flag every gradient must come
   * from backward(), whose reducer averages it, and a hand-written one is refused by name.
   */
  readonly writesGradients?: boolean;
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
  readonly device: Device;
  readonly stateModule = new ModuleHolder();
  readonly optimizers: Record<string, Optimizer> = {};
  private readonly schedulerOf = new Map<Optimizer, LRScheduler>();

  constructor(readonly common: CommonConfig) {
    if (common.tasks.length < 1) throw new Error("a method needs at least the primary task");
    this.tasks = common.tasks;
    this.device = common.device ?? "cpu";
    const encoder = buildEncoder({
      ...common.encoder,
      numParts: common.tasks.length,
      partSize: common.partSize,
    } as EncoderConfig);
    // Built on the CPU, then moved: before any optimiser holds the parameters (as in PyTorch).
    this.model = this.stateModule.add(
      "model",
      new PartitionedModel(encoder, common.tasks, common.head).to(this.device),
    );
  }

  /**
   * The model optimiser on the given parameters (default: the model's), as configured: the common
   * optimizer (Adam by default), lr, weight decay and gradient clipping; with a scheduler
   * configured, its schedule too (see `schedulers`). Critics and other auxiliary parts build their
   * own optimisers.
   */
  protected modelOptimizer(
    params: Tensor[] = this.model.parameters(),
    lr = this.common.lr ?? 1e-3,
  ): Optimizer {
    const c = this.common;
    const opt = makeOptimizer(params, {
      ...c.optimizer,
      lr,
      weightDecay: c.weightDecay,
      maxGradNorm: c.gradClip ?? 0,
    });
    const sched = c.scheduler ? makeScheduler(opt, c.scheduler) : null;
    if (sched) this.schedulerOf.set(opt, sched);
    return opt;
  }

  /** The schedules of the optimizers built by modelOptimizer, under the names in `optimizers`. */
  get schedulers(): Record<string, LRScheduler> {
    const out: Record<string, LRScheduler> = {};
    for (const [name, opt] of Object.entries(this.optimizers)) {
      const s = this.schedulerOf.get(opt);
      if (s) out[name] = s;
    }
    return out;
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

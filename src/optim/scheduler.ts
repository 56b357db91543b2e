// Learning-rate schedules, stepped once per epoch (or per step: the caller decides), as PyTorch's
// lr_scheduler: each sets every group's lr from the group's initial lr.
import type { Optimizer } from "./optimizer.js";

/** A scheduler's state, PyTorch's state_dict: the epoch and the groups' initial lrs. */
export interface SchedulerStateDict {
  lastEpoch: number;
  /** absent in states saved before base lrs were kept: the current ones stay */
  baseLrs?: number[];
}

export abstract class LRScheduler {
  protected baseLrs: number[];
  lastEpoch = 0;
  constructor(protected readonly optimizer: Optimizer) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }
  protected abstract factor(epoch: number, base: number): number;
  /** Advances one epoch and sets the groups' lr. */
  step(): void {
    this.lastEpoch += 1;
    this.apply();
  }
  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.factor(this.lastEpoch, this.baseLrs[i]);
    });
  }
  currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: this.baseLrs.slice() };
  }
  loadStateDict(sd: SchedulerStateDict): void {
    if (sd.baseLrs) {
      if (sd.baseLrs.length !== this.baseLrs.length)
        throw new Error(
          `${this.constructor.name}.loadStateDict: ${sd.baseLrs.length} groups saved, ${this.baseLrs.length} here`,
        );
      this.baseLrs = sd.baseLrs.slice();
    }
    this.lastEpoch = sd.lastEpoch;
    this.apply();
  }
}

/** lr = base * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!(stepSize >= 1)) throw new Error(`StepLR: stepSize must be >= 1, got ${stepSize}`);
  }
  protected factor(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * Cosine annealing from base to etaMin over tMax epochs, PyTorch's closed form: past tMax the cosine
 * continues (the lr rises again), as torch.optim.lr_scheduler.CosineAnnealingLR does.
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(tMax >= 1)) throw new Error(`CosineAnnealingLR: tMax must be >= 1, got ${tMax}`);
  }
  protected factor(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

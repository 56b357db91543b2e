// Group-balanced reweighting (Idrissi et al. 2022, "Simple data balancing achieves competitive
// worst-group-accuracy", RWG): every example counts with the inverse of its group's share of the
// training split, so every group counts equally. By default (method.balance_by "sampler") as the
// paper's code does it: each epoch's rows are drawn with replacement with probability proportional
// to that weight, and the loss is plain CE; balance_by "loss" weights each row's cross-entropy
// instead, L = sum_b w_b l_b / sum_b w_b (same expected gradient, far noisier batches at 0.95-0.98:
// ./reweight-loss.ts). Groups, empty and tiny cells: ./groups.ts (method.groups,
// method.group_min_count). The weights are fixed once from the whole training split (fitGroups).
// No hyperparameter beyond the model's: Idrissi et al. tune only learning rate, weight decay and
// batch size, as every method here.

import { assertAllFinite } from "../mi/guard.js";
import { tidy } from "../tensor/scope.js";
import type { Batch } from "./batch.js";
import type { GroupOptions, TaskLabels } from "./groups.js";
import { BaseMethod, type CommonConfig } from "./method.js";
import { type BalanceBy, GroupReweightLoss } from "./reweight-loss.js";

export interface ReweightConfig extends CommonConfig, Partial<GroupOptions> {
  /** how the weights are applied (default "sampler", the paper's code) */
  balanceBy?: BalanceBy;
}

export class Reweight extends BaseMethod {
  readonly name: string = "reweight";
  readonly objective: GroupReweightLoss;
  constructor(readonly cfg: ReweightConfig) {
    super(cfg);
    this.objective = new GroupReweightLoss(
      this.tasks.map((t) => t.numClasses),
      { scheme: cfg.scheme ?? "pairs", minCount: cfg.minCount },
      this.name,
      cfg.balanceBy ?? "sampler",
    );
    this.optimizers.model = this.modelOptimizer();
  }

  /** balancing weight per joint cell "y,z1,..,zN" (mean 1 over the training rows) */
  get cellWeights(): Map<string, number> | null {
    return this.objective.cellWeights;
  }

  /** Fixes the weights from the labels of the whole training split, in task order [y, z_1..z_N]. */
  fitGroups(labels: TaskLabels): void {
    this.objective.fit(labels);
  }

  /** The weight of each sample of a batch (0 for unknown labels). */
  sampleWeights(batch: Batch): Float32Array {
    return this.objective.sampleWeights(batch);
  }

  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const [fy] = this.model.split(this.model.forward(batch.x));
      const { loss } = this.objective.loss(this.model.heads.head(0, fy), batch);
      const losses = { [`ce/${this.tasks[0].name}`]: loss.item() };
      assertAllFinite(losses);
      loss.backward();
      opt.step();
      return { ...losses, loss: losses[`ce/${this.tasks[0].name}`] };
    });
  }
  override getState(): Record<string, unknown> {
    return this.cellWeights ? { cellWeights: [...this.cellWeights] } : {};
  }
  override setState(state: Record<string, unknown>): void {
    if (Array.isArray(state.cellWeights))
      this.objective.cellWeights = new Map(state.cellWeights as [string, number][]);
  }
}

// Group-balanced loss reweighting (Idrissi et al. 2022, "Simple data balancing achieves competitive
// worst-group-accuracy", RWG): every example's cross-entropy is weighted by the inverse of its
// group's share of the training split, so every group counts equally. The paper realises RWG with a
// group-weighted sampler; this is the loss-weighting form, with the same expected gradient. Groups,
// empty and tiny cells: ./groups.ts (method.groups, method.group_min_count). The weights are fixed
// once from the whole training split (fitGroups), not per batch; a batch's loss is the weighted mean
//   L = sum_b w_b l_b / sum_b w_b
// (PyTorch's CrossEntropyLoss(weight=...) normalisation). No hyperparameter beyond the model's:
// Idrissi et al. tune only learning rate, weight decay and batch size, as every method here.

import { assertAllFinite } from "../mi/guard.js";
import * as nn from "../nn/index.js";
import { tensor } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Batch, taskLabels } from "./batch.js";
import { balancingCellWeights, type GroupOptions, jointKey, type TaskLabels } from "./groups.js";
import { BaseMethod, type CommonConfig } from "./method.js";

export interface ReweightConfig extends CommonConfig, Partial<GroupOptions> {}

/**
 * Mean of per-sample cross-entropies weighted by w: sum w_b l_b / sum w_b (0 when all weights are 0).
 * Samples with an unknown y (-1) add nothing.
 */
export function weightedCe(logits: Tensor, y: Tensor, w: Float32Array): Tensor {
  const perSample = nn.F.crossEntropy(logits, y, { reduction: "none", ignoreIndex: -1 });
  const known = y.ge(0).float();
  const wt = tensor(w, { device: y.device }).mul(known);
  return perSample.mul(wt).sum().div(wt.sum().clamp(1e-12));
}

export class Reweight extends BaseMethod {
  readonly name: string = "reweight";
  /** balancing weight per joint cell "y,z1,..,zN" (mean 1 over the training rows) */
  cellWeights: Map<string, number> | null = null;
  constructor(readonly cfg: ReweightConfig) {
    super(cfg);
    this.optimizers.model = this.modelOptimizer();
  }

  /** Fixes the weights from the labels of the whole training split, in task order [y, z_1..z_N]. */
  fitGroups(labels: TaskLabels): void {
    this.cellWeights = balancingCellWeights(
      labels,
      this.tasks.map((t) => t.numClasses),
      { scheme: this.cfg.scheme ?? "pairs", minCount: this.cfg.minCount },
    );
  }

  /** The weight of each sample of a batch (0 for unknown labels). */
  sampleWeights(batch: Batch): Float32Array {
    const table = this.cellWeights;
    if (!table) throw new Error("reweight: fitGroups(training labels) must run before training");
    const labels = taskLabels(batch).map((t) => t.toArray());
    return Float32Array.from({ length: labels[0].length }, (_, r) => {
      const k = jointKey(labels, r);
      if (k === undefined) return 0;
      const w = table.get(k);
      if (w === undefined)
        throw new Error(`reweight: group (${k}) of a training batch does not occur in the training split`);
      return w;
    });
  }

  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const [fy] = this.model.split(this.model.forward(batch.x));
      const loss = weightedCe(this.model.heads.head(0, fy), batch.y, this.sampleWeights(batch));
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
    if (Array.isArray(state.cellWeights)) this.cellWeights = new Map(state.cellWeights as [string, number][]);
  }
}

// Group-balanced loss reweighting on the primary task (Idrissi et al. 2022, RWG) as a piece any
// method can use: method reweight trains with it alone, MIMM-X with y_loss "reweight" beside its MI
// penalty. Every sample's cross-entropy is weighted by the inverse of its group's share of the
// training split, so every group counts equally; the weights are fixed once from the whole split
// (fit), not per batch, and a batch's loss is the weighted mean sum_b w_b l_b / sum_b w_b
// (PyTorch's CrossEntropyLoss(weight=...) normalisation). Groups, empty and tiny cells: groups.ts.

import * as nn from "../nn/index.js";
import { tensor } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Batch, taskLabels } from "./batch.js";
import { balancingCellWeights, type GroupOptions, jointKey, type TaskLabels } from "./groups.js";

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

export class GroupReweightLoss {
  /** balancing weight per joint cell "y,z1,..,zN" (mean 1 over the training rows); null before fit */
  cellWeights: Map<string, number> | null = null;

  constructor(
    /** classes of each task in order [y, z_1..z_N] */
    private readonly numClasses: number[],
    private readonly options: GroupOptions,
    /** the method's name, for error messages */
    private readonly owner = "reweight",
  ) {}

  /** Fixes the weights from the labels of the whole training split, in task order [y, z_1..z_N]. */
  fit(labels: TaskLabels): void {
    this.cellWeights = balancingCellWeights(labels, this.numClasses, this.options);
  }

  /** The weight of each sample of a batch (0 for unknown labels). */
  sampleWeights(batch: Batch): Float32Array {
    const table = this.cellWeights;
    if (!table)
      throw new Error(
        `${this.owner}: fitGroups(training labels) must run before training (the group weights come from the training split)`,
      );
    const labels = taskLabels(batch).map((t) => t.toArray());
    return Float32Array.from({ length: labels[0].length }, (_, r) => {
      const k = jointKey(labels, r);
      if (k === undefined) return 0;
      const w = table.get(k);
      if (w === undefined)
        throw new Error(
          `${this.owner}: group (${k}) of a training batch does not occur in the training split`,
        );
      return w;
    });
  }

  /** The reweighted cross-entropy of the y logits on a batch. */
  loss(logits: Tensor, batch: Batch): { loss: Tensor } {
    return { loss: weightedCe(logits, batch.y, this.sampleWeights(batch)) };
  }
}

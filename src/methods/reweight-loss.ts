// Group-balanced reweighting on the primary task (Idrissi et al. 2022, RWG) as a piece any method
// can use: method reweight trains with it alone, MIMM-X with y_loss "reweight" beside its MI
// penalty. Every training row gets the inverse of its group's share of the training split, so every
// group counts equally; the weights are fixed once from the whole split (fit). Two ways to apply
// them, with the same expected gradient (method.balance_by):
//   "sampler": each epoch's rows are drawn with replacement with probability proportional to the
//              weight (rowWeights, for the batch source), and the loss is plain CE. This is what
//              Idrissi et al.'s code does (torch's WeightedRandomSampler). A batch then holds every
//              group in about equal numbers, which matters at 0.95-0.98: under "loss" a batch of 128
//              has one or two rows of a minority group, each weighing up to ~100 majority rows, and
//              a narrow network can stay on its starting plateau (docs/tuning-log.md, round 6).
//   "loss":    rows come in shuffled order and a batch's loss is the weighted mean
//              sum_b w_b l_b / sum_b w_b (PyTorch's CrossEntropyLoss(weight=...) normalisation).
// Groups, empty and tiny cells: groups.ts.

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

/** How the balancing weights are applied: by drawing the rows, or by weighting their losses. */
export type BalanceBy = "sampler" | "loss";

export class GroupReweightLoss {
  /** balancing weight per joint cell "y,z1,..,zN" (mean 1 over the training rows); null before fit */
  cellWeights: Map<string, number> | null = null;

  constructor(
    /** classes of each task in order [y, z_1..z_N] */
    private readonly numClasses: number[],
    private readonly options: GroupOptions,
    /** the method's name, for error messages */
    private readonly owner = "reweight",
    readonly by: BalanceBy = "loss",
  ) {}

  /** Fixes the weights from the labels of the whole training split, in task order [y, z_1..z_N]. */
  fit(labels: TaskLabels): void {
    this.cellWeights = balancingCellWeights(labels, this.numClasses, this.options);
  }

  /** The weight of each row of a split's labels (0 for unknown labels): the sampler's weights. */
  rowWeights(labels: TaskLabels): Float64Array {
    return Float64Array.from({ length: labels[0].length }, (_, r) => this.weightOf(labels, r));
  }

  /** The weight of each sample of a batch (0 for unknown labels). */
  sampleWeights(batch: Batch): Float32Array {
    const labels = taskLabels(batch).map((t) => t.toArray());
    return Float32Array.from({ length: labels[0].length }, (_, r) => this.weightOf(labels, r));
  }

  /** The fitted weights; unfitted, an error (training on would be ERM under another name). */
  private fitted(): Map<string, number> {
    if (!this.cellWeights)
      throw new Error(
        `${this.owner}: fitGroups(training labels) must run before training (the group weights come from the training split)`,
      );
    return this.cellWeights;
  }

  private weightOf(labels: TaskLabels, r: number): number {
    const table = this.fitted();
    const k = jointKey(labels, r);
    if (k === undefined) return 0;
    const w = table.get(k);
    if (w === undefined)
      throw new Error(`${this.owner}: group (${k}) of a training batch does not occur in the training split`);
    return w;
  }

  /**
   * The loss of the y logits on a batch: the reweighted cross-entropy ("loss"), or plain
   * cross-entropy on rows the sampler already drew by weight ("sampler"; unknown y ignored).
   */
  loss(logits: Tensor, batch: Batch): { loss: Tensor } {
    if (this.by === "sampler") {
      this.fitted(); // unfitted, no sampler drew these rows
      return { loss: nn.F.crossEntropy(logits, batch.y, { ignoreIndex: -1 }) };
    }
    return { loss: weightedCe(logits, batch.y, this.sampleWeights(batch)) };
  }
}

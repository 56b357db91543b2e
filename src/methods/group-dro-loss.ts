// GroupDRO's objective on the primary task (Sagawa et al. 2020), as a piece any method can use:
// the group weights q follow exponentiated-gradient ascent on the batch's group losses,
// q_g <- q_g exp(eta L_g), renormalised, and the loss is sum_g q_g L_g, i.e. mostly the worst
// groups. Groups come from groups.ts ("joint" cells or the (y, z_i) pair families).

import { allReduceSumNumbers, getWorldSize } from "../dist/process-group.js";
import type { TaskSpec } from "../models/index.js";
import * as nn from "../nn/index.js";
import { tensor } from "../tensor/creation.js";
import type { Device } from "../tensor/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Batch, taskLabels } from "./batch.js";
import { cellOf, type Grouping, type GroupScheme, groupingsOf } from "./groups.js";

export interface GroupDroLossConfig {
  /** step size of the group-weight update */
  eta: number;
  groups: GroupScheme;
}

export class GroupDroLoss {
  readonly groupings: Grouping[];
  /** first group index of each grouping in q */
  private readonly offsets: number[] = [];
  readonly numGroups: number;
  /** group weights, summing to 1 */
  q: number[];

  constructor(
    readonly tasks: TaskSpec[],
    readonly cfg: GroupDroLossConfig,
    /** where the membership and weight tensors are made (the method's device) */
    private readonly device: Device,
    /** the method's name, for error messages */
    private readonly owner = "groupdro",
  ) {
    const classes = tasks.map((t) => t.numClasses);
    this.groupings = groupingsOf(
      classes,
      cfg.groups,
      tasks.map((t) => t.name),
    );
    let n = 0;
    for (const g of this.groupings) {
      this.offsets.push(n);
      n += g.numCells;
    }
    this.numGroups = n;
    this.q = new Array(this.numGroups).fill(1 / this.numGroups);
  }

  /**
   * Membership [B, G] (float): 1 where sample b is in group g. Under "joint" one group per sample;
   * under "pairs" one per spurion. Samples with an unknown label are in no group of that grouping.
   */
  membership(batch: Batch): Tensor {
    const labels = taskLabels(batch).map((t) => t.toArray());
    const classes = this.tasks.map((t) => t.numClasses);
    const b = labels[0].length;
    const m = new Float32Array(b * this.numGroups);
    this.groupings.forEach((g, gi) => {
      for (let r = 0; r < b; r++) {
        const c = cellOf(g, labels, classes, r);
        if (c >= 0) m[r * this.numGroups + this.offsets[gi] + c] = 1;
      }
    });
    return tensor(m, { shape: [b, this.numGroups], device: this.device });
  }

  /**
   * sum_g q_g L_g on the batch, after the exponentiated-gradient step on q (only groups present in
   * the batch have a loss). Returns the loss, the per-sample losses, the group losses and which groups
   * were present.
   */
  loss(
    logits: Tensor,
    batch: Batch,
  ): { loss: Tensor; perSample: Tensor; groupLosses: number[]; present: boolean[] } {
    const perSample = nn.F.crossEntropy(logits, batch.y, { reduction: "none", ignoreIndex: -1 });
    const member = this.membership(batch); // [B, G]
    const localSums = member.t().matmul(perSample.unsqueeze(1)).squeeze(1); // [G]
    // The global batch's group sums and counts (this rank's own in one process): q and the group
    // means are then the same on every rank and equal one process at the whole batch.
    const G = this.numGroups;
    const agreed = allReduceSumNumbers([...localSums.toArray(), ...member.sum(0).toArray()]);
    const counts = agreed.slice(G);
    const groupLosses = agreed.slice(0, G).map((sum, g) => sum / Math.max(1, counts[g]));
    const present = counts.map((c) => c > 0);
    // This rank's part of the global group means, scaled by the world size so that the gradient
    // reducer's mean over ranks is the gradient of sum_g q_g L_g on the global batch.
    const groupLoss = localSums.mul(
      tensor(
        counts.map((n) => getWorldSize() / Math.max(1, n)),
        { device: this.device },
      ),
    );
    const eta = this.cfg.eta;
    this.q = this.q.map((qg, g) => (present[g] ? qg * Math.exp(eta * groupLosses[g]) : qg));
    const z = this.q.reduce((a, b) => a + b, 0);
    this.q = this.q.map((qg) => qg / z);
    const loss = groupLoss.mul(tensor(this.q, { device: this.device })).sum();
    return { loss, perSample, groupLosses, present };
  }

  getState(): { q: number[] } {
    return { q: this.q };
  }

  setState(q: unknown): void {
    if (!Array.isArray(q)) return;
    if (q.length !== this.numGroups)
      throw new Error(
        `${this.owner}: the checkpoint holds ${q.length} group weights, this config has ${this.numGroups} groups (${this.groupings.map((g) => g.name).join(" + ")}); was method.groups changed?`,
      );
    this.q = q as number[];
  }
}

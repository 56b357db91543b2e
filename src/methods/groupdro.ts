// GroupDRO (Sagawa et al. 2020) on the primary task. Groups come from ./groups.ts (method.groups):
// "joint" = every (y, z_1, .., z_N) cell; "pairs" = the union of the (y, z_i) families, where an
// example is in one group per spurion and a group's loss is the mean loss of its examples.
// Group weights q follow exponentiated gradient ascent on the group losses: q_g <- q_g exp(eta L_g),
// renormalised; the model minimises sum_g q_g L_g, i.e. mostly the worst groups. eta = 0.01 is the
// paper's step size for q (Sagawa et al. 2020, Appendix: eta_q = 0.01 on Waterbirds, CelebA, MultiNLI).
// Groups absent from a batch keep their weight and add no loss; empty groups never divide by zero.

import { assertAllFinite } from "../mi/guard.js";
import * as nn from "../nn/index.js";
import { tensor } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Batch, taskLabels } from "./batch.js";
import { cellOf, type Grouping, type GroupScheme, groupingsOf } from "./groups.js";
import { BaseMethod, type CommonConfig } from "./method.js";

export interface GroupDroConfig extends CommonConfig {
  /** step size of the group-weight update (default 0.01) */
  eta?: number;
  /** which groups (default "pairs", see groups.ts) */
  groups?: GroupScheme;
}

export class GroupDro extends BaseMethod {
  readonly name: string = "groupdro";
  readonly groupings: Grouping[];
  /** first group index of each grouping in q */
  private readonly offsets: number[];
  readonly numGroups: number;
  /** group weights, summing to 1 */
  q: number[];
  constructor(readonly cfg: GroupDroConfig) {
    super(cfg);
    const classes = cfg.tasks.map((t) => t.numClasses);
    this.groupings = groupingsOf(
      classes,
      cfg.groups ?? "pairs",
      cfg.tasks.map((t) => t.name),
    );
    this.offsets = [];
    let n = 0;
    for (const g of this.groupings) {
      this.offsets.push(n);
      n += g.numCells;
    }
    this.numGroups = n;
    this.q = new Array(this.numGroups).fill(1 / this.numGroups);
    this.optimizers.model = this.modelOptimizer();
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

  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const [fy] = this.model.split(this.model.forward(batch.x));
      const perSample = nn.F.crossEntropy(this.model.heads.head(0, fy), batch.y, {
        reduction: "none",
        ignoreIndex: -1,
      });
      const member = this.membership(batch); // [B, G]
      const counts = member.sum(0);
      const groupLoss = member.t().matmul(perSample.unsqueeze(1)).squeeze(1).div(counts.clamp(1)); // [G]
      const lossValues = groupLoss.toArray();
      assertAllFinite({ [`ce/${this.tasks[0].name}`]: lossValues.reduce((a, b) => a + b, 0) });
      // Exponentiated-gradient step on q (only groups present in the batch have a loss).
      const present = counts.toArray();
      const eta = this.cfg.eta ?? 0.01;
      this.q = this.q.map((qg, g) => (present[g] > 0 ? qg * Math.exp(eta * lossValues[g]) : qg));
      const z = this.q.reduce((a, b) => a + b, 0);
      this.q = this.q.map((qg) => qg / z);
      const loss = groupLoss.mul(tensor(this.q, { device: this.device })).sum();
      const out: Record<string, number> = {
        loss: loss.item(),
        [`ce/${this.tasks[0].name}`]: perSample.mean().item(),
      };
      out.worst_group_loss = Math.max(...lossValues.filter((_, g) => present[g] > 0));
      this.q.forEach((qg, g) => {
        out[`q/${g}`] = qg;
      });
      loss.backward();
      opt.step();
      return out;
    });
  }
  override getState(): Record<string, unknown> {
    return { q: this.q };
  }
  override setState(state: Record<string, unknown>): void {
    if (!Array.isArray(state.q)) return;
    if (state.q.length !== this.numGroups)
      throw new Error(
        `groupdro: the checkpoint holds ${state.q.length} group weights, this config has ${this.numGroups} groups (${this.groupings.map((g) => g.name).join(" + ")}); was method.groups changed?`,
      );
    this.q = state.q as number[];
  }
}

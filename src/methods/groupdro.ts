// GroupDRO (Sagawa et al. 2020) on the primary task, groups = every (y, z_1, .., z_N) combination.
// Group weights q follow exponentiated gradient ascent on the group losses: q_g <- q_g exp(eta L_g),
// renormalised; the model minimises sum_g q_g L_g, i.e. mostly the worst groups.

import { assertAllFinite } from "../mi/guard.js";
import * as nn from "../nn/index.js";
import { tensor } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Batch } from "./batch.js";
import { BaseMethod, type CommonConfig } from "./method.js";

export interface GroupDroConfig extends CommonConfig {
  /** step size of the group-weight update (default 0.01) */
  eta?: number;
}

export class GroupDro extends BaseMethod {
  readonly name: string = "groupdro";
  readonly numGroups: number;
  /** group weights, summing to 1 */
  q: number[];
  constructor(readonly cfg: GroupDroConfig) {
    super(cfg);
    this.numGroups = cfg.tasks.reduce((n, t) => n * t.numClasses, 1);
    this.q = new Array(this.numGroups).fill(1 / this.numGroups);
    this.optimizers.model = this.modelOptimizer();
  }

  /** Group id of each sample: mixed radix over (y, z_1, .., z_N). Unknown labels give -1. */
  groupIds(batch: Batch): Tensor {
    const labels = [batch.y, ...batch.z];
    let id = labels[0];
    let unknown = labels[0].lt(0);
    let radix = this.tasks[0].numClasses;
    for (let i = 1; i < labels.length; i++) {
      id = id.add(labels[i].mul(radix));
      unknown = unknown.logicalOr(labels[i].lt(0));
      radix *= this.tasks[i].numClasses;
    }
    return id.maskedFill(unknown, -1);
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
      const ids = this.groupIds(batch);
      const known = ids.ge(0);
      const onehot = nn.F.oneHot(ids.clamp(0), this.numGroups).float().mul(known.float().unsqueeze(1)); // [B, G]
      const counts = onehot.sum(0);
      const groupLoss = onehot.t().matmul(perSample.unsqueeze(1)).squeeze(1).div(counts.clamp(1)); // [G]
      const lossValues = groupLoss.toArray();
      assertAllFinite({ [`ce/${this.tasks[0].name}`]: lossValues.reduce((a, b) => a + b, 0) });
      // Exponentiated-gradient step on q (only groups present in the batch have a loss).
      const present = counts.toArray();
      const eta = this.cfg.eta ?? 0.01;
      this.q = this.q.map((qg, g) => (present[g] > 0 ? qg * Math.exp(eta * lossValues[g]) : qg));
      const z = this.q.reduce((a, b) => a + b, 0);
      this.q = this.q.map((qg) => qg / z);
      const loss = groupLoss.mul(tensor(this.q)).sum();
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
    if (Array.isArray(state.q)) this.q = state.q as number[];
  }
}

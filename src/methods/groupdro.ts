// GroupDRO (Sagawa et al. 2020) on the primary task. Groups come from ./groups.ts (method.groups):
// "joint" = every (y, z_1, .., z_N) cell; "pairs" = the union of the (y, z_i) families, where an
// example is in one group per spurion and a group's loss is the mean loss of its examples.
// Group weights q follow exponentiated gradient ascent on the group losses: q_g <- q_g exp(eta L_g),
// renormalised; the model minimises sum_g q_g L_g, i.e. mostly the worst groups. eta = 0.01 is the
// paper's step size for q (Sagawa et al. 2020, Appendix: eta_q = 0.01 on Waterbirds, CelebA, MultiNLI).
// Groups absent from a batch keep their weight and add no loss; empty groups never divide by zero.
// Batches (method.balance_by): "sampler" (default) draws each epoch's rows group-balanced, as the
// paper's code does (run_expt.py --reweight_groups --robust), with reweight's weights (the stage in
// src/run/peers.ts); "loss" shuffles the rows and leaves the balancing to q alone.

import { assertAllFinite } from "../mi/guard.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Batch } from "./batch.js";
import { GroupDroLoss } from "./group-dro-loss.js";
import type { GroupScheme } from "./groups.js";
import { BaseMethod, type CommonConfig } from "./method.js";
import { type BalanceBy, GroupReweightLoss } from "./reweight-loss.js";

export interface GroupDroConfig extends CommonConfig {
  /** step size of the group-weight update (default 0.01) */
  eta?: number;
  /** which groups (default "pairs", see groups.ts) */
  groups?: GroupScheme;
  /** "sampler" (default): group-balanced batches; "loss": shuffled batches, q alone balances */
  balanceBy?: BalanceBy;
  /** the sampler's tiny-cell floor (groups.ts; default 10) */
  minCount?: number;
}

export class GroupDro extends BaseMethod {
  readonly name: string = "groupdro";
  readonly objective: GroupDroLoss;
  /** the weights its batches are drawn by (balance_by "sampler"; fitted by the run stage), else null */
  readonly sampler: GroupReweightLoss | null;
  constructor(readonly cfg: GroupDroConfig) {
    super(cfg);
    this.sampler =
      (cfg.balanceBy ?? "sampler") === "sampler"
        ? new GroupReweightLoss(
            this.tasks.map((t) => t.numClasses),
            { scheme: cfg.groups ?? "pairs", minCount: cfg.minCount },
            this.name,
            "sampler",
          )
        : null;
    this.objective = new GroupDroLoss(
      cfg.tasks,
      { eta: cfg.eta ?? 0.01, groups: cfg.groups ?? "pairs" },
      this.device,
    );
    this.optimizers.model = this.modelOptimizer();
  }

  get numGroups(): number {
    return this.objective.numGroups;
  }
  get q(): number[] {
    return this.objective.q;
  }
  set q(q: number[]) {
    this.objective.q = q;
  }
  membership(batch: Batch): Tensor {
    return this.objective.membership(batch);
  }

  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const [fy] = this.model.split(this.model.forward(batch.x));
      const logits = this.model.heads.head(0, fy);
      const { loss, perSample, groupLosses, present } = this.objective.loss(logits, batch);
      assertAllFinite({ [`ce/${this.tasks[0].name}`]: groupLosses.reduce((a, b) => a + b, 0) });
      const out: Record<string, number> = {
        loss: loss.item(),
        [`ce/${this.tasks[0].name}`]: perSample.mean().item(),
      };
      out.worst_group_loss = Math.max(...groupLosses.filter((_, g) => present[g]));
      this.q.forEach((qg, g) => {
        out[`q/${g}`] = qg;
      });
      loss.backward();
      opt.step();
      return out;
    });
  }
  override getState(): Record<string, unknown> {
    return this.objective.getState();
  }
  override setState(state: Record<string, unknown>): void {
    this.objective.setState(state.q);
  }
}

// Adversarial debiasing: MTL plus, per spurion, an adversary head that predicts z_i from f_y through
// a gradient-reversal layer. The adversary learns to find z_i in f_y; the reversed gradient makes the
// encoder remove it. One optimiser: the reversal turns the min-max into a single descent.

import { assertAllFinite } from "../mi/guard.js";
import { makeHead } from "../models/heads.js";
import { ModuleList } from "../nn/module.js";
import { gradReverse } from "../tensor/autograd.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Batch, taskLabels } from "./batch.js";
import { BaseMethod, type CommonConfig, ce } from "./method.js";

export interface AdversarialConfig extends CommonConfig {
  /** gradient-reversal strength (default 1) */
  lambda?: number;
}

export class Adversarial extends BaseMethod {
  readonly name: string = "adversarial";
  readonly adversaries: ModuleList;
  constructor(readonly cfg: AdversarialConfig) {
    super(cfg);
    this.adversaries = this.stateModule.add(
      "adversaries",
      new ModuleList(cfg.tasks.slice(1).map((t) => makeHead(cfg.partSize, t.numClasses, cfg.head))).to(
        this.device,
      ),
    );
    this.optimizers.model = this.modelOptimizer([
      ...this.model.parameters(),
      ...this.adversaries.parameters(),
    ]);
  }
  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      this.adversaries.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const parts = this.model.split(this.model.forward(batch.x));
      const logits = this.model.logits(parts);
      const labels = taskLabels(batch);
      const terms: Tensor[] = logits.map((l, i) => ce(l, labels[i]));
      const losses: Record<string, number> = {};
      terms.forEach((t, i) => {
        losses[`ce/${this.tasks[i].name}`] = t.item();
      });
      const reversed = gradReverse(parts[0], this.cfg.lambda ?? 1);
      this.adversaries.items.forEach((adv, i) => {
        const t = ce(adv.forward(reversed), batch.z[i]);
        losses[`adv/${this.tasks[i + 1].name}`] = t.item();
        terms.push(t);
      });
      assertAllFinite(losses);
      const total = terms.reduce((a, b) => a.add(b));
      losses.loss = total.item();
      total.backward();
      opt.step();
      return losses;
    });
  }
}

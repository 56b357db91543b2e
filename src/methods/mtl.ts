// MTL: every head trained on its own part (sum of cross-entropies), no MI penalty. The multi-task
// baseline of the published precursor; MIMM-X is MTL plus the MI terms.
import { assertAllFinite } from "../mi/guard.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Batch, taskLabels } from "./batch.js";
import { BaseMethod, type CommonConfig, ce } from "./method.js";

export class Mtl extends BaseMethod {
  readonly name: string = "mtl";
  constructor(cfg: CommonConfig) {
    super(cfg);
    this.optimizers.model = this.modelOptimizer();
  }
  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const logits = this.model.logits(this.model.split(this.model.forward(batch.x)));
      const labels = taskLabels(batch);
      const terms = logits.map((l, i) => ce(l, labels[i]));
      const losses: Record<string, number> = {};
      terms.forEach((t, i) => {
        losses[`ce/${this.tasks[i].name}`] = t.item();
      });
      assertAllFinite(losses);
      const total = terms.reduce((a: Tensor, b) => a.add(b));
      losses.loss = total.item();
      total.backward();
      opt.step();
      return losses;
    });
  }
}

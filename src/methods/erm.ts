// ERM: the primary head only (cross-entropy on y from f_y). The oracle is ERM on a training set
// without the y-z correlation: same method, different data config.
import { assertAllFinite } from "../mi/guard.js";
import { tidy } from "../tensor/scope.js";
import type { Batch } from "./batch.js";
import { BaseMethod, type CommonConfig, ce } from "./method.js";

export class Erm extends BaseMethod {
  readonly name: string = "erm";
  constructor(cfg: CommonConfig) {
    super(cfg);
    this.optimizers.model = this.modelOptimizer();
  }
  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const [fy] = this.model.split(this.model.forward(batch.x));
      const loss = ce(this.model.heads.head(0, fy), batch.y);
      const losses = { [`ce/${this.tasks[0].name}`]: loss.item() };
      assertAllFinite(losses);
      loss.backward();
      opt.step();
      return { ...losses, loss: losses[`ce/${this.tasks[0].name}`] };
    });
  }
}

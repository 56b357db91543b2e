// JTT (Liu et al. 2021, "Just Train Twice: Improving Group Robustness without Training Group
// Information"). Stage 1, run by src/run/peers.ts: ERM for T epochs (the identification model); the
// error set = the training rows it misclassifies. Stage 2 (this class): a model trained from fresh
// weights on the same split with the error set's losses up-weighted by lambda_up. The paper
// duplicates error-set rows lambda_up times (upsampling); this is the loss-weighting form with the
// same expected gradient and the same epoch length as ERM (so the same budget):
//   L = sum_b w_b l_b / sum_b w_b,   w_b = lambda_up if row b is in the error set, else 1.
// Paper values (Liu et al. 2021, appendix, the selected hyperparameters): Waterbirds T = 60 epochs, lambda_up = 100;
// CelebA T = 1, lambda_up = 50; MultiNLI and CivilComments T = 2, lambda_up = 6. Our defaults, T = 1
// and lambda_up = 50 (CelebA's: ERM fits these benchmarks within an epoch or two, and an
// identification model that has memorised the training split has an empty error set).

import { assertAllFinite } from "../mi/guard.js";
import { tidy } from "../tensor/scope.js";
import type { Batch } from "./batch.js";
import { BaseMethod, type CommonConfig } from "./method.js";
import { weightedCe } from "./reweight-loss.js";

export const JTT_DEFAULTS = { firstEpochs: 1, upweight: 50 };

export interface JttConfig extends CommonConfig {
  /** lambda_up, the error set's loss weight (default 50) */
  upweight?: number;
}

/** Rows whose predicted class (argmax of logits [N, C], row-major) differs from a known label y. */
export function errorSet(logits: ArrayLike<number>, numClasses: number, y: ArrayLike<number>): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < y.length; i++) {
    if (!(y[i] >= 0)) continue;
    let best = 0;
    for (let c = 1; c < numClasses; c++)
      if (logits[i * numClasses + c] > logits[i * numClasses + best]) best = c;
    if (best !== y[i]) out.push(i);
  }
  return Int32Array.from(out);
}

export class Jtt extends BaseMethod {
  readonly name: string = "jtt";
  /** 1 for rows of the error set, per training row; null until setErrorSet */
  private inErrorSet: Uint8Array | null = null;
  constructor(readonly cfg: JttConfig) {
    super(cfg);
    const up = cfg.upweight ?? JTT_DEFAULTS.upweight;
    if (!(up >= 1)) throw new Error(`jtt: upweight (lambda_up) must be >= 1, got ${up}`);
    this.optimizers.model = this.modelOptimizer();
  }
  get upweight(): number {
    return this.cfg.upweight ?? JTT_DEFAULTS.upweight;
  }
  /** The error set (rows of the training split, which has `numRows` rows) from stage 1. */
  setErrorSet(rows: Int32Array, numRows: number): void {
    const mask = new Uint8Array(numRows);
    for (const r of rows) {
      if (!(r >= 0 && r < numRows))
        throw new Error(`jtt: error-set row ${r} is outside the ${numRows} training rows`);
      mask[r] = 1;
    }
    this.inErrorSet = mask;
  }
  get errorSetSize(): number {
    return this.inErrorSet ? this.inErrorSet.reduce((a, b) => a + b, 0) : 0;
  }
  /** Loss weight of each sample of a batch: lambda_up in the error set, else 1. */
  sampleWeights(batch: Batch): Float32Array {
    const mask = this.inErrorSet;
    if (!mask) throw new Error("jtt: setErrorSet (stage 1) must run before stage 2 trains");
    const rows = batch.rows;
    if (!rows) throw new Error("jtt: the batch carries no training-row indices (Batch.rows)");
    return Float32Array.from(rows, (r) => {
      if (!(r >= 0 && r < mask.length))
        throw new Error(`jtt: batch row ${r} is outside the ${mask.length} rows the error set was found on`);
      return mask[r] ? this.upweight : 1;
    });
  }
  update(batch: Batch): Record<string, number> {
    return tidy(() => {
      this.model.train();
      const opt = this.optimizers.model;
      opt.zeroGrad();
      const w = this.sampleWeights(batch);
      const [fy] = this.model.split(this.model.forward(batch.x));
      const loss = weightedCe(this.model.heads.head(0, fy), batch.y, w);
      const losses = { [`ce/${this.tasks[0].name}`]: loss.item() };
      assertAllFinite(losses);
      loss.backward();
      opt.step();
      const share = w.reduce((s, v) => s + (v > 1 ? 1 : 0), 0) / w.length;
      return { ...losses, loss: losses[`ce/${this.tasks[0].name}`], error_set_share: share };
    });
  }
  override getState(): Record<string, unknown> {
    if (!this.inErrorSet) return {};
    const rows: number[] = [];
    this.inErrorSet.forEach((v, r) => {
      if (v) rows.push(r);
    });
    return { errorSet: rows, numRows: this.inErrorSet.length };
  }
  override setState(state: Record<string, unknown>): void {
    if (Array.isArray(state.errorSet) && typeof state.numRows === "number")
      this.setErrorSet(Int32Array.from(state.errorSet as number[]), state.numRows);
  }
}

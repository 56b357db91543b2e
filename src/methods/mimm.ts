// MIMM (2023): the single-spurion precursor. One spurion, one MI estimator between f_y and f_z,
// adaptive scaling and corrected gradients, no loss weighting or attention. Implemented as MIMM-X
// restricted to tasks [y, z_s]; batches are narrowed to that spurion.
import type { Tensor } from "../tensor/tensor.js";
import type { Batch } from "./batch.js";
import { Mimmx, type MimmxConfig } from "./mimmx.js";

export interface MimmConfig extends Omit<MimmxConfig, "gradNorm" | "attention" | "pairs"> {
  /** which spurion of the batch (index into Batch.z) to remove (default 0) */
  spurion?: number;
}

export class Mimm extends Mimmx {
  override readonly name: string = "mimm";
  readonly spurion: number;
  constructor(cfg: MimmConfig) {
    const s = cfg.spurion ?? 0;
    if (!(s >= 0 && s < cfg.tasks.length - 1))
      throw new Error(`Mimm: spurion ${s} out of range (${cfg.tasks.length - 1} spurions)`);
    super({
      ...cfg,
      tasks: [cfg.tasks[0], cfg.tasks[1 + s]],
      gradNorm: false,
      attention: false,
      pairs: "all",
    });
    this.spurion = s;
  }
  override update(batch: Batch): Record<string, number> {
    return super.update(this.narrow(batch));
  }
  private narrow(batch: Batch): Batch {
    const z: Tensor[] = [batch.z[this.spurion]];
    return { x: batch.x, y: batch.y, z };
  }
}

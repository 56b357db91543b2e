// MIMM (2023): the single-spurion precursor. One spurion, one MI estimator between f_y and f_z,
// adaptive scaling and corrected gradients, no loss weighting or attention. Implemented as MIMM-X
// restricted to tasks [y, z_s] with MIMM-X's own additions fixed off (MIMM_FIXED); batches are
// narrowed to that spurion.
import type { Tensor } from "../tensor/tensor.js";
import type { Batch } from "./batch.js";
import type { CommonConfig } from "./method.js";
import type { MimmxSwitches } from "./mimmx/config.js";
import { Mimmx } from "./mimmx.js";

/** The switches MIMM has: the MI term, its estimator and schedule, adaptive scaling. */
export type MimmSwitches = Pick<
  MimmxSwitches,
  | "lambda"
  | "estimator"
  | "conditional"
  | "nFE"
  | "nMI"
  | "criticData"
  | "criticLr"
  | "adaptiveScaling"
  | "objective"
>;

export type MimmConfig = CommonConfig &
  MimmSwitches & {
    /** which spurion of the batch (index into Batch.z) to remove */
    spurion: number;
  };

/** What makes MIMM-X's extensions vanish: MIMM as published, not a default of either method. */
const MIMM_FIXED = {
  pairs: "all",
  gradNorm: false,
  attention: false,
  scalingScope: "lastLayer",
  miWarmup: 0,
  lambdaRamp: 0,
  penalise: "all",
  spurionGrad: "trunk",
  miGrad: "trunk",
  spurionView: "part",
  miDistribution: "train",
  yLoss: { kind: "ce" },
} as const;

export class Mimm extends Mimmx {
  override readonly name: string = "mimm";
  readonly spurion: number;
  constructor(cfg: MimmConfig) {
    const s = cfg.spurion;
    if (!(Number.isInteger(s) && s >= 0 && s < cfg.tasks.length - 1))
      throw new Error(`Mimm: spurion ${s} out of range (${cfg.tasks.length - 1} spurions)`);
    super({ ...cfg, ...MIMM_FIXED, tasks: [cfg.tasks[0], cfg.tasks[1 + s]] });
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

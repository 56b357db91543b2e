// Optimisers and schedules by name, so a run config (train.optimizer, train.scheduler, ...) builds
// the same objects a PyTorch script would:
//   adam  -> torch.optim.Adam(params, lr, weight_decay)          (L2 added to the gradient)
//   adamw -> torch.optim.AdamW(params, lr, weight_decay)         (decoupled decay)
//   sgd   -> torch.optim.SGD(params, lr, momentum, weight_decay, nesterov)
//   step  -> StepLR(opt, step_size, gamma);  cosine -> CosineAnnealingLR(opt, T_max, eta_min)
import type { Tensor } from "../tensor/tensor.js";
import { Adam, AdamW } from "./adam.js";
import type { Optimizer, ParamGroup } from "./optimizer.js";
import { CosineAnnealingLR, type LRScheduler, StepLR } from "./scheduler.js";
import { SGD } from "./sgd.js";

export const OPTIMIZER_NAMES = ["adam", "adamw", "sgd"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerSpec {
  /** default "adam" */
  name?: OptimizerName;
  /** default 1e-3 */
  lr?: number;
  /** L2 (adam, sgd) or decoupled (adamw) weight decay; default 0 (adamw: 1e-2, PyTorch's) */
  weightDecay?: number;
  /** sgd only; default 0 */
  momentum?: number;
  /** sgd only; default false */
  nesterov?: boolean;
  /** Adam/AdamW betas; default [0.9, 0.999] */
  betas?: [number, number];
  /** > 0: clip the global gradient norm of the parameters before every step (Optimizer.maxGradNorm) */
  maxGradNorm?: number;
}

export function makeOptimizer(params: Tensor[] | Partial<ParamGroup>[], spec: OptimizerSpec = {}): Optimizer {
  const name = spec.name ?? "adam";
  const lr = spec.lr ?? 1e-3;
  let opt: Optimizer;
  switch (name) {
    case "adam":
      opt = new Adam(params, { lr, weightDecay: spec.weightDecay ?? 0, betas: spec.betas });
      break;
    case "adamw":
      opt = new AdamW(params, { lr, weightDecay: spec.weightDecay, betas: spec.betas });
      break;
    case "sgd":
      opt = new SGD(params, {
        lr,
        momentum: spec.momentum ?? 0,
        weightDecay: spec.weightDecay ?? 0,
        nesterov: spec.nesterov ?? false,
      });
      break;
    default:
      throw new Error(`unknown optimizer "${name as string}" (known: ${OPTIMIZER_NAMES.join(", ")})`);
  }
  const clip = spec.maxGradNorm ?? 0;
  if (!(clip >= 0)) throw new Error(`makeOptimizer: maxGradNorm must be >= 0, got ${clip}`);
  opt.maxGradNorm = clip;
  return opt;
}

export const SCHEDULER_NAMES = ["none", "step", "cosine"] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export interface SchedulerSpec {
  name: SchedulerName;
  /** step: epochs between decays (StepLR step_size) */
  stepSize?: number;
  /** step: decay factor (default 0.1) */
  gamma?: number;
  /** cosine: the period T_max in epochs (a run uses its epoch count) */
  tMax?: number;
  /** cosine: the floor eta_min (default 0) */
  etaMin?: number;
}

/** The schedule of `spec` on `opt`, or null for "none". Step it once per epoch. */
export function makeScheduler(opt: Optimizer, spec: SchedulerSpec): LRScheduler | null {
  switch (spec.name) {
    case "none":
      return null;
    case "step":
      if (spec.stepSize === undefined) throw new Error("makeScheduler: step needs stepSize");
      return new StepLR(opt, spec.stepSize, spec.gamma ?? 0.1);
    case "cosine":
      if (spec.tMax === undefined) throw new Error("makeScheduler: cosine needs tMax");
      return new CosineAnnealingLR(opt, spec.tMax, spec.etaMin ?? 0);
    default:
      throw new Error(
        `unknown scheduler "${(spec as { name: string }).name}" (known: ${SCHEDULER_NAMES.join(", ")})`,
      );
  }
}

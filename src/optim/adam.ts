// Adam (Kingma & Ba) and AdamW (decoupled weight decay, Loshchilov & Hutter), PyTorch's update rule.
// The arithmetic of a whole group runs in one native call (adam_step): on small models, a JS round
// trip per parameter per moment would cost more than the update itself.

import { zerosLike } from "../tensor/creation.js";
import { native } from "../tensor/native.js";
import type { Tensor } from "../tensor/tensor.js";
import { Optimizer, type ParamGroup } from "./optimizer.js";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  constructor(
    params: Tensor[] | Partial<ParamGroup>[],
    opts: AdamOptions = {},
    protected readonly decoupled = false,
  ) {
    const [beta1, beta2] = opts.betas ?? [0.9, 0.999];
    for (const [name, v] of [
      ["beta1", beta1],
      ["beta2", beta2],
    ] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`Adam: ${name} must be in [0, 1), got ${v}`);
    }
    super(params, {
      lr: opts.lr ?? 1e-3,
      beta1,
      beta2,
      eps: opts.eps ?? 1e-8,
      weightDecay: opts.weightDecay ?? (decoupled ? 1e-2 : 0),
    });
  }

  protected updateGroup(group: ParamGroup): void {
    // Parameters are grouped by their step count: all share it unless some had no gradient sometimes.
    const byStep = new Map<number, { p: Tensor[]; g: Tensor[]; m: Tensor[]; v: Tensor[] }>();
    const grads: Tensor[] = [];
    for (const p of group.params) {
      const g = p.grad;
      if (!g) continue;
      grads.push(g);
      const s = this.stateOf(p, () => ({ exp_avg: zerosLike(p), exp_avg_sq: zerosLike(p) }));
      s.step += 1;
      let batch = byStep.get(s.step);
      if (!batch) {
        batch = { p: [], g: [], m: [], v: [] };
        byStep.set(s.step, batch);
      }
      batch.p.push(p);
      batch.g.push(g);
      batch.m.push(s.tensors.get("exp_avg")!);
      batch.v.push(s.tensors.get("exp_avg_sq")!);
    }
    for (const [step, b] of byStep) {
      native.adam_step(
        b.p.map((t) => t._h),
        b.g.map((t) => t._h),
        b.m.map((t) => t._h),
        b.v.map((t) => t._h),
        group.lr,
        group.beta1,
        group.beta2,
        group.eps,
        group.weightDecay,
        step,
        this.decoupled,
      );
    }
    for (const g of grads) g.dispose();
  }
}

export class AdamW extends Adam {
  constructor(params: Tensor[] | Partial<ParamGroup>[], opts: AdamOptions = {}) {
    super(params, opts, true);
  }
}

// Optimizer base: parameter groups with their own hyper-parameters, per-parameter state tensors, and
// a state dict that checkpoints can save and load (PyTorch's torch.optim.Optimizer, same layout).
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import { clipGradNorm_ } from "./clip.js";

export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [hyper: string]: number | boolean | Tensor[];
}

/** Per-parameter state: named tensors (moments) and a step count. */
export interface ParamState {
  step: number;
  tensors: Map<string, Tensor>;
}

/** JSON-able part of an optimizer state dict; the tensors travel separately (see checkpoint.ts). */
export interface OptimizerStateDict {
  groups: Record<string, number | boolean>[];
  /** per parameter, in group order: step and the names of its state tensors */
  state: { step: number; tensors: string[] }[];
  tensors: Map<string, Tensor>;
}

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[];
  protected readonly state = new Map<Tensor, ParamState>();
  /**
   * > 0: every step() first clips the global gradient norm of all this optimizer's parameters to
   * this value (clipGradNorm_, PyTorch's clip_grad_norm_ semantics). For code that owns its step()
   * call this equals `clipGradNorm_(params, max); opt.step()`; it exists so a training loop can
   * clip the steps of methods that call step() themselves. 0 = off (default).
   */
  maxGradNorm = 0;
  /** The total gradient norm before clipping, of the last step() that clipped; null before. */
  lastGradNorm: number | null = null;

  constructor(params: Tensor[] | Partial<ParamGroup>[], defaults: Record<string, number | boolean>) {
    const groups = (
      params.length > 0 && !("params" in (params[0] as object)) ? [{ params: params as Tensor[] }] : params
    ) as Partial<ParamGroup>[];
    this.paramGroups = groups.map((g, i) => {
      if (!g.params || g.params.length === 0)
        throw new Error(`${this.constructor.name}: parameter group ${i} has no parameters`);
      const group = { ...defaults, ...g } as ParamGroup;
      if (!(group.lr >= 0))
        throw new Error(`${this.constructor.name}: group ${i} has an invalid lr ${group.lr}`);
      return group;
    });
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (seen.has(p))
          throw new Error(`${this.constructor.name}: a parameter appears in more than one group`);
        seen.add(p);
      }
    }
  }

  /** Applies one update from the parameters' .grad (parameters without a gradient are skipped). */
  step(): void {
    if (this.maxGradNorm > 0)
      this.lastGradNorm = clipGradNorm_(
        this.paramGroups.flatMap((g) => g.params),
        this.maxGradNorm,
      );
    noGrad(() => {
      for (const group of this.paramGroups) this.updateGroup(group);
    });
  }

  protected abstract updateGroup(group: ParamGroup): void;

  /** Clears the gradients of every parameter (set to none). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  protected stateOf(p: Tensor, init: () => Record<string, Tensor>): ParamState {
    let s = this.state.get(p);
    if (!s) {
      const tensors = new Map(Object.entries(init()));
      for (const t of tensors.values()) t.keep();
      s = { step: 0, tensors };
      this.state.set(p, s);
    }
    return s;
  }

  stateDict(): OptimizerStateDict {
    const groups = this.paramGroups.map(
      ({ params: _params, ...hyper }) => hyper as Record<string, number | boolean>,
    );
    const state: OptimizerStateDict["state"] = [];
    const tensors = new Map<string, Tensor>();
    let index = 0;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        const s = this.state.get(p);
        state.push({ step: s?.step ?? 0, tensors: s ? [...s.tensors.keys()] : [] });
        for (const [name, t] of s?.tensors ?? []) tensors.set(`${index}.${name}`, t);
        index++;
      }
    }
    return { groups, state, tensors };
  }

  loadStateDict(sd: OptimizerStateDict): void {
    if (sd.groups.length !== this.paramGroups.length) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: ${sd.groups.length} groups saved, ${this.paramGroups.length} here`,
      );
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    if (sd.state.length !== params.length) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: state for ${sd.state.length} parameters saved, ${params.length} here`,
      );
    }
    sd.groups.forEach((hyper, i) => {
      Object.assign(this.paramGroups[i], hyper);
    });
    this.state.clear();
    sd.state.forEach((entry, i) => {
      if (entry.tensors.length === 0 && entry.step === 0) return;
      const tensors = new Map<string, Tensor>();
      for (const name of entry.tensors) {
        const t = sd.tensors.get(`${i}.${name}`);
        if (!t) throw new Error(`${this.constructor.name}.loadStateDict: missing state tensor ${i}.${name}`);
        const want = params[i].shape;
        if (t.shape.join() !== want.join()) {
          throw new Error(
            `${this.constructor.name}.loadStateDict: ${i}.${name} has shape [${t.shape}] but the parameter has [${want}]`,
          );
        }
        tensors.set(name, t.clone().keep());
      }
      this.state.set(params[i], { step: entry.step, tensors });
    });
  }
}

// Stochastic gradient descent with momentum, Nesterov and L2 weight decay (PyTorch's torch.optim.SGD).
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import { Optimizer, type ParamGroup } from "./optimizer.js";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  constructor(params: Tensor[] | Partial<ParamGroup>[], opts: SGDOptions) {
    if (opts.nesterov && !((opts.momentum ?? 0) > 0 && (opts.dampening ?? 0) === 0)) {
      throw new Error("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
    super(params, {
      lr: opts.lr,
      momentum: opts.momentum ?? 0,
      dampening: opts.dampening ?? 0,
      weightDecay: opts.weightDecay ?? 0,
      nesterov: opts.nesterov ?? false,
    });
  }

  protected updateGroup(group: ParamGroup): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = group as unknown as Required<SGDOptions>;
    noGrad(() => {
      for (const p of group.params) {
        let g = p.grad;
        if (!g) continue;
        const temps: Tensor[] = [g];
        if (weightDecay !== 0) {
          g = g.add(p, weightDecay);
          temps.push(g);
        }
        if (momentum !== 0) {
          const s = this.stateOf(p, () => ({ momentum_buffer: g!.clone() }));
          const buf = s.tensors.get("momentum_buffer")!;
          if (s.step > 0) buf.mul_(momentum).add_(g, 1 - dampening);
          s.step += 1;
          if (nesterov) {
            g = g.add(buf, momentum);
            temps.push(g);
          } else {
            g = buf;
          }
        }
        p.add_(g, -lr);
        for (const t of temps) t.dispose();
      }
    });
  }
}

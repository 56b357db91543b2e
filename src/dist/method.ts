// A training method under DDP: every rank starts from rank 0's state, the BatchNorms normalise
// with the global batch, and each optimizer's parameters get their gradients averaged over ranks
// by their own reducer, so a critic-only backward pass reduces the critic's gradients and not the
// encoder's. Methods need no change for their gradients; what a method derives from its batch
// (scales, weights, EMAs, group losses) must come from src/dist's allReduceMean / allGatherRows
// to be the same on every rank.
import type { Method } from "../methods/method.js";
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import { type DdpOptions, DistributedDataParallel } from "./ddp.js";
import { broadcast } from "./process-group.js";
import { convertSyncBatchNorm, revertSyncBatchNorm } from "./sync-batchnorm.js";

export interface DistributedMethod {
  /** one DistributedDataParallel per optimizer, by the optimizer's name */
  readonly reducers: Record<string, DistributedDataParallel>;
  /** rank 0's buffers to every rank (running statistics without SyncBatchNorm) */
  syncBuffers(): void;
  dispose(): void;
}

export function distributeMethod(method: Method, o: DdpOptions = {}): DistributedMethod {
  const state = method.stateModule;
  noGrad(() => {
    for (const t of [...state.parameters(), ...state.buffers()]) broadcast(t, 0);
  });
  const syncBn = o.syncBatchNorm ?? true;
  if (syncBn) convertSyncBatchNorm(state);
  const reducers: Record<string, DistributedDataParallel> = {};
  const restore: (() => void)[] = [];
  for (const [name, opt] of Object.entries(method.optimizers)) {
    const params: Tensor[] = opt.paramGroups.flatMap((g) => g.params).filter((p) => p.requiresGrad);
    if (params.length === 0) continue;
    const ddp = new DistributedDataParallel(params, o);
    reducers[name] = ddp;
    // Methods that write gradients by hand (MIMM-X's heads, its last-layer routes) call step()
    // themselves: averaging what the hooks missed has to happen inside it, before the update. For
    // the others that agreement would be a collective per step for nothing (measured: 1.3 ms of a
    // 16 ms step of bench ddp's ERM), so their gradients are only checked, on this rank.
    const step = opt.step;
    const writes = method.writesGradients === true;
    opt.step = function (this: typeof opt) {
      if (writes) ddp.syncStaleGradients();
      else ddp.assertNoStaleGradients(`method ${method.name}, optimizer "${name}"`);
      step.call(this);
    };
    restore.push(() => {
      opt.step = step;
    });
  }
  return {
    reducers,
    syncBuffers: () =>
      noGrad(() => {
        for (const t of state.buffers()) broadcast(t, 0);
      }),
    dispose: () => {
      for (const r of restore) r();
      for (const r of Object.values(reducers)) r.dispose();
      if (syncBn) revertSyncBatchNorm(state);
    },
  };
}

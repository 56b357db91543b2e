// SyncBatchNorm: in training, every BatchNorm of a model normalises with the mean and variance of
// the global batch (all ranks' rows), so N processes at batch b train exactly like one process at
// batch N*b. The statistics travel through the differentiable all-reduce, which also carries
// their gradient back to every rank's rows (autograd does the rest). Two collectives per layer
// forward (the sum, then the centred sum of squares: the same two-pass arithmetic as one
// process's batch norm) and two backward. The alternative, each rank normalising with its own
// batch (cheaper, PyTorch DDP's default), is DistributedDataParallel's syncBatchNorm: false.
import { BatchNormNd } from "../nn/layers.js";
import type { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import { full } from "../tensor/creation.js";
import { cat } from "../tensor/functions.js";
import type { Tensor } from "../tensor/tensor.js";
import { allReduceSumAutograd } from "./process-group.js";

/** The global-batch normalisation of one BatchNorm layer on this rank's rows x [N, C, ...]. */
export function syncBatchNormForward(bn: BatchNormNd, x: Tensor): Tensor {
  const c = bn.numFeatures;
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
  const perChannel = [1, c, ...Array.from({ length: x.ndim - 2 }, () => 1)];
  const rows = x.numel() / c;
  // [sum over this rank's rows per channel..., row count] summed over ranks in one collective.
  const local = cat([x.sum(dims), full([1], rows, { dtype: x.dtype, device: x.device })]);
  const global = allReduceSumAutograd(local);
  const count = global.narrow(0, c, 1).item();
  if (count < 2)
    throw new Error(
      `${bn.constructor.name}(${c}): the global batch has ${count} value per channel; training needs at least 2`,
    );
  const mean = global.narrow(0, 0, c).div(count);
  const centred = x.sub(mean.view(perChannel));
  const variance = allReduceSumAutograd(centred.square().sum(dims)).div(count);
  const eps = bn.options.eps ?? 1e-5;
  let y = centred.mul(variance.add(eps).rsqrt().view(perChannel));
  if (bn.weight) y = y.mul(bn.weight.view(perChannel));
  if (bn.bias) y = y.add(bn.bias.view(perChannel));
  const momentum = bn.options.momentum ?? 0.1;
  noGrad(() => {
    // PyTorch's running statistics: the unbiased variance, exponential average with `momentum`.
    bn.runningMean.mul_(1 - momentum).add_(mean.detach().mul(momentum));
    bn.runningVar.mul_(1 - momentum).add_(variance.detach().mul((momentum * count) / (count - 1)));
  });
  return y;
}

/** Makes every BatchNorm in `module` synchronise its training statistics; returns how many. */
export function convertSyncBatchNorm(module: Module): number {
  let n = 0;
  for (const [, m] of module.namedModules()) {
    if (m instanceof BatchNormNd) {
      m.syncStats = syncBatchNormForward;
      n++;
    }
  }
  return n;
}

/** Undoes convertSyncBatchNorm (each rank's own batch statistics again). */
export function revertSyncBatchNorm(module: Module): void {
  for (const [, m] of module.namedModules()) if (m instanceof BatchNormNd) m.syncStats = null;
}

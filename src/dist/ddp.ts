// DistributedDataParallel: data parallelism the way PyTorch's DDP does it. At construction,
// rank 0's parameters and buffers are broadcast so every rank starts identical, and the
// BatchNorms are switched to global-batch statistics (SyncBatchNorm; off: each rank's own). The
// native reducer (native/src/dist_ops.cc) then makes every backward pass that reaches these
// parameters end with each .grad holding the mean over ranks: gradients are packed into buckets
// of ~25 MB in reverse parameter order, and each bucket's all-reduce starts from a gradient hook
// as soon as its last gradient is accumulated, overlapping the rest of the backward pass.
//
// After backward(), .grad already holds the global mean, so the same step on the same weights
// keeps every rank identical. Gradients written without a backward pass (p.grad = ...) are not
// seen by the hooks: syncStaleGradients() averages those right before the step. Methods call
// their model's forward themselves; nothing in the forward path is wrapped.
import type { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import { native } from "../tensor/native.js";
import type { Tensor } from "../tensor/tensor.js";
import { broadcast, getWorldSize, isInitialized } from "./process-group.js";
import { convertSyncBatchNorm, revertSyncBatchNorm } from "./sync-batchnorm.js";

export interface DdpOptions {
  /** bucket size in MiB (PyTorch's bucket_cap_mb, default 25) */
  bucketCapMb?: number;
  /** global-batch BatchNorm statistics (default true); false: each rank's own batch */
  syncBatchNorm?: boolean;
}

export interface ReducerStats {
  buckets: number;
  /** element count of each bucket, in launch order */
  bucketNumels: number[];
  /** buckets whose all-reduce started inside a backward pass (overlapped with it) */
  launchedDuringBackward: number;
  /** buckets started only when the backward pass ended */
  launchedAtEnd: number;
  backwardPasses: number;
  /** collectives syncStaleGradients issued: one per call while the set of stale parameters stays */
  staleCollectives: number;
}

export class DistributedDataParallel {
  private reducer: number | null;
  private readonly params: Tensor[];
  private readonly bucketBytes: number;

  /**
   * `target`: a module (its parameters and buffers) or a list of parameters (no buffers, no
   * BatchNorm conversion), e.g. one optimizer's.
   */
  constructor(
    readonly target: Module | Tensor[],
    readonly options: DdpOptions = {},
  ) {
    if (!isInitialized())
      throw new Error("DistributedDataParallel: no process group (call initProcessGroup() first)");
    const module = Array.isArray(target) ? null : target;
    this.params = (module ? module.parameters() : (target as Tensor[])).filter((p) => p.requiresGrad);
    if (this.params.length === 0) throw new Error("DistributedDataParallel: no parameter requires grad");
    this.broadcastFromRank0(module ? [...module.parameters(), ...module.buffers()] : this.params);
    if (module && (options.syncBatchNorm ?? true)) convertSyncBatchNorm(module);
    const capMb = options.bucketCapMb ?? 25;
    if (!(capMb > 0)) throw new Error(`DistributedDataParallel: bucketCapMb must be > 0, got ${capMb}`);
    this.bucketBytes = Math.round(capMb * 1024 * 1024);
    this.reducer = native.dist_reducer_new(
      this.params.map((p) => p._h),
      this.bucketBytes,
    ) as number;
  }

  get worldSize(): number {
    return getWorldSize();
  }

  /**
   * Runs fn with gradient reduction off (PyTorch's no_sync): gradients accumulate locally, e.g.
   * for gradient accumulation; the next backward pass outside reduces the accumulated sum.
   */
  noSync<T>(fn: () => T): T {
    native.dist_reducer_set_enabled(this.id(), false);
    try {
      return fn();
    } finally {
      native.dist_reducer_set_enabled(this.id(), true);
    }
  }

  /**
   * Averages the gradients the hooks did not: set by hand (`p.grad = ...`, e.g. MIMM-X's heads),
   * changed after the backward pass that reduced them, or accumulated under noSync. Call it right
   * before the optimizer step (distributeMethod does); the ranks agree on the set first. Returns
   * how many parameters it averaged (0 when backward passes did everything).
   */
  syncStaleGradients(): number {
    return native.dist_reducer_sync_stale(this.id(), this.bucketBytes) as number;
  }

  /**
   * Throws, naming the first parameter (by its index here and its shape) whose gradient the
   * reducer did not write, for callers whose gradients must all come from backward passes. Local:
   * no collective (every rank runs the same code, so every rank throws at the same step).
   */
  assertNoStaleGradients(what: string): void {
    const k = native.dist_reducer_first_stale(this.id()) as number;
    if (k < 0) return;
    throw new Error(
      `DistributedDataParallel (${what}): the gradient of parameter ${k} [${this.params[k].shape.join(", ")}] was set or changed after the backward pass, which the ranks do not average; a method that writes gradients by hand declares writesGradients`,
    );
  }

  /** Rank 0's buffers (running statistics) to every rank, e.g. before evaluation without SyncBatchNorm. */
  syncBuffers(): void {
    if (!Array.isArray(this.target)) this.broadcastFromRank0(this.target.buffers());
  }

  stats(): ReducerStats {
    return native.dist_reducer_stats(this.id()) as ReducerStats;
  }

  /** Removes the gradient hooks (and SyncBatchNorm); gradients are this rank's own again. */
  dispose(): void {
    if (this.reducer === null) return;
    native.dist_reducer_free(this.reducer);
    this.reducer = null;
    if (!Array.isArray(this.target)) revertSyncBatchNorm(this.target);
  }

  private id(): number {
    if (this.reducer === null) throw new Error("DistributedDataParallel: used after dispose()");
    return this.reducer;
  }

  private broadcastFromRank0(tensors: Tensor[]): void {
    noGrad(() => {
      for (const t of tensors) broadcast(t, 0);
    });
  }
}

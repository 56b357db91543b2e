// torch.distributed's surface over the addon's c10d layer (native/src/dist.h): one default process
// group per process, the collectives in place on tensors, and the two differentiable ones that
// SyncBatchNorm and the MI critics need. Every failure (a rank that died, a timeout, an unreachable
// master) is a JS Error naming the collective and this rank.

import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { cat } from "../tensor/functions.js";
import { native } from "../tensor/native.js";
import { tidy } from "../tensor/scope.js";
import { type Device, Tensor } from "../tensor/tensor.js";
import { type DistEnv, readDistEnv } from "./env.js";

export type Backend = "gloo" | "nccl";
export type ReduceOp = "sum" | "avg" | "max" | "min" | "product";

export interface InitOptions {
  /** default: the environment's (readDistEnv) */
  env?: DistEnv;
  /** default "gloo"; "nccl" where the addon was built with it (CUDA tensors only) */
  backend?: Backend;
  /**
   * Rendezvous and every collective give up after this long (default 30 s); a rank that died is
   * usually noticed at once (its sockets close), one that hangs after this timeout.
   */
  timeoutMs?: number;
}

/** Joins the run described by torchrun's environment contract (blocks until every rank joined). */
export function initProcessGroup(o: InitOptions = {}): DistEnv {
  const env = o.env ?? readDistEnv();
  const backend = o.backend ?? "gloo";
  const available = availableBackends();
  if (!available.includes(backend))
    throw new Error(
      `initProcessGroup: backend "${backend}" is not in this build (available: ${available.join(", ") || "none: the addon was built without c10d"})`,
    );
  native.dist_init(env.masterAddr, env.masterPort, env.rank, env.worldSize, backend, o.timeoutMs ?? 30_000);
  // NCCL reduces CUDA tensors only: the numbers of allReduceMean travel on this rank's GPU there.
  numbersDevice = backend === "nccl" ? `cuda:${env.localRank}` : "cpu";
  return env;
}

/** Where allReduceMean / allReduceSumNumbers put their numbers (the backend must accept it). */
let numbersDevice: Device = "cpu";

export function destroyProcessGroup(): void {
  native.dist_destroy();
}

export function isInitialized(): boolean {
  return native.dist_is_initialized() as boolean;
}

/** This process's rank; 0 without a process group (a one-process run). */
export function getRank(): number {
  return isInitialized() ? (native.dist_rank() as number) : 0;
}

/** The number of processes; 1 without a process group. */
export function getWorldSize(): number {
  return isInitialized() ? (native.dist_world_size() as number) : 1;
}

export function availableBackends(): Backend[] {
  return (native.dist_available_backends() as string).split(",").filter(Boolean) as Backend[];
}

/** In place: every rank ends with the reduction over ranks (avg = sum / world size). */
export function allReduce(t: Tensor, op: ReduceOp = "sum"): Tensor {
  native.dist_all_reduce(t._h, op);
  return t;
}

/** In place: every rank ends with rank `src`'s values. */
export function broadcast(t: Tensor, src = 0): Tensor {
  native.dist_broadcast(t._h, src);
  return t;
}

/** Every rank's tensor (same shape everywhere, checked) concatenated along dim 0, in rank order. */
export function allGather(t: Tensor): Tensor {
  return new Tensor(native.dist_all_gather(t._h));
}

/**
 * Blocks until every rank got here. timeoutMs: this barrier's own limit (e.g. ranks waiting for
 * rank 0 to finish an evaluation); default the group's. A rank that exits fails it at once.
 */
export function barrier(timeoutMs?: number): void {
  native.dist_barrier(timeoutMs ?? 0);
}

/**
 * The mean over ranks of each number, in one collective (float64): the way batch-derived method
 * state (MIMM-X's scale s, GradNorm's weights, the DV EMA, GroupDRO's group losses) becomes the
 * same on every rank. Identity without a process group.
 */
export function allReduceMean(values: number[]): number[] {
  if (!isInitialized() || values.length === 0) return values.slice();
  const t = tensor(Float64Array.from(values), { device: numbersDevice });
  try {
    allReduce(t, "avg");
    return Array.from(t.dataSync() as Float64Array);
  } finally {
    t.dispose();
  }
}

/** As allReduceMean, the sum (counts, group sizes). */
export function allReduceSumNumbers(values: number[]): number[] {
  if (!isInitialized() || values.length === 0) return values.slice();
  const t = tensor(Float64Array.from(values), { device: numbersDevice });
  try {
    allReduce(t, "sum");
    return Array.from(t.dataSync() as Float64Array);
  } finally {
    t.dispose();
  }
}

/**
 * Sum over ranks that autograd differentiates: the backward pass sums the ranks' gradients, which
 * (after the gradient reducer's mean) is the exact gradient of the mean of the ranks' losses.
 * Identity (a new tensor) without a process group.
 */
export function allReduceSumAutograd(t: Tensor): Tensor {
  if (!isInitialized()) return t.clone();
  return new Tensor(native.dist_all_reduce_sum_autograd(t._h));
}

/**
 * The global batch: the ranks' rows concatenated in rank order, differentiable (each rank's rows
 * get the summed gradient of every rank's loss, torch.distributed.nn.all_gather's rule). This is
 * what MIMM-X's critics need to score the global batch. Identity without a process group.
 *
 * `replicated`: every rank computes the same loss from the result (same function, same rows).
 * Each rank then already holds the gradient the others hold, and the backward pass returns world
 * times its own rows' share of it without the all-reduce. Wrong if the loss differs by rank.
 */
export function allGatherRows(t: Tensor, o: { replicated?: boolean } = {}): Tensor {
  if (!isInitialized()) return t.clone();
  return new Tensor(native.dist_all_gather_autograd(t._h, o.replicated ?? false));
}

/**
 * In place, the mean over ranks of each tensor (nulls skipped); nothing without a process group.
 * For gradients a method reads before the reducer averages them (MIMM-X's s and GradNorm's norms
 * on the last shared layer): the norm of the mean is the one-process norm, the mean of the norms
 * is not.
 */
export function allReduceMeanInPlace(ts: (Tensor | null)[]): void {
  if (!isInitialized()) return;
  const present = ts.filter((t): t is Tensor => t !== null);
  if (present.length === 1) native.dist_all_reduce(present[0]._h, "avg");
  if (present.length <= 1) return;
  // One collective for all of them (a round trip both ranks wait on, not one per tensor): flattened
  // side by side, reduced, copied back. They share a dtype and device (gradients of one model).
  noGrad(() =>
    tidy(() => {
      const flat = cat(
        present.map((t) => t.reshape([-1])),
        0,
      );
      native.dist_all_reduce(flat._h, "avg");
      let start = 0;
      for (const t of present) {
        const n = t.numel();
        t.copy_(flat.narrow(0, start, n).reshape(t.shape));
        start += n;
      }
    }),
  );
}

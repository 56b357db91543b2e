// How a run (src/run, the train command) joins a distributed launch: the process group from the
// environment, and the rules every rank follows. Rank 0 writes (checkpoints, metrics, reports);
// every rank trains its share and validates (the same weights on the same split give the same
// numbers, so early stopping and checkpoint selection agree); the other ranks wait while rank 0
// evaluates, audits and reports a method.
import { backendFor } from "./device.js";
import { isDistributedEnv, readDistEnv } from "./env.js";
import {
  allReduceMean,
  allReduceSumNumbers,
  availableBackends,
  barrier,
  destroyProcessGroup,
  getRank,
  getWorldSize,
  initProcessGroup,
  isInitialized,
} from "./process-group.js";
import type { Shard } from "./sampler.js";

/** A live rank that stops responding fails collectives after this long; a dead one at once. */
export const RUN_COLLECTIVE_TIMEOUT_MS = 120_000;
/** How long the other ranks wait at the end of a method while rank 0 evaluates and reports it. */
export const EVALUATION_WAIT_MS = 24 * 3600_000;

/**
 * Joins the run when the environment describes one (torchrun's contract); returns a leave().
 * `device` (train.device, already placed by rankDevice) picks the backend: NCCL for CUDA where
 * the addon has it, Gloo otherwise.
 */
export function joinRunIfDistributed(env: NodeJS.ProcessEnv = process.env, device = "cpu"): () => void {
  if (!isDistributedEnv(env) || isInitialized()) return () => {};
  initProcessGroup({
    env: readDistEnv(env),
    backend: backendFor(device, availableBackends()),
    timeoutMs: RUN_COLLECTIVE_TIMEOUT_MS,
  });
  return () => destroyProcessGroup();
}

/** True on the rank that writes files and prints (rank 0, or a one-process run). */
export function isWriterRank(): boolean {
  return getRank() === 0;
}

/** This rank's share of each global batch; undefined in a one-process run. */
export function currentShard(): Shard | undefined {
  return getWorldSize() > 1 ? { rank: getRank(), worldSize: getWorldSize() } : undefined;
}

/** All ranks meet here once rank 0 has finished a method's evaluation (no-op in one process). */
export function afterEvaluation(): void {
  if (getWorldSize() > 1) barrier(EVALUATION_WAIT_MS);
}

/**
 * True when the flag is true on any rank (one small collective; the flag itself in one process).
 * For decisions every rank must take at the same step: an interrupt seen by some ranks first,
 * a non-finite loss on one rank's share.
 */
export function anyRank(flag: boolean): boolean {
  if (getWorldSize() === 1) return flag;
  return allReduceSumNumbers([flag ? 1 : 0])[0] > 0;
}

/** What every rank must decide together at the end of a step. */
export interface StepAgreement {
  /** some rank was interrupted */
  aborted: boolean;
  /** some rank's step gave NaN/Inf */
  nonFinite: boolean;
}

/**
 * What every rank decides together at the end of a training step (StepAgreement) and the mean over
 * ranks of what it logged, in one collective (each is a round trip both ranks wait on, about 1 ms
 * on loopback here). The numbers travel in a layout every rank holds
 * alike: the sorted keys of the last step whose keys matched. A step whose keys differ from the
 * layout (the first, or one that logs a new key) or that went non-finite on a rank (no losses)
 * says so in the same collective; then, unless the step stops, the means come from meanOverRanks
 * in a second one and its keys become the layout. One process: the flags and values themselves.
 */
export class StepChannel {
  private layout: string[] | null = null;

  /** The agreed flags, and the global batch's mean of each logged number (null when non-finite). */
  agree(
    local: StepAgreement,
    losses: Record<string, number>,
  ): StepAgreement & { means: Record<string, number> | null } {
    if (getWorldSize() === 1) return { ...local, means: local.nonFinite ? null : losses };
    const keys = Object.keys(losses).sort();
    const layout = this.layout ?? [];
    const fits =
      this.layout !== null &&
      !local.nonFinite &&
      keys.length === layout.length &&
      keys.every((k, i) => k === layout[i]);
    const sums = allReduceSumNumbers([
      local.aborted ? 1 : 0,
      local.nonFinite ? 1 : 0,
      fits ? 0 : 1,
      ...layout.map((k) => (fits ? losses[k] : 0)),
    ]);
    const agreed = { aborted: sums[0] > 0, nonFinite: sums[1] > 0 };
    if (agreed.nonFinite) return { ...agreed, means: null };
    if (sums[2] > 0) {
      this.layout = keys;
      return { ...agreed, means: meanOverRanks(losses) };
    }
    const world = getWorldSize();
    return { ...agreed, means: Object.fromEntries(layout.map((k, i) => [k, sums[3 + i] / world])) };
  }
}

/**
 * The mean over ranks of every logged number (in key order; every rank logs the same keys on the
 * same step). One collective; the values themselves in one process.
 */
export function meanOverRanks(values: Record<string, number>): Record<string, number> {
  if (getWorldSize() === 1) return values;
  const keys = Object.keys(values).sort();
  const means = allReduceMean(keys.map((k) => values[k]));
  return Object.fromEntries(keys.map((k, i) => [k, means[i]]));
}

// What the 2-process DDP tests train: one ERM run whose encoder has BatchNorm, the same in one
// process (the reference, at the global batch) and in each rank (its share of the global batch).

import type { ReducerStats } from "../../src/dist/ddp.js";
import { distributeMethod } from "../../src/dist/method.js";
import type { Shard } from "../../src/dist/sampler.js";
import type { Batch } from "../../src/methods/batch.js";
import { Erm } from "../../src/methods/erm.js";
import { GroupDro } from "../../src/methods/groupdro.js";
import { createMethod, METHOD_NAMES, type MethodConfig, type MimmxConfig } from "../../src/methods/index.js";
import { Jtt } from "../../src/methods/jtt.js";
import type { Method } from "../../src/methods/method.js";
import { Mimmx } from "../../src/methods/mimmx.js";
import { Reweight } from "../../src/methods/reweight.js";
import { NonFiniteError } from "../../src/mi/guard.js";
import * as torch from "../../src/tensor/index.js";
import { arraySource, train } from "../../src/train/index.js";
import {
  type MimmxOverrides,
  mimmOptions,
  mimmxOptions,
  shortcutDataset,
  TASK_NAMES,
  TASKS,
} from "../methods/helpers.js";

export const GLOBAL_BATCH = 16;
export const STEPS = 4;

/** A 2-stage ResNet with BatchNorm after every convolution, small enough for tests. */
export function buildErm(): Erm {
  torch.manualSeed(7);
  return new Erm({
    tasks: TASKS.slice(0, 1),
    encoder: { name: "resnet18", widths: [4, 8], blocks: [1, 1], smallInput: true },
    partSize: 2,
    lr: 1e-2,
  });
}

export interface ErmResult {
  /** every parameter and buffer by name, as numbers */
  state: Record<string, number[]>;
  /** the model reducer's counters (distributed runs) */
  stats?: ReducerStats;
}

/** Trains ERM for `epochs` epochs of STEPS steps; in a distributed run, on this rank's share. */
export async function trainErm(shard?: Shard, epochs = 1): Promise<ErmResult> {
  const method = buildErm();
  const ds = shortcutDataset(GLOBAL_BATCH * STEPS, 3);
  const tasks = { primary: "y", spurions: [] };
  const ddp = shard ? distributeMethod(method) : null;
  await train({
    method,
    data: arraySource(ds, { batchSize: GLOBAL_BATCH, tasks, seed: 11, shard }),
    epochs,
    seed: 5,
  });
  const state: Record<string, number[]> = {};
  for (const [name, t] of method.stateModule.stateDict())
    state[name] = Array.from(t.dataSync() as ArrayLike<number>, Number);
  const stats = ddp?.reducers.model.stats();
  ddp?.dispose();
  return { state, stats };
}

/** The state of the freshly built model (before any step), by name. */
export function initialState(): Record<string, number[]> {
  const state: Record<string, number[]> = {};
  for (const [name, t] of buildErm().stateModule.stateDict())
    state[name] = Array.from(t.dataSync() as ArrayLike<number>, Number);
  return state;
}

/**
 * Every registered method, 2 steps each on this rank's share; each method's parameters and
 * buffers by method name (the reducers must keep them identical across ranks, hand-written
 * gradients included).
 */
export async function trainEveryMethod(shard: Shard): Promise<Record<string, Record<string, number[]>>> {
  const ds = shortcutDataset(GLOBAL_BATCH * 2, 4);
  const tasks = { primary: "y", spurions: ["z0", "z1"] };
  const out: Record<string, Record<string, number[]>> = {};
  for (const name of METHOD_NAMES) {
    torch.manualSeed(1);
    // The MI methods have no defaults of their own in the method layer: the run configuration's.
    const switches =
      name === "mimmx" ? mimmxOptions({ nMI: 2 }) : name === "mimm" ? mimmOptions({ nMI: 2 }) : {};
    const method = createMethod({
      method: name,
      tasks: TASKS,
      encoder: { name: "small-cnn" },
      partSize: 2,
      lr: 3e-3,
      ...switches,
    } as MethodConfig);
    // What the run layer's peer stage does before training (src/run/peers.ts), on the whole split.
    const labels = [ds.labels.y, ds.labels.z0, ds.labels.z1];
    if (method instanceof Reweight) method.fitGroups(labels);
    if (method instanceof Jtt)
      method.setErrorSet(
        Int32Array.from(Array.from(labels[0]).flatMap((y, r) => (y !== labels[1][r] ? [r] : []))),
        ds.length,
      );
    const ddp = distributeMethod(method);
    await train({
      method,
      data: arraySource(ds, { batchSize: GLOBAL_BATCH, tasks, seed: 2, shard }),
      epochs: 1,
      seed: 3,
    });
    const state: Record<string, number[]> = {};
    for (const [k, t] of method.stateModule.stateDict())
      state[k] = Array.from(t.dataSync() as ArrayLike<number>, Number);
    out[name] = state;
    ddp.dispose();
  }
  return out;
}

/** MIMM-X with every piece of batch-derived state on: s, GradNorm's w, attention, the DV EMAs. */
function buildMimmx(overrides: MimmxOverrides = {}): Mimmx {
  torch.manualSeed(1);
  return new Mimmx({
    tasks: TASKS,
    encoder: { name: "small-cnn" },
    partSize: 2,
    lr: 3e-3,
    ...mimmxOptions({ nMI: 2, ...overrides }),
  } as MimmxConfig);
}

/** K = 8 sampled negatives per row: the estimates agree only if every rank draws the same ones. */
const SAMPLED_NEGATIVES: MimmxOverrides = {
  estimator: { critic: "joint", hidden: [16], firstLayer: "split", negatives: 8, objective: "dv" },
};

/** The first global batch of the MI scenarios (this rank's share in a distributed run). */
function firstBatch(shard?: Shard): Batch {
  const ds = shortcutDataset(GLOBAL_BATCH * 2, 6);
  const source = arraySource(ds, { batchSize: GLOBAL_BATCH, tasks: TASK_NAMES, seed: 4, shard });
  const [make] = source(0);
  return make();
}

/**
 * MIMM-X's MI estimates on one global batch, before any step: the encoder pass (the pairs' DV
 * estimates and the MI loss, critics frozen) and one critic update on its features, each after
 * the same torch seed. In a distributed run every rank holds its share; the critics gather it.
 */
export function mimmxEstimates(shard?: Shard): Record<string, number> {
  const method = buildMimmx(SAMPLED_NEGATIVES);
  const ddp = shard ? distributeMethod(method) : null;
  const batch = firstBatch(shard);
  torch.manualSeed(21);
  const { logs, features } = method.encoderStep(batch, false);
  torch.manualSeed(22);
  const critic = method.criticStep(features, batch);
  ddp?.dispose();
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries({ ...logs, ...critic }))
    if (k.startsWith("mi/") || k.startsWith("critic_mi/") || k === "mi_loss") out[k] = v;
  return out;
}

/** Method state and the per-step state each rank logged itself (before the loop's mean over ranks). */
export interface StateRun {
  state: Record<string, unknown>;
  /** per step: the logged keys that are method state (scale, w/*, att/*, q/*) */
  steps: Record<string, number>[];
  params: Record<string, number[]>;
}

const STATE_KEY = /^(scale$|w\/|att\/|q\/)/;

/** `STEPS` steps of a method; its getState(), its per-step state logs and its parameters. */
async function trainForState(method: Method, shard?: Shard): Promise<StateRun> {
  const ds = shortcutDataset(GLOBAL_BATCH * STEPS, 8);
  const ddp = shard ? distributeMethod(method) : null;
  const steps: Record<string, number>[] = [];
  const update = method.update.bind(method);
  method.update = (b: Batch) => {
    const logs = update(b);
    steps.push(Object.fromEntries(Object.entries(logs).filter(([k]) => STATE_KEY.test(k))));
    return logs;
  };
  await train({
    method,
    data: arraySource(ds, { batchSize: GLOBAL_BATCH, tasks: TASK_NAMES, seed: 2, shard }),
    epochs: 1,
    seed: 3,
  });
  const params: Record<string, number[]> = {};
  for (const [k, t] of method.stateModule.stateDict())
    params[k] = Array.from(t.dataSync() as ArrayLike<number>, Number);
  ddp?.dispose();
  return { state: method.getState(), steps, params };
}

/**
 * The methods with batch-derived state, trained for STEPS steps: MIMM-X (s on the last layer and
 * on the whole encoder, GradNorm, attention, EMAs, sampled negatives) and GroupDRO (q).
 */
export async function trainStatefulMethods(shard?: Shard): Promise<Record<string, StateRun>> {
  const make: Record<string, () => Method> = {
    "mimmx-last-layer": () => buildMimmx(),
    "mimmx-encoder-scope": () => buildMimmx({ scalingScope: "encoder", ...SAMPLED_NEGATIVES }),
    groupdro: () => {
      torch.manualSeed(1);
      return new GroupDro({ tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2, lr: 3e-3, eta: 0.5 });
    },
  };
  const out: Record<string, StateRun> = {};
  for (const [name, build] of Object.entries(make)) out[name] = await trainForState(build(), shard);
  return out;
}

/** How an ERM run on this rank's share ended, and its losses step by step. */
export interface LoggedRun {
  status: string;
  globalStep: number;
  /** the losses the loop logged each step (means over ranks) */
  logged: Record<string, number>[];
  /** the losses this rank's own share gave (before the mean) */
  local: Record<string, number>[];
}

interface LoggedErmOptions {
  /** global batches in the one epoch */
  steps: number;
  dataSeed: number;
  sourceSeed: number;
  /** changes (or throws instead of returning) step k's losses after the real update */
  alter?: (losses: Record<string, number>, step: number) => void;
  /** this rank aborts in that step's progress callback */
  abortAt?: { rank: number; globalStep: number };
}

async function trainErmLogged(shard: Shard, o: LoggedErmOptions): Promise<LoggedRun> {
  const method = buildErm();
  const ddp = distributeMethod(method);
  const ds = shortcutDataset(GLOBAL_BATCH * o.steps, o.dataSeed);
  const abort = new AbortController();
  const logged: Record<string, number>[] = [];
  const local: Record<string, number>[] = [];
  const update = method.update.bind(method);
  method.update = (b: Batch) => {
    const l = update(b);
    o.alter?.(l, local.length);
    local.push({ ...l });
    return l;
  };
  const r = await train({
    method,
    data: arraySource(ds, {
      batchSize: GLOBAL_BATCH,
      tasks: { primary: "y", spurions: [] },
      seed: o.sourceSeed,
      shard,
    }),
    epochs: 1,
    seed: 5,
    signal: abort.signal,
    onProgress: (e) => {
      logged.push(e.losses);
      if (shard.rank === o.abortAt?.rank && e.globalStep === o.abortAt.globalStep) abort.abort();
    },
  });
  ddp.dispose();
  return { status: r.status, globalStep: r.globalStep, logged, local };
}

/**
 * ERM on this rank's share, interrupted on rank 1 alone after its second step: every rank must
 * stop at the same step (the loop's agreement), and the logged losses are the same everywhere.
 */
export function trainInterruptedOnRank1(shard: Shard): Promise<LoggedRun> {
  return trainErmLogged(shard, {
    steps: STEPS,
    dataSeed: 3,
    sourceSeed: 11,
    abortAt: { rank: 1, globalStep: 1 },
  });
}

/**
 * ERM on this rank's share, 5 steps planned: from step 2 on every rank logs one more number (a
 * key the loop's StepChannel layout does not hold yet), and at step 3 rank 1's update throws a
 * non-finite error. Every rank must stop at step 3 with status "non-finite", and each logged
 * number must be the mean of the ranks' own ones, the new key included.
 */
export function trainWithChangingKeys(shard: Shard): Promise<LoggedRun> {
  return trainErmLogged(shard, {
    steps: 5,
    dataSeed: 4,
    sourceSeed: 12,
    alter: (l, step) => {
      if (step >= 2) l.extra = 10 * shard.rank + step;
      if (step === 3 && shard.rank === 1) throw new NonFiniteError("ce[y]", Number.NaN);
    },
  });
}

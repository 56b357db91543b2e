// What the 2-process DDP tests train: one ERM run whose encoder has BatchNorm, the same in one
// process (the reference, at the global batch) and in each rank (its share of the global batch).

import type { ReducerStats } from "../../src/dist/ddp.js";
import { distributeMethod } from "../../src/dist/method.js";
import type { Shard } from "../../src/dist/sampler.js";
import { Erm } from "../../src/methods/erm.js";
import { createMethod, Jtt, METHOD_NAMES, type MethodConfig, Reweight } from "../../src/methods/index.js";
import * as torch from "../../src/tensor/index.js";
import { arraySource, train } from "../../src/train/index.js";
import { mimmOptions, mimmxOptions, shortcutDataset, TASKS } from "../methods/helpers.js";

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

/** Each method's own switches at the run configuration's defaults. */
const SWITCHES: Partial<Record<string, object>> = { mimmx: mimmxOptions(), mimm: mimmOptions() };

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
    const method = createMethod({
      method: name,
      tasks: TASKS,
      encoder: { name: "small-cnn" },
      partSize: 2,
      lr: 3e-3,
      ...SWITCHES[name],
    } as MethodConfig);
    // Peers fitted from the whole training split before training (src/run/peers.ts does this).
    if (method instanceof Reweight) method.fitGroups([ds.labels.y, ds.labels.z0, ds.labels.z1]);
    if (method instanceof Jtt) method.setErrorSet(Int32Array.of(0, 5, 9), ds.length);
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

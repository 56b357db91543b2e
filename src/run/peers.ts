// Run-level stages of the peers that are more than one training loop (src/methods/{subsample,
// reweight,jtt,dfr}.ts hold the methods themselves):
//   subsample: trains on a seeded group-balanced subset of the training split, fixed for the run;
//   reweight:  fixes its group weights from the whole training split (so do MIMM-X's y_loss
//              reweight and GroupDRO's sampler); under balance_by "sampler" the batch source then
//              draws each epoch's rows by them;
//   jtt:       stage 1, an ERM identification model for method.jtt.first_epochs epochs (in
//              <method>/identify/); its misclassified training rows are the error set of stage 2,
//              the method's own (fresh) model. The error set is kept in <method>/jtt-error-set.json;
//   dfr:       validation is split (method.dfr.holdout, stratified by group, seeded) into a held-out
//              part and a selection part. ERM trains with the selection part as its validation (the
//              checkpoint rule), then the y head's last layer is refitted on balanced subsets of the
//              held-out part (C chosen on the selection part); the result is <method>/final.safetensors.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunConfig } from "../config/index.js";
import type { InMemoryDataset, TaskInfo } from "../data/types.js";
import { infer } from "../eval/driver.js";
import { saveCheckpoint } from "../io/checkpoint.js";
import { Dfr, type DfrSplit, fitDfrHead, splitHoldout } from "../methods/dfr.js";
import { GroupDro } from "../methods/groupdro.js";
import { errorSet, Jtt } from "../methods/jtt.js";
import type { Method } from "../methods/method.js";
import { Mimmx } from "../methods/mimmx.js";
import { Reweight } from "../methods/reweight.js";
import { GroupReweightLoss } from "../methods/reweight-loss.js";
import { Subsample } from "../methods/subsample.js";
import { manualSeed, tensor } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import type { ProgressMode } from "../util/progress.js";
import { hashSeed } from "../util/random.js";
import { METHOD_FILES } from "./layout.js";
import { buildMethod } from "./method.js";
import { trainMethod } from "./train-method.js";

export const PEER_FILES = { jttErrorSet: "jtt-error-set.json", jttIdentify: "identify" } as const;

export interface PeerStageOptions {
  config: RunConfig;
  method: Method;
  tasks: TaskInfo[];
  trainSet: InMemoryDataset;
  validation: InMemoryDataset;
  /** the method's folder */
  dir: string;
  label: string;
  resume?: boolean;
  signal?: AbortSignal;
  progressMode?: ProgressMode;
  maxSteps?: number;
  log: (message: string) => void;
}

export interface PeerStage {
  /** what the method trains on, and validates (selects checkpoints) on */
  trainSet: InMemoryDataset;
  validation: InMemoryDataset;
  /** facts for train.json */
  record: Record<string, unknown>;
  /** per row of trainSet: each epoch draws its rows with these weights (method.balance_by "sampler") */
  sampleWeights?: Float64Array;
  /** "aborted" when stage 1 of JTT was interrupted */
  status?: "aborted";
  /** after training, on the selected weights: last-layer retraining (DFR); returns more facts */
  finish?: (trained: Method) => Record<string, unknown>;
}

/**
 * The group-balancing weights a method fits on its training labels before training: method
 * reweight's, MIMM-X's with y_loss "reweight", GroupDRO's group-balanced batches; else null.
 */
export function groupBalancer(method: Method): GroupReweightLoss | null {
  if (method instanceof Reweight) return method.objective;
  if (method instanceof Mimmx && method.yObjective instanceof GroupReweightLoss) return method.yObjective;
  if (method instanceof GroupDro) return method.sampler;
  return null;
}

/** Labels of a split in task order [y, z_1..z_N]. */
export function taskLabelsOf(ds: InMemoryDataset, tasks: { name: string }[]): Int32Array[] {
  return tasks.map((t) => {
    const col = ds.labels[t.name];
    if (!col)
      throw new Error(
        `${ds.name}: no label column "${t.name}" (it has ${Object.keys(ds.labels).join(", ")})`,
      );
    return col;
  });
}

/** The rows `rows` of a split, in that order, as a new split. */
export function subsetOf(ds: InMemoryDataset, rows: Int32Array, name: string): InMemoryDataset {
  const item = ds.itemShape.reduce((a, b) => a * b, 1);
  const images = new Float32Array(rows.length * item);
  rows.forEach((r, i) => {
    images.set(ds.images.subarray(r * item, (r + 1) * item), i * item);
  });
  const labels: Record<string, Int32Array> = {};
  for (const [k, v] of Object.entries(ds.labels)) labels[k] = Int32Array.from(rows, (r) => v[r]);
  return {
    ...ds,
    name,
    images,
    labels,
    length: rows.length,
    sourceIndex: ds.sourceIndex ? Int32Array.from(rows, (r) => (ds.sourceIndex as Int32Array)[r]) : undefined,
  };
}

/** Stages of the peers; for every other method the splits pass through unchanged. */
export async function stagePeer(o: PeerStageOptions): Promise<PeerStage> {
  const { config, method, trainSet, validation } = o;
  const seed = config.seed;
  if (method instanceof Subsample) {
    const rows = method.selectRows(taskLabelsOf(trainSet, method.tasks), seed);
    o.log(`${o.label}: group-balanced subset of ${rows.length} of ${trainSet.length} training rows`);
    if (rows.length < config.train.batch_size)
      throw new Error(
        `subsample: the group-balanced subset of ${trainSet.name} has ${rows.length} of its ${trainSet.length} rows, fewer than one batch (train.batch_size ${config.train.batch_size}); its smallest group is too small under method.groups "${config.method.groups}": use more training data${config.method.groups === "joint" ? ", method.groups: pairs" : ""}, or reweight`,
      );
    return {
      trainSet: subsetOf(trainSet, rows, `${trainSet.name} (group-balanced subset)`),
      validation,
      record: { subset_rows: rows.length, train_rows: trainSet.length },
    };
  }
  // The group-balancing weights come from the whole training split, once, before training. Under
  // balance_by "sampler" they reach the batch source, which draws each epoch's rows by them.
  const balancer = groupBalancer(method);
  if (balancer) {
    const labels = taskLabelsOf(trainSet, method.tasks);
    balancer.fit(labels);
    const w = [...(balancer.cellWeights as Map<string, number>).values()];
    const record = { max_weight: Math.max(...w), min_weight: Math.min(...w), balance_by: balancer.by };
    if (balancer.by === "loss") return { trainSet, validation, record };
    o.log(`${o.label}: each epoch draws its ${trainSet.length} rows by group weight (balance_by sampler)`);
    return { trainSet, validation, record, sampleWeights: balancer.rowWeights(labels) };
  }
  if (method instanceof Jtt) return stageJtt(o, method);
  if (method instanceof Dfr) return stageDfr(o, method);
  return { trainSet, validation, record: {} };
}

async function stageJtt(o: PeerStageOptions, method: Jtt): Promise<PeerStage> {
  const { config, trainSet, validation } = o;
  const cachePath = join(o.dir, PEER_FILES.jttErrorSet);
  let rows: Int32Array | undefined;
  if (o.resume && existsSync(cachePath)) {
    const saved = JSON.parse(readFileSync(cachePath, "utf8")) as { rows: number[]; train_rows: number };
    if (saved.train_rows === trainSet.length) rows = Int32Array.from(saved.rows);
  }
  if (!rows) {
    const first = config.method.jtt.first_epochs;
    // The identification model: plain ERM, its own initial weights, the paper's epoch T, no
    // checkpoint selection (the model after T epochs is the one whose errors count).
    const stageConfig: RunConfig = {
      ...config,
      train: { ...config.train, epochs: first, select_by: "last" },
    };
    manualSeed(hashSeed(config.seed, 0x177));
    const erm = buildMethod(stageConfig, o.tasks, "erm");
    o.log(`${o.label}: stage 1, ERM identification model for ${first} epoch(s)`);
    const result = await trainMethod({
      config: stageConfig,
      method: erm,
      trainSet,
      validation,
      dir: join(o.dir, PEER_FILES.jttIdentify),
      label: `${o.label}/identify`,
      resume: o.resume,
      signal: o.signal,
      progressMode: o.progressMode,
      maxSteps: o.maxSteps,
    });
    if (result.status === "aborted") return { trainSet, validation, record: {}, status: "aborted" };
    const out = infer(erm, trainSet);
    rows = errorSet(out.logits[0], erm.tasks[0].numClasses, trainSet.labels[erm.tasks[0].name]);
    writeFileSync(cachePath, `${JSON.stringify({ rows: [...rows], train_rows: trainSet.length })}\n`);
  }
  method.setErrorSet(rows, trainSet.length);
  o.log(
    `${o.label}: error set of ${rows.length} of ${trainSet.length} training rows, weight ${method.upweight}`,
  );
  return {
    trainSet,
    validation,
    record: { error_set: rows.length, train_rows: trainSet.length, upweight: method.upweight },
  };
}

/** What DFR refits on (Dfr.refitInputs) for every row of a split, [N, d] row-major. */
export function refitInputsOf(method: Dfr, ds: InMemoryDataset): { x: Float32Array; d: number } {
  const item = ds.itemShape.reduce((a, b) => a * b, 1);
  const bs = 256;
  let x = new Float32Array(0);
  let d = 0;
  for (let start = 0; start < ds.length; start += bs) {
    const n = Math.min(bs, ds.length - start);
    tidy(() => {
      const images = tensor(ds.images.subarray(start * item, (start + n) * item), {
        shape: [n, ...ds.itemShape],
        device: method.device,
      });
      const h = method.refitInputs(images).dataSync() as Float32Array;
      if (x.length === 0) {
        d = h.length / n;
        x = new Float32Array(ds.length * d);
      }
      x.set(h, start * d);
    });
  }
  return { x, d };
}

/** DFR's split of the validation rows into held-out (last layer) and selection parts, by run seed. */
export function dfrSplitOf(config: RunConfig, method: Dfr, validation: InMemoryDataset): DfrSplit {
  return splitHoldout(
    taskLabelsOf(validation, method.tasks),
    method.cfg.holdout ?? 0.5,
    hashSeed(config.seed, 0xdf),
  );
}

/** The seed of DFR's balanced subsets. */
export function dfrFitSeed(config: RunConfig): number {
  return hashSeed(config.seed, 0xdf2);
}

function stageDfr(o: PeerStageOptions, method: Dfr): PeerStage {
  const { config, trainSet, validation } = o;
  const finalPath = join(o.dir, METHOD_FILES.final);
  // A final checkpoint of an earlier run in this folder must not stand in for this run's.
  rmSync(finalPath, { force: true });
  const holdoutFraction = method.cfg.holdout ?? 0.5;
  const split = dfrSplitOf(config, method, validation);
  const holdout = subsetOf(validation, split.holdout, `${validation.name} (DFR held-out part)`);
  const selection = subsetOf(validation, split.selection, `${validation.name} (selection part)`);
  if (holdout.length === 0 || selection.length === 0)
    throw new Error(
      `dfr: validation has ${validation.length} rows; method.dfr.holdout ${holdoutFraction} leaves ${holdout.length} held-out and ${selection.length} selection rows (both must be non-empty)`,
    );
  o.log(
    `${o.label}: validation split into ${holdout.length} held-out rows (last layer) and ${selection.length} selection rows`,
  );
  const finish = (trained: Method): Record<string, unknown> => {
    if (!(trained instanceof Dfr)) throw new Error("dfr: the trained method is not a DFR method");
    const h = refitInputsOf(trained, holdout);
    const s = refitInputsOf(trained, selection);
    const result = fitDfrHead(
      { x: h.x, labels: taskLabelsOf(holdout, trained.tasks) },
      { x: s.x, labels: taskLabelsOf(selection, trained.tasks) },
      h.d,
      trained.tasks.map((t) => t.numClasses),
      {
        ...trained.groupOptions,
        subsamples: trained.cfg.subsamples,
        cGrid: trained.cfg.cGrid,
        seed: dfrFitSeed(config),
      },
    );
    trained.applyFit(result.fit);
    saveCheckpoint(finalPath, {
      model: trained.stateModule,
      state: { methodName: trained.name, method: trained.getState(), dfr: { c: result.c } },
    });
    o.log(
      `${o.label}: classifier refitted on the ${trained.refitOn === "embedding" ? `${h.d}-feature embedding` : "y head's inputs"} of ${result.subsets[0].length}-row balanced subsets, C = ${result.c}`,
    );
    return {
      dfr: {
        holdout_rows: holdout.length,
        selection_rows: selection.length,
        subset_rows: result.subsets[0].length,
        subsets: result.subsets.length,
        c: result.c,
        grid: result.grid,
        features: trained.refitOn,
        inputs: h.d,
      },
    };
  };
  return {
    trainSet,
    validation: selection,
    record: { dfr_holdout: holdoutFraction },
    finish,
  };
}

// Trains one method of a run into its own folder (checkpoints + metrics.jsonl), with progress, a
// per-epoch validation check, resume and abort.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunConfig } from "../config/index.js";
import { Compose, type TransformSpec } from "../data/transforms/compose.js";
import type { InMemoryDataset } from "../data/types.js";
import { distributeMethod } from "../dist/method.js";
import { isInitialized } from "../dist/process-group.js";
import { currentShard, isWriterRank } from "../dist/run.js";
import { evaluateOutputs, infer } from "../eval/driver.js";
import type { TaskNames } from "../methods/batch.js";
import type { Method } from "../methods/method.js";
import { arraySource, type BatchSource, type Criterion, type TrainResult, train } from "../train/index.js";
import { Progress, type ProgressMode } from "../util/progress.js";

export interface TrainMethodOptions {
  config: RunConfig;
  method: Method;
  /** the training split (the oracle's is the uncorrelated one) */
  trainSet: InMemoryDataset;
  validation: InMemoryDataset;
  dir: string;
  label: string;
  resume?: boolean;
  signal?: AbortSignal;
  progressMode?: ProgressMode;
  /** stop after this many steps (tests) */
  maxSteps?: number;
  /** per training row: draw each epoch's rows with these weights (PeerStage.sampleWeights) */
  sampleWeights?: ArrayLike<number>;
}

/** train.select_by as the loop's criterion, on the primary task whatever its name. */
export function selectionCriterion(
  selectBy: RunConfig["train"]["select_by"],
  primary: string,
): Criterion | undefined {
  switch (selectBy) {
    case "last":
      return undefined;
    case "val_loss":
      return { metric: `val/loss/${primary}`, mode: "min" };
    case "val_accuracy":
      return { metric: `val/acc/${primary}`, mode: "max" };
    case "val_balanced_accuracy":
      return { metric: `val/bacc/${primary}`, mode: "max" };
    case "val_worst_group":
      return { metric: `val/worst_group/${primary}`, mode: "max" };
  }
}

/** Primary-task numbers on the validation split, for metrics.jsonl, selection and early stopping. */
function validate(method: Method, ds: InMemoryDataset, config: RunConfig): Record<string, number> {
  const out = infer(method, ds);
  const ev = evaluateOutputs(method, ds, out, { bootstrap: 0, minGroupSize: config.eval.min_group_size });
  const res: Record<string, number> = {};
  for (const [task, e] of Object.entries(ev.tasks)) {
    res[`val/acc/${task}`] = e.accuracy;
    res[`val/bacc/${task}`] = e.balancedAccuracy;
    if (e.worstGroup) res[`val/worst_group/${task}`] = e.worstGroup.worstAccuracy;
  }
  // Mean cross-entropy of the primary head (logits are row-major [N, C]).
  const y = ds.labels[method.tasks[0].name];
  const c = method.tasks[0].numClasses;
  let loss = 0;
  for (let i = 0; i < ds.length; i++) {
    const row = out.logits[0].subarray(i * c, (i + 1) * c);
    const m = Math.max(...row);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    loss += m + Math.log(s) - row[y[i]];
  }
  res[`val/loss/${method.tasks[0].name}`] = loss / ds.length;
  return res;
}

/**
 * The augmentations of data.transforms as the data layer's transforms, in torchvision's usual
 * order (crop, flip, rotation, intensity); empty when none is on. Items are [C, H, W] or [C, D, H, W].
 */
export function augmentationSpecs(t: RunConfig["data"]["transforms"], spatialDims: number): TransformSpec[] {
  const specs: TransformSpec[] = [];
  if (t.crop_padding > 0) specs.push({ type: "randomCrop", padding: t.crop_padding });
  if (t.hflip) specs.push({ type: "randomFlip", axes: [spatialDims - 1], p: 0.5 });
  if (t.rotate_deg > 0) specs.push({ type: "randomRotate", maxDegrees: t.rotate_deg });
  if (t.intensity_jitter > 0)
    specs.push({
      type: "intensityJitter",
      brightness: t.intensity_jitter,
      contrast: t.intensity_jitter,
      gamma: 0,
    });
  return specs;
}

/**
 * The shuffled (or weight-drawn), augmented training batches of a run (evaluation reads its splits
 * directly).
 */
export function trainBatches(
  config: RunConfig,
  trainSet: InMemoryDataset,
  tasks: TaskNames,
  sampleWeights?: ArrayLike<number>,
): BatchSource {
  const specs = augmentationSpecs(config.data.transforms, trainSet.itemShape.length - 1);
  return arraySource(trainSet, {
    batchSize: config.train.batch_size,
    tasks,
    seed: config.seed,
    augment: specs.length > 0 ? new Compose(specs) : undefined,
    shard: currentShard(),
    device: config.train.device,
    sampleWeights,
  });
}

export async function trainMethod(o: TrainMethodOptions): Promise<TrainResult> {
  const { config, method } = o;
  const tasks = {
    primary: method.tasks[0].name,
    spurions: o.trainSet.tasks?.slice(1).map((t) => t.name) ?? [],
  };
  const bs = config.train.batch_size;
  const stepsPerEpoch = Math.floor(o.trainSet.length / bs);
  if (stepsPerEpoch < 1)
    throw new Error(`train: the training split has ${o.trainSet.length} rows, fewer than one batch of ${bs}`);
  const lastPath = join(o.dir, "last.safetensors");
  // A method of a resumed run that never reached its first checkpoint starts afresh.
  const resumeFrom = o.resume && existsSync(lastPath) ? lastPath : undefined;
  const total = stepsPerEpoch * config.train.epochs;
  const progress = new Progress({
    total,
    label: o.label,
    unit: "step",
    mode: isWriterRank() ? o.progressMode : "quiet",
  });
  // Under a distributed launch: rank 0's weights everywhere, gradients averaged over ranks.
  const ddp = isInitialized() ? distributeMethod(method) : null;
  const criterion = selectionCriterion(config.train.select_by, tasks.primary);
  const result = await train({
    method,
    data: trainBatches(config, o.trainSet, tasks, o.sampleWeights),
    epochs: config.train.epochs,
    seed: config.seed,
    outDir: isWriterRank() ? o.dir : undefined, // every rank resumes from rank 0's checkpoint
    resumeFrom,
    signal: o.signal,
    logEvery: config.train.log_every,
    maxSteps: o.maxSteps,
    criterion,
    patience: config.train.early_stopping.patience > 0 ? config.train.early_stopping.patience : undefined,
    evaluate: (m, epoch) => {
      const r = validate(m, o.validation, config);
      progress.log(
        `${o.label}: epoch ${epoch + 1}/${config.train.epochs} val acc ${(100 * r[`val/acc/${tasks.primary}`]).toFixed(1)}%`,
      );
      return r;
    },
    onProgress: (e) => {
      const info: Record<string, number> = { epoch: e.epoch + 1 };
      for (const [k, v] of Object.entries(e.losses))
        if (k === "loss" || k.startsWith("ce/") || k === "mi") info[k] = v;
      progress.update(e.globalStep + 1, info);
    },
  });
  progress.finish();
  ddp?.dispose();
  return result;
}

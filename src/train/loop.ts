// The training loop shared by every method:
//   for epoch: for batch: [abort? -> save, stop] seed torch from (seed, step); method.update inside
//   tidy; NaN/Inf -> stop naming the term (the last good checkpoint stays); log; then evaluate,
//   (under DDP the abort and NaN/Inf decisions are taken by every rank together and the logged
//   losses are means over ranks; see src/dist/run.ts)
//   step the method's learning-rate schedules, keep the best checkpoint, early-stop, save the "last"
//   checkpoint.
// Resume loads the "last" checkpoint (weights, optimisers, schedules, method state, position) and,
// because data order and torch seeds are functions of (seed, epoch, step), continues exactly as if
// never stopped. Each checkpoint records how long metrics.jsonl was when it was written; a resume
// cuts the file back to that length, so rows logged after the checkpoint (a kill -9 between
// checkpoints, or during one) are not written twice.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { getWorldSize } from "../dist/process-group.js";
import { StepChannel } from "../dist/run.js";
import { loadCheckpoint, saveCheckpoint } from "../io/checkpoint.js";
import type { Method } from "../methods/method.js";
import { NonFiniteError } from "../mi/guard.js";
import type { SchedulerStateDict } from "../optim/scheduler.js";
import { manualSeed } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import { hashSeed } from "../util/random.js";
import type { BatchSource } from "./data.js";

export interface Criterion {
  /** key of the evaluation callback's result, e.g. "val/acc/<task>" */
  metric: string;
  mode: "max" | "min";
}

export interface ProgressEvent {
  epoch: number;
  /** batch index within the epoch */
  step: number;
  globalStep: number;
  losses: Record<string, number>;
}

export interface TrainOptions {
  method: Method;
  data: BatchSource;
  epochs: number;
  /** seeds torch per step and names the run's randomness (the data source has its own order seed) */
  seed?: number;
  /** folder for last.safetensors, best.safetensors and metrics.jsonl; none = nothing written */
  outDir?: string;
  /** per-epoch evaluation; its numbers are logged and drive best checkpoint and early stopping */
  evaluate?: (method: Method, epoch: number) => Record<string, number> | Promise<Record<string, number>>;
  criterion?: Criterion;
  /** stop after this many epochs without improvement of the criterion */
  patience?: number;
  /** resume from this checkpoint (typically <outDir>/last.safetensors) */
  resumeFrom?: string;
  onProgress?: (e: ProgressEvent) => void;
  /** log every n-th step to metrics.jsonl (default 1) */
  logEvery?: number;
  /** aborting saves a checkpoint at the current position, then stops */
  signal?: AbortSignal;
  /** also stop (with a checkpoint) after this many steps in total; for tests and budgets */
  maxSteps?: number;
}

export interface TrainResult {
  status: "completed" | "early-stopped" | "aborted" | "non-finite" | "max-steps";
  /** epochs fully completed */
  epochs: number;
  globalStep: number;
  best: { epoch: number; value: number } | null;
  /** the term that was NaN/Inf, when status is "non-finite" */
  nonFiniteTerm?: string;
  lastCheckpoint?: string;
  bestCheckpoint?: string;
  history: Record<string, number>[];
  /** training time in seconds, summed over every session of the run (up to its last checkpoint) */
  seconds: number;
}

/** Where a run stands; saved in every checkpoint. */
interface Position {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  best: { epoch: number; value: number } | null;
  sinceBest: number;
  history: Record<string, number>[];
  /** bytes of metrics.jsonl when the checkpoint was written (absent in checkpoints before it was kept) */
  metricsBytes?: number;
  /** training seconds of all sessions up to this checkpoint */
  seconds?: number;
}

/**
 * Removes what a killed writer leaves behind: `<name>.safetensors.tmp-<pid>` files of other
 * processes (a checkpoint is written to such a file and renamed, so the rename never happened).
 */
function removeStaleTemporaries(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = /\.safetensors\.tmp-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Cuts metrics.jsonl back to where the checkpoint being resumed left it. Checkpoints without a
 * recorded length: the rows at or after the checkpoint's position go instead.
 */
function rewindMetrics(path: string, pos: Position): void {
  if (!existsSync(path)) return;
  if (pos.metricsBytes !== undefined) {
    if (statSync(path).size > pos.metricsBytes) truncateSync(path, pos.metricsBytes);
    return;
  }
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  const kept = lines.filter((l) => {
    const r = JSON.parse(l) as { type?: string; epoch?: number; globalStep?: number };
    if (r.type === "step") return (r.globalStep ?? 0) < pos.globalStep;
    if (r.type === "epoch") return (r.epoch ?? 0) < pos.epoch;
    return true;
  });
  if (kept.length !== lines.length) writeFileSync(path, kept.map((l) => `${l}\n`).join(""));
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const seed = o.seed ?? 0;
  const lastPath = o.outDir ? join(o.outDir, "last.safetensors") : undefined;
  const bestPath = o.outDir ? join(o.outDir, "best.safetensors") : undefined;
  const metricsPath = o.outDir ? join(o.outDir, "metrics.jsonl") : undefined;
  if (o.outDir && !existsSync(o.outDir)) mkdirSync(o.outDir, { recursive: true });
  if (o.outDir) removeStaleTemporaries(o.outDir);
  if (!o.resumeFrom) {
    // A fresh start: nothing of an earlier run in this folder may pass for this one's.
    for (const p of [metricsPath, bestPath, lastPath]) if (p) rmSync(p, { force: true });
  }
  const sessionStart = performance.now();
  const log = (rec: Record<string, unknown>) => {
    if (metricsPath) appendFileSync(metricsPath, `${JSON.stringify(rec)}\n`);
  };

  // Stepped once per finished epoch (PyTorch's scheduler.step() after the epoch's optimizer steps).
  const schedulers = o.method.schedulers ?? {};
  let pos: Position = { epoch: 0, stepInEpoch: 0, globalStep: 0, best: null, sinceBest: 0, history: [] };
  if (o.resumeFrom) {
    const state = loadCheckpoint(o.resumeFrom, {
      model: o.method.stateModule,
      optimizers: o.method.optimizers,
    });
    pos = state.position as Position;
    if (metricsPath) rewindMetrics(metricsPath, pos);
    o.method.setState(state.method as Record<string, unknown>);
    const saved = (state.schedulers ?? {}) as Record<string, SchedulerStateDict>;
    for (const [name, s] of Object.entries(schedulers)) {
      // A checkpoint without the schedule's state (saved before one was configured): one step per
      // finished epoch is where it would be.
      s.loadStateDict(saved[name] ?? { lastEpoch: pos.epoch });
    }
    log({
      type: "resume",
      from: o.resumeFrom,
      epoch: pos.epoch,
      step: pos.stepInEpoch,
      globalStep: pos.globalStep,
    });
  }
  const previousSeconds = pos.seconds ?? 0;
  const totalSeconds = () => previousSeconds + (performance.now() - sessionStart) / 1000;
  const save = (path: string | undefined) => {
    if (!path) return;
    pos.metricsBytes = metricsPath && existsSync(metricsPath) ? statSync(metricsPath).size : 0;
    pos.seconds = totalSeconds();
    saveCheckpoint(path, {
      model: o.method.stateModule,
      optimizers: o.method.optimizers,
      state: {
        position: pos,
        method: o.method.getState(),
        seed,
        methodName: o.method.name,
        schedulers: Object.fromEntries(Object.entries(schedulers).map(([k, s]) => [k, s.stateDict()])),
      },
    });
  };
  const result = (status: TrainResult["status"], extra: Partial<TrainResult> = {}): TrainResult => ({
    status,
    epochs: pos.epoch,
    globalStep: pos.globalStep,
    best: pos.best,
    lastCheckpoint: lastPath && existsSync(lastPath) ? lastPath : undefined,
    bestCheckpoint: bestPath && existsSync(bestPath) ? bestPath : undefined,
    history: pos.history,
    seconds: totalSeconds(),
    ...extra,
  });

  // Under DDP every rank must stop at the same step: an interrupt one rank sees is agreed on at
  // the end of the step (StepChannel) and taken at the top of the next one.
  const distributed = getWorldSize() > 1;
  const channel = new StepChannel();
  let abortAgreed = false;
  while (pos.epoch < o.epochs) {
    const epochStart = performance.now();
    let index = 0;
    for await (const makeBatch of o.data(pos.epoch)) {
      if (index++ < pos.stepInEpoch) continue; // resuming mid-epoch: skip what was already trained on
      // One macrotask per batch (microseconds): over a synchronous source, for-await alone never
      // returns to the event loop, so a Ctrl-C handler (the abort signal) and Node's finalisers of
      // freed native handles would only run after training.
      await yieldToEventLoop();
      if (distributed ? abortAgreed : o.signal?.aborted) {
        // Logged before the save, so the checkpoint's metrics length keeps this row.
        log({ type: "aborted", epoch: pos.epoch, step: pos.stepInEpoch, globalStep: pos.globalStep });
        save(lastPath);
        return result("aborted");
      }
      if (o.maxSteps !== undefined && pos.globalStep >= o.maxSteps) {
        save(lastPath);
        return result("max-steps");
      }
      // The torch random state of each step depends only on (seed, globalStep).
      manualSeed(hashSeed(seed, pos.globalStep));
      for (const opt of Object.values(o.method.optimizers)) opt.lastGradNorm = null;
      let losses: Record<string, number> = {};
      let nonFinite: NonFiniteError | null = null;
      try {
        losses = tidy(() => o.method.update(makeBatch()));
      } catch (e) {
        if (!(e instanceof NonFiniteError)) throw e;
        nonFinite = e;
      }
      // The gradient norm of optimizers that clip it (before clipping, as clip_grad_norm_ returns it).
      for (const [name, opt] of Object.entries(o.method.optimizers))
        if (opt.maxGradNorm > 0 && opt.lastGradNorm !== null) losses[`grad_norm/${name}`] = opt.lastGradNorm;
      // One small collective under DDP for the flags and the logged means (the local ones in one
      // process; StepChannel). A rank whose check fires before one of the step's collectives leaves
      // the others waiting in it: they fail with the collective's error instead (the guards run
      // before the backward pass, so this is rare).
      const agreed = channel.agree(
        { aborted: o.signal?.aborted ?? false, nonFinite: nonFinite !== null },
        losses,
      );
      abortAgreed = agreed.aborted;
      if (agreed.nonFinite) {
        // Nothing was stepped with the bad values; the last checkpoint on disk is the last good one.
        const term = nonFinite?.term ?? "(on another rank)";
        log({
          type: "non-finite",
          epoch: pos.epoch,
          step: pos.stepInEpoch,
          globalStep: pos.globalStep,
          term,
          value: String(nonFinite?.value ?? "NaN/Inf"),
        });
        return result("non-finite", { nonFiniteTerm: term });
      }
      // What is logged is the global batch's: the mean over ranks (each rank's share is the same size).
      losses = agreed.means ?? losses;
      const event = { epoch: pos.epoch, step: pos.stepInEpoch, globalStep: pos.globalStep, losses };
      if (pos.globalStep % (o.logEvery ?? 1) === 0)
        log({ type: "step", epoch: pos.epoch, step: pos.stepInEpoch, globalStep: pos.globalStep, ...losses });
      o.onProgress?.(event);
      pos.stepInEpoch++;
      pos.globalStep++;
    }

    const metrics = o.evaluate ? await o.evaluate(o.method, pos.epoch) : {};
    // The learning rate this epoch trained with (first parameter group), then the schedule's step.
    const lrs: Record<string, number> = {};
    for (const [name, s] of Object.entries(schedulers)) {
      lrs[`lr/${name}`] = s.currentLrs()[0];
      s.step();
    }
    const record = { epoch: pos.epoch, seconds: (performance.now() - epochStart) / 1000, ...lrs, ...metrics };
    pos.history.push(record);
    log({ type: "epoch", ...record });
    let improved = false;
    if (o.criterion) {
      const v = metrics[o.criterion.metric];
      if (v === undefined)
        throw new Error(
          `train: the evaluation gave no "${o.criterion.metric}" (it gave: ${Object.keys(metrics).join(", ")})`,
        );
      improved = pos.best === null || (o.criterion.mode === "max" ? v > pos.best.value : v < pos.best.value);
      if (improved) pos.best = { epoch: pos.epoch, value: v };
    }
    pos.sinceBest = improved ? 0 : pos.sinceBest + 1;
    pos.epoch++;
    pos.stepInEpoch = 0;
    if (improved) save(bestPath);
    save(lastPath);
    if (o.criterion && o.patience !== undefined && pos.sinceBest >= o.patience) {
      log({ type: "early-stop", epoch: pos.epoch, best: pos.best });
      return result("early-stopped");
    }
  }
  return result("completed");
}

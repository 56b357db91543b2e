// One process of `mimmx bench ddp` (bench/ddp.ts starts it: as each rank of a 2-process launch, or
// alone at the combined batch). Trains the small CNN on synthetic 28x28 data through the training
// loop (so the loop's per-step agreement and loss means are paid for), times each step after the
// warm-up, and writes {step_seconds, losses, weights} to the file in argv (rank 0 only):
// - step_seconds is the median step: this machine's host stalls a process for 70-160 ms a few
//   times a run (PyTorch's steps alike), which moves a 30-step mean by a third;
// - weights are every parameter and buffer after `compare after` steps (warm-up included), and
//   losses the loss of each of those steps. Longer runs drift apart through rounding (a near-dead
//   unit under Adam, docs/distributed.md), so the runs are compared early and timed long. The data
//   do not depend on the run's length, so every run sees the same first batches.
// ERM is the small CNN with 2-wide parts; MIMM-X is its run default (the method the benchmark
// suite chose).
// argv: <erm|mimmx> <global batch> <timed steps> <warm-up steps> <compare after> <output file>
import { writeFileSync } from "node:fs";
import { distributeMethod } from "../src/dist/method.js";
import { currentShard, isWriterRank, joinRunIfDistributed } from "../src/dist/run.js";
import { createMethod, type Method, type MethodConfig } from "../src/methods/index.js";
import { groupBalancer } from "../src/run/peers.js";
import * as torch from "../src/tensor/index.js";
import { type ArrayDataset, arraySource, Rng, train } from "../src/train/index.js";
import { median } from "./median.js";
import { methodAtItsDefault } from "./method-at-default.js";

const TASKS = [
  { name: "y", numClasses: 2 },
  { name: "z0", numClasses: 2 },
  { name: "z1", numClasses: 2 },
];

/** Noise images with a bright square where a label is 1 (y, z0, z1 in three corners). */
function syntheticData(n: number): ArrayDataset {
  const rng = new Rng(17);
  const images = new Float32Array(n * 784);
  const labels = { y: new Int32Array(n), z0: new Int32Array(n), z1: new Int32Array(n) };
  for (let i = 0; i < n; i++) {
    labels.y[i] = rng.next() < 0.5 ? 1 : 0;
    labels.z0[i] = rng.next() < 0.9 ? labels.y[i] : 1 - labels.y[i];
    labels.z1[i] = rng.next() < 0.9 ? labels.y[i] : 1 - labels.y[i];
    for (let p = 0; p < 784; p++) images[i * 784 + p] = 0.1 * (rng.next() - 0.5);
    [labels.y[i], labels.z0[i], labels.z1[i]].forEach((v, c) => {
      if (!v) return;
      const [r0, c0] = [
        [2, 2],
        [2, 20],
        [20, 2],
      ][c];
      for (let r = r0; r < r0 + 5; r++) for (let q = c0; q < c0 + 5; q++) images[i * 784 + r * 28 + q] += 1;
    });
  }
  return { images, itemShape: [1, 28, 28], labels, length: n };
}

function ermMethod(): Method {
  return createMethod({
    method: "erm",
    tasks: TASKS,
    encoder: { name: "small-cnn" },
    partSize: 2,
    lr: 1e-3,
  } as MethodConfig);
}

async function main() {
  const [methodName, batchArg, stepsArg, warmupArg, compareArg, outPath] = process.argv.slice(2);
  const [batch, steps, warmup, compareAfter] = [batchArg, stepsArg, warmupArg, compareArg].map(Number);
  const leave = joinRunIfDistributed();
  torch.manualSeed(0);
  const method = methodName === "mimmx" ? methodAtItsDefault("mimmx", 2).method : ermMethod();
  const shard = currentShard();
  const ddp = shard ? distributeMethod(method) : null;
  // 64 batches, repeated as epochs: the first batches are the same however long the run
  const ds = syntheticData(batch * 64);
  const tasks = { primary: "y", spurions: ["z0", "z1"] };
  // MIMM-X's default balances y's groups (y_loss reweight): fitted on the whole training split
  // before training, as a run does, and under balance_by sampler its weights draw the batches.
  let sampleWeights: Float64Array | undefined;
  const balancer = groupBalancer(method);
  if (balancer) {
    const labels = TASKS.map((t) => ds.labels[t.name]);
    balancer.fit(labels);
    if (balancer.by === "sampler") sampleWeights = balancer.rowWeights(labels);
  }
  const stamps: number[] = [];
  const losses: number[] = [];
  const weights: number[] = [];
  const total = warmup + steps;
  await train({
    method,
    data: arraySource(ds, { batchSize: batch, tasks, seed: 3, shard, sampleWeights }),
    epochs: Math.ceil(total / 64),
    maxSteps: total,
    seed: 5,
    onProgress: (e) => {
      stamps.push(performance.now());
      if (stamps.length <= compareAfter) losses.push(e.losses.loss);
      if (stamps.length === compareAfter)
        for (const [, t] of method.stateModule.stateDict())
          weights.push(...Array.from(t.dataSync() as ArrayLike<number>, Number));
    },
  });
  ddp?.dispose();
  if (isWriterRank()) {
    const timed = stamps.slice(warmup - 1);
    const stepSeconds = median(timed.slice(1).map((t, i) => (t - timed[i]) / 1000));
    writeFileSync(outPath, JSON.stringify({ step_seconds: stepSeconds, losses, weights }));
  }
  leave();
}

main().catch((e) => {
  console.error(`bench ddp worker (rank ${process.env.RANK ?? 0}): ${(e as Error).stack ?? e}`);
  process.exit(1);
});

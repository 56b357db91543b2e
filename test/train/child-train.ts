// A training process for the interruption tests (run with node, not a test file itself):
//   node child-train.js DIR [--epochs N] [--resume] [--kill-at-step N] [--term-at-step N]
// trains MIMM-X on the loop tests' shortcut data into DIR with per-epoch evaluation and a best
// checkpoint, and prints the TrainResult as one JSON line. --kill-at-step sends itself SIGKILL just
// before step N trains (a kill -9 at a chosen point); --term-at-step sends SIGTERM, which the CLI's
// interrupt handler turns into an abort with a checkpoint.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { interruptSignal } from "../../src/cli/commands/common.js";
import { createMethod } from "../../src/methods/index.js";
import * as torch from "../../src/tensor/index.js";
import { arraySource, train } from "../../src/train/index.js";
import { mimmxOptions, shortcutDataset, TASK_NAMES, TASKS } from "../methods/helpers.js";

torch.setNumThreads(1);
const [dir, ...rest] = process.argv.slice(2);
const flag = (name: string): number | undefined => {
  const i = rest.indexOf(name);
  return i < 0 ? undefined : Number(rest[i + 1]);
};
const epochs = flag("--epochs") ?? 3;
const killAt = flag("--kill-at-step");
const termAt = flag("--term-at-step");
const last = join(dir, "last.safetensors");

const ds = shortcutDataset(64, 5);
const source = arraySource(ds, { batchSize: 16, tasks: TASK_NAMES, seed: 7 });
torch.manualSeed(123);
const method = createMethod({
  method: "mimmx",
  tasks: TASKS,
  encoder: { name: "small-cnn" },
  partSize: 2,
  ...mimmxOptions({ nMI: 2 }),
});
const irq = interruptSignal();
const result = await train({
  method,
  data: source,
  epochs,
  seed: 3,
  outDir: dir,
  resumeFrom: rest.includes("--resume") && existsSync(last) ? last : undefined,
  signal: irq.signal,
  // A deterministic score that goes up and down, so best.safetensors is written in some epochs only.
  evaluate: (_m, epoch) => ({ "val/score": [0.5, 0.7, 0.6, 0.8][epoch % 4] }),
  criterion: { metric: "val/score", mode: "max" },
  onProgress: (e) => {
    // onProgress runs after step e.globalStep; "at step N" means before step N trains.
    if (e.globalStep + 1 === killAt) process.kill(process.pid, "SIGKILL");
    if (e.globalStep + 1 === termAt) process.kill(process.pid, "SIGTERM");
  },
});
irq.dispose();
process.stdout.write(
  `${JSON.stringify({ status: result.status, globalStep: result.globalStep, seconds: result.seconds })}\n`,
);

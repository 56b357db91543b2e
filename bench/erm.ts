// `mimmx bench erm`: Adam training of the small encoder with a 2-class head on 28x28 inputs, mimmx
// against PyTorch on the same machine, same batch and thread count. Rounds alternate between the two
// (mimmx, torch, mimmx, torch, ...) so a noisy neighbour hurts both alike; the best round of each is kept.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SmallCnn } from "../src/models/small-cnn.js";
import * as nn from "../src/nn/index.js";
import { Adam } from "../src/optim/index.js";
import * as torch from "../src/tensor/index.js";
import { benchPython } from "./python.js";

/** The model: the small CNN with 6 output features, a 2-class head on the first two. */
class BenchNet extends nn.Module {
  readonly encoder = this.registerModule("encoder", new SmallCnn({ numParts: 3, partSize: 2 }));
  readonly head = this.registerModule("head", new nn.Linear(2, 2));
  forward(x: torch.Tensor): torch.Tensor {
    return this.head.forward(this.encoder.forward(x).narrow(1, 0, 2));
  }
}

export interface BenchErmOptions {
  batch: number;
  steps: number;
  rounds: number;
  threads: number;
  /** skip the PyTorch side (when no python3-torch is installed) */
  noTorch?: boolean;
}

function mimmxRound(batch: number, steps: number, warmup: number): number {
  torch.manualSeed(0);
  const model = new BenchNet();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = torch.randn([batch, 1, 28, 28]).keep();
  const y = torch.randint(0, 2, [batch]).keep();
  const step = () =>
    torch.tidy(() => {
      opt.zeroGrad();
      const loss = nn.F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
    });
  for (let i = 0; i < warmup; i++) step();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) step();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9 / steps;
  return seconds;
}

function torchRound(batch: number, steps: number, warmup: number, threads: number): number {
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "erm_torch.py");
  const res = spawnSync(
    benchPython(),
    [
      script,
      "--batch",
      String(batch),
      "--steps",
      String(steps),
      "--warmup",
      String(warmup),
      "--threads",
      String(threads),
    ],
    { encoding: "utf8" },
  );
  if (res.status !== 0) throw new Error(`bench erm: the PyTorch side failed: ${res.stderr || res.error}`);
  return JSON.parse(res.stdout.trim().split("\n").pop()!).step_seconds;
}

export async function benchErm(o: BenchErmOptions): Promise<Record<string, unknown>> {
  torch.setNumThreads(o.threads);
  const warmup = Math.max(5, Math.floor(o.steps / 10));
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    ours.push(mimmxRound(o.batch, o.steps, warmup));
    if (!o.noTorch) theirs.push(torchRound(o.batch, o.steps, warmup, o.threads));
  }
  const best = (v: number[]) => Math.min(...v);
  const out: Record<string, unknown> = {
    bench: "erm",
    batch: o.batch,
    threads: o.threads,
    steps_per_round: o.steps,
    rounds: o.rounds,
    images_per_second: o.batch / best(ours),
    step_seconds: best(ours),
  };
  if (!o.noTorch) {
    out.torch_images_per_second = o.batch / best(theirs);
    out.torch_step_seconds = best(theirs);
    // >= 0.95 is the target: mimmx's throughput as a fraction of PyTorch's.
    out.ratio_vs_torch = best(theirs) / best(ours);
  }
  return out;
}

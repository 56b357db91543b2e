// `mimmx bench ddp`: data parallel training of the small CNN at 28x28, ERM and MIMM-X.
//   throughput_ratio:    2 processes x 1 thread (our DDP) over 1 process x 2 threads, same global batch;
//   ratio_vs_torch_ddp:  our 2 processes over torch.nn.parallel.DistributedDataParallel (gloo, 2 x 1
//                        thread) on the same model, ERM;
//   max_abs_weight_diff: every parameter and buffer after the run, 2 processes against 1 at the
//                        combined batch (the loss curves are compared the same way).
// Each figure is the median over rounds of each side's median step; in a round the sides run back
// to back so that a noisy neighbour hurts them alike. Every side is its own process
// (bench/ddp-worker.ts, bench/ddp_torch.py); both sides' ranks are bound to one core each, as
// `--nproc-per-node` binds ours.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../src/dist/launch.js";
import { allowedCpus, coreShares, parseCpuList } from "../src/util/cpu-list.js";
import { median } from "./median.js";
import { benchPython } from "./python.js";

export interface BenchDdpOptions {
  batch: number;
  steps: number;
  warmup: number;
  /** steps (warm-up included) after which the 2- and 1-process weights and losses are compared */
  compareAfter: number;
  rounds: number;
  /** skip the PyTorch side */
  noTorch?: boolean;
}

interface WorkerResult {
  step_seconds: number;
  losses: number[];
  weights: number[];
}

const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, "ddp-worker.js");
const TORCH_SCRIPT = join(here, "..", "..", "bench", "ddp_torch.py");

function maxAbsDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new Error(`bench ddp: ${a.length} vs ${b.length} numbers to compare`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function workerArgs(o: BenchDdpOptions): string[] {
  return [o.batch, o.steps, o.warmup, o.compareAfter].map(String);
}

async function twoProcesses(method: string, o: BenchDdpOptions, out: string): Promise<WorkerResult> {
  const r = await launch({
    nprocPerNode: 2,
    script: WORKER,
    args: [method, ...workerArgs(o), out],
    env: { MIMMX_THREADS: "1" },
  });
  if (r.code !== 0)
    throw new Error(`bench ddp: the 2-process ${method} run failed: ${JSON.stringify(r.failure)}`);
  return JSON.parse(readFileSync(out, "utf8")) as WorkerResult;
}

function oneProcess(method: string, o: BenchDdpOptions, out: string): WorkerResult {
  const env: NodeJS.ProcessEnv = { ...process.env, MIMMX_THREADS: "2" };
  for (const k of ["MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK"]) delete env[k];
  const r = spawnSync(process.execPath, [WORKER, method, ...workerArgs(o), out], {
    env,
    encoding: "utf8",
  });
  if (r.status !== 0)
    throw new Error(`bench ddp: the 1-process ${method} run failed: ${r.stderr || r.error}`);
  return JSON.parse(readFileSync(out, "utf8")) as WorkerResult;
}

function torchDdp(o: BenchDdpOptions): number {
  // each PyTorch rank on the cores our launcher gives our rank of the same number
  const shares = coreShares(allowedCpus(), 2, 1);
  const r = spawnSync(
    benchPython(),
    [
      TORCH_SCRIPT,
      ...["--batch", String(o.batch), "--steps", String(o.steps), "--warmup", String(o.warmup)],
      ...(shares ? ["--cpus", shares.map((l) => parseCpuList(l).join(",")).join(";")] : []),
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`bench ddp: the PyTorch DDP side failed: ${r.stderr || r.error}`);
  return (JSON.parse(r.stdout.trim().split("\n").pop()!) as { step_seconds: number }).step_seconds;
}

export async function benchDdp(o: BenchDdpOptions): Promise<Record<string, unknown>> {
  if (o.batch % 2 !== 0) throw new Error(`bench ddp: --batch ${o.batch} must divide over 2 processes`);
  if (!(o.warmup >= 1)) throw new Error(`bench ddp: --warmup must be >= 1, got ${o.warmup}`);
  if (!(o.compareAfter >= 1 && o.compareAfter <= o.warmup + o.steps))
    throw new Error(
      `bench ddp: --compare-after must be within the run's ${o.warmup + o.steps} steps, got ${o.compareAfter}`,
    );
  const dir = mkdtempSync(join(tmpdir(), "mimmx-bench-ddp-"));
  try {
    const out: Record<string, unknown> = {
      bench: "ddp",
      batch: o.batch,
      steps_per_round: o.steps,
      rounds: o.rounds,
      compared_after_steps: o.compareAfter,
    };
    for (const method of ["erm", "mimmx"]) {
      const ratios: number[] = [];
      const torchRatios: number[] = [];
      const two: number[] = [];
      const weightDiffs: number[] = [];
      const lossDiffs: number[] = [];
      for (let r = 0; r < o.rounds; r++) {
        const d = await twoProcesses(method, o, join(dir, `${method}-2-${r}.json`));
        const s = oneProcess(method, o, join(dir, `${method}-1-${r}.json`));
        two.push(d.step_seconds);
        ratios.push(s.step_seconds / d.step_seconds);
        weightDiffs.push(maxAbsDiff(d.weights, s.weights));
        lossDiffs.push(maxAbsDiff(d.losses, s.losses));
        if (method === "erm" && !o.noTorch) torchRatios.push(torchDdp(o) / d.step_seconds);
      }
      out[method] = {
        // >= 0.9 is the target: 2 processes x 1 thread against 1 process x 2 threads
        throughput_ratio: median(ratios),
        step_seconds_2proc: median(two),
        images_per_second_2proc: o.batch / median(two),
        max_abs_weight_diff: Math.max(...weightDiffs),
        max_abs_loss_diff: Math.max(...lossDiffs),
        // >= 0.95 is the target: our 2 processes against PyTorch's DDP on 2 processes
        ...(torchRatios.length > 0 ? { ratio_vs_torch_ddp: median(torchRatios) } : {}),
      };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

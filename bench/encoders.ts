// `mimmx bench encoders`: one training step (forward, MSE loss to a fixed target, backward, Adam step)
// of our resnet18 and densenet121 encoders (224x224, batch 16) and our cnn3d (96^3, batch 4), against
// the same architectures in PyTorch (torchvision's resnet18 / densenet121 with a 1-channel stem and a
// Linear to our width; cnn3d by hand in bench/encoders_torch.py) with the same weights.
//
// Per encoder: ours is built as a config builds it (buildEncoder, ImageNet-size defaults) and its
// initial state (parameters and BatchNorm buffers), the batch, the target and our first step's output
// go to a .safetensors file; the PyTorch side copies that state in by order with a shape check and
// runs the same two steps. Its first output must match ours (max |diff| / max |ours| <= tolerance)
// before any timing counts: an encoder that disagrees is not timed (its times and ratio are null) and
// the command exits 1 after printing. The second step's loss (after one Adam step) is compared too.
// Then `rounds` rounds, each `warmup` untimed and `steps` timed steps per side, the sides back to back
// and the one that goes first alternating; each figure is the median over rounds.
// `--device cuda` runs both sides on the GPU (ours through the addon's CUDA libtorch, PyTorch's with
// MIMMX_BENCH_PYTHON naming a Python whose torch has CUDA); the clocks stop after the device is done.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveSafetensors } from "../src/io/safetensors.js";
import type { Encoder } from "../src/models/encoder.js";
import { buildEncoder } from "../src/models/registry.js";
import * as nn from "../src/nn/index.js";
import { Adam } from "../src/optim/index.js";
import * as torch from "../src/tensor/index.js";
import type { Device } from "../src/tensor/tensor.js";
import { JsonLineProcess } from "./json-line-process.js";
import { median } from "./median.js";
import { benchPython } from "./python.js";

export const BENCH_ENCODERS = ["resnet18", "densenet121", "cnn3d"] as const;
export type BenchEncoderName = (typeof BENCH_ENCODERS)[number];

/** The encoder's output width: 3 parts (the task and two spurions) of feature_dim 32, the config default. */
export const NUM_PARTS = 3;
export const PART_SIZE = 32;
const LR = 1e-3;
const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "encoders_torch.py");

export interface BenchEncodersOptions {
  encoders: BenchEncoderName[];
  rounds: number;
  steps: number;
  warmup: number;
  /** side of the 2-D images (resnet18, densenet121) */
  size: number;
  batch: number;
  /** side of the 3-D volumes (cnn3d) */
  size3d: number;
  batch3d: number;
  threads: number;
  /** max |ours - PyTorch's| / max |ours| of the first step's output (and of the second step's loss) */
  tolerance: number;
  /** time ours only (no python3-torch); agreement is then unknown (null) */
  noTorch?: boolean;
  /** where both sides train (default cpu) */
  device?: Device;
}

/** One encoder ready to train: model, optimiser, a fixed batch and target. */
export interface EncoderCase {
  name: BenchEncoderName;
  encoder: Encoder;
  opt: Adam;
  x: torch.Tensor;
  target: torch.Tensor;
}

export function makeCase(
  name: BenchEncoderName,
  o: Pick<BenchEncodersOptions, "size" | "batch" | "size3d" | "batch3d" | "device">,
): EncoderCase {
  if (!(BENCH_ENCODERS as readonly string[]).includes(name))
    throw new Error(`bench encoders: unknown encoder "${name}" (known: ${BENCH_ENCODERS.join(", ")})`);
  torch.manualSeed(0);
  const device = o.device ?? "cpu";
  // built and drawn on the CPU, so that the weights and the batch are the same on every device
  const encoder = buildEncoder({ name, numParts: NUM_PARTS, partSize: PART_SIZE }).to(device);
  encoder.train();
  const shape =
    name === "cnn3d" ? [o.batch3d, 1, o.size3d, o.size3d, o.size3d] : [o.batch, 1, o.size, o.size];
  const x = torch.randn(shape).to(device).keep();
  const target = torch.randn([shape[0], encoder.featureDim]).to(device).keep();
  return { name, encoder, opt: new Adam(encoder.parameters(), { lr: LR }), x, target };
}

/** One training step; returns the output and the loss (the caller disposes them). */
function step(c: EncoderCase): { output: torch.Tensor; loss: torch.Tensor } {
  return torch.tidy(() => {
    c.opt.zeroGrad();
    const output = c.encoder.forward(c.x);
    const loss = nn.F.mseLoss(output, c.target);
    loss.backward();
    c.opt.step();
    return { output: output.detach(), loss: loss.detach() };
  });
}

export interface OurCheck {
  /** the loss of step 1 and of step 2 (after one Adam step) */
  losses: [number, number];
  /** the state entries written, in our state dict's order */
  stateOrder: string[];
}

/**
 * Writes the initial state, batch and target to `path`, then runs two steps and adds the first
 * step's output. The state is copied before the first forward, which updates BatchNorm's running
 * statistics in training mode.
 */
export function checkAndExport(c: EncoderCase, path: string): OurCheck {
  const file = new Map<string, torch.Tensor>();
  const stateOrder: string[] = [];
  torch.noGrad(() => {
    for (const [name, t] of c.encoder.stateDict()) {
      file.set(`state.${name}`, t.detach().clone().keep());
      stateOrder.push(name);
    }
  });
  const first = step(c);
  const second = step(c);
  // (saveSafetensors reads each tensor through a host copy, so CUDA tensors are written as they are)
  file.set("input", c.x);
  file.set("target", c.target);
  file.set("output", first.output);
  saveSafetensors(path, file, {
    encoder: c.name,
    out_features: String(c.encoder.featureDim),
    lr: String(LR),
    // The file's keys are sorted; the pairing with PyTorch's state dict needs our module order.
    state_order: JSON.stringify(stateOrder),
  });
  const losses: [number, number] = [first.loss.item(), second.loss.item()];
  for (const [k, t] of file) if (k.startsWith("state.")) t.dispose();
  for (const t of [first.output, first.loss, second.output, second.loss]) t.dispose();
  return { losses, stateOrder };
}

/**
 * Seconds per step, mean over `steps` after `warmup` untimed ones. Reading the last loss waits for
 * the device (a CUDA step only queues its kernels), before the clock starts and before it stops.
 */
export function ourRound(c: EncoderCase, warmup: number, steps: number): number {
  const run = (wait: boolean) => {
    const r = step(c);
    if (wait) r.loss.item();
    r.output.dispose();
    r.loss.dispose();
  };
  for (let i = 0; i < warmup; i++) run(i === warmup - 1);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) run(i === steps - 1);
  return Number(process.hrtime.bigint() - t0) / 1e9 / steps;
}

export interface TorchCheck {
  max_abs_diff: number;
  max_abs: number;
  losses: [number, number];
  entries: number;
}

/** The PyTorch process (bench/encoders_torch.py): one for the whole bench. */
export class TorchSide {
  private constructor(
    private readonly proc: JsonLineProcess,
    readonly versions: { torch: string; torchvision: string; threads: number },
  ) {}

  static async start(threads: number, device: Device = "cpu"): Promise<TorchSide> {
    const python = benchPython();
    if (!existsSync(python))
      throw new Error(`bench encoders: ${python} is missing (python3-torch, or set MIMMX_BENCH_PYTHON)`);
    const proc = new JsonLineProcess(
      python,
      [TORCH_SCRIPT, "--threads", String(threads), "--device", device],
      "bench encoders: the PyTorch side",
    );
    try {
      const ready = await proc.next();
      return new TorchSide(proc, ready as unknown as TorchSide["versions"]);
    } catch (e) {
      await proc.close();
      throw e;
    }
  }
  async load(path: string): Promise<TorchCheck> {
    return (await this.proc.request({ cmd: "load", path })) as unknown as TorchCheck;
  }
  async round(warmup: number, steps: number): Promise<number> {
    return (await this.proc.request({ cmd: "round", warmup, steps })).step_seconds as number;
  }
  close(): Promise<void> {
    return this.proc.close();
  }
}

export interface Agreement {
  agree: boolean;
  max_abs_diff: number;
  /** max |ours - PyTorch's| / max |ours| of the first step's output */
  rel_diff: number;
  /** |ours - PyTorch's| / |ours| of the second step's loss, after one Adam step on each side */
  loss_after_step_rel_diff: number;
}

export function agreement(ours: OurCheck, theirs: TorchCheck, tolerance: number): Agreement {
  const rel = theirs.max_abs_diff / theirs.max_abs;
  const lossRel = Math.abs(ours.losses[1] - theirs.losses[1]) / Math.abs(ours.losses[1]);
  // NaN (a NaN output, or an all-zero one) fails both comparisons, as it should.
  return {
    agree: rel <= tolerance && lossRel <= tolerance,
    max_abs_diff: theirs.max_abs_diff,
    rel_diff: rel,
    loss_after_step_rel_diff: lossRel,
  };
}

/** 1 when an encoder disagreed with PyTorch (it was not timed), else 0: the command's exit status. */
export function encodersExitCode(result: Record<string, unknown>): number {
  return (result.encoders as { agree: boolean | null }[]).some((e) => e.agree === false) ? 1 : 0;
}

export async function benchEncoders(o: BenchEncodersOptions): Promise<Record<string, unknown>> {
  if (!(o.rounds >= 1 && o.steps >= 1 && o.warmup >= 0 && o.tolerance >= 0))
    throw new Error(
      `bench encoders: need --rounds >= 1, --steps >= 1, --warmup >= 0, --tolerance >= 0 ` +
        `(got ${o.rounds}, ${o.steps}, ${o.warmup}, ${o.tolerance})`,
    );
  torch.setNumThreads(o.threads);
  const dir = mkdtempSync(join(tmpdir(), "mimmx-bench-encoders-"));
  let theirs: TorchSide | null = null;
  try {
    if (!o.noTorch) theirs = await TorchSide.start(o.threads, o.device ?? "cpu");
    const entries: Record<string, unknown>[] = [];
    for (const name of o.encoders) {
      const c = makeCase(name, o);
      const ours = checkAndExport(c, join(dir, `${name}.safetensors`));
      const agree = theirs
        ? agreement(ours, await theirs.load(join(dir, `${name}.safetensors`)), o.tolerance)
        : null;
      const batch = c.x.shape[0];
      const entry: Record<string, unknown> = {
        name,
        input: c.x.shape,
        parameters: c.encoder.parameterCount(),
        step_seconds: null,
        torch_step_seconds: null,
        ratio_vs_torch: null,
        images_per_second: null,
        torch_images_per_second: null,
        agree: agree?.agree ?? null,
        max_abs_diff: agree?.max_abs_diff ?? null,
        rel_diff: agree?.rel_diff ?? null,
        loss_after_step_rel_diff: agree?.loss_after_step_rel_diff ?? null,
      };
      if (agree === null || agree.agree) {
        const us: number[] = [];
        const them: number[] = [];
        for (let r = 0; r < o.rounds; r++) {
          // The side that goes first alternates, so that a drift within a round hurts both alike.
          if (theirs && r % 2 === 1) them.push(await theirs.round(o.warmup, o.steps));
          us.push(ourRound(c, o.warmup, o.steps));
          if (theirs && r % 2 === 0) them.push(await theirs.round(o.warmup, o.steps));
        }
        entry.step_seconds = median(us);
        entry.images_per_second = batch / median(us);
        if (theirs) {
          entry.torch_step_seconds = median(them);
          entry.torch_images_per_second = batch / median(them);
          // Our throughput as a fraction of PyTorch's.
          entry.ratio_vs_torch = median(them) / median(us);
        }
      }
      entries.push(entry);
      c.x.dispose();
      c.target.dispose();
    }
    return {
      bench: "encoders",
      device: o.device ?? "cpu",
      threads: o.threads,
      rounds: o.rounds,
      steps_per_round: o.steps,
      warmup: o.warmup,
      tolerance: o.tolerance,
      libtorch: torch.torchVersion(),
      torch: theirs?.versions.torch ?? null,
      torchvision: theirs?.versions.torchvision ?? null,
      encoders: entries,
    };
  } finally {
    await theirs?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The readable table printed without --json. */
export function printEncoders(r: Record<string, unknown>): void {
  const fmt = (v: unknown, digits: number) => (typeof v === "number" ? v.toPrecision(digits) : "-");
  console.log(
    `threads ${r.threads}, median of ${r.rounds} rounds of ${r.steps_per_round} steps (${r.warmup} warm-up); ` +
      `libtorch ${r.libtorch}, PyTorch ${r.torch ?? "-"}, torchvision ${r.torchvision ?? "-"}`,
  );
  const rows = [["encoder", "input", "s/step", "torch s/step", "ratio", "images/s", "agree", "rel diff"]];
  for (const e of r.encoders as Record<string, unknown>[]) {
    rows.push([
      String(e.name),
      (e.input as number[]).join("x"),
      fmt(e.step_seconds, 4),
      fmt(e.torch_step_seconds, 4),
      fmt(e.ratio_vs_torch, 3),
      fmt(e.images_per_second, 4),
      String(e.agree ?? "-"),
      fmt(e.rel_diff, 2),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
}

// `mimmx bench <name> [--json]`: speed and memory benchmarks. Each prints one JSON line on stdout with
// --json (human-readable otherwise). Targets live here, never in timed tests.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Device } from "../tensor/tensor.js";
import { type OptionSpec, parseArgs, UsageError, usage } from "./args.js";

type Bench = {
  summary: string;
  spec: Record<string, OptionSpec>;
  run: (o: Record<string, unknown>) => Promise<Record<string, unknown>>;
  /** Human-readable output without --json (default: one "key value" line per field). */
  print?: (result: Record<string, unknown>) => void | Promise<void>;
  /** The command's exit status once the result is printed (default 0). */
  exitCode?: (result: Record<string, unknown>) => number | Promise<number>;
};

const threads = Number(process.env.MIMMX_THREADS ?? availableParallelism());

const BENCHES: Record<string, Bench> = {
  erm: {
    summary:
      "Adam training of the small CNN with a 2-class head on 28x28 inputs, against PyTorch (target ratio >= 0.95)",
    spec: {
      batch: { type: "number", default: 128, help: "batch size" },
      steps: { type: "number", default: 100, help: "timed steps per round" },
      rounds: {
        type: "number",
        default: 3,
        help: "alternating mimmx/PyTorch rounds; the best of each is kept",
      },
      threads: { type: "number", default: threads, help: "intra-op threads for both sides" },
      "no-torch": { type: "boolean", default: false, help: "skip the PyTorch side" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchErm } = await import("../../bench/erm.js");
      return benchErm({
        batch: o.batch as number,
        steps: o.steps as number,
        rounds: o.rounds as number,
        threads: o.threads as number,
        noTorch: o["no-torch"] as boolean,
      });
    },
  },
  encoders: {
    summary:
      "a training step of resnet18 and densenet121 (224x224, batch 16) and cnn3d (96^3, batch 4) against the same architectures and weights in PyTorch",
    spec: {
      encoders: {
        type: "string",
        default: "resnet18,densenet121,cnn3d",
        help: "comma-separated encoders",
      },
      rounds: { type: "number", default: 3, help: "rounds; the median of each figure is kept" },
      steps: { type: "number", default: 5, help: "timed steps per round and side" },
      warmup: { type: "number", default: 2, help: "untimed steps before them" },
      size: { type: "number", default: 224, help: "image side of resnet18 and densenet121" },
      batch: { type: "number", default: 16, help: "batch of resnet18 and densenet121" },
      size3d: { type: "number", default: 96, help: "volume side of cnn3d" },
      batch3d: { type: "number", default: 4, help: "batch of cnn3d" },
      threads: { type: "number", default: threads, help: "intra-op threads for both sides" },
      tolerance: {
        type: "number",
        default: 1e-3,
        help: "largest max|ours - PyTorch's| / max|ours| of the first output (and the second loss) that agrees",
      },
      "no-torch": { type: "boolean", default: false, help: "time ours only (agreement unknown)" },
      device: {
        type: "string",
        default: "cpu",
        help: "where both sides train: cpu, cuda or cuda:N (PyTorch's side: MIMMX_BENCH_PYTHON names a CUDA torch's Python)",
      },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchEncoders, BENCH_ENCODERS } = await import("../../bench/encoders.js");
      const device = await benchDevice(String(o.device), "bench encoders --device");
      const names = String(o.encoders)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const n of names)
        if (!(BENCH_ENCODERS as readonly string[]).includes(n))
          throw new UsageError(
            `bench encoders: unknown encoder "${n}" (known: ${BENCH_ENCODERS.join(", ")})`,
          );
      return benchEncoders({
        encoders: names as (typeof BENCH_ENCODERS)[number][],
        rounds: o.rounds as number,
        steps: o.steps as number,
        warmup: o.warmup as number,
        size: o.size as number,
        batch: o.batch as number,
        size3d: o.size3d as number,
        batch3d: o.batch3d as number,
        threads: o.threads as number,
        tolerance: o.tolerance as number,
        noTorch: o["no-torch"] as boolean,
        device,
      });
    },
    print: async (r) => {
      const { printEncoders } = await import("../../bench/encoders.js");
      printEncoders(r);
    },
    // An encoder whose output disagrees with PyTorch's was not timed: the run failed.
    exitCode: async (r) => (await import("../../bench/encoders.js")).encodersExitCode(r),
  },
  memory: {
    summary:
      "resident memory over a long training loop of the small CNN (target: flat within 10% after warm-up)",
    spec: {
      steps: { type: "number", default: 10000, help: "training steps" },
      batch: { type: "number", default: 32, help: "batch size" },
      warmup: { type: "number", default: 500, help: "steps before the reference RSS is taken" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchMemory } = await import("../../bench/memory.js");
      return benchMemory({ steps: o.steps as number, batch: o.batch as number, warmup: o.warmup as number });
    },
  },
  "mi-gaussian": {
    summary:
      "each MI estimator on correlated Gaussians with known MI (d = 2, 4, 8; 0.1 to 2 nats): estimate, truth, time",
    spec: {
      estimators: { type: "string", help: "comma-separated presets (default: all but the published critic)" },
      dims: { type: "string", default: "2,4,8", help: "comma-separated dimensions" },
      mis: { type: "string", default: "0.1,0.5,1,2", help: "comma-separated true MI values (nats)" },
      steps: { type: "number", default: 600, help: "critic training steps per case" },
      batch: { type: "number", default: 128, help: "batch size" },
      threads: { type: "number", default: threads, help: "intra-op threads" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchMiGaussian } = await import("../../bench/mi-gaussian.js");
      const list = (v: unknown) =>
        String(v)
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      return benchMiGaussian({
        estimators: o.estimators ? (list(o.estimators) as never) : undefined,
        dims: list(o.dims).map(Number),
        mis: list(o.mis).map(Number),
        steps: o.steps as number,
        batch: o.batch as number,
        threads: o.threads as number,
      });
    },
  },
  ddp: {
    summary:
      "the small CNN at 28x28 under ERM and MIMM-X: 2 processes x 1 thread vs 1 x 2 threads and vs PyTorch DDP (targets 0.9, 0.95)",
    spec: {
      batch: { type: "number", default: 128, help: "global batch size (divides over 2 processes)" },
      steps: { type: "number", default: 200, help: "timed steps per run (each run reports its median step)" },
      warmup: { type: "number", default: 5, help: "untimed steps before them" },
      "compare-after": {
        type: "number",
        default: 35,
        help: "steps (warm-up included) after which the 2- and 1-process weights are compared",
      },
      rounds: { type: "number", default: 3, help: "rounds; the median of each figure is kept" },
      "no-torch": { type: "boolean", default: false, help: "skip the PyTorch DDP side" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchDdp } = await import("../../bench/ddp.js");
      return benchDdp({
        batch: o.batch as number,
        steps: o.steps as number,
        warmup: o.warmup as number,
        compareAfter: o["compare-after"] as number,
        rounds: o.rounds as number,
        noTorch: o["no-torch"] as boolean,
      });
    },
  },
  "mimmx-step": {
    summary:
      "seconds per MIMM-X training step (N_FE encoder + N_MI critic batches) vs an MTL step, and the published critic",
    spec: {
      batch: { type: "number", default: 128, help: "batch size" },
      steps: { type: "number", default: 10, help: "timed steps per round" },
      rounds: { type: "number", default: 3, help: "rounds; the best of each is kept" },
      "published-steps": {
        type: "number",
        default: 1,
        help: "timed steps of the published 3x400 critic (0 skips it)",
      },
      spurions: { type: "number", default: 2, help: "number of spurions N (all pairs: 10 critics at N = 4)" },
      setting: {
        type: "string",
        default: "default",
        help: 'MIMM-X as built: "default" (method: { name: mimmx }, MTL at its k) or "method-layer" (the recorded figures\' setting)',
      },
      threads: { type: "number", default: threads, help: "intra-op threads" },
      device: { type: "string", default: "cpu", help: "where both methods train: cpu, cuda or cuda:N" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchMimmxStep } = await import("../../bench/mimmx-step.js");
      const device = await benchDevice(String(o.device), "bench mimmx-step --device");
      return benchMimmxStep({
        batch: o.batch as number,
        steps: o.steps as number,
        rounds: o.rounds as number,
        publishedSteps: o["published-steps"] as number,
        spurions: o.spurions as number,
        setting: parseSetting(o.setting as string),
        threads: o.threads as number,
        device,
      });
    },
  },
  data: {
    summary:
      "images per second decoded and prepared: 320x390 JPEG X-rays resized to 224, and the Fashion-MNIST pipeline",
    spec: {
      jpegs: { type: "number", default: 96, help: "generated JPEG files" },
      workers: { type: "number", default: 2, help: "worker threads for the JPEG pipeline" },
      batch: { type: "number", default: 128, help: "batch size" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchData } = await import("../../bench/data.js");
      return (await benchData({
        jpegCount: o.jpegs as number,
        workers: o.workers as number,
        batchSize: o.batch as number,
      })) as Record<string, unknown>;
    },
  },
  suite: {
    summary:
      "every method on every built-in shortcut benchmark for each seed: inverted / balanced / worst-group accuracy, probes, time; Markdown + HTML tables",
    spec: {
      tier: { type: "string", default: "quick", help: "quick (CI-sized) or full (ERM converges)" },
      seeds: { type: "number", help: "seeds per benchmark (default: 1 quick, 3 full)" },
      "seed-offset": { type: "number", default: 0, help: "first seed (seeds are K .. K+N-1)" },
      methods: {
        type: "string",
        help: "comma-separated methods, each a method or method@preset (mimmx@published); default: every method at its defaults, the oracle included",
      },
      benchmarks: { type: "string", help: "comma-separated benchmarks (default: all)" },
      out: {
        type: "string",
        help: "results folder (default runs/suite-<tier>); rows.jsonl there is resumed",
      },
      threads: {
        type: "number",
        default: 0,
        help: "intra-op threads per run (0: MIMMX_THREADS or all cores)",
      },
      jobs: {
        type: "number",
        default: 1,
        help: "runs at once, in child processes (give --threads 1: one run per core)",
      },
      shard: { type: "string", help: "i/n: run only rows k with k mod n = i (set by --jobs)" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { runSuite } = await import("../../bench/suite/runner.js");
      const { TIERS } = await import("../../bench/suite/benchmarks.js");
      const tier = String(o.tier);
      if (!(TIERS as readonly string[]).includes(tier))
        throw new UsageError(`bench suite: --tier must be one of ${TIERS.join(", ")}, got "${tier}"`);
      const list = (v: unknown) =>
        v === undefined
          ? undefined
          : String(v)
              .split(",")
              .map((x) => x.trim())
              .filter(Boolean);
      return (await runSuite({
        tier: tier as "quick" | "full",
        seeds: (o.seeds as number | undefined) ?? (tier === "full" ? 3 : 1),
        seedOffset: o["seed-offset"] as number,
        methods: list(o.methods),
        benchmarks: list(o.benchmarks),
        out: o.out as string | undefined,
        threads: o.threads as number,
        jobs: o.jobs as number,
        shard: o.shard === undefined ? undefined : parseShard(String(o.shard)),
      })) as unknown as Record<string, unknown>;
    },
    print: (r) => {
      const res = r.results as { markdown: string; html: string; rows: string };
      console.log(readFileSync(res.markdown, "utf8"));
      console.log(`tables: ${res.markdown}, ${res.html}; rows: ${res.rows}`);
    },
  },
};

function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!(count >= 1 && index < count))
    throw new UsageError(`bench suite: --shard must be i/n with 0 <= i < n, got "${text}"`);
  return { index, count };
}

/** Lets other modules add benches (mi-gaussian, mimmx-step, data) without this file knowing them. */
export function registerBench(name: string, bench: Bench): void {
  BENCHES[name] = bench;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const bench = name ? BENCHES[name] : undefined;
  if (!bench) {
    const list = Object.entries(BENCHES).map(([k, b]) => `  ${k.padEnd(12)} ${b.summary}`);
    if (name && name !== "--help")
      throw new UsageError(`bench: unknown benchmark "${name}"; available:\n${list.join("\n")}`);
    console.log(`usage: mimmx bench <name> [options] [--json]\n\n${list.join("\n")}`);
    return 0;
  }
  if (rest.includes("--help")) {
    console.log(usage(`bench ${name}`, bench.summary, bench.spec));
    return 0;
  }
  const { options } = parseArgs(rest, bench.spec, `bench ${name}`);
  const result = await bench.run(options);
  if (options.json) console.log(JSON.stringify(result));
  else if (bench.print) await bench.print(result);
  else
    for (const [k, v] of Object.entries(result))
      console.log(`${k.padEnd(28)} ${Array.isArray(v) ? v.join(" ") : v}`);
  return (await bench.exitCode?.(result)) ?? 0;
}

/** A bench's --device, checked against the libtorch this process loaded (a usage error if absent). */
async function benchDevice(device: string, what: string): Promise<Device> {
  const { checkDeviceName } = await import("../tensor/runtime.js");
  try {
    checkDeviceName(device, what, "Use --device cpu");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return device as Device;
}

function parseSetting(text: string): "default" | "method-layer" {
  if (text !== "default" && text !== "method-layer")
    throw new UsageError(`bench mimmx-step: --setting must be default or method-layer, got "${text}"`);
  return text;
}

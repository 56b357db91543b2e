// `mimmx bench <name> [--json]`: speed and memory benchmarks. Each prints one JSON line on stdout with
// --json (human-readable otherwise). Targets live here, never in timed tests.
import { availableParallelism } from "node:os";
import { type OptionSpec, parseArgs, UsageError, usage } from "./args.js";

type Bench = { summary: string; spec: Record<string, OptionSpec>; run: (o: Record<string, unknown>) => Promise<Record<string, unknown>> };

const threads = Number(process.env.MIMMX_THREADS ?? availableParallelism());

const BENCHES: Record<string, Bench> = {
  erm: {
    summary: "Adam training of the small CNN with a 2-class head on 28x28 inputs, against PyTorch (target ratio >= 0.95)",
    spec: {
      batch: { type: "number", default: 128, help: "batch size" },
      steps: { type: "number", default: 100, help: "timed steps per round" },
      rounds: { type: "number", default: 3, help: "alternating mimmx/PyTorch rounds; the best of each is kept" },
      threads: { type: "number", default: threads, help: "intra-op threads for both sides" },
      "no-torch": { type: "boolean", default: false, help: "skip the PyTorch side" },
      json: { type: "boolean", default: false, help: "print one JSON line" },
    },
    run: async (o) => {
      const { benchErm } = await import("../../bench/erm.js");
      return benchErm({ batch: o.batch as number, steps: o.steps as number, rounds: o.rounds as number, threads: o.threads as number, noTorch: o["no-torch"] as boolean });
    },
  },
  memory: {
    summary: "resident memory over a long training loop of the small CNN (target: flat within 10% after warm-up)",
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
};

/** Lets other modules add benches (mi-gaussian, mimmx-step, data) without this file knowing them. */
export function registerBench(name: string, bench: Bench): void {
  BENCHES[name] = bench;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const bench = name ? BENCHES[name] : undefined;
  if (!bench) {
    const list = Object.entries(BENCHES).map(([k, b]) => `  ${k.padEnd(12)} ${b.summary}`);
    if (name && name !== "--help") throw new UsageError(`bench: unknown benchmark "${name}"; available:\n${list.join("\n")}`);
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
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(28)} ${Array.isArray(v) ? v.join(" ") : v}`);
  return 0;
}

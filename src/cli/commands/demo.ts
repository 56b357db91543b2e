// `mimmx demo`: ERM, GroupDRO, MIMM-X and the oracle on the built-in fashion-confounded benchmark,
// each at its defaults, one report.

import { DEMO_CONFIG, DEMO_METHODS, demoConfigs, runExperiment } from "../../run/index.js";
import { parseArgs } from "../args.js";
import { HELP, interruptSignal, QUIET, wantsHelp } from "./common.js";
import { printRunResult } from "./run-output.js";

const SPEC = {
  out: { type: "string", default: "runs/demo", help: "run folder" },
  epochs: { type: "number", help: "override the demo's epochs (default: configured in src/run/demo.ts)" },
  "train-size": { type: "number", help: "override the training split size" },
  resume: { type: "boolean", default: false, help: "continue an interrupted demo in the same folder" },
  quiet: QUIET,
  help: HELP,
} as const;

const SUMMARY =
  "Trains ERM, GroupDRO, MIMM-X and the oracle (ERM on uncorrelated data), each at its defaults, on\nthe suite's demo benchmark (fashion-confounded, seed 0), evaluates, audits and writes one report\n(a few minutes on 2 CPU cores).";

export async function demoCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv, "demo [options]", SUMMARY, SPEC)) return 0;
  const { options } = parseArgs(argv, SPEC, "demo");
  const partial = structuredClone(DEMO_CONFIG) as Record<string, Record<string, unknown>>;
  partial.output_dir = options.out as never;
  if (options.epochs !== undefined) partial.train = { ...partial.train, epochs: options.epochs };
  if (options["train-size"] !== undefined) {
    const data = partial.data as { splits: Record<string, number> };
    data.splits = { ...data.splits, train: options["train-size"] as number };
  }
  const configs = demoConfigs(partial);
  const config = configs.run;
  const t0 = performance.now();
  const quiet = options.quiet as boolean;
  if (!quiet)
    process.stderr.write(`demo: ${DEMO_METHODS.join(", ")} on fashion-confounded -> ${config.output_dir}\n`);
  const irq = interruptSignal();
  try {
    const r = await runExperiment(config, {
      methods: DEMO_METHODS,
      methodConfigs: configs.methods,
      resume: options.resume as boolean,
      quiet,
      signal: irq.signal,
    });
    if (!quiet) process.stderr.write(`demo: finished in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    return printRunResult(r, `mimmx demo --resume --out ${config.output_dir}`);
  } finally {
    irq.dispose();
  }
}

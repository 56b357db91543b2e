// `mimmx train --config run.yaml [--resume]`: one run (or a comparison with --compare) end to end.

import { METHODS, type MethodName } from "../../config/index.js";
import { rankDevice } from "../../dist/device.js";
import { isDistributedEnv, readDistEnv } from "../../dist/env.js";
import { launchCommand } from "../../dist/launch.js";
import { isWriterRank, joinRunIfDistributed } from "../../dist/run.js";
import { runExperiment } from "../../run/index.js";
import { parseArgs, UsageError } from "../args.js";
import { HELP, interruptSignal, loadRunConfig, QUIET, wantsHelp } from "./common.js";
import { printRunResult } from "./run-output.js";

const SPEC = {
  config: { type: "string", help: "run configuration (YAML)" },
  resume: { type: "boolean", default: false, help: "continue from the last checkpoint of each method" },
  force: {
    type: "boolean",
    default: false,
    help: "with --resume: continue although the config differs from the run's (the old config is kept as config.previous-N.yaml)",
  },
  compare: {
    type: "string",
    help: `comma-separated methods to train side by side on the same data (${METHODS.join(", ")}); default: the config's method`,
  },
  out: { type: "string", help: "run folder (default: the config's output_dir)" },
  "max-steps": { type: "number", help: "stop each method after this many steps (smoke tests)" },
  "nproc-per-node": {
    type: "number",
    help: "train with N processes on this machine (distributed data parallel; train.batch_size is the global batch)",
  },
  quiet: QUIET,
  help: HELP,
} as const;

const SUMMARY =
  "Trains, evaluates, audits and reports a run. Ctrl-C (or SIGTERM) saves a checkpoint; --resume continues it.";

export function parseMethods(text: string | undefined): MethodName[] | undefined {
  if (!text) return undefined;
  const list = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of list)
    if (!(METHODS as readonly string[]).includes(m))
      throw new UsageError(`--compare: unknown method "${m}" (known: ${METHODS.join(", ")})`);
  return list as MethodName[];
}

export async function trainCommand(argv: string[]): Promise<number> {
  if (wantsHelp(argv, "train --config run.yaml [options]", SUMMARY, SPEC)) return 0;
  const { options } = parseArgs(argv, SPEC, "train");
  const nproc = options["nproc-per-node"] as number | undefined;
  if (nproc !== undefined && !(Number.isInteger(nproc) && nproc >= 1))
    throw new UsageError(`--nproc-per-node must be a positive integer, got ${nproc}`);
  const launching = nproc !== undefined && nproc > 1 && !isDistributedEnv();
  const dist = !launching && isDistributedEnv() ? readDistEnv() : undefined;
  const quiet = (options.quiet as boolean) || (dist !== undefined && dist.rank !== 0);
  const config = await loadRunConfig(options.config as string | undefined, quiet);
  const methods = parseMethods(options.compare as string | undefined);
  // The configuration is checked once here, before N processes are started on it.
  if (launching) return launchCommand("train", argv, nproc);
  // Each rank of a CUDA run takes its own GPU (cuda:LOCAL_RANK), then joins over NCCL or Gloo.
  if (dist) config.train.device = rankDevice(config.train.device, dist.localRank, dist.worldSize);
  const leaveRun = joinRunIfDistributed(process.env, config.train.device);
  const irq = interruptSignal();
  try {
    const r = await runExperiment(config, {
      outDir: options.out as string | undefined,
      resume: options.resume as boolean,
      force: options.force as boolean,
      quiet,
      signal: irq.signal,
      methods,
      maxSteps: options["max-steps"] as number | undefined,
    });
    if (!isWriterRank()) return r.status === "aborted" ? 130 : 0;
    return printRunResult(
      r,
      `mimmx train --config ${options.config} --resume${options.out ? ` --out ${options.out}` : ""}`,
    );
  } finally {
    irq.dispose();
    leaveRun();
  }
}

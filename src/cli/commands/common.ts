// What the run commands share: config loading (errors become exit code 2 with the key path),
// Ctrl-C handling, and `--help`.

import { ConfigError, loadConfig, type RunConfig } from "../../config/index.js";
import { type OptionSpec, UsageError, usage } from "../args.js";

/** Prints the command's usage and returns true when --help/-h is among the arguments. */
export function wantsHelp(
  argv: string[],
  command: string,
  summary: string,
  spec: Record<string, OptionSpec>,
): boolean {
  if (!argv.includes("--help") && !argv.includes("-h")) return false;
  console.log(usage(command, summary, spec));
  return true;
}

/** Loads and validates a config; problems are usage errors (exit 2) naming the key path and line. */
export async function loadRunConfig(path: string | undefined, quiet = false): Promise<RunConfig> {
  if (!path) throw new UsageError("--config <file.yaml> is required");
  try {
    return await loadConfig(path, { onWarning: (w) => !quiet && process.stderr.write(`warning: ${w}\n`) });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * An AbortSignal that fires on the first Ctrl-C or SIGTERM (the training loop then saves a
 * checkpoint and stops); a second one exits at once. SIGTERM is what job schedulers, `kill` and
 * container runtimes send before they kill, so it gets the same checkpoint as Ctrl-C.
 * Call dispose() when the work is done.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nsecond ${name}: exiting without waiting for the checkpoint\n`);
      process.exit(name === "SIGTERM" ? 143 : 130);
    }
    process.stderr.write(
      `\n${name}: saving a checkpoint, then stopping (${name === "SIGINT" ? "Ctrl-C" : "SIGTERM"} again to exit now)\n`,
    );
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

export const QUIET: OptionSpec = { type: "boolean", default: false, help: "no progress output" };
export const HELP: OptionSpec = { type: "boolean", help: "show this help" };

// `mimmx eval|audit|report --run DIR`: redo one stage of a finished run from its folder.

import { reevaluateRun, reportRun } from "../../run/index.js";
import { parseArgs, UsageError } from "../args.js";
import { HELP, QUIET, wantsHelp } from "./common.js";
import { printRunResult } from "./run-output.js";

const SPEC = {
  run: { type: "string", help: "run folder (written by train or demo)" },
  quiet: QUIET,
  help: HELP,
} as const;

function runDir(argv: string[], name: string): { dir: string; quiet: boolean } {
  const { options } = parseArgs(argv, SPEC, name);
  if (!options.run) throw new UsageError(`${name}: --run <dir> is required`);
  return { dir: options.run as string, quiet: options.quiet as boolean };
}

export async function evalCommand(argv: string[]): Promise<number> {
  if (
    wantsHelp(
      argv,
      "eval --run DIR",
      "Re-evaluates every method of a run from its checkpoints (metrics, probes, t-SNE), then re-renders the report.",
      SPEC,
    )
  )
    return 0;
  const { dir, quiet } = runDir(argv, "eval");
  return printRunResult(await reevaluateRun(dir, { quiet, evaluate: true, audit: false }), "");
}

export async function auditCommand(argv: string[]): Promise<number> {
  if (
    wantsHelp(
      argv,
      "audit --run DIR",
      "Re-runs the MI audit (a fresh critic on frozen held-out features) for every method of a run.",
      SPEC,
    )
  )
    return 0;
  const { dir, quiet } = runDir(argv, "audit");
  return printRunResult(await reevaluateRun(dir, { quiet, evaluate: false, audit: true }), "");
}

export async function reportCommand(argv: string[]): Promise<number> {
  if (
    wantsHelp(
      argv,
      "report --run DIR",
      "Re-renders report.html, report.md and summary.json from a run's files (no model, no data).",
      SPEC,
    )
  )
    return 0;
  const { dir } = runDir(argv, "report");
  return printRunResult(await reportRun(dir), "");
}

// `mimmx data inspect --config run.yaml`: the group counts of the splits a config would build,
// without training, so a confounding setup can be checked before spending hours on it.
import { countsToMarkdown } from "../../data/index.js";
import { loadData } from "../../run/index.js";
import { parseArgs, UsageError } from "../args.js";
import { HELP, loadRunConfig, QUIET, wantsHelp } from "./common.js";
import { dataViewCommand } from "./data-view.js";

const SPEC = {
  config: { type: "string", help: "run configuration (YAML)" },
  json: { type: "boolean", default: false, help: "print the counts as JSON instead of Markdown" },
  quiet: QUIET,
  help: HELP,
} as const;

const SUMMARY = "data inspect: prints the (y, z_i) group counts of every split the config would build.";

export async function dataCommand(argv: string[]): Promise<number> {
  if (argv[0] === "view") return dataViewCommand(argv.slice(1));
  if (wantsHelp(argv, "data inspect --config run.yaml", SUMMARY, SPEC)) return 0;
  const { options, positionals } = parseArgs(argv, SPEC, "data");
  if (positionals[0] !== "inspect")
    throw new UsageError(`data: expected a subcommand: inspect or view (got ${positionals[0] ?? "none"})`);
  const config = await loadRunConfig(options.config as string | undefined, options.quiet as boolean);
  const data = await loadData(config, options.quiet as boolean);
  if (options.json) {
    // The skipped images go with the counts: the counts are of what is left after them.
    console.log(
      JSON.stringify(
        {
          tasks: data.tasks,
          counts: data.counts,
          skipped: { count: data.skipped.length, files: data.skipped },
        },
        null,
        1,
      ),
    );
    return 0;
  }
  console.log(`# ${config.name}: ${data.description}\n`);
  for (const c of data.counts) console.log(countsToMarkdown(c));
  if (data.skipped.length > 0) {
    console.log(`\n## Skipped (${data.skipped.length} unreadable images left out)\n`);
    for (const s of data.skipped) console.log(`- ${s.split}: ${s.path} (${s.csv}:${s.line}): ${s.reason}`);
  }
  return 0;
}

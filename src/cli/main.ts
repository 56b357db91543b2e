// Entry point of the `mimmx` command: dispatches to one module per subcommand.
import { UsageError } from "./args.js";
import { benchCommand } from "./bench.js";
import { dataCommand } from "./commands/data.js";
import { demoCommand } from "./commands/demo.js";
import { exportCommand } from "./commands/export.js";
import { auditCommand, evalCommand, reportCommand } from "./commands/run-dir.js";
import { trainCommand } from "./commands/train.js";

type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  demo: {
    summary: "ERM vs MIMM-X vs oracle on fashion-confounded, one report (~10 min on CPU)",
    run: demoCommand,
  },
  train: {
    summary: "train, evaluate, audit and report a run: --config run.yaml [--resume]",
    run: trainCommand,
  },
  eval: { summary: "re-evaluate a run's methods from their checkpoints: --run DIR", run: evalCommand },
  audit: { summary: "re-run the MI audit of a run: --run DIR", run: auditCommand },
  report: { summary: "re-render a run's report from its files: --run DIR", run: reportCommand },
  export: { summary: "export a trained model: --run DIR --onnx [out.onnx]", run: exportCommand },
  data: {
    summary: "data inspect --config run.yaml: split group counts; data view FILE: one decoded file",
    run: dataCommand,
  },
  bench: { summary: "speed and memory benchmarks, as JSON (mimmx bench --help)", run: benchCommand },
};

export function registerCommand(name: string, command: Command): void {
  COMMANDS[name] = command;
}

function help(): string {
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(10)} ${c.summary}`);
  return `usage: mimmx <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nmimmx <command> --help for a command's options.`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "help") {
    console.log(help());
    return 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"\n\n${help()}`);
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`mimmx: ${e.message}`);
      return 2;
    }
    console.error(`mimmx ${name}: ${(e as Error).message}`);
    if (process.env.MIMMX_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}

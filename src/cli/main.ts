// Entry point of the `mimmx` command: dispatches to one module per subcommand.
import { UsageError } from "./args.js";
import { benchCommand } from "./bench.js";

type Command = { summary: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Command> = {
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

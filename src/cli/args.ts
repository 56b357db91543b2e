// A small, strict command-line parser: `--key value`, `--key=value`, boolean `--flag`, positionals.
// Unknown options are errors that list the known ones (a typo must never be silently ignored).

export interface OptionSpec {
  type: "string" | "number" | "boolean";
  default?: string | number | boolean;
  help: string;
}

export type ParsedArgs = {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
};

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>, command: string): ParsedArgs {
  const options: ParsedArgs["options"] = {};
  for (const [k, s] of Object.entries(spec)) options[k] = s.default;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const key = arg.slice(2, eq === -1 ? undefined : eq);
    const s = spec[key];
    if (!s) {
      const known = Object.keys(spec).map((k) => `--${k}`);
      throw new UsageError(`${command}: unknown option --${key} (known: ${known.join(", ") || "none"})`);
    }
    if (s.type === "boolean") {
      options[key] = eq === -1 ? true : arg.slice(eq + 1) !== "false";
      continue;
    }
    const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (raw === undefined) throw new UsageError(`${command}: --${key} needs a value`);
    if (s.type === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`${command}: --${key} must be a number, got "${raw}"`);
      options[key] = n;
    } else {
      options[key] = raw;
    }
  }
  return { positionals, options };
}

export function usage(command: string, summary: string, spec: Record<string, OptionSpec>): string {
  const lines = [`usage: mimmx ${command}`, "", summary, ""];
  for (const [k, s] of Object.entries(spec)) {
    const def = s.default === undefined ? "" : ` (default: ${s.default})`;
    lines.push(`  --${k}${s.type === "boolean" ? "" : ` <${s.type}>`}`.padEnd(28) + s.help + def);
  }
  return lines.join("\n");
}

/** A mistake in how the command was called: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

// Loading a run configuration: YAML text (with line numbers in every message) or a partial object
// built in code, through the removed-key table and the presets, into a validated RunConfig.
import { readFile } from "node:fs/promises";
import { type Document, isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { DEFAULT_PRESET, PRESETS, type PresetName } from "./presets.js";
import { rejectRemovedKeys } from "./removed.js";
import { runConfigSchema } from "./run-config.js";
import { Context, formatPath, INVALID, type Issue, type Path, ValidationError } from "./schema.js";
import { type DeepPartial, METHODS, type MethodName, type RunConfig } from "./types.js";

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface ParseOptions {
  /** Called once per warning (default: collected only). */
  onWarning?: (message: string) => void;
}

export interface LoadedConfig {
  config: RunConfig;
  /** Human-readable warnings: "path (line n): message". */
  warnings: string[];
}

function field(v: unknown, key: string): unknown {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)[key]
    : undefined;
}

/**
 * The preset values that fill the keys `raw` leaves out: the one `method.preset` names, else the
 * method's DEFAULT_PRESET. An unknown name gives no overlay (the schema reports it, with a "did you
 * mean"); a preset named for a method it was not made for is an error.
 */
export function presetOverlay(raw: unknown, ctx: Context): unknown {
  const method = field(raw, "method");
  const name = field(method, "name") ?? "mimmx";
  if (typeof name !== "string" || !(METHODS as readonly string[]).includes(name)) return undefined;
  const given = field(method, "preset");
  const chosen = given ?? DEFAULT_PRESET[name as MethodName];
  if (typeof chosen !== "string" || !(chosen in PRESETS)) return undefined;
  const preset = PRESETS[chosen as PresetName];
  if (!(preset.methods as string[]).includes(name)) {
    ctx.error(
      ["method", "preset"],
      `preset "${chosen}" is made for method ${preset.methods.map((m) => `"${m}"`).join(", ")}, not "${name}"; remove method.preset or set it to "none"`,
    );
    return undefined;
  }
  return structuredClone(preset.values);
}

/** Validates a raw document (the caller's own copy; it is modified). */
function validateRun(raw: unknown, source: string, locate?: (p: Path) => string | undefined) {
  const ctx = new Context();
  rejectRemovedKeys(raw, ctx);
  ctx.overlay = presetOverlay(raw, ctx);
  const value = runConfigSchema.parse(raw ?? {}, [], ctx);
  if (value === INVALID || ctx.errors.length > 0) {
    const e = new ValidationError(ctx.errors, source, locate);
    throw new ConfigError(e.message, e.issues);
  }
  return { value, warnings: ctx.warnings };
}

/**
 * Parses and validates YAML text. Throws ConfigError naming the source, line and key path of
 * every problem.
 */
export function parseConfigWithWarnings(text: string, sourceName = "config"): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `${sourceName}: invalid YAML:\n${doc.errors.map((e) => `  - ${e.message.split("\n")[0]}`).join("\n")}`,
    );
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (raw !== null && raw !== undefined && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new ConfigError(`${sourceName}: the top level must be a mapping of keys (name, data, model, ...)`);
  }
  const locate = (path: Path) => lineOf(doc, lineCounter, path);
  const { value, warnings } = validateRun(raw ?? {}, sourceName, locate);
  return { config: value, warnings: warnings.map((w) => formatIssue(w, locate)) };
}

export function parseConfig(text: string, sourceName = "config", options: ParseOptions = {}): RunConfig {
  const { config, warnings } = parseConfigWithWarnings(text, sourceName);
  for (const w of warnings) options.onWarning?.(`${sourceName}: ${w}`);
  return config;
}

export async function loadConfig(path: string, options: ParseOptions = {}): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  return parseConfig(text, path, options);
}

/**
 * Fills every default into a partial configuration (e.g. built in code or from JSON) and validates
 * it; throws ConfigError like parseConfig.
 */
export function resolveDefaults(
  partial: DeepPartial<RunConfig> | Record<string, unknown>,
  sourceName = "config",
  options: ParseOptions = {},
): RunConfig {
  const { value, warnings } = validateRun(structuredClone(partial), sourceName);
  for (const w of warnings) options.onWarning?.(`${sourceName}: ${formatIssue(w)}`);
  return value;
}

function formatIssue(i: Issue, locate?: (p: Path) => string | undefined): string {
  const where = locate?.(i.path);
  return `${formatPath(i.path)}${where ? ` (${where})` : ""}: ${i.message}`;
}

/** "line N" of the deepest node on `path` that exists in the document (a missing key points at its parent). */
function lineOf(doc: Document, lc: LineCounter, path: Path): string | undefined {
  let node: unknown = doc.contents;
  let found: unknown = node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return (k && typeof k === "object" && "value" in k ? k.value : k) === key;
      });
      if (!pair) break;
      // Point at the key itself for scalars: "hidden: wide" reads better at the key's line.
      found = pair.key ?? pair.value;
      node = pair.value;
      if (node && typeof node === "object" && "items" in node) found = pair.key ?? node;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      if (!node) break;
      found = node;
    } else break;
  }
  const range = (found as { range?: [number, number, number] } | null)?.range;
  if (!range) return undefined;
  return `line ${lc.linePos(range[0]).line}`;
}

// A small declarative validator for configuration files. Each schema node checks one value, fills
// its default, and reports problems with the full key path, the offending value and what is
// allowed, so a user can fix a config without reading code. All problems are collected in one pass
// (not just the first), and unknown keys get a "did you mean" from the known ones, because a typo
// in an optional key otherwise silently falls back to the default.

export type Path = readonly (string | number)[];

export interface Issue {
  path: Path;
  message: string;
}

/**
 * Collects errors and warnings while a document is validated. `overlay` (a preset) is a second
 * layer of defaults: where the user's document lacks a key, the overlay's value is parsed instead of
 * the schema's default, and the key still counts as not given (so rules that ask "did the user set
 * this?" keep their meaning).
 */
export class Context {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[] = [];
  constructor(public overlay?: unknown) {}
  /** The overlay's value at `path` (undefined where it has none). */
  overlayAt(path: Path): unknown {
    let node = this.overlay;
    for (const key of path) {
      if (node === null || typeof node !== "object") return undefined;
      node = (node as Record<string | number, unknown>)[key];
    }
    return node;
  }
  error(path: Path, message: string): void {
    this.errors.push({ path, message });
  }
  warn(path: Path, message: string): void {
    this.warnings.push({ path, message });
  }
}

/** Marker for "this value failed validation"; parents skip it and keep validating siblings. */
export const INVALID: unique symbol = Symbol("invalid");
export type Invalid = typeof INVALID;

export interface Schema<T> {
  /** Words for the error message: what values are allowed. */
  readonly expected: string;
  /** What the key means, for the generated key reference (docs/config.md). */
  readonly description?: string;
  /** For the reference and the example: the fields of a mapping, the item of a list. */
  readonly fields?: Readonly<Record<string, Schema<unknown>>>;
  readonly item?: Schema<unknown>;
  /** A value to show in the generated example config where the key has no default. */
  readonly example?: unknown;
  /** The value used when the key is absent; `undefined` with `required` false means "stays absent". */
  readonly defaultValue?: () => T;
  /** Absent keys are errors unless the schema has a default or is optional. */
  readonly required: boolean;
  parse(value: unknown, path: Path, ctx: Context): T | Invalid;
}

export function formatPath(path: Path): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${p}` : p;
  return s || "(top level)";
}

/** The value as a user wrote it, shortened: strings quoted, objects as JSON. */
export function formatValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null (empty)";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const j = JSON.stringify(v);
  return j.length > 60 ? `${j.slice(0, 57)}...` : j;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${formatValue(v)}`;
}

// ---------------------------------------------------------------------------------------------
// "Did you mean"

/** Levenshtein distance (insert, delete, substitute; also adjacent swaps count as one). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/**
 * The closest candidates, if close enough to be a plausible typo (case and -/_ ignored), as
 * quoted text: "hidden", or "mimm" or "mimmx" when several are equally close.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_ ]/g, "");
  const scored = candidates.map((c) => ({
    c,
    d: norm(word) === norm(c) ? 0 : editDistance(word.toLowerCase(), c.toLowerCase()),
  }));
  const bestD = Math.min(...scored.map((x) => x.d));
  const limit = Math.max(2, Math.floor(word.length / 3));
  if (!(bestD <= limit)) return undefined;
  return scored
    .filter((x) => x.d === bestD)
    .map((x) => `"${x.c}"`)
    .join(" or ");
}

// ---------------------------------------------------------------------------------------------
// Scalars

interface Common<T> {
  default?: T;
  description?: string;
  example?: unknown;
}

function base<T>(expected: string, o: Common<T> | undefined, parse: Schema<T>["parse"]): Schema<T> {
  const d = o?.default;
  return {
    expected,
    description: o?.description,
    example: o?.example,
    required: true,
    defaultValue: d === undefined ? undefined : () => structuredClone(d),
    parse,
  };
}

export function str(
  o?: Common<string> & { minLength?: number; pattern?: RegExp; patternText?: string },
): Schema<string> {
  const minLength = o?.minLength ?? 1;
  const expected = o?.patternText ?? (minLength > 0 ? "a non-empty string" : "a string");
  return base(expected, o, (v, path, ctx) => {
    // YAML turns unquoted 0123 or true into numbers/booleans; a string key accepts them as text.
    const s = typeof v === "number" || typeof v === "boolean" ? String(v) : v;
    if (typeof s !== "string" || s.length < minLength || (o?.pattern && !o.pattern.test(s))) {
      ctx.error(path, `expected ${expected}, got ${typeName(v)}`);
      return INVALID;
    }
    return s;
  });
}

/** One of a fixed set of strings; a near miss gets a "did you mean". */
export function oneOf<const T extends readonly string[]>(
  values: T,
  o?: Common<T[number]>,
): Schema<T[number]> {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
  return base(expected, o, (v, path, ctx) => {
    if (typeof v === "string" && (values as readonly string[]).includes(v)) return v as T[number];
    const hint = typeof v === "string" ? suggest(v, values) : undefined;
    ctx.error(
      path,
      `${formatValue(v)} is not allowed; expected ${expected}${hint ? `. Did you mean ${hint}?` : ""}`,
    );
    return INVALID;
  });
}

interface NumOpts extends Common<number> {
  min?: number;
  max?: number;
  /** Strict bounds: value > exclusiveMin, value < exclusiveMax. */
  exclusiveMin?: number;
  exclusiveMax?: number;
}

function rangeText(o: NumOpts | undefined): string {
  const parts: string[] = [];
  if (o?.min !== undefined) parts.push(`>= ${o.min}`);
  if (o?.exclusiveMin !== undefined) parts.push(`> ${o.exclusiveMin}`);
  if (o?.max !== undefined) parts.push(`<= ${o.max}`);
  if (o?.exclusiveMax !== undefined) parts.push(`< ${o.exclusiveMax}`);
  return parts.length ? ` ${parts.join(" and ")}` : "";
}

function numberSchema(integer: boolean, o?: NumOpts): Schema<number> {
  const expected = `${integer ? "an integer" : "a number"}${rangeText(o)}`;
  return base(expected, o, (v, path, ctx) => {
    const ok =
      typeof v === "number" &&
      Number.isFinite(v) &&
      (!integer || Number.isInteger(v)) &&
      (o?.min === undefined || v >= o.min) &&
      (o?.max === undefined || v <= o.max) &&
      (o?.exclusiveMin === undefined || v > o.exclusiveMin) &&
      (o?.exclusiveMax === undefined || v < o.exclusiveMax);
    if (!ok) {
      ctx.error(path, `expected ${expected}, got ${typeName(v)}`);
      return INVALID;
    }
    return v as number;
  });
}

export function int(o?: NumOpts): Schema<number> {
  return numberSchema(true, o);
}

export function num(o?: NumOpts): Schema<number> {
  return numberSchema(false, o);
}

export function bool(o?: Common<boolean>): Schema<boolean> {
  return base("true or false", o, (v, path, ctx) => {
    if (typeof v === "boolean") return v;
    ctx.error(path, `expected true or false, got ${typeName(v)}`);
    return INVALID;
  });
}

// ---------------------------------------------------------------------------------------------
// Combinators

/** May be absent (no default); the parsed type admits undefined. */
export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  return { ...s, required: false, defaultValue: undefined, expected: s.expected, parse: s.parse };
}

export function list<T>(
  item: Schema<T>,
  o?: Common<T[]> & { minItems?: number; maxItems?: number; unique?: boolean },
): Schema<T[]> {
  const bounds =
    o?.minItems !== undefined && o.minItems === o.maxItems
      ? ` of exactly ${o.minItems}`
      : `${o?.minItems ? ` of at least ${o.minItems}` : ""}${o?.maxItems !== undefined ? ` of at most ${o.maxItems}` : ""}`;
  const expected = `a list${bounds} (each ${item.expected})`;
  const schema = base<T[]>(expected, o, (v, path, ctx) => {
    if (!Array.isArray(v)) {
      ctx.error(path, `expected ${expected}, got ${typeName(v)}`);
      return INVALID;
    }
    if (
      (o?.minItems !== undefined && v.length < o.minItems) ||
      (o?.maxItems !== undefined && v.length > o.maxItems)
    ) {
      ctx.error(path, `expected ${expected}, got ${v.length} item${v.length === 1 ? "" : "s"}`);
      return INVALID;
    }
    const out: T[] = [];
    let bad = false;
    v.forEach((x, i) => {
      const r = item.parse(x, [...path, i], ctx);
      if (r === INVALID) bad = true;
      else out.push(r);
    });
    if (bad) return INVALID;
    if (o?.unique) {
      const seen = new Set<string>();
      for (let i = 0; i < out.length; i++) {
        const key = JSON.stringify(out[i]);
        if (seen.has(key)) {
          ctx.error([...path, i], `duplicate entry ${formatValue(out[i])}`);
          return INVALID;
        }
        seen.add(key);
      }
    }
    return out;
  });
  return { ...schema, item };
}

/** Accepts a scalar where a richer value is expected, e.g. `image_size: 28` for [28, 28]. */
export function coerce<T>(s: Schema<T>, from: (v: unknown) => unknown): Schema<T> {
  return { ...s, parse: (v, path, ctx) => s.parse(from(v), path, ctx) };
}

export type Fields<T> = { [K in keyof T]-?: Schema<T[K]> };

export interface ObjectOptions<T> {
  description?: string;
  example?: unknown;
  /**
   * Runs after every field validated: cross-field rules and context-dependent defaults. `given`
   * holds the keys the user actually wrote (before defaults), so a rule can tell an explicit value
   * from a default. Report problems through ctx with paths under `path`.
   */
  refine?: (value: T, given: ReadonlySet<string>, path: Path, ctx: Context) => T;
  /** Accept a scalar for the whole object, e.g. `early_stopping: 5` -> { patience: 5 }. */
  fromScalar?: (v: string | number | boolean) => Record<string, unknown>;
}

/**
 * A mapping with known keys. Absent keys take their defaults; an absent object whose fields all have
 * defaults (or are optional) is built from them, so a minimal config only names what differs.
 */
export function obj<T extends object>(fields: Fields<T>, o?: ObjectOptions<T>): Schema<T> {
  const keys = Object.keys(fields) as (keyof T & string)[];
  const allDefaulted = keys.every((k) => {
    const f = (fields as Record<string, Schema<unknown>>)[k];
    return !f.required || f.defaultValue !== undefined;
  });
  const schema: Schema<T> = {
    expected: `a mapping with keys ${keys.join(", ")}`,
    description: o?.description,
    example: o?.example,
    fields: fields as Record<string, Schema<unknown>>,
    required: true,
    defaultValue: allDefaulted ? () => schema.parse({}, [], new Context()) as T : undefined,
    parse(v, path, ctx) {
      let input = v;
      if (o?.fromScalar && (typeof v === "string" || typeof v === "number" || typeof v === "boolean"))
        input = o.fromScalar(v);
      if (input === null || typeof input !== "object" || Array.isArray(input)) {
        ctx.error(path, `expected a mapping (keys: ${keys.join(", ")}), got ${typeName(v)}`);
        return INVALID;
      }
      const rec = input as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      let bad = false;
      for (const k of Object.keys(rec)) {
        if (!(k in fields)) {
          const hint = suggest(k, keys);
          ctx.error(
            [...path, k],
            `unknown key${hint ? `; did you mean ${hint}?` : "."} Allowed here: ${keys.join(", ")}`,
          );
          bad = true;
        }
      }
      for (const k of keys) {
        const f = (fields as Record<string, Schema<unknown>>)[k];
        const raw = rec[k];
        if (raw === undefined || raw === null) {
          const over = ctx.overlayAt([...path, k]);
          if (over !== undefined) {
            // A preset's value: a mapping is parsed as {} so its own absent keys consult the overlay too.
            const r = f.parse(f.fields ? {} : over, [...path, k], ctx);
            if (r === INVALID) bad = true;
            else if (r !== undefined) out[k] = r;
          } else if (f.defaultValue) out[k] = f.defaultValue();
          else if (f.required) {
            ctx.error([...path, k], `required key is missing; expected ${f.expected}`);
            bad = true;
          }
          continue;
        }
        const r = f.parse(raw, [...path, k], ctx);
        if (r === INVALID) bad = true;
        else if (r !== undefined) out[k] = r;
      }
      if (bad) return INVALID;
      const given = new Set(Object.keys(rec).filter((k) => rec[k] !== undefined && rec[k] !== null));
      const before = ctx.errors.length;
      const value = o?.refine ? o.refine(out as T, given, path, ctx) : (out as T);
      return ctx.errors.length > before ? INVALID : value;
    },
  };
  return schema;
}

/** A schema with a default value (for scalars whose builder got none). */
export function withDefault<T>(s: Schema<T>, value: T): Schema<T> {
  return { ...s, defaultValue: () => structuredClone(value) };
}

/** The same schema with a description (for schemas built by a helper, e.g. a shared list). */
export function describe<T>(s: Schema<T>, description: string, example?: unknown): Schema<T> {
  return { ...s, description, example: example ?? s.example };
}

// ---------------------------------------------------------------------------------------------
// Entry point

export class ValidationError extends Error {
  constructor(
    readonly issues: Issue[],
    readonly source: string,
    locate?: (path: Path) => string | undefined,
  ) {
    super(
      `${source}: ${issues.length} problem${issues.length === 1 ? "" : "s"} in the configuration:\n${issues
        .map((i) => {
          const where = locate?.(i.path);
          return `  - ${formatPath(i.path)}${where ? ` (${where})` : ""}: ${i.message}`;
        })
        .join("\n")}`,
    );
    this.name = "ValidationError";
  }
}

export interface Validated<T> {
  value: T;
  warnings: Issue[];
}

/** Validates `input`; throws ValidationError listing every problem. */
export function validate<T>(
  schema: Schema<T>,
  input: unknown,
  source = "config",
  locate?: (path: Path) => string | undefined,
  overlay?: unknown,
): Validated<T> {
  const ctx = new Context(overlay);
  const value = schema.parse(input ?? {}, [], ctx);
  if (value === INVALID || ctx.errors.length > 0) throw new ValidationError(ctx.errors, source, locate);
  return { value, warnings: ctx.warnings };
}

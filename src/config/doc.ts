// The key reference (docs/config.md) and the example config (configs/example.yaml), both generated
// from the schema so that neither can drift from what the loader accepts. `node
// scripts/make-config-docs.js` rewrites them; test/cli/config-doc.test.ts checks they are current.
import { PRESETS } from "./presets.js";
import { REMOVED_KEYS } from "./removed.js";
import { runConfigSchema } from "./run-config.js";
import type { Schema } from "./schema.js";

type AnySchema = Schema<unknown>;

export interface SchemaNode {
  /** Dotted key path; list items appear as "[]". */
  path: string;
  schema: AnySchema;
}

/** Every node of the schema tree, depth first (mappings, their fields, list items). */
export function schemaNodes(root: AnySchema = runConfigSchema as AnySchema, path = ""): SchemaNode[] {
  const out: SchemaNode[] = [{ path, schema: root }];
  if (root.fields)
    for (const [k, f] of Object.entries(root.fields)) out.push(...schemaNodes(f, path ? `${path}.${k}` : k));
  if (root.item) out.push(...schemaNodes(root.item, `${path}[]`));
  return out;
}

/** A value in YAML flow style: bare words where YAML reads them back as the same string. */
export function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(", ")}]`;
  if (v !== null && typeof v === "object")
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k}: ${flow(x)}`)
      .join(", ")} }`;
  if (
    typeof v === "string" &&
    /^[A-Za-z][A-Za-z0-9_./-]*$/.test(v) &&
    !/^(true|false|null|yes|no|on|off|y|n)$/i.test(v)
  )
    return v;
  return JSON.stringify(v);
}

function defaultText(s: AnySchema): string {
  if (s.defaultValue) return flow(s.defaultValue());
  return s.required ? "required" : "absent";
}

const cell = (t: string) => t.replace(/\|/g, "\\|");

/** docs/config.md: one table per section, then the presets and the removed keys. */
export function configReference(): string {
  const lines = [
    "# Configuration keys",
    "",
    "<!-- Generated from the schema in src/config/ by `node scripts/make-config-docs.js`; do not edit. -->",
    "",
    "A run is configured by one YAML file; every key not given takes the default below. Lists of",
    "mappings show their items' keys under `[]`. Example: `configs/example.yaml`.",
    "",
  ];
  const top = runConfigSchema as AnySchema;
  const sections: [string, AnySchema][] = [["", top]];
  for (const [k, f] of Object.entries(top.fields ?? {})) if (f.fields) sections.push([k, f]);
  for (const [name, section] of sections) {
    lines.push(`## ${name || "Top level"}`, "", section.description ?? "", "");
    lines.push("| key | values | default | meaning |", "|---|---|---|---|");
    const rows = name
      ? schemaNodes(section, name).slice(1)
      : Object.entries(top.fields ?? {})
          .filter(([, f]) => !f.fields)
          .map(([k, f]) => ({ path: k, schema: f }));
    for (const { path, schema } of rows) {
      const isMapping = schema.fields !== undefined;
      const values = isMapping ? "mapping" : schema.expected;
      const def = isMapping ? "" : defaultText(schema);
      lines.push(
        `| \`${path}\` | ${cell(values)} | ${cell(def ? `\`${def}\`` : "")} | ${cell(schema.description ?? "")} |`,
      );
    }
    lines.push("");
  }
  lines.push("## Presets (`method.preset`)", "");
  lines.push("A preset fills the keys a config leaves out; the keys a config gives always win.", "");
  for (const [name, p] of Object.entries(PRESETS)) {
    lines.push(`- \`${name}\` (for ${p.methods.join(", ")}): ${p.description}.`);
    for (const [section, values] of Object.entries(p.values))
      lines.push(`  - \`${section}\`: \`${flow(values)}\``);
  }
  lines.push("", "## Removed keys", "", "| key | instead |", "|---|---|");
  for (const r of REMOVED_KEYS) lines.push(`| \`${r.path.join(".")}\` | ${cell(r.instead)} |`);
  lines.push("");
  return lines.join("\n");
}

/** Wraps a description into "# " comment lines of at most `width` characters. */
function comment(text: string, indent: string, width = 100): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + 2 + line.length + 1 + word.length > width) {
      out.push(`${indent}# ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(`${indent}# ${line}`);
  return out;
}

/** Whether a key must be written: it is required and has no default, or holds such a key. */
function hasRequired(s: AnySchema): boolean {
  if (!s.required) return false;
  return !s.defaultValue || Object.values(s.fields ?? {}).some(hasRequired);
}

function exampleLines(s: AnySchema, indent: string, commented: boolean): string[] {
  const out: string[] = [];
  for (const [k, f] of Object.entries(s.fields ?? {})) {
    if (out.length > 0) out.push("");
    out.push(...comment(f.description ?? "", indent));
    const active = !commented && hasRequired(f);
    const hash = active ? "" : "# ";
    if (f.fields && f.example === undefined) {
      out.push(`${indent}${hash}${k}:`);
      out.push(...exampleLines(f, `${indent}  `, !active));
      continue;
    }
    const value = f.example ?? (f.defaultValue ? f.defaultValue() : undefined);
    if (value === undefined) out.push(`${indent}# ${k}:   (absent unless given)`);
    else if (Array.isArray(value) && value.some((x) => x !== null && typeof x === "object"))
      out.push(`${indent}${hash}${k}:`, ...value.map((x) => `${indent}${hash}  - ${flow(x)}`));
    else out.push(`${indent}${hash}${k}: ${flow(value)}`);
  }
  return out;
}

/**
 * configs/example.yaml: the keys a run needs, set to example values, and every other key commented
 * out at its default with its description, so the file is both a valid config and the full menu.
 */
export function exampleConfig(): string {
  return [
    "# mimmx run configuration. Generated from the schema (src/config/) by",
    "# `node scripts/make-config-docs.js`; docs/config.md lists the same keys as tables.",
    "# Only the uncommented keys are required; each commented key shows its default.",
    "",
    ...exampleLines(runConfigSchema as AnySchema, "", false),
    "",
  ].join("\n");
}

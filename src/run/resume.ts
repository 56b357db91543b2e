// What `--resume` checks before it touches a run folder: the folder is a run, and the config asked
// for is the config the run was started with. A resumed run continues bit for bit only under the
// same config; a changed seed, learning rate or epoch count would silently give a run that matches
// neither config. `--force` accepts the change, and the run's previous config is kept beside it.
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { RunConfig } from "../config/index.js";
import { RUN_FILES } from "./layout.js";

/** One key whose value differs, as a dotted path (list items by index: data.spurions.0.ratio). */
export interface ConfigChange {
  key: string;
  before: unknown;
  after: unknown;
}

/** The leaves of a plain JSON-like value, keyed by dotted path. */
function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    if (entries.length === 0) out.set(prefix, value);
    for (const [k, v] of entries) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

/** Every key that differs between two resolved configs, in the order of the newer one. */
export function configChanges(before: unknown, after: unknown): ConfigChange[] {
  const a = leaves(JSON.parse(JSON.stringify(before)), "", new Map());
  const b = leaves(JSON.parse(JSON.stringify(after)), "", new Map());
  const keys = [...new Set([...b.keys(), ...a.keys()])];
  return keys
    .filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k)))
    .map((key) => ({ key, before: a.get(key), after: b.get(key) }));
}

function show(v: unknown): string {
  return v === undefined ? "(unset)" : JSON.stringify(v);
}

/** "seed: 1 -> 2, train.lr: 0.001 -> 0.01" */
export function describeChanges(changes: readonly ConfigChange[]): string {
  return changes.map((c) => `${c.key}: ${show(c.before)} -> ${show(c.after)}`).join(", ");
}

/**
 * Why a `--resume` was refused (no such folder, not a run, a changed config): its own class, so a
 * caller that records a method's failures as results (the benchmark suite) can let this one through.
 */
export class ResumeRefusedError extends Error {
  override name = "ResumeRefusedError";
}

/**
 * Refuses to resume a folder that holds no run, or (without `force`) one started with another
 * config. With `force` and a changed config, the run's config.yaml is copied to
 * config.previous-N.yaml (N = 1, 2, ...) before the caller writes the new one; returns the changes.
 */
export function checkResume(dir: string, config: RunConfig, force: boolean): ConfigChange[] {
  if (!existsSync(dir))
    throw new ResumeRefusedError(
      `--resume: ${dir} does not exist, so there is nothing to resume (drop --resume to start a run there)`,
    );
  const path = join(dir, RUN_FILES.config);
  if (!existsSync(path))
    throw new ResumeRefusedError(
      `--resume: ${dir} is not a run folder (no ${RUN_FILES.config}); drop --resume to start a run there`,
    );
  const saved = parseYaml(readFileSync(path, "utf8"));
  const changes = configChanges(saved, config);
  if (changes.length === 0) return changes;
  if (!force)
    throw new ResumeRefusedError(
      `--resume: the config differs from the one ${dir} was started with (${describeChanges(changes)}); a resumed run continues only under its own config. Resume with the run's ${path}, or add --force to continue under the new one`,
    );
  let n = 1;
  while (existsSync(join(dir, `config.previous-${n}.yaml`))) n++;
  copyFileSync(path, join(dir, `config.previous-${n}.yaml`));
  return changes;
}

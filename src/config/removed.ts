// Keys that were removed or renamed. A config that still uses one gets an error that says what to
// write instead, rather than the generic "unknown key".
import type { Context, Path } from "./schema.js";

export interface RemovedKey {
  path: readonly string[];
  /** What to do instead: the new key, or why nothing replaces it. */
  instead: string;
}

export const REMOVED_KEYS: readonly RemovedKey[] = [
  {
    path: ["method", "estimator", "batch_norm"],
    instead:
      "delete it; it was never read (joint critics always have BatchNorm, as published; separable critics have none)",
  },
  {
    path: ["train", "early_stopping", "min_delta"],
    instead:
      "delete it; it was never applied (any improvement of the selection metric resets the patience count)",
  },
];

/**
 * Reports every removed key present in `raw` and deletes it, so the schema does not report it a
 * second time as unknown. `raw` must be the caller's own copy.
 */
export function rejectRemovedKeys(raw: unknown, ctx: Context): void {
  for (const { path, instead } of REMOVED_KEYS) {
    let node = raw;
    for (const key of path.slice(0, -1)) {
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
    }
    const last = path[path.length - 1];
    if (node === null || typeof node !== "object" || !(last in node)) continue;
    delete (node as Record<string, unknown>)[last];
    ctx.error(path as Path, `this key was removed: ${instead}`);
  }
}

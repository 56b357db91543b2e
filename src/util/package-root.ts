// The folder holding mimmx's package.json, from any module of it (dist/src/... or src/...): where
// the native addons are built (build/Release).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`mimmx: cannot find the package root from ${from}`);
    dir = up;
  }
  return dir;
}

// Fixture loading for the tensor-engine tests: repo root (from the source tree, not dist), the golden
// JSON written by scripts/make-golden.py, and tensors rebuilt from their JSON form.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "../../src/tensor/index.js";

/** The folder holding package.json, found by walking up from this file (works from src or dist). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`repoRoot: no package.json above ${import.meta.url}`);
    dir = up;
  }
  return dir;
}

export interface JsonTensor {
  shape: number[];
  dtype: "float32" | "float64" | "int64" | "bool";
  data: (number | boolean)[];
}

/** Parses test/fixtures/golden/<name> from the source folder. */
export function loadGolden<T>(name: string): T {
  const path = join(repoRoot(), "test", "fixtures", "golden", name);
  if (!existsSync(path)) {
    throw new Error(`golden fixture ${path} is missing: run /usr/bin/python3 scripts/make-golden.py`);
  }
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** A mimmx tensor with the JSON tensor's exact values, shape and dtype. */
export function fromJson(j: JsonTensor, opts: { requiresGrad?: boolean } = {}): torch.Tensor {
  const data = j.data.map((v) => (typeof v === "boolean" ? (v ? 1 : 0) : v));
  return torch.tensor(data, { dtype: j.dtype, shape: j.shape, requiresGrad: opts.requiresGrad });
}

// Shared by the ONNX export tests: run an exported file in onnxruntime-node and compare it with
// mimmx's own eval-mode outputs.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Module } from "../../src/nn/module.js";
import * as torch from "../../src/tensor/index.js";

export const TOLERANCE = 1e-4;

/** A temporary folder, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "mimmx-onnx-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type OptimizationLevel = "disabled" | "basic" | "extended" | "all";

/** A single-threaded session; "all" (onnxruntime's default) also exercises its graph fusions. */
export async function openSession(
  path: string,
  level: OptimizationLevel = "all",
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: level,
  });
}

export interface Output {
  data: Float32Array;
  dims: number[];
}

/** Runs the session on one float input and returns every output by name. */
export async function runSession(
  session: ort.InferenceSession,
  input: torch.Tensor,
  inputName = "input",
): Promise<Record<string, Output>> {
  const data = input.dataSync() as Float32Array;
  const feeds = { [inputName]: new ort.Tensor("float32", data, input.shape) };
  const res = await session.run(feeds);
  const out: Record<string, Output> = {};
  for (const name of session.outputNames) {
    const t = res[name];
    out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Asserts an ONNX output equals a mimmx tensor in shape and within TOLERANCE; returns the max abs diff. */
export function assertMatches(what: string, got: Output | undefined, expected: torch.Tensor): number {
  assert.ok(got, `${what}: missing from the ONNX outputs`);
  assert.deepEqual(got.dims, expected.shape, `${what}: shape`);
  const diff = maxAbsDiff(got.data, expected.dataSync() as Float32Array);
  assert.ok(diff < TOLERANCE, `${what}: max abs diff ${diff} >= ${TOLERANCE}`);
  return diff;
}

/** mimmx's eval-mode forward of a module, without recording gradients. */
export function evalForward(module: Module, x: torch.Tensor): torch.Tensor {
  const was = module.training;
  module.eval();
  try {
    return torch.noGrad(() => module.forward(x));
  } finally {
    module.train(was);
  }
}

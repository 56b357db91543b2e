// bench mimmx-step at a tiny size: MIMM-X at its run default against MTL at the same model, on the
// CPU and (where this libtorch has it) on CUDA. Times are not judged here, only what is reported.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { benchMimmxStep } from "../../bench/mimmx-step.js";
import { cudaIsAvailable } from "../../src/tensor/runtime.js";
import type { Device } from "../../src/tensor/tensor.js";

async function check(device: Device): Promise<void> {
  const r = await benchMimmxStep({ batch: 16, steps: 2, rounds: 2, publishedSteps: 0, spurions: 2, device });
  assert.equal(r.device, device);
  assert.equal(r.setting, "default");
  assert.equal(r.pairs, 2); // f_y with each spurion: the default's pairs
  for (const k of ["mimmx_step_seconds", "mtl_step_seconds", "ratio", "ratio_median"] as const)
    assert.ok(r[k] > 0 && Number.isFinite(r[k]), `${k} = ${r[k]}`);
  assert.ok(Math.abs(r.ratio - r.mimmx_step_seconds / r.mtl_step_seconds) < 1e-12);
  assert.equal(r.published_critic_step_seconds, null);
}

describe("bench mimmx-step", () => {
  it("times MIMM-X's default and MTL on the CPU", () => check("cpu"));
  it("and on CUDA", { skip: cudaIsAvailable() ? false : "this libtorch has no CUDA" }, () => check("cuda"));
});

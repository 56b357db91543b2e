// A rank's device and backend (src/dist/device.ts): torchrun's "one GPU per local rank" rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import { backendFor, rankDevice } from "../../src/dist/device.js";

test("train.device cuda becomes cuda:LOCAL_RANK under a multi-process run; cpu and one process stay", () => {
  assert.equal(rankDevice("cuda", 3, 4), "cuda:3");
  assert.equal(rankDevice("cuda", 0, 2), "cuda:0");
  assert.equal(rankDevice("cpu", 1, 2), "cpu");
  assert.equal(rankDevice("cuda", 0, 1), "cuda");
  assert.equal(rankDevice("cuda:1", 0, 1), "cuda:1");
});

test("a pinned cuda:N in a multi-process run is refused, saying what to write", () => {
  assert.throws(
    () => rankDevice("cuda:1", 0, 2),
    /train.device: "cuda:1" pins every rank of a 2-process run to one GPU; write train.device: cuda/,
  );
});

test("CUDA runs use NCCL when the addon has it, Gloo otherwise; CPU runs always Gloo", () => {
  assert.equal(backendFor("cuda:0", ["gloo", "nccl"]), "nccl");
  assert.equal(backendFor("cuda", ["gloo"]), "gloo");
  assert.equal(backendFor("cpu", ["gloo", "nccl"]), "gloo");
});

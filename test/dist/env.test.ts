// torchrun's environment contract and the distributed sampler (no processes needed).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isDistributedEnv, readDistEnv } from "../../src/dist/env.js";
import { perRankBatchSize, rankShare } from "../../src/dist/sampler.js";
import { permutation } from "../../src/util/random.js";
import { shortcutDataset } from "../methods/helpers.js";

const OK = { MASTER_ADDR: "10.0.0.1", MASTER_PORT: "29500", RANK: "3", WORLD_SIZE: "8", LOCAL_RANK: "1" };

describe("dist env", () => {
  test("reads torchrun's variables; LOCAL_RANK defaults to RANK", () => {
    assert.deepEqual(readDistEnv(OK), {
      masterAddr: "10.0.0.1",
      masterPort: 29500,
      rank: 3,
      worldSize: 8,
      localRank: 1,
    });
    assert.equal(readDistEnv({ ...OK, LOCAL_RANK: undefined }).localRank, 3);
    assert.equal(isDistributedEnv(OK), true);
    assert.equal(isDistributedEnv({ WORLD_SIZE: "1" }), false);
    assert.equal(isDistributedEnv({}), false);
  });
  test("errors name the variable and its value", () => {
    assert.throws(() => readDistEnv({ ...OK, MASTER_ADDR: "" }), /MASTER_ADDR is not set/);
    assert.throws(() => readDistEnv({ ...OK, MASTER_PORT: "http" }), /MASTER_PORT="http" is not an integer/);
    assert.throws(() => readDistEnv({ ...OK, MASTER_PORT: "70000" }), /MASTER_PORT="70000" is not a port/);
    assert.throws(() => readDistEnv({ ...OK, RANK: "8" }), /RANK=8 is not below WORLD_SIZE=8/);
    assert.throws(() => readDistEnv({ ...OK, WORLD_SIZE: undefined }), /WORLD_SIZE is not set/);
  });
});

describe("dist sampler", () => {
  test("the ranks' shares are disjoint and together are the global batch", () => {
    const global = permutation(24, 5).subarray(0, 12);
    const shares = [0, 1, 2].map((r) => rankShare(global, r, 3));
    for (const s of shares) assert.equal(s.length, 4);
    assert.deepEqual(
      [...shares.flatMap((s) => [...s])].sort((a, b) => a - b),
      [...global].sort((a, b) => a - b),
    );
    assert.deepEqual([...shares[1]], [global[1], global[4], global[7], global[10]]);
  });
  test("every group of a confounded split is kept: per global batch, group counts over ranks equal one process's", () => {
    const ds = shortcutDataset(256, 1, 0.9);
    const y = ds.labels.y;
    const z = ds.labels.z0;
    const order = permutation(ds.length, 9);
    let aligned = 0;
    let total = 0;
    for (let start = 0; start + 32 <= ds.length; start += 32) {
      const batch = order.subarray(start, start + 32);
      const count = (rows: Int32Array) => {
        const c = [0, 0, 0, 0];
        for (const r of rows) c[2 * y[r] + z[r]]++;
        return c;
      };
      const whole = count(batch);
      const summed = [0, 1]
        .map((r) => count(rankShare(batch, r, 2)))
        .reduce((a, b) => a.map((v, i) => v + b[i]));
      assert.deepEqual(summed, whole);
      aligned += whole[0] + whole[3];
      total += 32;
    }
    // the split is confounded (z = y for ~90% of rows) and the shares do not undo it
    assert.ok(aligned / total > 0.8, `aligned fraction ${aligned / total}`);
  });
  test("a global batch that does not divide over the ranks is refused, naming the key", () => {
    assert.equal(perRankBatchSize(64, { rank: 0, worldSize: 4 }), 16);
    assert.throws(
      () => perRankBatchSize(30, { rank: 0, worldSize: 4 }),
      /train.batch_size 30 .* does not divide over 4 processes/,
    );
  });
});

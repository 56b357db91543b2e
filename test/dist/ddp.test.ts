// Distributed data parallel on loopback: 2 processes (this file spawns them, on a free port)
// against one process at the combined batch. Each test bounds its processes in time; a hang fails
// the test instead of blocking the suite.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort, launch } from "../../src/dist/launch.js";
import {
  type ErmResult,
  initialState,
  type LoggedRun,
  mimmxEstimates,
  type StateRun,
  trainErm,
  trainStatefulMethods,
} from "./scenarios.js";

const WORKER = join(dirname(fileURLToPath(import.meta.url)), "worker.js");
const tmp = mkdtempSync(join(tmpdir(), "mimmx-ddp-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function maxAbsDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  let m = 0;
  for (const k of Object.keys(a)) {
    assert.equal(a[k].length, b[k].length, k);
    for (let i = 0; i < a[k].length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  }
  return m;
}

/** Both ranks of a scenario through the launcher; their JSON results by rank. */
async function runBoth<T>(scenario: string): Promise<T[]> {
  const prefix = join(tmp, scenario);
  const r = await launch({
    nprocPerNode: 2,
    script: WORKER,
    args: [scenario, prefix],
    env: { MIMMX_THREADS: "1" },
  });
  assert.equal(r.code, 0, `launch failed: ${JSON.stringify(r.failure)}`);
  return [0, 1].map((rank) => JSON.parse(readFileSync(`${prefix}.${rank}.json`, "utf8")) as T);
}

/** The "erm" scenario's two ranks, launched once for the two tests that read them. */
interface Launched {
  collectives: Record<string, unknown>;
  erm: ErmResult;
  every: Record<string, Record<string, number[]>>;
  estimates: Record<string, number>;
  stateful: Record<string, StateRun>;
  interrupted: LoggedRun;
  changingKeys: LoggedRun;
}
/** Every rank ended with `status` after `steps` steps, having logged the same numbers. */
function assertStoppedTogether(runs: LoggedRun[], status: string, steps: number): void {
  for (const r of runs) {
    assert.equal(r.status, status);
    assert.equal(r.globalStep, steps);
    assert.equal(r.logged.length, steps);
  }
  for (const r of runs.slice(1)) assert.deepEqual(r.logged, runs[0].logged);
}

let launched: Promise<Launched[]> | null = null;
function both() {
  launched ??= runBoth("erm");
  return launched;
}

interface Spawned {
  child: ChildProcess;
  stderr: () => string;
  ready: Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnRank(rank: number, port: number, scenario: string): Spawned {
  const child = spawn(process.execPath, [WORKER, scenario, join(tmp, `${scenario}-direct`)], {
    env: {
      ...process.env,
      MIMMX_THREADS: "1",
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: String(port),
      RANK: String(rank),
      WORLD_SIZE: "2",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on("data", (d) => {
      if (String(d).includes("ready")) resolve();
    });
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => err, ready, exit };
}

/** Resolves with `p`, or rejects after ms (the bound that turns a hang into a failure). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

describe("dist: 2 processes on loopback", { concurrency: false }, () => {
  test("collectives: sum, avg, max, broadcast, gather, their gradients, and a clear shape error", async () => {
    const [r0, r1] = (await both()).map((r) => r.collectives);
    for (const r of [r0, r1]) {
      assert.deepEqual(r.sum, [3, 30]);
      assert.deepEqual(r.avg, [1.5, 15]);
      assert.deepEqual(r.max, [1, 0]);
      assert.deepEqual(r.broadcast, [6, 7]); // rank 1's values
      assert.deepEqual(r.gather, [0, 0.5, 1, 1.5]);
      assert.deepEqual(r.mean, [0.5, 2]);
      assert.deepEqual(r.anyRank, [true, false]); // rank 1's flag decides for both
      // sum over both ranks of d(loss_r)/d(own rows): loss = sum_i (i+1) * gathered_i
      assert.deepEqual(r.reduceGrad, [3, 2]);
      assert.match(
        String(r.shapeError),
        /every rank must pass the same shape; rank \d has \[\d, 2\], rank \d has \[\d, 2\]/,
      );
    }
    assert.deepEqual(r0.gatherGrad, [2, 4]);
    assert.deepEqual(r1.gatherGrad, [6, 8]);
    assert.deepEqual(r0.gatherGradReplicated, [2, 4]);
    assert.deepEqual(r1.gatherGradReplicated, [6, 8]);
    for (const r of [r0, r1]) {
      const stale = r.stale as { means: number[][]; steady: number; after: number; refused: string };
      // the mean over ranks of each hand-written gradient, at every call
      assert.deepEqual(stale.means, [
        [0.5, 1],
        [1.5, 1],
        [2.5, 1],
        [2, 1],
        [0.5, 1.5, 5],
      ]);
      // call 1: the mask, then the gradients; calls 2 and 3: both in one collective
      assert.equal(stale.steady, 4);
      // the set grew: the carried layout is refused and the new set averaged after it
      assert.equal(stale.after, 6);
      assert.match(
        stale.refused,
        /no hand-written gradients\): the gradient of parameter 1 \[3\] was set or changed after the backward pass/,
      );
    }
  });

  test("ERM with BatchNorm: 2 ranks at half the batch equal 1 process at the whole batch; ranks identical", async () => {
    const [r0, r1] = (await both()).map((r) => r.erm);
    const single = await trainErm();
    const init = initialState();
    // The runs did train: weights moved far more than the tolerance.
    assert.ok(maxAbsDiff(single.state, init) > 1e-2, "training changed nothing");
    // BatchNorm running statistics are part of the state: SyncBatchNorm's global statistics.
    assert.ok(Object.keys(single.state).some((k) => k.endsWith("running_var")));
    assert.equal(maxAbsDiff(r0.state, r1.state), 0, "ranks diverged");
    const diff = maxAbsDiff(r0.state, single.state);
    assert.ok(diff < 1e-5, `2 processes vs 1: max |diff| ${diff}`);
    // Gradients were reduced in buckets started from the hooks, inside the backward pass.
    assert.ok(r0.stats && r0.stats.backwardPasses === 4, JSON.stringify(r0.stats));
    assert.ok(r0.stats.launchedDuringBackward >= 1, JSON.stringify(r0.stats));
  });

  test("every method: parameters and buffers identical across ranks after 2 steps", async () => {
    const [r0, r1] = (await both()).map((r) => r.every);
    assert.ok(Object.keys(r0).length >= 6, Object.keys(r0).join(", "));
    for (const name of Object.keys(r0))
      assert.equal(maxAbsDiff(r0[name], r1[name]), 0, `${name}: ranks diverged`);
  });

  test("MIMM-X's MI estimates on the gathered batch equal one process's on the whole batch (same sampled negatives)", async () => {
    const [r0, r1] = (await both()).map((r) => r.estimates);
    const single = mimmxEstimates();
    const keys = Object.keys(single).sort();
    // every pair's estimate in the encoder pass and in the critic update, and the MI loss
    assert.ok(keys.filter((k) => k.startsWith("mi/")).length >= 3, keys.join(", "));
    assert.ok(
      keys.some((k) => k.startsWith("critic_mi/")),
      keys.join(", "),
    );
    for (const r of [r0, r1]) {
      assert.deepEqual(Object.keys(r).sort(), keys);
      // 1e-5 relative: float32 sums over the gathered batch run in another order than one process's
      for (const k of keys)
        assert.ok(
          Math.abs(r[k] - single[k]) <= 1e-5 * Math.max(1, Math.abs(single[k])),
          `${k}: ${r[k]} vs one process ${single[k]}`,
        );
    }
  });

  test("batch-derived method state (s, GradNorm w, attention, DV EMAs, GroupDRO q) identical across ranks", async () => {
    const [r0, r1] = (await both()).map((r) => r.stateful);
    const single = await trainStatefulMethods();
    assert.deepEqual(Object.keys(r0).sort(), Object.keys(single).sort());
    for (const name of Object.keys(single)) {
      const [a, b, one] = [r0[name], r1[name], single[name]];
      assert.equal(a.steps.length, 4, name);
      // state is exactly the same on both ranks, step by step and at the end
      assert.deepEqual(a.state, b.state, `${name}: getState() differs across ranks`);
      assert.deepEqual(a.steps, b.steps, `${name}: per-step state differs across ranks`);
      assert.equal(maxAbsDiff(a.params, b.params), 0, `${name}: parameters diverged`);
      // and it is state that moved: not the initial values a test could pass with
      const last = a.steps[a.steps.length - 1];
      if (name.startsWith("mimmx")) {
        assert.ok(
          Object.keys(last).some((k) => k.startsWith("w/")) &&
            Object.keys(last).some((k) => k.startsWith("att/")),
        );
        assert.ok(
          Object.keys(last).some((k) => k.startsWith("w/") && Math.abs(last[k] - 1) > 1e-4),
          JSON.stringify(last),
        );
        // first step (same weights everywhere): s and GradNorm's w from the global batch's gradients
        // on W equal one process's at the whole batch
        for (const k of Object.keys(one.steps[0]).filter((k) => k === "scale" || k.startsWith("w/")))
          assert.ok(
            Math.abs(a.steps[0][k] - one.steps[0][k]) < 1e-5,
            `${name} ${k}: ${a.steps[0][k]} vs ${one.steps[0][k]}`,
          );
        const ema = a.state.ema as (number | null)[];
        assert.ok(ema.length >= 3 && ema.every((v) => v !== null && Number.isFinite(v)), JSON.stringify(ema));
      } else {
        const q = Object.entries(last).filter(([k]) => k.startsWith("q/"));
        assert.ok(
          q.some(([, v]) => Math.abs(v - q[0][1]) > 1e-4),
          `q did not move: ${JSON.stringify(q)}`,
        );
        // GroupDRO's q from the global batch's group losses equals one process's at the whole batch
        for (const [k, v] of q)
          assert.ok(Math.abs(v - one.steps[3][k]) < 1e-5, `${k}: ${v} vs ${one.steps[3][k]}`);
      }
    }
  });

  test("the loop: an interrupt on one rank stops every rank at the same step; logged losses are means over ranks", async () => {
    const [r0, r1] = (await both()).map((r) => r.interrupted);
    // rank 1 aborted in step 1's progress callback, after that step's agreement: both ranks agree
    // at the end of step 2 and stop at the top of step 3 (rank 0 never saw the signal itself)
    assertStoppedTogether([r0, r1], "aborted", 3);
    for (let step = 0; step < 2; step++) {
      const a = r0.local[step].loss;
      const b = r1.local[step].loss;
      assert.notEqual(a, b, "the two shares gave the same loss: the mean would not be tested");
      assert.ok(Math.abs(r0.logged[step].loss - (a + b) / 2) < 1e-12, JSON.stringify(r0.logged[step]));
    }
  });

  test("the loop's step channel: a key that appears mid-run is averaged too; a non-finite step on one rank stops both", async () => {
    const [r0, r1] = (await both()).map((r) => r.changingKeys);
    assertStoppedTogether([r0, r1], "non-finite", 3);
    // step 0 lays out the keys (two collectives), step 1 uses the layout (one), step 2 brings "extra"
    for (let step = 0; step < 3; step++) {
      const want = Object.keys(r0.local[step]).sort();
      assert.deepEqual(Object.keys(r0.logged[step]).sort(), want, `step ${step}`);
      for (const k of want) {
        const mean = (r0.local[step][k] + r1.local[step][k]) / 2;
        assert.ok(
          Math.abs(r0.logged[step][k] - mean) < 1e-12,
          `step ${step} ${k}: ${r0.logged[step][k]} vs ${mean}`,
        );
      }
    }
    assert.equal(r0.logged[2].extra, (2 + 12) / 2);
    assert.ok(!("extra" in r0.logged[1]));
  });

  test("a killed rank ends the run: the survivor exits non-zero naming the failed collective", async () => {
    const port = await freePort();
    const ranks = [spawnRank(0, port, "long"), spawnRank(1, port, "long")];
    try {
      await within(Promise.all(ranks.map((r) => r.ready)), 30_000, "rendezvous");
      await new Promise((r) => setTimeout(r, 1500)); // a few training steps
      ranks[1].child.kill("SIGKILL");
      const { code } = await within(ranks[0].exit, 60_000, "the surviving rank");
      assert.notEqual(code, 0);
      assert.match(ranks[0].stderr(), /rank 0: .*(allreduce|broadcast|barrier|allGather).* failed: /i);
      assert.match(ranks[0].stderr(), /another rank has probably exited/);
    } finally {
      for (const r of ranks) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    }
  });

  test("the launcher stops the other ranks when one fails and names it", async () => {
    const lines: string[] = [];
    const r = await within(
      launch({
        nprocPerNode: 2,
        script: WORKER,
        args: ["fail", join(tmp, "fail")],
        env: { MIMMX_THREADS: "1" },
        graceMs: 5000,
        log: (l) => lines.push(l),
      }),
      60_000,
      "the launcher",
    );
    assert.equal(r.code, 1);
    assert.deepEqual(r.failure, { rank: 1, code: 1, signal: null });
    assert.match(lines.join("\n"), /rank 1 \(pid \d+\) exited with code 1; stopping the other ranks/);
  });
});

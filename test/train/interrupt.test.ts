// Interruptions of a real training process: SIGKILL at chosen steps, SIGTERM, several in a row, and
// a kill during the checkpoint write. After `resume`, metrics.jsonl must hold exactly the rows of an
// uninterrupted run (no step or epoch row twice) and the final checkpoint the same tensors, bit for bit.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadSafetensors } from "../../src/io/safetensors.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "child-train.js");
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "mimmx-interrupt-"));
  dirs.push(d);
  return d;
};

interface ChildRun {
  /** the exit signal (SIGKILL for a kill -9) or null */
  signal: NodeJS.Signals | null;
  result?: { status: string; globalStep: number; seconds: number };
}

function child(dir: string, ...args: string[]): ChildRun {
  const r = spawnSync(process.execPath, [CHILD, dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, MIMMX_THREADS: "1" },
  });
  if (r.signal === null && r.status !== 0) assert.fail(`child failed (${r.status}): ${r.stderr}`);
  const line = r.stdout.trim().split("\n").pop();
  return { signal: r.signal, result: line ? JSON.parse(line) : undefined };
}

/** The rows of metrics.jsonl that describe training (not resume/abort markers), without timings. */
function trainingRows(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.type === "step" || r.type === "epoch")
    .map(({ seconds: _seconds, ...r }) => r);
}

/** Every tensor of a checkpoint (weights and optimiser state) as bytes. */
function checkpointBytes(path: string): Map<string, string> {
  const { tensors } = loadSafetensors(path);
  const out = new Map<string, string>();
  for (const [k, t] of tensors) {
    out.set(k, Buffer.from(t.toBytes()).toString("base64"));
    t.dispose();
  }
  return out;
}

function assertSameRun(dir: string, reference: string): void {
  assert.deepEqual(trainingRows(dir), trainingRows(reference));
  for (const f of ["last.safetensors", "best.safetensors"])
    assert.deepEqual(checkpointBytes(join(dir, f)), checkpointBytes(join(reference, f)), f);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes(".tmp-")),
    [],
    "a temporary checkpoint file was left behind",
  );
}

describe("interrupted training resumes as if never stopped", () => {
  const reference = tmp();
  it("the uninterrupted run (3 epochs of 4 steps)", () => {
    const r = child(reference);
    assert.equal(r.result?.status, "completed");
    assert.equal(r.result?.globalStep, 12);
    // 12 step rows and 3 epoch rows, each once.
    const rows = trainingRows(reference);
    assert.deepEqual(
      rows.filter((x) => x.type === "step").map((x) => x.globalStep),
      [...Array(12).keys()],
    );
    assert.deepEqual(
      rows.filter((x) => x.type === "epoch").map((x) => x.epoch),
      [0, 1, 2],
    );
  });

  for (const step of [2, 6, 8]) {
    it(`kill -9 before step ${step}, then resume`, () => {
      const dir = tmp();
      const killed = child(dir, "--kill-at-step", String(step));
      assert.equal(killed.signal, "SIGKILL");
      assert.equal(killed.result, undefined);
      const resumed = child(dir, "--resume");
      assert.equal(resumed.result?.status, "completed");
      assertSameRun(dir, reference);
    });
  }

  it("two kills in a row (steps 5 and 10), then resume; the training time adds up", () => {
    const dir = tmp();
    assert.equal(child(dir, "--kill-at-step", "5").signal, "SIGKILL");
    // The checkpoint at the end of epoch 1 holds the time trained so far.
    const { metadata } = loadSafetensors(join(dir, "last.safetensors"));
    const before = JSON.parse(metadata.state).position.seconds as number;
    assert.ok(before > 0);
    assert.equal(child(dir, "--resume", "--kill-at-step", "10").signal, "SIGKILL");
    const done = child(dir, "--resume");
    assert.ok((done.result?.seconds ?? 0) > before, "seconds restarted at the resume");
    assertSameRun(dir, reference);
  });

  it("SIGTERM saves a checkpoint like Ctrl-C; the resume continues from it", () => {
    const dir = tmp();
    const stopped = child(dir, "--term-at-step", "6");
    assert.equal(stopped.signal, null);
    assert.equal(stopped.result?.status, "aborted");
    assert.equal(stopped.result?.globalStep, 6);
    const markers = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.includes('"aborted"'));
    assert.equal(markers.length, 1);
    const done = child(dir, "--resume");
    assert.equal(done.result?.status, "completed");
    assertSameRun(dir, reference);
  });

  it("a kill during the checkpoint write (epoch row logged, rename not done) resumes cleanly", () => {
    // The state such a kill leaves: metrics.jsonl through epoch 1's row, last.safetensors still the
    // one of epoch 0, and a half-written temporary file.
    const dir = tmp();
    child(dir, "--epochs", "1");
    copyFileSync(join(dir, "last.safetensors"), join(dir, "epoch0.safetensors"));
    child(dir, "--epochs", "2", "--resume");
    copyFileSync(join(dir, "epoch0.safetensors"), join(dir, "last.safetensors"));
    rmSync(join(dir, "epoch0.safetensors"));
    writeFileSync(join(dir, "last.safetensors.tmp-999999"), Buffer.alloc(100, 7));
    assert.equal(trainingRows(dir).filter((r) => r.type === "epoch").length, 2);
    child(dir, "--resume");
    assert.ok(!existsSync(join(dir, "last.safetensors.tmp-999999")));
    assertSameRun(dir, reference);
  });
});

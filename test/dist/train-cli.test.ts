// `mimmx train --nproc-per-node 2` end to end: rank 0 writes the run, and a run stopped under 2
// processes resumes under 1, then under 2 again, with the same global batches, to the same weights.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadSafetensors } from "../../src/io/safetensors.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const BIN = join(ROOT, "bin", "mimmx.js");
const tmp = mkdtempSync(join(tmpdir(), "mimmx-ddp-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const CONFIG = `name: ddp-cli
method: { name: erm }
data:
  source: fashion-confounded
  spurions:
    - { name: marker, kind: patch, ratio: 0.8 }
  splits: { train: 256, validation: 64, test_inverted: 64, test_balanced: 64 }
train:
  epochs: 1
  batch_size: 32
eval:
  mi_audit: { enabled: false }
`;

function mimmx(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, MIMMX_THREADS: "1" },
    encoding: "utf8",
    timeout: 180_000,
  });
  return { status: r.status, stderr: r.stderr };
}

function weights(run: string): Map<string, number[]> {
  const f = loadSafetensors(join(run, "methods", "erm", "last.safetensors"));
  const out = new Map<string, number[]>();
  for (const [k, t] of f.tensors)
    if (k.startsWith("model.")) out.set(k, Array.from(t.dataSync() as ArrayLike<number>, Number));
  return out;
}

function maxAbsDiff(a: Map<string, number[]>, b: Map<string, number[]>): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let m = 0;
  for (const [k, v] of a) {
    const w = b.get(k) as number[];
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] - w[i]));
  }
  return m;
}

test("train --nproc-per-node 2: rank 0 writes; resumed across world sizes (2, 1, 2 processes), the same weights", {
  timeout: 300_000,
}, () => {
  const config = join(tmp, "run.yaml");
  writeFileSync(config, CONFIG);
  // (One process against 2 at the combined batch is test/dist/ddp.test.ts's; here the CLI path.)
  const two = join(tmp, "two");
  const mixed = join(tmp, "mixed");
  let r = mimmx("train", "--config", config, "--out", two, "--quiet", "--nproc-per-node", "2");
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(two, "report.md")), "rank 0 wrote the report");
  // Only rank 0 writes: the first step is logged once.
  const records = readFileSync(join(two, "methods", "erm", "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(records.filter((x) => x.type === "step" && x.globalStep === 0).length, 1);

  r = mimmx(
    "train",
    "--config",
    config,
    "--out",
    mixed,
    "--quiet",
    "--nproc-per-node",
    "2",
    "--max-steps",
    "3",
  );
  assert.equal(r.status, 0, r.stderr);
  // after 3 of 8 steps the weights are far from the finished run's: the comparisons can fail
  assert.ok(maxAbsDiff(weights(mixed), weights(two)) > 1e-3);
  r = mimmx("train", "--config", config, "--out", mixed, "--quiet", "--resume", "--max-steps", "5");
  assert.equal(r.status, 0, r.stderr);
  r = mimmx("train", "--config", config, "--out", mixed, "--quiet", "--resume", "--nproc-per-node", "2");
  assert.equal(r.status, 0, r.stderr);
  const dm = maxAbsDiff(weights(mixed), weights(two));
  assert.ok(dm < 1e-5, `steps 1-3 on 2 processes, 4-5 on 1, 6-8 on 2: max |diff| ${dm}`);
});

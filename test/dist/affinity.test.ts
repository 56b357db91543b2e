// MIMMX_CPU_AFFINITY: the addon binds every thread of the process as it loads, threads started
// afterwards (libtorch's intra-op pool) inherit it, and the launcher gives each rank its own cores.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { launch } from "../../src/dist/launch.js";
import { allowedCpus } from "../../src/util/cpu-list.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");
const linux = process.platform === "linux";

/** A script that loads the tensor layer, runs a parallel op, and writes each thread's CPU list. */
function probeScript(dir: string): string {
  const path = join(dir, "probe.mjs");
  writeFileSync(
    path,
    `import { readdirSync, readFileSync, writeFileSync } from "node:fs";
const torch = await import(${JSON.stringify(join(root, "tensor", "index.js"))});
torch.randn([256, 256]).matmul(torch.randn([256, 256])).dispose();
const lists = readdirSync("/proc/self/task").map((t) =>
  /Cpus_allowed_list:\\s*(\\S+)/.exec(readFileSync(\`/proc/self/task/\${t}/status\`, "utf8"))[1]);
writeFileSync(process.argv[2] + "." + (process.env.RANK ?? "x"), JSON.stringify(lists));
`,
  );
  return path;
}

describe("cpu affinity", { skip: !linux && "Linux only (/proc, sched_setaffinity)" }, () => {
  test("MIMMX_CPU_AFFINITY binds every thread, those started later too; a bad list is named", () => {
    const dir = mkdtempSync(join(tmpdir(), "mimmx-affinity-"));
    try {
      const script = probeScript(dir);
      const cpu = String(allowedCpus().at(-1));
      const out = join(dir, "one");
      const r = spawnSync(process.execPath, [script, out], {
        env: { ...process.env, MIMMX_CPU_AFFINITY: cpu, MIMMX_THREADS: "2" },
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      const lists = JSON.parse(readFileSync(`${out}.x`, "utf8")) as string[];
      assert.ok(lists.length > 1, "one thread only");
      assert.deepEqual(new Set(lists), new Set([cpu]));
      const bad = spawnSync(process.execPath, [script, out], {
        env: { ...process.env, MIMMX_CPU_AFFINITY: "0-x" },
        encoding: "utf8",
      });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /MIMMX_CPU_AFFINITY "0-x": "0-x" is not a CPU number or range/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--nproc-per-node gives each rank its own cores when the ranks' threads fit", async () => {
    const cpus = allowedCpus();
    if (cpus.length < 2) return;
    const dir = mkdtempSync(join(tmpdir(), "mimmx-affinity-"));
    try {
      const script = probeScript(dir);
      const out = join(dir, "rank");
      const saved = process.env.MIMMX_CPU_AFFINITY;
      delete process.env.MIMMX_CPU_AFFINITY;
      try {
        const r = await launch({ nprocPerNode: 2, script, args: [out], env: { MIMMX_THREADS: "1" } });
        assert.equal(r.code, 0);
      } finally {
        if (saved !== undefined) process.env.MIMMX_CPU_AFFINITY = saved;
      }
      const rank = (k: number) => new Set(JSON.parse(readFileSync(`${out}.${k}`, "utf8")) as string[]);
      assert.deepEqual(rank(0), new Set([String(cpus[0])]));
      assert.deepEqual(rank(1), new Set([String(cpus[1])]));
      // A caller's own setting (here: empty, no binding) is passed on untouched.
      const free = await launch({
        nprocPerNode: 2,
        script,
        args: [join(dir, "free")],
        env: { MIMMX_THREADS: "1", MIMMX_CPU_AFFINITY: "" },
      });
      assert.equal(free.code, 0);
      const unbound = JSON.parse(readFileSync(join(dir, "free.0"), "utf8")) as string[];
      assert.ok(
        unbound.every((l) => l === unbound[0] && l.length > 1),
        unbound.join(" "),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

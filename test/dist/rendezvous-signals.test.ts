// Rendezvous under a stream of signals. c10d 1.13's TCPStore gives up on the first EINTR from its
// socket calls ("Interrupted system call"): a profiler's SIGPROF (node --cpu-prof) or any signal
// with a handler used to fail initProcessGroup now and then. The addon holds such signals while it
// joins the group; they are delivered once it returns.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/dist/launch.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

describe("rendezvous", { skip: process.platform === "win32" && "POSIX signals" }, () => {
  test("a rank waiting for the master joins while SIGUSR2 (with a handler) arrives every few ms; the signals still arrive", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mimmx-rdv-"));
    try {
      const script = join(dir, "rank.mjs");
      writeFileSync(
        script,
        `const dist = await import(${JSON.stringify(join(root, "dist", "index.js"))});
let seen = 0;
process.on("SIGUSR2", () => { seen++; });
console.log("waiting");
dist.initProcessGroup({ timeoutMs: 20_000 });
dist.barrier();
dist.destroyProcessGroup();
console.log("joined");
// the test stops signalling when it reads "joined"; exiting with signals still on the way would
// meet them without the handler
await new Promise((r) => setTimeout(r, 300));
console.log("signals " + seen);
`,
      );
      const port = await freePort();
      const env = (rank: number) => ({
        ...process.env,
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(port),
        RANK: String(rank),
        WORLD_SIZE: "2",
        MIMMX_THREADS: "1",
      });
      const run = (rank: number) => {
        const child = spawn(process.execPath, [script], { env: env(rank) });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.stderr.on("data", (d) => {
          err += d;
        });
        const done = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        return { child, done, out: () => out, err: () => err };
      };
      // Rank 1 keeps trying to reach a master that is not up yet while the signals come; rank 0
      // starts a second later.
      const r1 = run(1);
      while (!r1.out().includes("waiting")) await new Promise((r) => setTimeout(r, 10));
      const flood = setInterval(() => r1.child.kill("SIGUSR2"), 3);
      await new Promise((r) => setTimeout(r, 1000));
      const r0 = run(0);
      const joined = async () => {
        while (!r1.out().includes("joined") && r1.child.exitCode === null && r1.child.signalCode === null)
          await new Promise((r) => setTimeout(r, 5));
        clearInterval(flood);
      };
      const [codes] = await Promise.all([Promise.all([r0.done, r1.done]), joined()]);
      assert.deepEqual(codes, [0, 0], `rank 0: ${r0.err()} rank 1: ${r1.err()}`);
      const seen = Number(/signals (\d+)/.exec(r1.out())?.[1] ?? 0);
      assert.ok(seen >= 1, `rank 1 saw no SIGUSR2 after the rendezvous: ${r1.out()}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

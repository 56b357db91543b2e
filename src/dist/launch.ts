// `--nproc-per-node N`: starts N copies of this command on this machine with torchrun's
// environment contract (MASTER_ADDR=127.0.0.1, a free MASTER_PORT, RANK = LOCAL_RANK = 0..N-1,
// WORLD_SIZE = N) and watches them. When one exits with an error or is killed, the others are
// told to stop (SIGTERM, then SIGKILL after a grace period) and the launcher exits non-zero naming
// the rank that failed first; the survivors' collectives fail as soon as the dead rank's sockets
// close, so nobody waits for a timeout. Ctrl-C reaches every rank from the terminal.
// Each rank is bound to its own cores (MIMMX_CPU_AFFINITY) when the ranks' threads fit in this
// process's CPUs: unbound, two 1-thread ranks on 2 cores were measured sharing one core for whole
// runs (bench ddp's ERM step at 36 ms instead of 11-16).
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { allowedCpus, coreShares } from "../util/cpu-list.js";

export interface LaunchOptions {
  nprocPerNode: number;
  /** the script each rank runs (default: this process's) and its arguments */
  script?: string;
  args: string[];
  /** default 127.0.0.1 */
  masterAddr?: string;
  /** default: a free port */
  masterPort?: number;
  /** extra environment for every rank */
  env?: NodeJS.ProcessEnv;
  /** after a rank failed: how long the others get to stop before SIGKILL (default 10 s) */
  graceMs?: number;
  /** where the launcher's own messages go (default stderr) */
  log?: (line: string) => void;
}

export interface LaunchResult {
  code: number;
  /** the first rank that failed, with how; null when all exited 0 */
  failure: { rank: number; code: number | null; signal: NodeJS.Signals | null } | null;
}

/** A TCP port that was free a moment ago (the OS picks it; MASTER_PORT for one-machine runs). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function describeExit(
  rank: number,
  pid: number | undefined,
  code: number | null,
  signal: NodeJS.Signals | null,
): string {
  return signal
    ? `rank ${rank} (pid ${pid}) was killed by ${signal}`
    : `rank ${rank} (pid ${pid}) exited with code ${code}`;
}

export async function launch(o: LaunchOptions): Promise<LaunchResult> {
  const n = o.nprocPerNode;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--nproc-per-node must be a positive integer, got ${n}`);
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const masterAddr = o.masterAddr ?? "127.0.0.1";
  const masterPort = o.masterPort ?? (await freePort(masterAddr));
  const script = o.script ?? process.argv[1];
  // torchrun sets OMP_NUM_THREADS=1; here each rank gets an equal share of the cores unless the
  // caller chose MIMMX_THREADS.
  const threads = String(Math.max(1, Math.floor(availableParallelism() / n)));
  const rankThreads = Number(o.env?.MIMMX_THREADS ?? process.env.MIMMX_THREADS ?? threads);
  // A caller's MIMMX_CPU_AFFINITY (an empty one: no binding) is passed on as it is.
  const callerBinds = "MIMMX_CPU_AFFINITY" in { ...process.env, ...o.env };
  // (a malformed MIMMX_THREADS binds nothing: each rank refuses it by name as it starts)
  const shares =
    callerBinds || !(Number.isInteger(rankThreads) && rankThreads >= 1)
      ? null
      : coreShares(allowedCpus(), n, rankThreads);
  const children: ChildProcess[] = [];
  let failure: LaunchResult["failure"] = null;
  let killTimer: NodeJS.Timeout | undefined;

  const stopOthers = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    killTimer = setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    }, o.graceMs ?? 10_000);
    killTimer.unref();
  };
  // Ctrl-C reaches the ranks from the terminal itself (they share its process group); passing it on
  // as well would be their second interrupt, which exits without the checkpoint. The launcher only
  // stays alive to watch them. SIGTERM is passed on.
  const onInt = () => log("launch: interrupt: the ranks save a checkpoint and stop");
  const onTerm = () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);

  const exits = Array.from({ length: n }, (_, rank) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...o.args], {
      stdio: "inherit",
      env: {
        ...process.env,
        MIMMX_THREADS: process.env.MIMMX_THREADS ?? threads,
        ...(shares ? { MIMMX_CPU_AFFINITY: shares[rank] } : {}),
        ...o.env,
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(masterPort),
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(n),
        LOCAL_WORLD_SIZE: String(n),
      },
    });
    children.push(child);
    return new Promise<void>((resolve) => {
      child.on("error", (e) => {
        if (!failure) {
          failure = { rank, code: null, signal: null };
          log(`launch: rank ${rank} could not start: ${e.message}; stopping the other ranks`);
          stopOthers();
        }
        resolve();
      });
      child.on("exit", (code, signal) => {
        if ((code !== 0 || signal) && !failure) {
          failure = { rank, code, signal };
          log(`launch: ${describeExit(rank, child.pid, code, signal)}; stopping the other ranks`);
          stopOthers();
        }
        resolve();
      });
    });
  });
  try {
    await Promise.all(exits);
  } finally {
    if (killTimer) clearTimeout(killTimer);
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
  return { code: failure ? 1 : 0, failure };
}

/**
 * `mimmx <command> ... --nproc-per-node N`: the same command line without the flag, in N ranks
 * of this machine. Returns the launcher's exit code.
 */
export async function launchCommand(command: string, argv: string[], nprocPerNode: number): Promise<number> {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--nproc-per-node") i++;
    else if (!argv[i].startsWith("--nproc-per-node=")) args.push(argv[i]);
  }
  const r = await launch({ nprocPerNode, args: [command, ...args] });
  return r.code;
}

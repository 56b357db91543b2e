// torchrun's environment contract: the same variables start a run under torchrun-style launchers,
// Slurm (srun with the variables exported) or Kubernetes (a PyTorchJob sets them), and under
// `mimmx train --nproc-per-node N`, which sets them for its children.

export interface DistEnv {
  /** MASTER_ADDR: where rank 0 serves the TCPStore */
  masterAddr: string;
  /** MASTER_PORT */
  masterPort: number;
  /** RANK: this process among all processes of the run */
  rank: number;
  /** WORLD_SIZE: processes in the run, all machines together */
  worldSize: number;
  /** LOCAL_RANK: this process among those of its machine (picks its GPU) */
  localRank: number;
}

const NAMES = ["MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK"] as const;

function integer(env: NodeJS.ProcessEnv, name: string, min: number, fallback?: number): number {
  const text = env[name];
  if (text === undefined || text === "") {
    if (fallback !== undefined) return fallback;
    throw new Error(`distributed: ${name} is not set (torchrun's contract: ${NAMES.join(", ")})`);
  }
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) < min)
    throw new Error(`distributed: ${name}="${text}" is not an integer >= ${min}`);
  return Number(text);
}

/** True when the environment describes a run of more than one process. */
export function isDistributedEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.WORLD_SIZE !== undefined && env.WORLD_SIZE !== "" && env.WORLD_SIZE !== "1";
}

/**
 * Reads and checks the contract. MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE are required;
 * LOCAL_RANK defaults to RANK (one machine). Errors name the variable and its value.
 */
export function readDistEnv(env: NodeJS.ProcessEnv = process.env): DistEnv {
  const masterAddr = env.MASTER_ADDR?.trim();
  if (!masterAddr)
    throw new Error(`distributed: MASTER_ADDR is not set (torchrun's contract: ${NAMES.join(", ")})`);
  const masterPort = integer(env, "MASTER_PORT", 1);
  if (masterPort > 65535)
    throw new Error(`distributed: MASTER_PORT="${env.MASTER_PORT}" is not a port (1-65535)`);
  const worldSize = integer(env, "WORLD_SIZE", 1);
  const rank = integer(env, "RANK", 0);
  if (rank >= worldSize) throw new Error(`distributed: RANK=${rank} is not below WORLD_SIZE=${worldSize}`);
  const localRank = integer(env, "LOCAL_RANK", 0, rank);
  return { masterAddr, masterPort, rank, worldSize, localRank };
}

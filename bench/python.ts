// The Python whose torch the side-by-side benches run against: Debian's python3-torch by default,
// or MIMMX_BENCH_PYTHON (on a GPU machine, the Python that holds a CUDA torch).
export const DEFAULT_PYTHON = "/usr/bin/python3";

export function benchPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.MIMMX_BENCH_PYTHON || DEFAULT_PYTHON;
}

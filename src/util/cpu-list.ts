// CPU lists in the kernel's notation ("0-3,8", as in /proc/self/status and taskset -c), and the
// share of cores each rank of a one-machine launch is bound to (MIMMX_CPU_AFFINITY).
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** "0-3,8" -> [0, 1, 2, 3, 8]; throws naming the text when it is not such a list. */
export function parseCpuList(text: string, what = "CPU list"): number[] {
  const cpus: number[] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    const lo = m ? Number(m[1]) : Number.NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    // 1024 is glibc's CPU_SETSIZE, the most a cpu_set_t holds
    if (!m || hi < lo || hi >= 1024)
      throw new Error(`${what} "${text}": "${part}" is not a CPU number or range (such as 0-3,8)`);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return [...new Set(cpus)].sort((a, b) => a - b);
}

/** [0, 1, 2, 3, 8] -> "0-3,8". */
export function formatCpuList(cpus: number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** The CPUs this process may run on (Linux: its affinity mask; elsewhere 0..cores-1). */
export function allowedCpus(): number[] {
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return parseCpuList(m[1], "Cpus_allowed_list");
  } catch {
    // no /proc (not Linux): fall through
  }
  return Array.from({ length: availableParallelism() }, (_, i) => i);
}

/**
 * Disjoint cores for each of `ranks` processes of `threads` threads: rank r gets the r-th run of
 * `threads` CPUs from `cpus`. Null when they do not fit, since overlapping shares would only move
 * the contention: those runs are left to the scheduler.
 */
export function coreShares(cpus: number[], ranks: number, threads: number): string[] | null {
  if (ranks * threads > cpus.length) return null;
  return Array.from({ length: ranks }, (_, r) => formatCpuList(cpus.slice(r * threads, (r + 1) * threads)));
}

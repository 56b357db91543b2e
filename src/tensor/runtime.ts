// libtorch runtime settings and introspection.
import { native } from "./native.js";

/** libtorch's intra-op thread count (MIMMX_THREADS sets it at start; default: the machine's cores). */
export function setNumThreads(n: number): void {
  native.set_num_threads(n);
}
export function getNumThreads(): number {
  return native.get_num_threads() as number;
}
export function cudaIsAvailable(): boolean {
  return native.cuda_is_available() as boolean;
}
/** CUDA devices this process sees (0 where libtorch has no CUDA). */
export function cudaDeviceCount(): number {
  return native.cuda_device_count() as number;
}
/** Native tensor handles alive right now: a leak check for tests and benchmarks. */
export function liveTensorCount(): number {
  return native.live_handles() as number;
}
/** JS wrapper objects whose native record the GC has not finalised yet (freed or not). */
export function pendingWrapperCount(): number {
  return native.live_wrappers() as number;
}
/** Bytes of freed tensor memory the caching allocator keeps for reuse. */
export function cachedBytes(): number {
  return native.cached_bytes() as number;
}
/**
 * glibc heap bytes in use and free-but-retained: tells a leak (in_use grows) from fragmentation
 * (free grows) when resident memory climbs.
 */
export function mallocStats(): { arena: number; mmapped: number; in_use: number; free: number } {
  return native.malloc_info() as { arena: number; mmapped: number; in_use: number; free: number };
}
/** Returns the caching allocator's free blocks to the operating system. */
export function emptyCache(): void {
  native.empty_cache();
}
export function torchVersion(): string {
  return native.torch_version;
}
export function parallelInfo(): string {
  return native.parallel_info() as string;
}

/**
 * A device a setting names (`what`: "train.device", "bench encoders --device"): "cpu" always;
 * "cuda" or "cuda:N" where the libtorch this process loaded has CUDA and sees that device. Throws
 * saying why not; `fix` ends the message for a libtorch without CUDA.
 */
export function checkDeviceName(
  device: string,
  what: string,
  fix: string,
  hasCuda: () => boolean = cudaIsAvailable,
  deviceCount: () => number = cudaDeviceCount,
): void {
  if (device === "cpu") return;
  if (!/^cuda(:\d+)?$/.test(device))
    throw new Error(`${what}: "${device}" is not a device (cpu, cuda or cuda:N)`);
  if (!hasCuda())
    throw new Error(
      `${what}: "${device}" is not available: the libtorch this process loaded (${torchVersion()}) was built without CUDA or sees no GPU (libtorch is found via LIBTORCH, then a Python torch, then the system's CPU-only libtorch-dev). ${fix}`,
    );
  const index = device === "cuda" ? 0 : Number(device.slice("cuda:".length));
  const count = deviceCount();
  if (index >= count)
    throw new Error(
      `${what}: "${device}" does not exist: this process sees ${count} CUDA device${count === 1 ? "" : "s"} (cuda:0${count > 1 ? ` to cuda:${count - 1}` : ""}). Check CUDA_VISIBLE_DEVICES`,
    );
}

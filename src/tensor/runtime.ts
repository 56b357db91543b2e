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

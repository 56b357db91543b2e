// A caching CPU allocator for libtorch, installed at addon start.
//
// Why: in a Node process, freed tensor handles (the small ObjectWrap records) live on until V8's GC
// runs. With glibc malloc, those small long-lived records get carved out of the large blocks that
// activations just freed, so the next step's activations cannot reuse them: a training loop's
// resident memory then grows by megabytes per step. Python frees eagerly and does not see this.
//
// What: blocks of 64 KiB and more come from mmap, are rounded up to a size class (at most 1/8 waste),
// and go back to a per-class free list when the tensor dies. A training loop allocates the same
// sizes every step, so after the first step it reuses its own blocks: flat memory, no page faults.
// The cache is bounded; beyond the bound, freed blocks are unmapped. By default the bound follows the
// workload: twice the most bytes this allocator ever had in use at once, at least 1 GiB and at most
// half the machine's memory. Why twice: a step's backward frees activations of some size classes
// while it allocates gradients of others, so the blocks mapped over a step exceed its peak in use;
// with the bound at the peak, DenseNet-121 (batch 16, 224x224) still unmapped and re-faulted about
// 1 GB per step, and with a fixed 1 GiB most of its memory (0.71x PyTorch's step time; 0.87x at the
// peak; 0.99-1.1x at twice the peak, with no page faults after the first step and a resident size
// 1.3x PyTorch's). MIMMX_CPU_CACHE_MB=N fixes the bound at N MiB instead (0: no cache).
// Smaller requests go to libtorch's default allocator unchanged.
#include "common.h"

#include <c10/core/CPUAllocator.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace mimmx {

namespace {

constexpr size_t kMinCached = 64 * 1024;

size_t SizeClass(size_t n) {
  // Round up to a multiple of 1/8 of the largest power of two <= n (and of 4 KiB pages).
  size_t p = 1;
  while (p * 2 <= n) p *= 2;
  size_t step = std::max<size_t>(p / 8, 4096);
  return (n + step - 1) / step * step;
}

class CachingCPUAllocator final : public c10::Allocator {
 public:
  /** fixedLimit: the cache's bound in bytes; 0 = follow the peak in use (see the file comment). */
  CachingCPUAllocator(size_t fixedLimit, size_t floor, size_t cap)
      : fixed_(fixedLimit), floor_(floor), cap_(cap), fallback_(c10::GetDefaultCPUAllocator()) {}

  c10::DataPtr allocate(size_t n) const override {
    if (n < kMinCached) return fallback_->allocate(n);
    size_t size = SizeClass(n);
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        p = it->second.back();
        it->second.pop_back();
        cached_ -= size;
      }
    }
    if (!p) {
      p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) {
        // Out of address space or memory: give the cache back and try once more.
        self()->emptyCache();
        p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("out of memory allocating " + std::to_string(n) + " bytes");
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_[p] = size;
      inUse_ += size;
      if (inUse_ > peak_) peak_ = inUse_;
    }
    return {p, p, &Release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Release; }

  void emptyCache() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, blocks] : free_) {
      for (void* b : blocks) munmap(b, size);
      blocks.clear();
    }
    cached_ = 0;
  }

  size_t cachedBytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

  static CachingCPUAllocator* instance;

 private:
  CachingCPUAllocator* self() const { return const_cast<CachingCPUAllocator*>(this); }

  static void Release(void* p) { instance->release(p); }

  void release(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) {
      // A small block from the default allocator, freed through raw_deleter() (oneDNN's scratch
      // memory takes this path: raw_allocate + raw_deallocate): hand it back to its owner.
      fallback_->raw_deleter()(p);
      return;
    }
    size_t size = it->second;
    live_.erase(it);
    inUse_ -= size;
    if (cached_ + size > limit()) {
      munmap(p, size);
      return;
    }
    free_[size].push_back(p);
    cached_ += size;
  }

  /** The cache's current bound (caller holds mu_). */
  size_t limit() const { return fixed_ ? fixed_ : std::min(cap_, std::max(floor_, 2 * peak_)); }

  size_t fixed_;
  size_t floor_;
  size_t cap_;
  c10::Allocator* fallback_;
  mutable std::mutex mu_;
  mutable std::unordered_map<void*, size_t> live_;
  mutable std::map<size_t, std::vector<void*>> free_;
  mutable size_t cached_ = 0;
  mutable size_t inUse_ = 0;
  mutable size_t peak_ = 0;
};

CachingCPUAllocator* CachingCPUAllocator::instance = nullptr;

}  // namespace

void InstallCachingAllocator() {
  if (CachingCPUAllocator::instance) return;
  size_t fixed = 0;
  if (const char* env = std::getenv("MIMMX_CPU_CACHE_MB")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    // 0 MiB means no cache at all: one byte is a bound no block fits under.
    if (end != env && *end == '\0' && v >= 0) fixed = v == 0 ? 1 : static_cast<size_t>(v) * 1024 * 1024;
  }
  const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  const size_t physical = pages > 0 && pageSize > 0 ? static_cast<size_t>(pages) * pageSize : size_t{8} << 30;
  const size_t floor = size_t{1} << 30;
  // Never deleted: tensors may be freed during process exit, after static destructors ran.
  CachingCPUAllocator::instance = new CachingCPUAllocator(fixed, floor, std::max(floor, physical / 2));
  c10::SetCPUAllocator(CachingCPUAllocator::instance, /*priority=*/10);
}

void RegisterAllocator(Napi::Env env, Napi::Object e) {
  (void)env;
  MIMMX_DEF(e, "empty_cache", {
    if (CachingCPUAllocator::instance) CachingCPUAllocator::instance->emptyCache();
    return a.env().Undefined();
  });
  // glibc heap statistics: in use vs free-but-retained, to tell a leak from fragmentation.
  MIMMX_DEF(e, "malloc_info", {
    struct mallinfo2 mi = mallinfo2();
    Napi::Object o = Napi::Object::New(a.env());
    o.Set("arena", static_cast<double>(mi.arena));
    o.Set("mmapped", static_cast<double>(mi.hblkhd));
    o.Set("in_use", static_cast<double>(mi.uordblks));
    o.Set("free", static_cast<double>(mi.fordblks));
    return o;
  });
  MIMMX_DEF(e, "cached_bytes", {
    double b = CachingCPUAllocator::instance ? static_cast<double>(CachingCPUAllocator::instance->cachedBytes()) : 0;
    return Napi::Number::New(a.env(), b);
  });
}

}  // namespace mimmx

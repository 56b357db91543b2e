// Entry point of the mimmx native addon: registers the Tensor class and every op family, and applies
// MIMMX_CPU_AFFINITY (the cores this process may run on; the --nproc-per-node launcher gives each
// rank its own) and MIMMX_THREADS (libtorch intra-op threads; default: the machine's cores).
#include "common.h"

#include <ATen/Parallel.h>
#include <torch/version.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifdef __linux__
#include <dirent.h>
#include <sched.h>
#endif

namespace mimmx {

static void ConfigureThreads() {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* env = std::getenv("MIMMX_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1) threads = static_cast<int>(n);
  }
  if (threads >= 1) at::set_num_threads(threads);
}

// "0-3,8" -> {0,1,2,3,8}; an empty vector for a malformed list (src/tensor/native.ts has already
// named the bad value before the addon loads, so this only guards a direct load).
constexpr long kMaxCpus = 1024;  // glibc's CPU_SETSIZE

static std::vector<int> ParseCpuList(const std::string& list) {
  std::vector<int> cpus;
  size_t i = 0;
  while (i < list.size()) {
    size_t comma = list.find(',', i);
    std::string part = list.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    size_t dash = part.find('-');
    char* end = nullptr;
    long lo = std::strtol(part.c_str(), &end, 10);
    long hi = lo;
    if (dash != std::string::npos) hi = std::strtol(part.c_str() + dash + 1, &end, 10);
    if (part.empty() || *end != '\0' || lo < 0 || hi < lo || hi >= kMaxCpus) return {};
    for (long c = lo; c <= hi; c++) cpus.push_back(static_cast<int>(c));
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return cpus;
}

// Every thread that exists now (Node's own pools were started before any addon loads) gets the
// set, and threads started later (libtorch's intra-op pool, Gloo's) inherit it from the main one.
static void ConfigureAffinity(Napi::Env env) {
  const char* value = std::getenv("MIMMX_CPU_AFFINITY");
  if (value == nullptr || *value == '\0') return;
  std::vector<int> cpus = ParseCpuList(value);
  if (cpus.empty()) throw Napi::Error::New(env, std::string("mimmx: MIMMX_CPU_AFFINITY is not a CPU list: \"") + value + "\"");
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) throw Napi::Error::New(env, "mimmx: MIMMX_CPU_AFFINITY: cannot list /proc/self/task");
  std::string failed;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (sched_setaffinity(tid, sizeof(set), &set) != 0 && failed.empty()) failed = std::strerror(errno);
  }
  closedir(tasks);
  if (!failed.empty())
    throw Napi::Error::New(env, std::string("mimmx: MIMMX_CPU_AFFINITY=") + value + ": " + failed + " (are these CPUs allowed to this process?)");
#else
  throw Napi::Error::New(env, "mimmx: MIMMX_CPU_AFFINITY is only supported on Linux");
#endif
}

void InstallCachingAllocator();
void RegisterAllocator(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ConfigureAffinity(env);
  ConfigureThreads();
  InstallCachingAllocator();
  exports.Set("Tensor", TensorWrap::Init(env));
  RegisterCreation(env, exports);
  RegisterMath(env, exports);
  RegisterShape(env, exports);
  RegisterNN(env, exports);
  RegisterAutograd(env, exports);
  RegisterCritic(env, exports);
  RegisterDist(env, exports);
  RegisterAllocator(env, exports);
  exports.Set("torch_version", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)));
  return exports;
}

}  // namespace mimmx

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return mimmx::Init(env, exports); }

NODE_API_MODULE(mimmx_native, InitAddon)

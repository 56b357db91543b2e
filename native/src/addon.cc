// Entry point of the mimmx native addon: registers the Tensor class and every op family, applies
// MIMMX_THREADS (libtorch intra-op threads; default: the machine's cores), and binds the process to
// CPUs when asked (set_cpu_affinity, for MIMMX_CPU_AFFINITY).
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

// set_cpu_affinity(cpus): binds every thread of this process to these CPUs (src/tensor/native.ts
// calls it as the addon loads, with MIMMX_CPU_AFFINITY parsed and checked). Node's own threads
// exist already and are bound here; those started later (libtorch's intra-op pool, Gloo's) inherit
// the set from the thread that starts them.
static Napi::Value SetCpuAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "set_cpu_affinity: expects an array of CPU numbers");
  Napi::Array list = info[0].As<Napi::Array>();
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < list.Length(); i++) {
    int64_t c = list.Get(i).As<Napi::Number>().Int64Value();
    if (c < 0 || c >= CPU_SETSIZE) throw Napi::RangeError::New(env, "set_cpu_affinity: CPU " + std::to_string(c) + " is out of range");
    CPU_SET(static_cast<int>(c), &set);
  }
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) throw Napi::Error::New(env, "cannot list /proc/self/task");
  std::string failed;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (sched_setaffinity(tid, sizeof(set), &set) != 0 && failed.empty()) failed = std::strerror(errno);
  }
  closedir(tasks);
  if (!failed.empty()) throw Napi::Error::New(env, failed + " (are these CPUs allowed to this process?)");
  return env.Undefined();
#else
  throw Napi::Error::New(env, "binding to CPUs is only supported on Linux");
#endif
}

void InstallCachingAllocator();
void RegisterAllocator(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
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
  exports.Set("set_cpu_affinity", Napi::Function::New(env, SetCpuAffinity));
  exports.Set("torch_version", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)));
  return exports;
}

}  // namespace mimmx

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return mimmx::Init(env, exports); }

NODE_API_MODULE(mimmx_native, InitAddon)

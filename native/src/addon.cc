// Entry point of the mimmx native addon: registers the Tensor class and every op family, and applies
// MIMMX_THREADS (libtorch intra-op threads; default: the machine's cores).
#include "common.h"

#include <ATen/Parallel.h>
#include <torch/version.h>
#include <cstdlib>
#include <thread>

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
  exports.Set("torch_version", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)));
  return exports;
}

}  // namespace mimmx

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return mimmx::Init(env, exports); }

NODE_API_MODULE(mimmx_native, InitAddon)

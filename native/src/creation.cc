// Tensor creation, seeded random numbers, and runtime settings (threads, seed, devices).
#include "common.h"

#include <ATen/Parallel.h>
#include <cstring>
#include <thread>

namespace mimmx {

int64_t LiveHandles();
int64_t LiveWrappers();

static at::ScalarType DtypeOfTypedArray(const Napi::TypedArray& arr) {
  switch (arr.TypedArrayType()) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_bigint64_array: return at::kLong;
    case napi_int32_array: return at::kInt;
    case napi_uint8_array: return at::kByte;
    default: throw std::runtime_error("unsupported TypedArray (use Float32Array, Float64Array, BigInt64Array, Int32Array or Uint8Array)");
  }
}

void RegisterCreation(Napi::Env env, Napi::Object e) {
  // from_buffer(typedArray, shape, dtype?, device?): copies the bytes; dtype defaults to the array's.
  // A Uint8Array may carry bool data (dtype "bool").
  e.Set("from_buffer", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    return Guard(info, "from_buffer", [&](Args& a) -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsTypedArray()) throw a.error("argument 0 must be a TypedArray");
      Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
      std::vector<int64_t> shape = a.ints(1);
      at::ScalarType src = DtypeOfTypedArray(arr);
      at::ScalarType dt = a.has(2) ? a.dtype(2) : src;
      if (dt == at::kBool && src != at::kByte) throw a.error("bool tensors are created from a Uint8Array");
      if (dt != at::kBool && dt != src) {
        throw a.error(std::string("dtype ") + DtypeName(dt) + " does not match the TypedArray (" + DtypeName(src) + ")");
      }
      int64_t numel = 1;
      for (int64_t s : shape) {
        if (s < 0) throw a.error("negative dimension in shape");
        numel *= s;
      }
      if (static_cast<size_t>(numel) != arr.ElementLength()) {
        throw a.error("shape has " + std::to_string(numel) + " elements but the array has " + std::to_string(arr.ElementLength()));
      }
      at::Device dev = a.device(3);
      // For a CUDA target the bytes are staged in pinned (page-locked) host memory so the copy to
      // the device can be issued without blocking the host: the caching host allocator keeps the
      // staging block alive until the copy's stream has finished with it.
      const bool stage_pinned = dev.is_cuda();
      at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dt).pinned_memory(stage_pinned));
      size_t bytes = arr.ByteLength();
      if (bytes > 0) {
        const uint8_t* base = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
        std::memcpy(t.data_ptr(), base, bytes);
      }
      if (!dev.is_cpu()) t = t.to(dev, t.scalar_type(), /*non_blocking=*/stage_pinned);
      return Wrap(a.env(), t);
    });
  }, "from_buffer"));

  MIMMX_OP(e, "zeros", at::zeros(a.ints(0), a.options(1, 2)));
  MIMMX_OP(e, "ones", at::ones(a.ints(0), a.options(1, 2)));
  MIMMX_OP(e, "empty", at::empty(a.ints(0), a.options(1, 2)));
  MIMMX_OP(e, "full", at::full(a.ints(0), a.scalar(1), a.options(2, 3)));
  MIMMX_OP(e, "arange", at::arange(a.scalar(0), a.scalar(1), a.scalar(2), a.options(3, 4, at::kLong)));
  MIMMX_OP(e, "linspace", at::linspace(a.scalar(0), a.scalar(1), a.int64(2), a.options(3, 4)));
  MIMMX_OP(e, "eye", at::eye(a.int64(0), a.int64(1), a.options(2, 3)));
  MIMMX_OP(e, "randn", at::randn(a.ints(0), a.options(1, 2)));
  MIMMX_OP(e, "rand", at::rand(a.ints(0), a.options(1, 2)));
  MIMMX_OP(e, "randint", at::randint(a.int64(0), a.int64(1), a.ints(2), a.options(3, 4, at::kLong)));
  MIMMX_OP(e, "randperm", at::randperm(a.int64(0), a.options(1, 2, at::kLong)));
  // pin_memory(t): a copy in page-locked host memory (needs a CUDA runtime; PyTorch's Tensor.pin_memory).
  MIMMX_OP(e, "pin_memory", a.tensor(0).pin_memory());
  MIMMX_DEF(e, "is_pinned", { return Napi::Boolean::New(a.env(), a.tensor(0).is_pinned()); });
  MIMMX_OP(e, "bernoulli", at::bernoulli(a.tensor(0)));
  MIMMX_OP(e, "bernoulli_p", at::bernoulli(a.tensor(0), a.number(1)));
  MIMMX_OP(e, "zeros_like", at::zeros_like(a.tensor(0)));
  MIMMX_OP(e, "ones_like", at::ones_like(a.tensor(0)));
  MIMMX_OP(e, "full_like", at::full_like(a.tensor(0), a.scalar(1)));
  MIMMX_OP(e, "randn_like", at::randn_like(a.tensor(0)));
  MIMMX_OP(e, "rand_like", at::rand_like(a.tensor(0)));
  MIMMX_OP(e, "multinomial", at::multinomial(a.tensor(0), a.int64(1), a.boolean(2, false)));

  MIMMX_DEF(e, "manual_seed", {
    at::manual_seed(static_cast<uint64_t>(a.int64(0)));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "set_num_threads", {
    int64_t n = a.int64(0);
    if (n < 1) throw a.error("thread count must be >= 1");
    at::set_num_threads(static_cast<int>(n));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "get_num_threads", { return Napi::Number::New(a.env(), at::get_num_threads()); });
  MIMMX_DEF(e, "hardware_concurrency", {
    return Napi::Number::New(a.env(), static_cast<double>(std::thread::hardware_concurrency()));
  });
  MIMMX_DEF(e, "cuda_is_available", { return Napi::Boolean::New(a.env(), at::hasCUDA()); });
  // CUDA devices this process sees (0 without CUDA): validates train.device "cuda:N".
  MIMMX_DEF(e, "cuda_device_count", { return Napi::Number::New(a.env(), static_cast<double>(at::getNumGPUs())); });
  MIMMX_DEF(e, "live_handles", { return Napi::Number::New(a.env(), static_cast<double>(LiveHandles())); });
  MIMMX_DEF(e, "live_wrappers", { return Napi::Number::New(a.env(), static_cast<double>(LiveWrappers())); });
  MIMMX_DEF(e, "parallel_info", { return Napi::String::New(a.env(), at::get_parallel_info()); });
}

}  // namespace mimmx

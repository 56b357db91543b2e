// The JS wrapper around at::Tensor and the argument readers shared by every op.
#include "common.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace mimmx {

namespace {
struct AddonData {
  Napi::FunctionReference tensorClass;
};
int64_t g_live_handles = 0;  // handles holding a tensor: lets tests check that scopes free what they should
int64_t g_wrappers = 0;      // JS wrapper objects not yet finalised by the GC
}  // namespace

int64_t LiveHandles() { return g_live_handles; }
int64_t LiveWrappers() { return g_wrappers; }

const char* DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    case at::kByte: return "uint8";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default: return c10::toString(t);
  }
}

std::string DescribeTensor(const at::Tensor& t) {
  if (!t.defined()) return "<freed>";
  std::ostringstream s;
  s << "[";
  for (int64_t d = 0; d < t.dim(); ++d) s << (d ? ", " : "") << t.size(d);
  s << "] " << DtypeName(t.scalar_type()) << " " << t.device().str();
  return s.str();
}

// ---- TensorWrap ----------------------------------------------------------------------------------

Napi::Function TensorWrap::Init(Napi::Env env) {
  Napi::Function cls = DefineClass(
      env, "NativeTensor",
      {
          InstanceMethod<&TensorWrap::Free>("free"),
          InstanceMethod<&TensorWrap::IsFreed>("isFreed"),
          InstanceMethod<&TensorWrap::Shape>("shape"),
          InstanceMethod<&TensorWrap::Dtype>("dtype"),
          InstanceMethod<&TensorWrap::Device>("device"),
          InstanceMethod<&TensorWrap::Numel>("numel"),
          InstanceMethod<&TensorWrap::RequiresGrad>("requiresGrad"),
          InstanceMethod<&TensorWrap::SetRequiresGrad>("setRequiresGrad"),
          InstanceMethod<&TensorWrap::Grad>("grad"),
          InstanceMethod<&TensorWrap::SetGrad>("setGrad"),
          InstanceMethod<&TensorWrap::IsLeaf>("isLeaf"),
          InstanceMethod<&TensorWrap::Item>("item"),
          InstanceMethod<&TensorWrap::ToBuffer>("toBuffer"),
          InstanceMethod<&TensorWrap::RetainGrad>("retainGrad"),
          InstanceMethod<&TensorWrap::SameStorage>("sameStorage"),
      });
  auto* data = new AddonData();
  data->tensorClass = Napi::Persistent(cls);
  env.SetInstanceData<AddonData>(data);
  return cls;
}

Napi::Object TensorWrap::New(Napi::Env env, at::Tensor t) {
  Napi::Object obj = env.GetInstanceData<AddonData>()->tensorClass.New({});
  Unwrap(obj)->set(env, std::move(t));
  return obj;
}

bool TensorWrap::IsTensor(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) return false;
  return v.As<Napi::Object>().InstanceOf(env.GetInstanceData<AddonData>()->tensorClass.Value());
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) { ++g_wrappers; }

TensorWrap::~TensorWrap() {
  // Runs from the GC finaliser: the env may be shutting down, so no V8 calls here beyond bookkeeping.
  if (tensor_.defined()) --g_live_handles;
  tensor_.reset();
  --g_wrappers;
}

static int64_t StorageBytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return 0;
  return static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
}

void TensorWrap::set(Napi::Env env, at::Tensor t) {
  release(env);
  tensor_ = std::move(t);
  if (tensor_.defined()) {
    ++g_live_handles;
    accounted_bytes_ = StorageBytes(tensor_);
    if (accounted_bytes_ > 0) Napi::MemoryManagement::AdjustExternalMemory(env, accounted_bytes_);
  }
}

void TensorWrap::release(Napi::Env env) {
  if (!tensor_.defined()) return;
  --g_live_handles;
  tensor_.reset();
  if (accounted_bytes_ > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -accounted_bytes_);
  accounted_bytes_ = 0;
}

const at::Tensor& TensorWrap::tensor(const char* op) const {
  if (!tensor_.defined()) {
    throw std::runtime_error(std::string("tensor was freed (disposed) before ") + op + " used it");
  }
  return tensor_;
}

Napi::Value TensorWrap::Free(const Napi::CallbackInfo& info) {
  release(info.Env());
  return info.Env().Undefined();
}
Napi::Value TensorWrap::IsFreed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), freed());
}

#define MIMMX_METHOD(Name, op, ...)                                                \
  Napi::Value TensorWrap::Name(const Napi::CallbackInfo& info) {                     \
    return Guard(info, op, [&](Args& a) -> Napi::Value {                             \
      const at::Tensor& t = tensor(op);                                              \
      (void)a;                                                                       \
      __VA_ARGS__                                                                    \
    });                                                                              \
  }

MIMMX_METHOD(Shape, "shape", {
  Napi::Array out = Napi::Array::New(a.env(), t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) out.Set(static_cast<uint32_t>(d), Napi::Number::New(a.env(), t.size(d)));
  return out;
})
MIMMX_METHOD(Dtype, "dtype", { return Napi::String::New(a.env(), DtypeName(t.scalar_type())); })
MIMMX_METHOD(Device, "device", { return Napi::String::New(a.env(), t.device().str()); })
MIMMX_METHOD(Numel, "numel", { return Napi::Number::New(a.env(), static_cast<double>(t.numel())); })
MIMMX_METHOD(RequiresGrad, "requiresGrad", { return Napi::Boolean::New(a.env(), t.requires_grad()); })
MIMMX_METHOD(SetRequiresGrad, "requiresGrad_", {
  const_cast<at::Tensor&>(t).requires_grad_(a.boolean(0));
  return a.env().Undefined();
})
MIMMX_METHOD(Grad, "grad", {
  const at::Tensor& g = t.grad();
  if (!g.defined()) return a.env().Null();
  return Wrap(a.env(), g);
})
MIMMX_METHOD(SetGrad, "setGrad", {
  // null clears the gradient (PyTorch's zero_grad(set_to_none=True)).
  if (!a.has(0)) {
    const_cast<at::Tensor&>(t).mutable_grad().reset();
  } else {
    const_cast<at::Tensor&>(t).mutable_grad() = a.tensor(0);
  }
  return a.env().Undefined();
})
MIMMX_METHOD(IsLeaf, "isLeaf", { return Napi::Boolean::New(a.env(), t.is_leaf()); })
MIMMX_METHOD(RetainGrad, "retainGrad", {
  const_cast<at::Tensor&>(t).retain_grad();
  return a.env().Undefined();
})
MIMMX_METHOD(SameStorage, "sameStorage", {
  const at::Tensor& o = a.tensor(0);
  return Napi::Boolean::New(a.env(), t.has_storage() && o.has_storage() && t.storage().is_alias_of(o.storage()));
})
MIMMX_METHOD(Item, "item", {
  if (t.numel() != 1) throw std::runtime_error("item() needs a tensor with one element, got " + DescribeTensor(t));
  at::Scalar s = t.item();
  if (t.scalar_type() == at::kBool) return Napi::Boolean::New(a.env(), s.toBool());
  if (t.scalar_type() == at::kLong) return Napi::Number::New(a.env(), static_cast<double>(s.toLong()));
  return Napi::Number::New(a.env(), s.toDouble());
})
MIMMX_METHOD(ToBuffer, "toBuffer", {
  // A copy into a fresh ArrayBuffer: JS never aliases libtorch memory, so freeing a tensor can never
  // invalidate an array JS still holds.
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  size_t bytes = static_cast<size_t>(c.numel()) * c.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(a.env(), bytes);
  if (bytes > 0) std::memcpy(buf.Data(), c.data_ptr(), bytes);
  return buf;
})

// ---- Args ------------------------------------------------------------------------------------------

Napi::Error Args::error(const std::string& message) const {
  std::string msg = message;
  // libtorch messages sometimes span lines with internal detail; the first line is what a user needs.
  auto nl = msg.find('\n');
  if (nl != std::string::npos) msg = msg.substr(0, nl);
  std::string inputs = describeInputs();
  std::string full = std::string(op_) + ": " + msg + (inputs.empty() ? "" : " (inputs: " + inputs + ")");
  return Napi::Error::New(env(), full);
}

std::string Args::describeInputs() const {
  std::string out;
  for (size_t i = 0; i < info_.Length(); ++i) {
    Napi::Value v = info_[i];
    std::string d;
    if (TensorWrap::IsTensor(env(), v)) {
      auto* w = TensorWrap::Unwrap(v.As<Napi::Object>());
      d = w->freed() ? "<freed tensor>" : DescribeTensor(w->tensor(op_));
    } else if (v.IsArray()) {
      Napi::Array arr = v.As<Napi::Array>();
      bool any = false;
      for (uint32_t k = 0; k < arr.Length(); ++k) {
        Napi::Value e = arr.Get(k);
        if (TensorWrap::IsTensor(env(), e)) {
          auto* w = TensorWrap::Unwrap(e.As<Napi::Object>());
          d += std::string(any ? ", " : "") + (w->freed() ? "<freed tensor>" : DescribeTensor(w->tensor(op_)));
          any = true;
        }
      }
      if (any) d = "{" + d + "}";
    }
    if (!d.empty()) out += (out.empty() ? "" : ", ") + d;
  }
  return out;
}

const at::Tensor& Args::tensor(size_t i) const {
  if (i >= info_.Length() || !TensorWrap::IsTensor(env(), info_[i])) {
    throw error("argument " + std::to_string(i) + " must be a Tensor");
  }
  auto* w = TensorWrap::Unwrap(info_[i].As<Napi::Object>());
  if (w->freed()) throw error("argument " + std::to_string(i) + " is a tensor that was already freed (disposed)");
  return w->tensor(op_);
}

c10::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (!has(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensors(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) throw error("argument " + std::to_string(i) + " must be an array of Tensors");
  Napi::Array arr = info_[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!TensorWrap::IsTensor(env(), v)) throw error("element " + std::to_string(k) + " of argument " + std::to_string(i) + " is not a Tensor");
    auto* w = TensorWrap::Unwrap(v.As<Napi::Object>());
    if (w->freed()) throw error("element " + std::to_string(k) + " of argument " + std::to_string(i) + " was already freed");
    out.push_back(w->tensor(op_));
  }
  return out;
}

double Args::number(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) throw error("argument " + std::to_string(i) + " must be a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

int64_t Args::int64(size_t i) const {
  double v = number(i);
  if (v != static_cast<double>(static_cast<int64_t>(v))) throw error("argument " + std::to_string(i) + " must be an integer, got " + std::to_string(v));
  return static_cast<int64_t>(v);
}

bool Args::boolean(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsBoolean()) throw error("argument " + std::to_string(i) + " must be a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> Args::ints(size_t i) const {
  if (i < info_.Length() && info_[i].IsNumber()) return {int64(i)};
  if (i >= info_.Length() || !info_[i].IsArray()) throw error("argument " + std::to_string(i) + " must be an array of integers");
  Napi::Array arr = info_[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) throw error("element " + std::to_string(k) + " of argument " + std::to_string(i) + " must be an integer");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int64_t>(d))) throw error("element " + std::to_string(k) + " of argument " + std::to_string(i) + " must be an integer");
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::string Args::string(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsString()) throw error("argument " + std::to_string(i) + " must be a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

at::ScalarType Args::dtype(size_t i, at::ScalarType fallback) const {
  if (!has(i)) return fallback;
  std::string s = string(i);
  if (s == "float32") return at::kFloat;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "bool") return at::kBool;
  if (s == "uint8") return at::kByte;
  throw error("unknown dtype '" + s + "' (allowed: float32, float64, int64, int32, bool, uint8)");
}

at::Device Args::device(size_t i) const {
  if (!has(i)) return at::Device(at::kCPU);
  std::string s = string(i);
  at::Device d(at::kCPU);
  try {
    d = at::Device(s);
  } catch (const c10::Error&) {
    throw error("unknown device '" + s + "' (allowed: cpu, cuda, cuda:N)");
  }
  if (d.is_cuda() && !at::hasCUDA()) throw error("device '" + s + "' requested but this libtorch has no CUDA (or no GPU is visible)");
  return d;
}

at::TensorOptions Args::options(size_t dtypeArg, size_t deviceArg, at::ScalarType fallback) const {
  return at::TensorOptions().dtype(dtype(dtypeArg, fallback)).device(device(deviceArg));
}

at::Scalar Args::scalar(size_t i) const {
  if (i < info_.Length() && info_[i].IsBoolean()) return at::Scalar(info_[i].As<Napi::Boolean>().Value());
  double v = number(i);
  // JS has one number type: an integral value becomes an integer scalar (as a Python int would), so
  // in-place updates of int64 tensors (a step counter += 1) keep their dtype.
  if (std::nearbyint(v) == v && std::abs(v) < 9.007199254740992e15) return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

Napi::Value Wrap(Napi::Env env, at::Tensor t) { return TensorWrap::New(env, std::move(t)); }

Napi::Value WrapAll(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array out = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) {
    out.Set(static_cast<uint32_t>(k), ts[k].defined() ? Wrap(env, ts[k]) : env.Null());
  }
  return out;
}

}  // namespace mimmx

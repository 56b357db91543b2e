// Shared pieces of the mimmx native addon: the JS wrapper around an at::Tensor, argument readers that
// check what JavaScript passed, and the guard that turns every C++ exception into a JS Error naming
// the op and the shapes of its tensor inputs.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

namespace mimmx {

// One JS object per tensor handle. Several handles may share one at::Tensor's storage (a view, the
// same .grad read twice): freeing a handle only drops this handle's reference.
class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::Object New(Napi::Env env, at::Tensor t);
  static bool IsTensor(Napi::Env env, const Napi::Value& v);
  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;

  const at::Tensor& tensor(const char* op) const;
  bool freed() const { return !tensor_.defined(); }
  void set(Napi::Env env, at::Tensor t);
  void release(Napi::Env env);

 private:
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value IsFreed(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value Grad(const Napi::CallbackInfo& info);
  Napi::Value SetGrad(const Napi::CallbackInfo& info);
  Napi::Value IsLeaf(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  Napi::Value ToBuffer(const Napi::CallbackInfo& info);
  Napi::Value RetainGrad(const Napi::CallbackInfo& info);
  Napi::Value SameStorage(const Napi::CallbackInfo& info);

  at::Tensor tensor_;
  int64_t accounted_bytes_ = 0;  // reported to V8 so the GC sees native memory pressure
};

// Reads and checks the arguments of one native call. Every reader throws a JS Error that names the op,
// the argument position and what was expected.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}
  Napi::Env env() const { return info_.Env(); }
  size_t size() const { return info_.Length(); }
  bool has(size_t i) const { return i < info_.Length() && !info_[i].IsUndefined() && !info_[i].IsNull(); }
  bool isNumber(size_t i) const { return i < info_.Length() && info_[i].IsNumber(); }
  bool isTensor(size_t i) const { return i < info_.Length() && TensorWrap::IsTensor(env(), info_[i]); }
  Napi::Value value(size_t i) const { return i < info_.Length() ? info_[i] : env().Undefined(); }

  const at::Tensor& tensor(size_t i) const;
  c10::optional<at::Tensor> optTensor(size_t i) const;
  std::vector<at::Tensor> tensors(size_t i) const;
  double number(size_t i) const;
  double number(size_t i, double fallback) const { return has(i) ? number(i) : fallback; }
  int64_t int64(size_t i) const;
  int64_t int64(size_t i, int64_t fallback) const { return has(i) ? int64(i) : fallback; }
  bool boolean(size_t i) const;
  bool boolean(size_t i, bool fallback) const { return has(i) ? boolean(i) : fallback; }
  std::vector<int64_t> ints(size_t i) const;
  std::string string(size_t i) const;
  at::ScalarType dtype(size_t i, at::ScalarType fallback = at::kFloat) const;
  at::Device device(size_t i) const;
  at::TensorOptions options(size_t dtypeArg, size_t deviceArg, at::ScalarType fallback = at::kFloat) const;
  at::Scalar scalar(size_t i) const;

  // "conv2d: <message> (inputs: [128, 1, 28, 28] float32 cpu, [6, 1, 3, 3] float32 cpu)"
  Napi::Error error(const std::string& message) const;
  std::string describeInputs() const;

 private:
  const Napi::CallbackInfo& info_;
  const char* op_;
};

Napi::Value Wrap(Napi::Env env, at::Tensor t);
Napi::Value WrapAll(Napi::Env env, const std::vector<at::Tensor>& ts);
const char* DtypeName(at::ScalarType t);
std::string DescribeTensor(const at::Tensor& t);

// Runs `body` and converts any C++ exception into a JS Error that names the op and its inputs.
template <typename F>
Napi::Value Guard(const Napi::CallbackInfo& info, const char* op, F&& body) {
  Args args(info, op);
  try {
    return body(args);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw args.error(e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw args.error(e.what());
  }
}

// Registers a native function `name` whose body sees `Args& a` and returns a Napi::Value.
#define MIMMX_DEF(exports, name, ...)                                                               \
  (exports).Set(name, Napi::Function::New(                                                          \
                          (exports).Env(),                                                          \
                          [](const Napi::CallbackInfo& info) -> Napi::Value {                        \
                            return ::mimmx::Guard(info, name, [&](::mimmx::Args& a) -> Napi::Value { \
                              __VA_ARGS__                                                           \
                            });                                                                     \
                          },                                                                        \
                          name))

// Registers a native function returning one tensor computed by the expression `expr` (sees `a`).
#define MIMMX_OP(exports, name, expr) MIMMX_DEF(exports, name, return ::mimmx::Wrap(a.env(), (expr));)

void RegisterCreation(Napi::Env env, Napi::Object exports);
void RegisterMath(Napi::Env env, Napi::Object exports);
void RegisterShape(Napi::Env env, Napi::Object exports);
void RegisterNN(Napi::Env env, Napi::Object exports);
void RegisterAutograd(Napi::Env env, Napi::Object exports);
void RegisterCritic(Napi::Env env, Napi::Object exports);
void RegisterDist(Napi::Env env, Napi::Object exports);

}  // namespace mimmx

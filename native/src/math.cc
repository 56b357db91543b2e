// Element-wise arithmetic (broadcasting), unary functions, comparisons, reductions, linear algebra and
// the in-place updates optimisers use.
#include "common.h"

namespace mimmx {

// The second operand of a binary op may be a Tensor or a JS number.
#define BINARY(e, name, fn)                                                   \
  MIMMX_DEF(e, name, {                                                        \
    if (a.isNumber(1)) return Wrap(a.env(), fn(a.tensor(0), a.scalar(1)));    \
    return Wrap(a.env(), fn(a.tensor(0), a.tensor(1)));                       \
  })
#define UNARY(e, name, fn) MIMMX_OP(e, name, fn(a.tensor(0)))

// Reductions take (t, dims?, keepdim?): no dims reduces over everything.
static std::vector<int64_t> DimsOrAll(Args& a, size_t i, const at::Tensor& t) {
  if (a.has(i)) return a.ints(i);
  std::vector<int64_t> all(t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) all[d] = d;
  return all;
}

void RegisterMath(Napi::Env env, Napi::Object e) {
  (void)env;
  BINARY(e, "add", at::add);
  BINARY(e, "sub", at::sub);
  BINARY(e, "mul", at::mul);
  BINARY(e, "div", at::div);
  BINARY(e, "pow", at::pow);
  BINARY(e, "remainder", at::remainder);
  BINARY(e, "eq", at::eq);
  BINARY(e, "ne", at::ne);
  BINARY(e, "lt", at::lt);
  BINARY(e, "le", at::le);
  BINARY(e, "gt", at::gt);
  BINARY(e, "ge", at::ge);
  MIMMX_OP(e, "rsub_scalar", at::rsub(a.tensor(0), a.scalar(1)));
  MIMMX_OP(e, "pow_scalar_base", at::pow(a.scalar(0), a.tensor(1)));
  MIMMX_OP(e, "maximum", at::maximum(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "minimum", at::minimum(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "logical_and", at::logical_and(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "logical_or", at::logical_or(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "logical_xor", at::logical_xor(a.tensor(0), a.tensor(1)));
  MIMMX_DEF(e, "where", {
    const at::Tensor& cond = a.tensor(0);
    if (a.isNumber(1) && a.isNumber(2)) return Wrap(a.env(), at::where(cond, a.scalar(1), a.scalar(2)));
    if (a.isNumber(1)) return Wrap(a.env(), at::where(cond, a.scalar(1), a.tensor(2)));
    if (a.isNumber(2)) return Wrap(a.env(), at::where(cond, a.tensor(1), a.scalar(2)));
    return Wrap(a.env(), at::where(cond, a.tensor(1), a.tensor(2)));
  });
  MIMMX_DEF(e, "clamp", {
    c10::optional<at::Scalar> lo, hi;
    if (a.has(1)) lo = a.scalar(1);
    if (a.has(2)) hi = a.scalar(2);
    if (!lo && !hi) throw a.error("clamp needs a min, a max or both");
    return Wrap(a.env(), at::clamp(a.tensor(0), lo, hi));
  });
  MIMMX_DEF(e, "allclose", {
    return Napi::Boolean::New(a.env(), at::allclose(a.tensor(0), a.tensor(1), a.number(2, 1e-5), a.number(3, 1e-8)));
  });
  MIMMX_OP(e, "lerp", at::lerp(a.tensor(0), a.tensor(1), a.scalar(2)));

  UNARY(e, "neg", at::neg);
  UNARY(e, "exp", at::exp);
  UNARY(e, "log", at::log);
  UNARY(e, "log1p", at::log1p);
  UNARY(e, "expm1", at::expm1);
  UNARY(e, "sqrt", at::sqrt);
  UNARY(e, "rsqrt", at::rsqrt);
  UNARY(e, "abs", at::abs);
  UNARY(e, "sign", at::sign);
  UNARY(e, "square", at::square);
  UNARY(e, "reciprocal", at::reciprocal);
  UNARY(e, "floor", at::floor);
  UNARY(e, "ceil", at::ceil);
  UNARY(e, "round", at::round);
  UNARY(e, "sin", at::sin);
  UNARY(e, "cos", at::cos);
  UNARY(e, "relu", at::relu);
  UNARY(e, "sigmoid", at::sigmoid);
  UNARY(e, "tanh", at::tanh);
  UNARY(e, "logical_not", at::logical_not);
  UNARY(e, "isnan", at::isnan);
  UNARY(e, "isfinite", at::isfinite);
  MIMMX_OP(e, "leaky_relu", at::leaky_relu(a.tensor(0), a.scalar(1)));
  MIMMX_OP(e, "elu", at::elu(a.tensor(0), a.scalar(1)));
  MIMMX_OP(e, "gelu", at::gelu(a.tensor(0)));
  MIMMX_OP(e, "softplus", at::softplus(a.tensor(0), a.scalar(1), a.scalar(2)));
  MIMMX_OP(e, "logsigmoid", at::log_sigmoid(a.tensor(0)));

  // reductions
  MIMMX_DEF(e, "sum", {
    const at::Tensor& t = a.tensor(0);
    if (!a.has(1)) return Wrap(a.env(), at::sum(t));
    return Wrap(a.env(), at::sum(t, a.ints(1), a.boolean(2, false)));
  });
  MIMMX_DEF(e, "mean", {
    const at::Tensor& t = a.tensor(0);
    if (!a.has(1)) return Wrap(a.env(), at::mean(t));
    return Wrap(a.env(), at::mean(t, a.ints(1), a.boolean(2, false)));
  });
  MIMMX_DEF(e, "prod", {
    const at::Tensor& t = a.tensor(0);
    if (!a.has(1)) return Wrap(a.env(), at::prod(t));
    return Wrap(a.env(), at::prod(t, a.int64(1), a.boolean(2, false)));
  });
  MIMMX_OP(e, "amax", at::amax(a.tensor(0), DimsOrAll(a, 1, a.tensor(0)), a.boolean(2, false)));
  MIMMX_OP(e, "amin", at::amin(a.tensor(0), DimsOrAll(a, 1, a.tensor(0)), a.boolean(2, false)));
  MIMMX_DEF(e, "max_dim", {
    auto r = at::max(a.tensor(0), a.int64(1), a.boolean(2, false));
    return WrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
  });
  MIMMX_DEF(e, "min_dim", {
    auto r = at::min(a.tensor(0), a.int64(1), a.boolean(2, false));
    return WrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
  });
  MIMMX_DEF(e, "argmax", {
    if (!a.has(1)) return Wrap(a.env(), at::argmax(a.tensor(0)));
    return Wrap(a.env(), at::argmax(a.tensor(0), a.int64(1), a.boolean(2, false)));
  });
  MIMMX_DEF(e, "argmin", {
    if (!a.has(1)) return Wrap(a.env(), at::argmin(a.tensor(0)));
    return Wrap(a.env(), at::argmin(a.tensor(0), a.int64(1), a.boolean(2, false)));
  });
  MIMMX_DEF(e, "norm", {
    const at::Tensor& t = a.tensor(0);
    at::Scalar p = a.has(1) ? a.scalar(1) : at::Scalar(2.0);
    if (!a.has(2)) return Wrap(a.env(), at::norm(t, p));
    return Wrap(a.env(), at::norm(t, p, a.ints(2), a.boolean(3, false)));
  });
  MIMMX_DEF(e, "var", {
    const at::Tensor& t = a.tensor(0);
    int64_t correction = a.boolean(2, true) ? 1 : 0;
    return Wrap(a.env(), at::var(t, at::OptionalIntArrayRef(DimsOrAll(a, 1, t)), correction, a.boolean(3, false)));
  });
  MIMMX_DEF(e, "std", {
    const at::Tensor& t = a.tensor(0);
    int64_t correction = a.boolean(2, true) ? 1 : 0;
    return Wrap(a.env(), at::std(t, at::OptionalIntArrayRef(DimsOrAll(a, 1, t)), correction, a.boolean(3, false)));
  });
  MIMMX_OP(e, "logsumexp", at::logsumexp(a.tensor(0), DimsOrAll(a, 1, a.tensor(0)), a.boolean(2, false)));
  MIMMX_OP(e, "cumsum", at::cumsum(a.tensor(0), a.int64(1)));
  MIMMX_DEF(e, "all", { return Wrap(a.env(), a.has(1) ? at::all(a.tensor(0), a.int64(1), a.boolean(2, false)) : at::all(a.tensor(0))); });
  MIMMX_DEF(e, "any", { return Wrap(a.env(), a.has(1) ? at::any(a.tensor(0), a.int64(1), a.boolean(2, false)) : at::any(a.tensor(0))); });
  MIMMX_DEF(e, "sort", {
    auto r = at::sort(a.tensor(0), a.int64(1, -1), a.boolean(2, false));
    return WrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
  });
  MIMMX_DEF(e, "topk", {
    auto r = at::topk(a.tensor(0), a.int64(1), a.int64(2, -1), a.boolean(3, true), true);
    return WrapAll(a.env(), {std::get<0>(r), std::get<1>(r)});
  });
  MIMMX_OP(e, "argsort", at::argsort(a.tensor(0), a.int64(1, -1), a.boolean(2, false)));

  // linear algebra
  MIMMX_OP(e, "matmul", at::matmul(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "mm", at::mm(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "bmm", at::bmm(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "linear", at::linear(a.tensor(0), a.tensor(1), a.optTensor(2)));
  MIMMX_OP(e, "outer", at::outer(a.tensor(0), a.tensor(1)));
  MIMMX_OP(e, "cdist", at::cdist(a.tensor(0), a.tensor(1), a.number(2, 2.0)));

  // In-place updates (optimisers, initialisation, running statistics). They return the same handle's
  // tensor: the caller keeps using its own handle.
  MIMMX_DEF(e, "add_", {
    at::Tensor t = a.tensor(0);
    if (a.isNumber(1)) t.add_(a.scalar(1));
    else t.add_(a.tensor(1), a.has(2) ? a.scalar(2) : at::Scalar(1));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "mul_", {
    at::Tensor t = a.tensor(0);
    if (a.isNumber(1)) t.mul_(a.scalar(1));
    else t.mul_(a.tensor(1));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "div_", {
    at::Tensor t = a.tensor(0);
    if (a.isNumber(1)) t.div_(a.scalar(1));
    else t.div_(a.tensor(1));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "addcmul_", {
    a.tensor(0).addcmul_(a.tensor(1), a.tensor(2), a.scalar(3));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "addcdiv_", {
    a.tensor(0).addcdiv_(a.tensor(1), a.tensor(2), a.scalar(3));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "lerp_", {
    a.tensor(0).lerp_(a.tensor(1), a.scalar(2));
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "copy_", {
    at::Tensor t = a.tensor(0);
    const at::Tensor& src = a.tensor(1);
    if (!t.sizes().equals(src.sizes())) {
      throw a.error("copy_ needs equal shapes, got " + DescribeTensor(t) + " and " + DescribeTensor(src));
    }
    t.copy_(src);
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "relu_", { a.tensor(0).relu_(); return a.env().Undefined(); });
  MIMMX_DEF(e, "zero_", { a.tensor(0).zero_(); return a.env().Undefined(); });
  MIMMX_DEF(e, "fill_", { a.tensor(0).fill_(a.scalar(1)); return a.env().Undefined(); });
  MIMMX_DEF(e, "uniform_", { a.tensor(0).uniform_(a.number(1), a.number(2)); return a.env().Undefined(); });
  MIMMX_DEF(e, "normal_", { a.tensor(0).normal_(a.number(1), a.number(2)); return a.env().Undefined(); });
  MIMMX_DEF(e, "clamp_", {
    c10::optional<at::Scalar> lo, hi;
    if (a.has(1)) lo = a.scalar(1);
    if (a.has(2)) hi = a.scalar(2);
    a.tensor(0).clamp_(lo, hi);
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "sqrt_", { a.tensor(0).sqrt_(); return a.env().Undefined(); });
  MIMMX_DEF(e, "maximum_", {
    at::Tensor t = a.tensor(0);
    at::maximum_out(t, t, a.tensor(1));
    return a.env().Undefined();
  });

  // One Adam/AdamW step over every parameter of a group in one call: per-parameter JS round trips
  // would cost more than the arithmetic on small models. Same update rule as torch.optim.Adam(W).
  MIMMX_DEF(e, "adam_step", {
    std::vector<at::Tensor> params = a.tensors(0), grads = a.tensors(1), m = a.tensors(2), v = a.tensors(3);
    double lr = a.number(4), b1 = a.number(5), b2 = a.number(6), eps = a.number(7), wd = a.number(8);
    int64_t step = a.int64(9);
    bool decoupled = a.boolean(10);
    if (grads.size() != params.size() || m.size() != params.size() || v.size() != params.size()) {
      throw a.error("params, grads and state lists must have equal lengths");
    }
    at::NoGradGuard no_grad;
    double bc1 = 1.0 - std::pow(b1, static_cast<double>(step));
    double bc2 = 1.0 - std::pow(b2, static_cast<double>(step));
    for (size_t k = 0; k < params.size(); ++k) {
      at::Tensor p = params[k];
      at::Tensor g = grads[k];
      if (wd != 0.0) {
        if (decoupled) p.mul_(1.0 - lr * wd);
        else g = g.add(p, wd);
      }
      m[k].lerp_(g, 1.0 - b1);
      v[k].mul_(b2).addcmul_(g, g, 1.0 - b2);
      at::Tensor denom = (v[k].sqrt() / std::sqrt(bc2)).add_(eps);
      p.addcdiv_(m[k], denom, -lr / bc1);
    }
    return a.env().Undefined();
  });
}

}  // namespace mimmx

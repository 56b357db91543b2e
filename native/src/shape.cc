// Shape and indexing ops: views, slicing, joining and splitting, gathering.
#include "common.h"

namespace mimmx {

void RegisterShape(Napi::Env env, Napi::Object e) {
  (void)env;
  MIMMX_OP(e, "reshape", at::reshape(a.tensor(0), a.ints(1)));
  MIMMX_DEF(e, "view", {
    const at::Tensor& t = a.tensor(0);
    if (!t.is_contiguous()) throw a.error("view needs a contiguous tensor (use reshape, or contiguous() first)");
    return Wrap(a.env(), t.view(a.ints(1)));
  });
  MIMMX_OP(e, "permute", a.tensor(0).permute(a.ints(1)));
  MIMMX_OP(e, "transpose", at::transpose(a.tensor(0), a.int64(1), a.int64(2)));
  MIMMX_OP(e, "flatten", at::flatten(a.tensor(0), a.int64(1, 0), a.int64(2, -1)));
  MIMMX_DEF(e, "squeeze", {
    if (!a.has(1)) return Wrap(a.env(), at::squeeze(a.tensor(0)));
    return Wrap(a.env(), at::squeeze(a.tensor(0), a.int64(1)));
  });
  MIMMX_OP(e, "unsqueeze", at::unsqueeze(a.tensor(0), a.int64(1)));
  MIMMX_OP(e, "contiguous", a.tensor(0).contiguous());
  MIMMX_OP(e, "clone", a.tensor(0).clone());
  MIMMX_OP(e, "detach", a.tensor(0).detach());
  MIMMX_DEF(e, "to", {
    // to(t, dtype?, device?, non_blocking?): non_blocking only overlaps a copy between pinned host
    // memory and a CUDA device; elsewhere it is an ordinary copy (PyTorch's meaning).
    const at::Tensor& t = a.tensor(0);
    at::ScalarType dt = a.has(1) ? a.dtype(1) : t.scalar_type();
    at::Device dev = a.has(2) ? a.device(2) : t.device();
    const bool non_blocking = a.boolean(3, false);
    return Wrap(a.env(), t.to(dev, dt, non_blocking));
  });
  MIMMX_OP(e, "narrow", at::narrow(a.tensor(0), a.int64(1), a.int64(2), a.int64(3)));
  MIMMX_DEF(e, "slice", {
    // slice(t, dim, start?, end?, step?) with Python's meaning of negative and missing bounds.
    c10::optional<int64_t> start, end;
    if (a.has(2)) start = a.int64(2);
    if (a.has(3)) end = a.int64(3);
    return Wrap(a.env(), at::slice(a.tensor(0), a.int64(1), start, end, a.int64(4, 1)));
  });
  MIMMX_OP(e, "select", at::select(a.tensor(0), a.int64(1), a.int64(2)));
  MIMMX_OP(e, "index_select", at::index_select(a.tensor(0), a.int64(1), a.tensor(2)));
  MIMMX_OP(e, "gather", at::gather(a.tensor(0), a.int64(1), a.tensor(2)));
  MIMMX_OP(e, "scatter", at::scatter(a.tensor(0), a.int64(1), a.tensor(2), a.tensor(3)));
  MIMMX_OP(e, "scatter_add", at::scatter_add(a.tensor(0), a.int64(1), a.tensor(2), a.tensor(3)));
  MIMMX_OP(e, "index_add", at::index_add(a.tensor(0), a.int64(1), a.tensor(2), a.tensor(3)));
  MIMMX_OP(e, "masked_select", at::masked_select(a.tensor(0), a.tensor(1)));
  MIMMX_DEF(e, "masked_fill", {
    if (a.isNumber(2)) return Wrap(a.env(), at::masked_fill(a.tensor(0), a.tensor(1), a.scalar(2)));
    return Wrap(a.env(), at::masked_fill(a.tensor(0), a.tensor(1), a.tensor(2)));
  });
  MIMMX_OP(e, "nonzero", at::nonzero(a.tensor(0)));
  MIMMX_OP(e, "cat", at::cat(a.tensors(0), a.int64(1, 0)));
  MIMMX_OP(e, "stack", at::stack(a.tensors(0), a.int64(1, 0)));
  MIMMX_DEF(e, "split", {
    // split(t, sizeOrSizes, dim): a number gives equal chunks of that size, an array the exact sizes.
    const at::Tensor& t = a.tensor(0);
    int64_t dim = a.int64(2, 0);
    if (a.isNumber(1)) return WrapAll(a.env(), at::split(t, a.int64(1), dim));
    return WrapAll(a.env(), at::split_with_sizes(t, a.ints(1), dim));
  });
  MIMMX_DEF(e, "chunk", { return WrapAll(a.env(), at::chunk(a.tensor(0), a.int64(1), a.int64(2, 0))); });
  MIMMX_DEF(e, "unbind", { return WrapAll(a.env(), at::unbind(a.tensor(0), a.int64(1, 0))); });
  MIMMX_OP(e, "repeat", a.tensor(0).repeat(a.ints(1)));
  MIMMX_DEF(e, "repeat_interleave", {
    c10::optional<int64_t> dim;
    if (a.has(2)) dim = a.int64(2);
    if (a.isNumber(1)) return Wrap(a.env(), at::repeat_interleave(a.tensor(0), a.int64(1), dim));
    return Wrap(a.env(), at::repeat_interleave(a.tensor(0), a.tensor(1), dim));
  });
  MIMMX_OP(e, "expand", a.tensor(0).expand(a.ints(1)));
  MIMMX_OP(e, "expand_as", a.tensor(0).expand_as(a.tensor(1)));
  MIMMX_OP(e, "diag", at::diag(a.tensor(0), a.int64(1, 0)));
  MIMMX_OP(e, "diagonal", at::diagonal(a.tensor(0), a.int64(1, 0), a.int64(2, 0), a.int64(3, 1)));
  MIMMX_OP(e, "tril", at::tril(a.tensor(0), a.int64(1, 0)));
  MIMMX_OP(e, "triu", at::triu(a.tensor(0), a.int64(1, 0)));
  MIMMX_OP(e, "flip", at::flip(a.tensor(0), a.ints(1)));
  MIMMX_OP(e, "roll", at::roll(a.tensor(0), a.ints(1), a.ints(2)));
  MIMMX_OP(e, "one_hot", at::one_hot(a.tensor(0), a.int64(1, -1)));
  MIMMX_OP(e, "pad", at::constant_pad_nd(a.tensor(0), a.ints(1), a.scalar(2)));
}

}  // namespace mimmx

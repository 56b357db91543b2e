// Neural-network ops: convolution, pooling, normalisation, dropout, softmax family, losses, resizing.
#include "common.h"

namespace mimmx {

static int64_t Reduction(Args& a, size_t i) {
  if (!a.has(i)) return at::Reduction::Mean;
  std::string r = a.string(i);
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw a.error("unknown reduction '" + r + "' (allowed: mean, sum, none)");
}

static void CheckRank(Args& a, const at::Tensor& t, int64_t rank, const char* layout) {
  if (t.dim() != rank) {
    throw a.error("expected a " + std::to_string(rank) + "-d input " + layout + ", got " + DescribeTensor(t));
  }
}

void RegisterNN(Napi::Env env, Napi::Object e) {
  (void)env;
  // conv2d(x, w, b?, stride, padding, dilation, groups)
  MIMMX_DEF(e, "conv2d", {
    const at::Tensor& x = a.tensor(0);
    CheckRank(a, x, 4, "[N, C, H, W]");
    return Wrap(a.env(), at::conv2d(x, a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.int64(6, 1)));
  });
  MIMMX_DEF(e, "conv3d", {
    const at::Tensor& x = a.tensor(0);
    CheckRank(a, x, 5, "[N, C, D, H, W]");
    return Wrap(a.env(), at::conv3d(x, a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.int64(6, 1)));
  });
  // max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
  MIMMX_DEF(e, "max_pool2d", {
    const at::Tensor& x = a.tensor(0);
    CheckRank(a, x, 4, "[N, C, H, W]");
    return Wrap(a.env(), at::max_pool2d(x, a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.boolean(5, false)));
  });
  MIMMX_DEF(e, "max_pool3d", {
    const at::Tensor& x = a.tensor(0);
    CheckRank(a, x, 5, "[N, C, D, H, W]");
    return Wrap(a.env(), at::max_pool3d(x, a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.boolean(5, false)));
  });
  // avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
  MIMMX_DEF(e, "avg_pool2d", {
    const at::Tensor& x = a.tensor(0);
    CheckRank(a, x, 4, "[N, C, H, W]");
    return Wrap(a.env(), at::avg_pool2d(x, a.ints(1), a.ints(2), a.ints(3), a.boolean(4, false), a.boolean(5, true)));
  });
  MIMMX_DEF(e, "avg_pool3d", {
    const at::Tensor& x = a.tensor(0);
    CheckRank(a, x, 5, "[N, C, D, H, W]");
    return Wrap(a.env(), at::avg_pool3d(x, a.ints(1), a.ints(2), a.ints(3), a.boolean(4, false), a.boolean(5, true)));
  });
  MIMMX_OP(e, "adaptive_avg_pool2d", at::adaptive_avg_pool2d(a.tensor(0), a.ints(1)));
  MIMMX_OP(e, "adaptive_avg_pool3d", at::adaptive_avg_pool3d(a.tensor(0), a.ints(1)));
  MIMMX_DEF(e, "adaptive_max_pool2d", {
    return Wrap(a.env(), std::get<0>(at::adaptive_max_pool2d(a.tensor(0), a.ints(1))));
  });
  // batch_norm(x, weight?, bias?, running_mean?, running_var?, training, momentum, eps)
  MIMMX_DEF(e, "batch_norm", {
    const at::Tensor& x = a.tensor(0);
    if (x.dim() < 2) throw a.error("batch_norm needs an input of at least 2 dims [N, C, ...], got " + DescribeTensor(x));
    bool training = a.boolean(5);
    if (training) {
      int64_t per_channel = x.numel() / x.size(1);
      if (per_channel <= 1) throw a.error("batch_norm in training mode needs more than 1 value per channel, got " + DescribeTensor(x));
    }
    return Wrap(a.env(), at::batch_norm(x, a.optTensor(1), a.optTensor(2), a.optTensor(3), a.optTensor(4), training,
                                        a.number(6, 0.1), a.number(7, 1e-5), true));
  });
  MIMMX_OP(e, "layer_norm", at::layer_norm(a.tensor(0), a.ints(1), a.optTensor(2), a.optTensor(3), a.number(4, 1e-5)));
  MIMMX_OP(e, "group_norm", at::group_norm(a.tensor(0), a.int64(1), a.optTensor(2), a.optTensor(3), a.number(4, 1e-5)));
  MIMMX_DEF(e, "dropout", {
    double p = a.number(1);
    if (p < 0 || p > 1) throw a.error("dropout probability must be in [0, 1], got " + std::to_string(p));
    return Wrap(a.env(), at::dropout(a.tensor(0), p, a.boolean(2)));
  });
  MIMMX_OP(e, "softmax", at::softmax(a.tensor(0), a.int64(1)));
  MIMMX_OP(e, "log_softmax", at::log_softmax(a.tensor(0), a.int64(1)));

  // cross_entropy(logits [N, C, ...], target [N, ...] int64, weight?, reduction, ignore_index, label_smoothing)
  MIMMX_DEF(e, "cross_entropy", {
    const at::Tensor& x = a.tensor(0);
    const at::Tensor& y = a.tensor(1);
    if (y.scalar_type() != at::kLong) throw a.error("cross_entropy targets must be int64 class indices");
    if (x.dim() < 1 || y.dim() != x.dim() - 1 || (x.dim() > 1 && y.size(0) != x.size(0))) {
      throw a.error("cross_entropy expects logits [N, C] and targets [N]");
    }
    return Wrap(a.env(), at::cross_entropy_loss(x, y, a.optTensor(2), Reduction(a, 3), a.int64(4, -100), a.number(5, 0.0)));
  });
  MIMMX_DEF(e, "nll_loss", {
    const at::Tensor& y = a.tensor(1);
    if (y.scalar_type() != at::kLong) throw a.error("nll_loss targets must be int64 class indices");
    return Wrap(a.env(), at::nll_loss_nd(a.tensor(0), y, a.optTensor(2), Reduction(a, 3), a.int64(4, -100)));
  });
  // binary_cross_entropy_with_logits(x, target, weight?, pos_weight?, reduction)
  MIMMX_DEF(e, "binary_cross_entropy_with_logits", {
    const at::Tensor& x = a.tensor(0);
    const at::Tensor& y = a.tensor(1);
    if (!x.sizes().equals(y.sizes())) throw a.error("binary_cross_entropy_with_logits needs logits and targets of the same shape");
    return Wrap(a.env(), at::binary_cross_entropy_with_logits(x, y, a.optTensor(2), a.optTensor(3), Reduction(a, 4)));
  });
  MIMMX_DEF(e, "mse_loss", {
    const at::Tensor& x = a.tensor(0);
    const at::Tensor& y = a.tensor(1);
    if (!x.sizes().equals(y.sizes())) throw a.error("mse_loss needs input and target of the same shape");
    return Wrap(a.env(), at::mse_loss(x, y, Reduction(a, 2)));
  });
  MIMMX_OP(e, "l1_loss", at::l1_loss(a.tensor(0), a.tensor(1), Reduction(a, 2)));

  // interpolate(x, size, mode, align_corners): bilinear for 4-d, trilinear for 5-d, nearest for both.
  MIMMX_DEF(e, "interpolate", {
    const at::Tensor& x = a.tensor(0);
    std::vector<int64_t> size = a.ints(1);
    std::string mode = a.string(2);
    bool align = a.boolean(3, false);
    if (size.size() + 2 != static_cast<size_t>(x.dim())) {
      throw a.error("interpolate size has " + std::to_string(size.size()) + " entries for a " + std::to_string(x.dim()) + "-d input");
    }
    if (mode == "bilinear") {
      CheckRank(a, x, 4, "[N, C, H, W] for bilinear");
      return Wrap(a.env(), at::upsample_bilinear2d(x, size, align));
    }
    if (mode == "trilinear") {
      CheckRank(a, x, 5, "[N, C, D, H, W] for trilinear");
      return Wrap(a.env(), at::upsample_trilinear3d(x, size, align));
    }
    if (mode == "nearest") {
      if (x.dim() == 4) return Wrap(a.env(), at::upsample_nearest2d(x, size));
      if (x.dim() == 5) return Wrap(a.env(), at::upsample_nearest3d(x, size));
      throw a.error("nearest interpolation needs a 4-d or 5-d input");
    }
    throw a.error("unknown interpolation mode '" + mode + "' (allowed: bilinear, trilinear, nearest)");
  });
}

}  // namespace mimmx

// Fused critic step of the stacked joint critics (src/mi/stacked-critic.ts, stacked-dv.ts,
// pair-estimators.ts StackedPairEstimators.terms): one N-API call runs the forward pass (split first
// layer, sampled or all negatives, conditional mask, log importance weights), the DV log-mean-exp and
// estimate, the EMA update, the corrected DV (or JSD) surrogate and its backward pass, which leaves the
// gradients in the parameters' .grad for the critic optimiser. At B = 128, hidden 64, a critic step is
// ~60 small ops forward and as many backward; through JS each costs a round trip and a wrapper object,
// here it costs a dispatcher call.
//
// The ops are the TS path's, in the same order and with the same scalar types, so both paths give the
// same numbers; the TS path stays the reference (test/mi/fused-critic.test.ts compares them).
#include "common.h"

// The kernel loops below must vectorise; -O2 alone does not (binding.gyp builds everything at -O2).
#pragma GCC optimize("O3")

#include <torch/csrc/autograd/autograd.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mimmx {

// The scalar a JS number becomes in the tensor layer (Args::scalar): integral values are int64.
static at::Scalar JsScalar(double v) {
  if (std::nearbyint(v) == v && std::abs(v) < 9.007199254740992e15) return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

// LogEma.update of src/mi/dv.ts, in double precision as JS does it. NaN stands for "no value yet".
static double LogEmaUpdate(double logValue, double lmeNew, double rate) {
  if (std::isnan(logValue) || rate == 1) return lmeNew;
  double x = std::log(rate) + lmeNew;
  double y = std::log(1 - rate) + logValue;
  double m = std::max(x, y);
  if (m == -std::numeric_limits<double>::infinity()) return m;
  return m + std::log(std::exp(x - m) + std::exp(y - m));
}

struct CriticParams {
  at::Tensor wa, wc, b0;
  std::vector<at::Tensor> gammas, betas, weights, biases;  // per hidden layer l: BN(l), then layer l+1
};

// BN (per pair and unit, over rows; batch statistics) then ReLU on x [P, R, H] (bnRelu).
static at::Tensor BnRelu(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta) {
  int64_t p = x.size(0), r = x.size(1), hd = x.size(2);
  at::Tensor rows = x.transpose(0, 1).reshape({r, p * hd});
  at::Tensor y = at::batch_norm(rows, gamma, beta, {}, {}, true, 0.1, 1e-5, true);
  return y.relu().view({r, p, hd}).transpose(0, 1);
}

// MLP from first-layer pre-activations [P, R, H0] to scores [P, R] (StackedJointCritic.head).
static at::Tensor Head(const CriticParams& w, at::Tensor x, double bound) {
  for (size_t l = 0; l < w.weights.size(); ++l) {
    x = BnRelu(x, w.gammas[l], w.betas[l]).matmul(w.weights[l]).add(w.biases[l]);
  }
  at::Tensor s = x.squeeze(2);
  return bound > 0 ? s.div(JsScalar(bound)).tanh().mul(JsScalar(bound)) : s;
}

// Log-weights of the negatives with masked entries at -inf, or undefined (negLogWeights).
static at::Tensor NegLogWeights(const at::Tensor& neg, const at::Tensor& negLogW, const at::Tensor& mask) {
  if (!mask.defined()) return negLogW;
  at::Tensor base = negLogW.defined() ? negLogW : neg.mul(JsScalar(0));
  return base.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
}

static at::Tensor PosMean(const at::Tensor& v, const at::Tensor& posLogW) {
  return posLogW.defined() ? v.mul(posLogW.softmax(1)).sum(1) : v.mean(1);
}

static std::vector<double> ToDoubles(const at::Tensor& t) {
  // Read on the host: a CUDA tensor is copied back first (one sync for all pairs' values).
  at::Tensor c = t.detach().to(at::kCPU, at::kDouble).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

static std::vector<double> Doubles(Args& a, const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw a.error(std::string(what) + " must be an array of numbers");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value e = arr.Get(k);
    if (!e.IsNumber()) throw a.error(std::string(what) + ": element " + std::to_string(k) + " is not a number");
    out[k] = e.As<Napi::Number>().DoubleValue();
  }
  return out;
}

static Napi::Array NumberArray(Napi::Env env, const std::vector<double>& v) {
  Napi::Array out = Napi::Array::New(env, v.size());
  for (size_t k = 0; k < v.size(); ++k) out.Set(static_cast<uint32_t>(k), Napi::Number::New(env, v[k]));
  return out;
}



// Inner loops of the kernel over one row of H units, written so that GCC vectorises them (no branches;
// free functions: the optimize pragma does not reach lambda bodies).
static void RowBackwardSums(int64_t H, const float* __restrict__ xr, const float* __restrict__ g,
                            const float* __restrict__ bt, const float* __restrict__ w, float gr,
                            float* __restrict__ gw, float* __restrict__ sdy, float* __restrict__ sdyx) {
  for (int64_t h = 0; h < H; ++h) {
    float yv = xr[h] * g[h] + bt[h];
    float z = std::max(yv, 0.0f);
    float on = yv > 0.0f ? 1.0f : 0.0f;
    gw[h] += gr * z;
    float dy = gr * w[h] * on;
    sdy[h] += dy;
    sdyx[h] += dy * xr[h];
  }
}

static void RowBackwardInput(int64_t H, const float* __restrict__ xr, const float* __restrict__ g,
                             const float* __restrict__ bt, const float* __restrict__ w, float gr,
                             const float* __restrict__ c0, const float* __restrict__ c1,
                             const float* __restrict__ c2, float* __restrict__ gar, float* __restrict__ gcr) {
  for (int64_t h = 0; h < H; ++h) {
    float yv = xr[h] * g[h] + bt[h];
    float on = yv > 0.0f ? 1.0f : 0.0f;
    float dy = gr * w[h] * on;
    float d = c0[h] * (dy - c1[h] - xr[h] * c2[h]);
    gar[h] += d;
    gcr[h] += d;
  }
}

static void RowAddSum(int64_t H, const float* __restrict__ u, const float* __restrict__ v, float* __restrict__ xr,
                      float* __restrict__ sum) {
  for (int64_t h = 0; h < H; ++h) {
    float t = u[h] + v[h];
    xr[h] = t;
    sum[h] += t;
  }
}

static void RowSqDev(int64_t H, const float* __restrict__ xr, const float* __restrict__ mean, float* __restrict__ sum) {
  for (int64_t h = 0; h < H; ++h) {
    float d = xr[h] - mean[h];
    sum[h] += d * d;
  }
}

static float RowNormScore(int64_t H, float* __restrict__ xr, const float* __restrict__ mean,
                          const float* __restrict__ is, const float* __restrict__ g, const float* __restrict__ bt,
                          const float* __restrict__ w, float* __restrict__ tmp) {
  for (int64_t h = 0; h < H; ++h) {
    float xh = (xr[h] - mean[h]) * is[h];
    xr[h] = xh;
    tmp[h] = std::max(xh * g[h] + bt[h], 0.0f) * w[h];
  }
  float acc = 0;
  for (int64_t h = 0; h < H; ++h) acc += tmp[h];
  return acc;
}

// Hand-written forward and backward of a one-hidden-layer stacked critic on R rows, row r being the
// pair (a_ai[r], c_ci[r]): h0 = ha[ai] + hc[ci] (split first layer, b0 inside hc), BatchNorm with the
// rows' statistics, ReLU, then w1 . z + b1. Nothing of size [P, R, H] goes through the dispatcher or
// autograd: one buffer holds x-hat between forward and backward. Numerically the same as the ATen
// graph up to float summation order.
struct OneLayerKernel {
  int64_t P = 0, R = 0, B = 0, H = 0;
  const int64_t* ai = nullptr;
  const int64_t* ci = nullptr;
  at::Tensor ha, hc, gamma, beta, w1, b1;  // float32 contiguous
  at::Tensor xhat;                         // [P, R, H]
  at::Tensor invstd;                       // [P, H]

  at::Tensor Forward() {
    xhat = at::empty({P, R, H}, ha.options());
    invstd = at::empty({P, H}, ha.options());
    at::Tensor scores = at::empty({P, R}, ha.options());
    const float* HA = ha.data_ptr<float>();
    const float* HC = hc.data_ptr<float>();
    const float* G = gamma.data_ptr<float>();
    const float* BT = beta.data_ptr<float>();
    const float* W = w1.data_ptr<float>();
    const float* B1 = b1.data_ptr<float>();
    float* X = xhat.data_ptr<float>();
    float* IS = invstd.data_ptr<float>();
    float* S = scores.data_ptr<float>();
    at::parallel_for(0, P, 1, [&](int64_t p0, int64_t p1) {
      std::vector<double> dsum(H);
      std::vector<float> sum(H), mean(H), is(H), y(H);
      for (int64_t p = p0; p < p1; ++p) {
        float* __restrict__ x = X + p * R * H;
        const float* hap = HA + p * B * H;
        const float* hcp = HC + p * B * H;
        // Sums in float over blocks of rows, folded into double: vectorises, stays accurate.
        std::fill(dsum.begin(), dsum.end(), 0.0);
        for (int64_t r0 = 0; r0 < R; r0 += 64) {
          const int64_t r1 = std::min(R, r0 + 64);
          std::fill(sum.begin(), sum.end(), 0.0f);
          float* __restrict__ sm = sum.data();
          for (int64_t r = r0; r < r1; ++r) {
            const float* __restrict__ u = hap + ai[r] * H;
            const float* __restrict__ v = hcp + ci[r] * H;
            RowAddSum(H, u, v, x + r * H, sm);
          }
          for (int64_t h = 0; h < H; ++h) dsum[h] += sum[h];
        }
        for (int64_t h = 0; h < H; ++h) mean[h] = static_cast<float>(dsum[h] / R);
        std::fill(dsum.begin(), dsum.end(), 0.0);
        const float* __restrict__ mn = mean.data();
        for (int64_t r0 = 0; r0 < R; r0 += 64) {
          const int64_t r1 = std::min(R, r0 + 64);
          std::fill(sum.begin(), sum.end(), 0.0f);
          float* __restrict__ sm = sum.data();
          for (int64_t r = r0; r < r1; ++r) {
            RowSqDev(H, x + r * H, mn, sm);
          }
          for (int64_t h = 0; h < H; ++h) dsum[h] += sum[h];
        }
        for (int64_t h = 0; h < H; ++h) {
          is[h] = static_cast<float>(1.0 / std::sqrt(dsum[h] / R + 1e-5));
          IS[p * H + h] = is[h];
        }
        const float* __restrict__ g = G + p * H;
        const float* __restrict__ bt = BT + p * H;
        const float* __restrict__ w = W + p * H;
        const float* __restrict__ isv = is.data();
        for (int64_t r = 0; r < R; ++r) S[p * R + r] = RowNormScore(H, x + r * H, mn, isv, g, bt, w, y.data()) + B1[p];
      }
    });
    return scores;
  }

  // gs [P, R] = dL/dscores. Returns dL/d{ha, hc} [P, B, H] and the BN / last-layer parameter grads.
  void Backward(const at::Tensor& gsIn, at::Tensor& gha, at::Tensor& ghc, at::Tensor& ggamma, at::Tensor& gbeta,
                at::Tensor& gw1, at::Tensor& gb1) {
    at::Tensor gs = gsIn.contiguous();
    gha = at::zeros({P, B, H}, ha.options());
    ghc = at::zeros({P, B, H}, ha.options());
    ggamma = at::empty_like(gamma);
    gbeta = at::empty_like(beta);
    gw1 = at::empty_like(w1);
    gb1 = at::empty_like(b1);
    const float* GS = gs.data_ptr<float>();
    const float* G = gamma.data_ptr<float>();
    const float* BT = beta.data_ptr<float>();
    const float* W = w1.data_ptr<float>();
    const float* X = xhat.data_ptr<float>();
    const float* IS = invstd.data_ptr<float>();
    float* GHA = gha.data_ptr<float>();
    float* GHC = ghc.data_ptr<float>();
    float* GG = ggamma.data_ptr<float>();
    float* GBT = gbeta.data_ptr<float>();
    float* GW = gw1.data_ptr<float>();
    float* GB1 = gb1.data_ptr<float>();
    at::parallel_for(0, P, 1, [&](int64_t p0, int64_t p1) {
      std::vector<double> dgw(H), dsdy(H), dsdyx(H);
      std::vector<float> gw(H), sdy(H), sdyx(H), c0(H), c1(H), c2(H);
      for (int64_t p = p0; p < p1; ++p) {
        const float* __restrict__ x = X + p * R * H;
        const float* gsp = GS + p * R;
        const float* __restrict__ g = G + p * H;
        const float* __restrict__ bt = BT + p * H;
        const float* __restrict__ w = W + p * H;
        std::fill(dgw.begin(), dgw.end(), 0.0);
        std::fill(dsdy.begin(), dsdy.end(), 0.0);
        std::fill(dsdyx.begin(), dsdyx.end(), 0.0);
        double gb = 0;
        for (int64_t r0 = 0; r0 < R; r0 += 64) {
          const int64_t r1 = std::min(R, r0 + 64);
          std::fill(gw.begin(), gw.end(), 0.0f);
          std::fill(sdy.begin(), sdy.end(), 0.0f);
          std::fill(sdyx.begin(), sdyx.end(), 0.0f);
          float* __restrict__ gwv = gw.data();
          float* __restrict__ sdyv = sdy.data();
          float* __restrict__ sdyxv = sdyx.data();
          for (int64_t r = r0; r < r1; ++r) {
            const float gr = gsp[r];
            gb += gr;
            RowBackwardSums(H, x + r * H, g, bt, w, gr, gwv, sdyv, sdyxv);
          }
          for (int64_t h = 0; h < H; ++h) {
            dgw[h] += gw[h];
            dsdy[h] += sdy[h];
            dsdyx[h] += sdyx[h];
          }
        }
        GB1[p] = static_cast<float>(gb);
        for (int64_t h = 0; h < H; ++h) {
          GW[p * H + h] = static_cast<float>(dgw[h]);
          GG[p * H + h] = static_cast<float>(dsdyx[h]);
          GBT[p * H + h] = static_cast<float>(dsdy[h]);
          // dh0 = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
          c0[h] = g[h] * IS[p * H + h];
          c1[h] = static_cast<float>(dsdy[h] / R);
          c2[h] = static_cast<float>(dsdyx[h] / R);
        }
        const float* __restrict__ c0v = c0.data();
        const float* __restrict__ c1v = c1.data();
        const float* __restrict__ c2v = c2.data();
        float* ga = GHA + p * B * H;
        float* gc = GHC + p * B * H;
        for (int64_t r = 0; r < R; ++r) {
          // gha and ghc are different buffers
          RowBackwardInput(H, x + r * H, g, bt, w, gsp[r], c0v, c1v, c2v, ga + ai[r] * H, gc + ci[r] * H);
        }
      }
    });
  }
};

// Adds g to t's .grad (autograd's accumulation into a leaf).
static void AccumulateGrad(const at::Tensor& t, const at::Tensor& g) {
  at::Tensor& slot = const_cast<at::Tensor&>(t).mutable_grad();
  if (slot.defined()) slot = slot.add(g.view(t.sizes()));
  else slot = g.view(t.sizes()).clone();
}

void RegisterCritic(Napi::Env env, Napi::Object e) {
  (void)env;
  // stacked_critic_step(a [P,B,dA], c [P,B,dC], params [wa, wc, b0, (gamma_l, beta_l, w_l+1, b_l+1)..],
  //   negatives (K > 0 sampled partners; 0 = all pairs), condition [B]?, logW [P,B]?, scoreBound,
  //   objective ("dv" | "jsd"), logEma (number[P], NaN = unset), emaRate, atenOnly?)
  // atenOnly: skip the hand-written one-layer kernel (tests compare the two).
  // -> { lme: number[P], posMean: number[P], logEma: number[P], finite: boolean }
  // With finite false (some posMean - lme is NaN/Inf) nothing is updated and no gradient is taken.
  MIMMX_DEF(e, "stacked_critic_step", {
    const at::Tensor& A = a.tensor(0);
    const at::Tensor& C = a.tensor(1);
    std::vector<at::Tensor> params = a.tensors(2);
    int64_t k = a.int64(3);
    c10::optional<at::Tensor> condOpt = a.optTensor(4);
    c10::optional<at::Tensor> logWOpt = a.optTensor(5);
    double bound = a.number(6, 0);
    std::string objective = a.string(7);
    if (objective != "dv" && objective != "jsd") throw a.error("objective must be 'dv' or 'jsd', got '" + objective + "'");
    double rate = a.number(9);

    if (A.dim() != 3 || C.dim() != 3 || A.size(0) != C.size(0) || A.size(1) != C.size(1)) {
      throw a.error("a and c must be [P, B, d] with equal P and B");
    }
    if (params.size() < 7 || (params.size() - 3) % 4 != 0) {
      throw a.error("params must be [wa, wc, b0] then 4 tensors per hidden layer, got " + std::to_string(params.size()));
    }
    const int64_t P = A.size(0), B = A.size(1);
    at::Tensor kernRows[2];
    if (B < 2) throw a.error("a batch of at least 2 is needed for negatives");
    if (k < 0) throw a.error("negatives must be K > 0 or 0 (all pairs)");
    std::vector<double> ema = Doubles(a, a.value(8), "logEma");
    if (static_cast<int64_t>(ema.size()) != P) throw a.error("logEma must have one value per pair (" + std::to_string(P) + ")");
    if (!(rate > 0 && rate <= 1)) throw a.error("emaRate must be in (0, 1]");
    CriticParams w;
    w.wa = params[0];
    w.wc = params[1];
    w.b0 = params[2];
    for (size_t i = 3; i < params.size(); i += 4) {
      w.gammas.push_back(params[i]);
      w.betas.push_back(params[i + 1]);
      w.weights.push_back(params[i + 2]);
      w.biases.push_back(params[i + 3]);
    }
    at::Tensor cond = condOpt ? *condOpt : at::Tensor();
    at::Tensor logW = logWOpt ? *logWOpt : at::Tensor();
    if (logW.defined() && (logW.dim() != 2 || logW.size(0) != P || logW.size(1) != B)) {
      throw a.error("logW must be [P, B] = [" + std::to_string(P) + ", " + std::to_string(B) + "], got " + DescribeTensor(logW));
    }

    at::AutoGradMode grad_mode(true);
    // Index tensors and constants live on the features' device: on CUDA the ATen path runs there.
    const at::TensorOptions idxOpts = at::TensorOptions().dtype(at::kLong).device(A.device());
    const int64_t H = w.wa.size(2);
    at::Tensor partnersFlat;  // [B*K] (sampled negatives)
    if (k > 0) {
      at::Tensor idx = at::arange(JsScalar(0), JsScalar(static_cast<double>(B)), JsScalar(1), idxOpts);
      partnersFlat = idx.unsqueeze(1).add(at::randint(1, B, {B, k}, idxOpts)).remainder(JsScalar(static_cast<double>(B))).flatten();
    }
    // The hand-written kernel: one hidden layer, float32 on the CPU (the default critic); else the
    // same ops as the TS path through ATen's autograd.
    const bool useKernel = w.weights.size() == 1 && A.scalar_type() == at::kFloat && C.scalar_type() == at::kFloat &&
                           A.device().is_cpu() && w.wa.scalar_type() == at::kFloat && !a.boolean(10, false);
    OneLayerKernel kern;
    at::Tensor rawScores;  // kernel path: the leaf whose gradient the kernel's backward takes
    at::Tensor scores;     // [P, R]: R = B + B*K (sampled) or B*B (all)
    if (useKernel) {
      at::Tensor ha, hc;
      {
        at::NoGradGuard no_grad;
        ha = A.matmul(w.wa).contiguous();
        hc = C.matmul(w.wc).add(w.b0).contiguous();
      }
      at::Tensor rowsA, rowsC;
      at::Tensor ar = at::arange(B, idxOpts);
      if (k > 0) {
        rowsA = at::cat({ar, ar.repeat_interleave(k)});
        rowsC = at::cat({ar, partnersFlat});
      } else {
        rowsA = ar.repeat_interleave(B);
        rowsC = ar.repeat({B});
      }
      rowsA = rowsA.contiguous();
      rowsC = rowsC.contiguous();
      kern.P = P;
      kern.B = B;
      kern.H = H;
      kern.R = rowsA.size(0);
      kern.ai = rowsA.data_ptr<int64_t>();
      kern.ci = rowsC.data_ptr<int64_t>();
      kern.ha = ha;
      kern.hc = hc;
      kern.gamma = w.gammas[0].detach().contiguous();
      kern.beta = w.betas[0].detach().contiguous();
      kern.w1 = w.weights[0].detach().contiguous();
      kern.b1 = w.biases[0].detach().contiguous();
      {
        at::NoGradGuard no_grad;
        rawScores = kern.Forward();
      }
      rawScores.requires_grad_(true);
      scores = bound > 0 ? rawScores.div(JsScalar(bound)).tanh().mul(JsScalar(bound)) : rawScores;
      // keep the index tensors alive for Backward
      kern.ai = nullptr;
      kern.ci = nullptr;
      kernRows[0] = rowsA;
      kernRows[1] = rowsC;
    } else {
      at::Tensor ha = A.matmul(w.wa);             // [P, B, H]
      at::Tensor hc = C.matmul(w.wc).add(w.b0);  // [P, B, H]
      if (k == 0) {
        at::Tensor grid = ha.unsqueeze(2).add(hc.unsqueeze(1)).view({P, B * B, H});
        scores = Head(w, grid, bound);
      } else {
        at::Tensor negH = ha.unsqueeze(2).add(hc.index_select(1, partnersFlat).view({P, B, k, H})).view({P, B * k, H});
        scores = Head(w, at::cat({ha.add(hc), negH}, 1), bound);
      }
    }
    at::Tensor pos, neg, mask, negLogW;
    if (k == 0) {
      at::Tensor m = scores.view({P, B, B});
      at::Tensor idx = at::arange(JsScalar(0), JsScalar(static_cast<double>(B)), JsScalar(1), idxOpts);
      at::Tensor pm = idx.unsqueeze(1).ne(idx.unsqueeze(0));
      if (cond.defined()) pm = pm.logical_and(cond.unsqueeze(1).eq(cond.unsqueeze(0)));
      pos = m.diagonal(0, 1, 2);
      at::Tensor full = pm.unsqueeze(0).expand({P, B, B});
      neg = m.masked_select(full).view({P, -1});
      if (logW.defined()) negLogW = logW.unsqueeze(2).add(logW.unsqueeze(1)).masked_select(full).view({P, -1});
    } else {
      pos = scores.narrow(1, 0, B);
      neg = scores.narrow(1, B, B * k);
      if (logW.defined()) negLogW = logW.repeat_interleave(k, 1).add(logW.index_select(1, partnersFlat));
      if (cond.defined()) {
        mask = cond.index_select(0, partnersFlat).eq(cond.repeat_interleave(k)).unsqueeze(0).expand({P, B * k});
      }
    }

    // stackedLogMeanExp
    at::Tensor lw = NegLogWeights(neg, negLogW, mask);
    at::Tensor lme = lw.defined() ? neg.add(lw).logsumexp(1).sub(lw.logsumexp(1))
                                  : neg.logsumexp(1).sub(JsScalar(std::log(static_cast<double>(neg.size(1)))));
    at::Tensor posMean = PosMean(pos, logW);
    std::vector<double> lmeValues, posMeans;
    {
      at::NoGradGuard no_grad;
      lmeValues = ToDoubles(lme);
      posMeans = ToDoubles(posMean);
    }
    Napi::Object out = Napi::Object::New(a.env());
    out.Set("lme", NumberArray(a.env(), lmeValues));
    out.Set("posMean", NumberArray(a.env(), posMeans));
    bool finite = true;
    for (int64_t i = 0; i < P; ++i) finite = finite && std::isfinite(posMeans[i] - lmeValues[i]);
    out.Set("finite", Napi::Boolean::New(a.env(), finite));
    if (!finite) return out;

    for (int64_t i = 0; i < P; ++i) ema[i] = LogEmaUpdate(ema[i], lmeValues[i], rate);
    out.Set("logEma", NumberArray(a.env(), ema));

    at::Tensor surrogates;
    if (objective == "jsd") {
      // stackedJsdSurrogate: posMean(softplus(-pos)).neg() - negMean(softplus(neg))
      at::Tensor spNeg = at::softplus(neg, JsScalar(1), JsScalar(20));
      at::Tensor lw2 = NegLogWeights(neg, negLogW, mask);
      at::Tensor negTerm = lw2.defined() ? spNeg.mul(lw2.softmax(1)).sum(1) : spNeg.mean(1);
      surrogates = PosMean(at::softplus(pos.neg(), JsScalar(1), JsScalar(20)), logW).neg().sub(negTerm);
    } else {
      // stackedSurrogate with log(EMA) as a float32 tensor, as tensor(number[]) makes it
      std::vector<float> emaF(ema.begin(), ema.end());
      at::Tensor logEmaT = at::tensor(emaF, at::TensorOptions().dtype(at::kFloat)).to(A.device());
      surrogates = PosMean(pos, logW).sub(lme.sub(logEmaT).exp());
    }
    at::Tensor loss = surrogates.sum().neg();
    if (!useKernel) {
      torch::autograd::backward({loss}, {}, false, false);
      return out;
    }
    at::Tensor gs = torch::autograd::grad({loss}, {rawScores}, {}, false, false, false)[0];
    at::NoGradGuard no_grad;
    kern.ai = kernRows[0].data_ptr<int64_t>();
    kern.ci = kernRows[1].data_ptr<int64_t>();
    at::Tensor gha, ghc, ggamma, gbeta, gw1, gb1;
    kern.Backward(gs, gha, ghc, ggamma, gbeta, gw1, gb1);
    // ha = a @ wa, hc = c @ wc + b0
    AccumulateGrad(w.wa, A.transpose(1, 2).matmul(gha));
    AccumulateGrad(w.wc, C.transpose(1, 2).matmul(ghc));
    AccumulateGrad(w.b0, ghc.sum(1, true));
    AccumulateGrad(w.gammas[0], ggamma);
    AccumulateGrad(w.betas[0], gbeta);
    AccumulateGrad(w.weights[0], gw1);
    AccumulateGrad(w.biases[0], gb1);
    return out;
  });
}

}  // namespace mimmx

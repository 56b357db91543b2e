// mimmx_image: the per-image kernels of the data pipeline (bilinear resize, min-max scaling, CLAHE)
// in C++, for the pipeline's hot path. A separate addon from mimmx_native on purpose: it has no
// libtorch and no global state, so every loader worker thread can load its own instance.
//
// Each kernel computes exactly what its TypeScript reference computes (src/data/transforms/*.ts
// documents the algorithms; they are checked there against OpenCV and PyTorch): the same float32
// and double roundings in the same order, so an item is bit-identical whichever ran. Arguments are
// validated by the TypeScript wrapper (src/data/transforms/native-image.ts); here they are only
// checked for size, so a wrong call throws instead of reading out of bounds.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

Napi::Float32Array Input(const Napi::CallbackInfo& info, size_t i, size_t want, const char* fn) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": argument " + std::to_string(i) + " must be a Float32Array");
  auto a = info[i].As<Napi::Float32Array>();
  if (a.ElementLength() < want)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": the array holds " + std::to_string(a.ElementLength()) +
                                                " values, the shape needs " + std::to_string(want));
  return a;
}

int64_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

// resizeBilinear(src, C, H, W, outH, outW): align_corners = false, edge taps clamped (geometry.ts).
Napi::Value ResizeBilinear(const Napi::CallbackInfo& info) {
  const int64_t c = Int(info, 1), h = Int(info, 2), w = Int(info, 3), oh = Int(info, 4), ow = Int(info, 5);
  const float* data = Input(info, 0, c * h * w, "resizeBilinear").Data();
  auto outArr = Napi::Float32Array::New(info.Env(), c * oh * ow);
  float* out = outArr.Data();
  const double sy = static_cast<double>(h) / oh;
  const double sx = static_cast<double>(w) / ow;
  std::vector<int64_t> x0s(ow), x1s(ow);
  std::vector<float> fxs(ow);
  for (int64_t x = 0; x < ow; x++) {
    double fx = (x + 0.5) * sx - 0.5;
    if (fx < 0) fx = 0;
    const int64_t x0 = std::min(static_cast<int64_t>(std::floor(fx)), w - 1);
    x0s[x] = x0;
    x1s[x] = std::min(x0 + 1, w - 1);
    fxs[x] = static_cast<float>(fx - x0);
  }
  for (int64_t ch = 0; ch < c; ch++) {
    const float* src = data + ch * h * w;
    float* dst = out + ch * oh * ow;
    for (int64_t y = 0; y < oh; y++) {
      double fy = (y + 0.5) * sy - 0.5;
      if (fy < 0) fy = 0;
      const int64_t y0 = std::min(static_cast<int64_t>(std::floor(fy)), h - 1);
      const int64_t y1 = std::min(y0 + 1, h - 1);
      const double wy = fy - y0;
      const float* r0 = src + y0 * w;
      const float* r1 = src + y1 * w;
      for (int64_t x = 0; x < ow; x++) {
        const int64_t a0 = x0s[x], a1 = x1s[x];
        const double fx = fxs[x];
        const double a = r0[a0] + (static_cast<double>(r0[a1]) - r0[a0]) * fx;
        const double b = r1[a0] + (static_cast<double>(r1[a1]) - r1[a0]) * fx;
        dst[y * ow + x] = static_cast<float>(a + (b - a) * wy);
      }
    }
  }
  return outArr;
}

// minMax(src, C, lo, hi): each channel's [min, max] to [lo, hi]; a constant channel becomes lo
// (intensity.ts).
Napi::Value MinMax(const Napi::CallbackInfo& info) {
  auto in = Input(info, 0, 0, "minMax");
  const int64_t c = Int(info, 1);
  const double lo = info[2].As<Napi::Number>().DoubleValue();
  const double hi = info[3].As<Napi::Number>().DoubleValue();
  const size_t total = in.ElementLength();
  if (c < 1 || total % c != 0)
    throw Napi::RangeError::New(info.Env(), "minMax: " + std::to_string(total) + " values are not " +
                                                std::to_string(c) + " equal channels");
  const float* src = in.Data();
  const size_t n = total / c;
  auto outArr = Napi::Float32Array::New(info.Env(), total);
  float* out = outArr.Data();
  for (int64_t ch = 0; ch < c; ch++) {
    const float* s = src + ch * n;
    float* o = out + ch * n;
    // NaN never wins a comparison, exactly as in the TypeScript loop.
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
      const double v = s[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    const double r = mx - mn;
    if (!(r > 0)) {
      std::fill(o, o + n, static_cast<float>(lo));
      continue;
    }
    const double k = (hi - lo) / r;
    for (size_t i = 0; i < n; i++) o[i] = static_cast<float>(lo + (s[i] - mn) * k);
  }
  return outArr;
}

int Reflect101(int64_t i, int64_t n) {
  if (n == 1) return 0;
  int64_t k = i;
  while (k < 0 || k >= n) k = k < 0 ? -k : 2 * (n - 1) - k;
  return static_cast<int>(k);
}

// clahe(src, C, H, W, tilesY, tilesX, bins, clipLimit): OpenCV's createCLAHE, see clahe.ts for the
// steps and the conventions (reflect-101 extension, clip and redistribution, rounded LUT, blend).
Napi::Value Clahe(const Napi::CallbackInfo& info) {
  const int64_t C = Int(info, 1), H = Int(info, 2), W = Int(info, 3), ty = Int(info, 4), tx = Int(info, 5);
  const int64_t bins = Int(info, 6);
  const double clipLimit = info[7].As<Napi::Number>().DoubleValue();
  const float* src = Input(info, 0, C * H * W, "clahe").Data();
  if (ty < 1 || tx < 1 || ty > H || tx > W || bins < 2 || bins > 65536)
    throw Napi::RangeError::New(info.Env(), "clahe: tile grid or bins out of range");

  const bool divisible = H % ty == 0 && W % tx == 0;
  const int64_t he = divisible ? H : H + ty - (H % ty);
  const int64_t we = divisible ? W : W + tx - (W % tx);
  const int64_t th = he / ty, tw = we / tx, area = th * tw;
  const int64_t limit =
      clipLimit > 0 ? std::max<int64_t>(1, static_cast<int64_t>(std::floor((clipLimit * area) / bins))) : 0;
  const float lutScale = static_cast<float>(static_cast<double>(bins - 1) / area);
  const int32_t top = static_cast<int32_t>(bins - 1);

  std::vector<int32_t> srcX(we), srcY(he);
  for (int64_t x = 0; x < we; x++) srcX[x] = Reflect101(x, W);
  for (int64_t y = 0; y < he; y++) srcY[y] = Reflect101(y, H);
  std::vector<int64_t> lx0(W), lx1(W);
  std::vector<float> wx(W);
  const float invTw = static_cast<float>(1.0 / tw);
  for (int64_t x = 0; x < W; x++) {
    const float f = static_cast<float>(x) * invTw - 0.5f;  // fround(fround(x * fround(1/tw)) - 0.5)
    const int64_t t0 = static_cast<int64_t>(std::floor(f));
    wx[x] = f - static_cast<float>(t0);
    lx0[x] = std::max<int64_t>(t0, 0) * bins;
    lx1[x] = std::min<int64_t>(t0 + 1, tx - 1) * bins;
  }
  const float invTh = static_cast<float>(1.0 / th);
  const double invTop = 1.0 / top;

  // Work buffers kept per thread across calls: a 16-bit image's tile maps are 64 x 65536 floats
  // (16 MiB), which would otherwise be allocated and zeroed for every image. Every element used is
  // written before it is read (levels per image, hist per tile, each tile's map in full).
  thread_local std::vector<int32_t> levels, hist;
  thread_local std::vector<float> lut;
  if (levels.size() < static_cast<size_t>(H * W)) levels.resize(H * W);
  if (hist.size() < static_cast<size_t>(bins)) hist.resize(bins);
  if (lut.size() < static_cast<size_t>(ty * tx * bins)) lut.resize(ty * tx * bins);
  auto outArr = Napi::Float32Array::New(info.Env(), C * H * W);
  float* out = outArr.Data();
  for (int64_t c = 0; c < C; c++) {
    const float* s = src + c * H * W;
    // Nearest level, clamped to [0, top] (NaN -> 0): v * top + 0.5 truncated rounds for v >= 0.
    for (int64_t i = 0; i < H * W; i++) {
      const double v = s[i];
      levels[i] = v >= 1 ? top : v > 0 ? static_cast<int32_t>(v * top + 0.5) : 0;
    }
    for (int64_t j = 0; j < ty; j++)
      for (int64_t i = 0; i < tx; i++) {
        std::fill(hist.begin(), hist.begin() + bins, 0);
        for (int64_t y = j * th; y < (j + 1) * th; y++) {
          const int32_t* row = levels.data() + static_cast<int64_t>(srcY[y]) * W;
          for (int64_t x = i * tw; x < (i + 1) * tw; x++) hist[row[srcX[x]]]++;
        }
        if (limit > 0) {
          int64_t clipped = 0;
          for (int64_t b = 0; b < bins; b++)
            if (hist[b] > limit) {
              clipped += hist[b] - limit;
              hist[b] = static_cast<int32_t>(limit);
            }
          const int64_t batch = clipped / bins;
          int64_t residual = clipped - batch * bins;
          for (int64_t b = 0; b < bins; b++) hist[b] += static_cast<int32_t>(batch);
          if (residual > 0) {
            const int64_t step = std::max<int64_t>(bins / residual, 1);
            for (int64_t b = 0; b < bins && residual > 0; b += step, residual--) hist[b]++;
          }
        }
        float* map = lut.data() + (j * tx + i) * bins;
        int64_t sum = 0;
        for (int64_t b = 0; b < bins; b++) {
          sum += hist[b];
          // float product, then round half to even (the default rounding mode), as cvRound does.
          const float v = std::nearbyint(static_cast<float>(sum) * lutScale);
          map[b] = std::min(v, static_cast<float>(top));
        }
      }
    float* o = out + c * H * W;
    for (int64_t y = 0; y < H; y++) {
      const float f = static_cast<float>(y) * invTh - 0.5f;
      const int64_t t0 = static_cast<int64_t>(std::floor(f));
      const double fy = static_cast<double>(f) - static_cast<double>(t0);
      const float* r0 = lut.data() + std::max<int64_t>(t0, 0) * tx * bins;
      const float* r1 = lut.data() + std::min<int64_t>(t0 + 1, ty - 1) * tx * bins;
      const int32_t* q = levels.data() + y * W;
      for (int64_t x = 0; x < W; x++) {
        const int64_t a = lx0[x] + q[x], b = lx1[x] + q[x];
        const double fx = wx[x];
        const double upper = r0[a] + (static_cast<double>(r0[b]) - r0[a]) * fx;
        const double lower = r1[a] + (static_cast<double>(r1[b]) - r1[a]) * fx;
        o[y * W + x] = static_cast<float>((upper + (lower - upper) * fy) * invTop);
      }
    }
  }
  return outArr;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("resizeBilinear", Napi::Function::New(env, ResizeBilinear));
  exports.Set("minMax", Napi::Function::New(env, MinMax));
  exports.Set("clahe", Napi::Function::New(env, Clahe));
  return exports;
}

}  // namespace

NODE_API_MODULE(mimmx_image, Init)

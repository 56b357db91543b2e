// The JS side of the collectives (dist.h): plain collectives, differentiable all-reduce and
// all-gather (SyncBatchNorm, critics on the global batch), and the gradient bucket reducer of
// DistributedDataParallel. No c10d header here: everything goes through dist.h.
#include "common.h"
#include "dist.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <map>
#include <memory>
#include <mutex>

namespace mimmx {

namespace {

// y = sum over ranks of x. Backward: the gradient of the sum over ranks of each rank's loss, which
// is again a sum over ranks. With the reducer averaging parameter gradients afterwards this gives
// exactly the gradient of the mean of the ranks' losses (SyncBatchNorm's statistics use it).
struct AllReduceSumFn : public torch::autograd::Function<AllReduceSumFn> {
  static at::Tensor forward(torch::autograd::AutogradContext*, const at::Tensor& x) {
    at::Tensor y = x.clone(at::MemoryFormat::Contiguous);
    dist::allReduce(y, "sum");
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grads) {
    at::Tensor g = grads[0].clone(at::MemoryFormat::Contiguous);
    dist::allReduce(g, "sum");
    return {g};
  }
};

// y = the ranks' x concatenated along dim 0. Backward: this rank's rows of the summed gradient
// (every rank's loss may depend on every row), as torch.distributed.nn.all_gather does. With
// `replicated` the caller promises that every rank computes the same loss from y (MIMM-X's
// critics on the global batch: same rows, same negatives), so every rank already holds the same
// gradient of y, and the sum the all-reduce would produce is world x this rank's rows of it: one
// collective less per step, and the same value up to the last bits.
struct AllGatherFn : public torch::autograd::Function<AllGatherFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, bool replicated) {
    ctx->saved_data["rows"] = x.size(0);
    ctx->saved_data["replicated"] = replicated;
    return dist::allGather(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    int64_t rows = ctx->saved_data["rows"].toInt();
    at::Tensor own = grads[0].narrow(0, dist::rank() * rows, rows);
    if (ctx->saved_data["replicated"].toBool()) return {own.mul(static_cast<double>(dist::worldSize())), at::Tensor()};
    at::Tensor g = grads[0].clone(at::MemoryFormat::Contiguous);
    dist::allReduce(g, "sum");
    return {g.narrow(0, dist::rank() * rows, rows).clone(), at::Tensor()};
  }
};

// DistributedDataParallel's gradient reduction, after PyTorch's reducer: parameters are grouped,
// in reverse registration order (roughly the order backward produces their gradients), into
// buckets of about `bucketBytes`. A post-hook on each parameter's gradient accumulator marks it
// ready; a bucket whose parameters are all ready is copied into one flat tensor and its all-reduce
// launched at once, so communication overlaps the rest of the backward pass. Buckets launch in
// index order only, so every rank issues the same collectives in the same order. At the end of
// the backward pass (the engine's final callback) the remaining buckets launch, all are awaited,
// and each ready parameter's .grad becomes the mean over ranks. Parameters that got no gradient in
// this backward pass contribute zeros and keep their .grad.
class BucketReducer : public std::enable_shared_from_this<BucketReducer> {
 public:
  BucketReducer(std::vector<at::Tensor> params, int64_t bucketBytes) : params_(std::move(params)) {
    for (size_t i = 0; i < params_.size(); ++i) {
      const at::Tensor& p = params_[i];
      if (!p.requires_grad() || !p.is_leaf())
        throw std::runtime_error("DistributedDataParallel: parameter " + std::to_string(i) + " (" +
                                 DescribeTensor(p) + ") is not a leaf that requires grad");
    }
    Bucket current;
    int64_t bytes = 0;
    for (size_t k = params_.size(); k-- > 0;) {
      const at::Tensor& p = params_[k];
      bool sameKind = current.params.empty() || (p.scalar_type() == params_[current.params[0]].scalar_type() &&
                                                 p.device() == params_[current.params[0]].device());
      int64_t pBytes = p.numel() * static_cast<int64_t>(p.element_size());
      if (!current.params.empty() && (!sameKind || bytes + pBytes > bucketBytes)) {
        buckets_.push_back(std::move(current));
        current = Bucket();
        bytes = 0;
      }
      current.params.push_back(k);
      bytes += pBytes;
    }
    if (!current.params.empty()) buckets_.push_back(std::move(current));
    bucketOf_.resize(params_.size());
    offsetOf_.resize(params_.size());
    for (size_t b = 0; b < buckets_.size(); ++b) {
      int64_t n = 0;
      for (size_t k : buckets_[b].params) {
        bucketOf_[k] = b;
        offsetOf_[k] = n;
        n += params_[k].numel();
      }
      const at::Tensor& first = params_[buckets_[b].params[0]];
      buckets_[b].flat = at::zeros({n}, first.options().requires_grad(false));
    }
    ready_.assign(params_.size(), false);
    syncedImpl_.assign(params_.size(), nullptr);
    syncedVersion_.assign(params_.size(), 0);
    resetBuckets();
  }

  // Installs the hooks; separate from the constructor because the hooks hold weak_ptrs to this.
  void install() {
    std::weak_ptr<BucketReducer> self = shared_from_this();
    for (size_t i = 0; i < params_.size(); ++i) {
      std::shared_ptr<torch::autograd::Node> acc = torch::autograd::impl::grad_accumulator(params_[i]);
      uintptr_t key = acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [self, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
            if (auto r = self.lock()) r->markReady(i);
            return outputs;
          }));
      // Kept alive here: a parameter holds its accumulator only weakly, and a new one (without
      // the hook) would be made for the next graph.
      accumulators_.push_back({acc, key});
    }
  }

  void uninstall() {
    for (auto& [acc, key] : accumulators_) acc->del_post_hook(key);
    accumulators_.clear();
  }

  ~BucketReducer() { uninstall(); }

  void setEnabled(bool on) { enabled_ = on; }

  // Gradients the hooks did not reduce: set by hand (p.grad = ..., as MIMM-X does for its heads),
  // changed after the pass that reduced them, or accumulated under noSync. Called right before the
  // optimizer steps. The ranks agree on the set (the union of their stale parameters) and average
  // those gradients. Returns how many.
  //
  // A method takes the same path every step, so the set is almost always last call's. The first
  // collective therefore carries, beside this rank's stale mask, the gradients of last call's set:
  // when the union comes back equal to it, that one collective was the whole sync. Otherwise (the
  // first call, a changed path) the agreed set's gradients are averaged in buckets after it. Every
  // rank sees the same summed mask, so every rank takes the same branch.
  int64_t syncStale(int64_t bucketBytes) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t P = static_cast<int64_t>(params_.size());
    // Last call's set rides along only when it fits one float bucket on one device.
    bool carry = !expected_.empty();
    int64_t carried = 0;
    for (size_t k : expected_) {
      const at::Tensor& p = params_[k];
      carry = carry && p.scalar_type() == at::kFloat && p.device() == params_[expected_[0]].device();
      carried += p.numel();
    }
    carry = carry && (P + carried) * 4 <= bucketBytes;
    at::Tensor maskHost = at::zeros({P}, at::kFloat);
    auto* m = maskHost.data_ptr<float>();
    for (int64_t k = 0; k < P; ++k)
      if (isStale(static_cast<size_t>(k))) m[k] = 1;
    at::NoGradGuard noGrad;
    double world = static_cast<double>(dist::worldSize());
    at::Tensor flat = maskHost;
    if (carry) {
      flat = at::zeros({P + carried}, params_[expected_[0]].options().requires_grad(false));
      flat.narrow(0, 0, P).copy_(maskHost);
      int64_t off = P;
      for (size_t k : expected_) {
        const at::Tensor& g = params_[k].grad();
        if (g.defined()) flat.narrow(0, off, params_[k].numel()).copy_(g.reshape({-1}));
        off += params_[k].numel();
      }
    }
    dist::allReduceSumAsync(flat)->wait();
    ++staleCollectives_;
    at::Tensor summed = flat.narrow(0, 0, P).cpu();
    const float* sm = summed.data_ptr<float>();
    std::vector<size_t> stale;
    for (int64_t k = 0; k < P; ++k)
      if (sm[k] > 0) stale.push_back(static_cast<size_t>(k));
    if (carry && stale == expected_) {
      flat.div_(world);
      int64_t off = P;
      for (size_t k : stale) {
        setMean(k, flat.narrow(0, off, params_[k].numel()));
        off += params_[k].numel();
      }
      return static_cast<int64_t>(stale.size());
    }
    expected_ = stale;
    size_t start = 0;
    while (start < stale.size()) {
      // One bucket: consecutive stale parameters of one dtype, up to bucketBytes.
      size_t end = start;
      int64_t n = 0, bytes = 0;
      const at::Tensor& first = params_[stale[start]];
      while (end < stale.size()) {
        const at::Tensor& p = params_[stale[end]];
        int64_t pBytes = p.numel() * static_cast<int64_t>(p.element_size());
        if (end > start && (p.scalar_type() != first.scalar_type() || p.device() != first.device() || bytes + pBytes > bucketBytes)) break;
        n += p.numel();
        bytes += pBytes;
        ++end;
      }
      at::Tensor bucket = at::zeros({n}, first.options().requires_grad(false));
      int64_t off = 0;
      for (size_t j = start; j < end; ++j) {
        const at::Tensor& p = params_[stale[j]];
        const at::Tensor& g = p.grad();
        // A parameter stale elsewhere but without a gradient here contributes zeros.
        if (g.defined()) bucket.narrow(0, off, p.numel()).copy_(g.reshape({-1}));
        off += p.numel();
      }
      dist::allReduceSumAsync(bucket)->wait();
      ++staleCollectives_;
      bucket.div_(world);
      off = 0;
      for (size_t j = start; j < end; ++j) {
        setMean(stale[j], bucket.narrow(0, off, params_[stale[j]].numel()));
        off += params_[stale[j]].numel();
      }
      start = end;
    }
    return static_cast<int64_t>(stale.size());
  }
  // The first parameter whose gradient is not the one the reducer last wrote (-1: none). Local.
  int64_t firstStale() {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t k = 0; k < params_.size(); ++k)
      if (isStale(k)) return static_cast<int64_t>(k);
    return -1;
  }
  int64_t numBuckets() const { return static_cast<int64_t>(buckets_.size()); }
  // How many buckets were launched during backward passes (overlapped), and at their end.
  int64_t launchedEarly() const { return launchedEarly_; }
  int64_t launchedAtEnd() const { return launchedAtEnd_; }
  int64_t backwardPasses() const { return passes_; }
  // collectives syncStale issued (one per call when the set of stale parameters stays the same)
  int64_t staleCollectives() const { return staleCollectives_; }
  std::vector<int64_t> bucketSizes() const {
    std::vector<int64_t> out;
    for (const auto& b : buckets_) out.push_back(b.flat.numel());
    return out;
  }

 private:
  struct Bucket {
    std::vector<size_t> params;
    at::Tensor flat;
    size_t pending = 0;
    std::unique_ptr<dist::Pending> work;
  };

  void resetBuckets() {
    for (auto& b : buckets_) {
      b.pending = b.params.size();
      b.work.reset();
    }
    std::fill(ready_.begin(), ready_.end(), false);
    nextBucket_ = 0;
    callbackQueued_ = false;
  }

  void markReady(size_t i) {
    if (!enabled_) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (!callbackQueued_) {
      // First gradient of this backward pass: finish the reduction when the pass ends.
      std::weak_ptr<BucketReducer> self = shared_from_this();
      torch::autograd::Engine::get_default_engine().queue_callback([self] {
        if (auto r = self.lock()) r->finalize();
      });
      callbackQueued_ = true;
    }
    if (ready_[i]) return;  // a second accumulation in the same pass cannot happen; be safe
    ready_[i] = true;
    Bucket& b = buckets_[bucketOf_[i]];
    if (--b.pending == 0) {
      while (nextBucket_ < buckets_.size() && buckets_[nextBucket_].pending == 0) {
        launch(nextBucket_++);
        ++launchedEarly_;
      }
    }
  }

  void launch(size_t bi) {
    Bucket& b = buckets_[bi];
    for (size_t k : b.params) {
      at::Tensor slot = b.flat.narrow(0, offsetOf_[k], params_[k].numel());
      const at::Tensor& g = params_[k].grad();
      if (ready_[k] && g.defined()) slot.copy_(g.reshape({-1}));
      else slot.zero_();
    }
    b.work = dist::allReduceSumAsync(b.flat);
  }

  void finalize() {
    std::lock_guard<std::mutex> lock(mu_);
    ++passes_;
    while (nextBucket_ < buckets_.size()) {
      launch(nextBucket_++);
      ++launchedAtEnd_;
    }
    double world = static_cast<double>(dist::worldSize());
    try {
      for (auto& b : buckets_) b.work->wait();
    } catch (...) {
      resetBuckets();
      throw;
    }
    at::NoGradGuard noGrad;
    for (auto& b : buckets_) {
      b.flat.div_(world);
      for (size_t k : b.params) {
        if (!ready_[k]) continue;
        at::Tensor mean = b.flat.narrow(0, offsetOf_[k], params_[k].numel()).view(params_[k].sizes());
        at::Tensor& g = params_[k].mutable_grad();
        if (g.defined() && g.sizes() == params_[k].sizes()) g.copy_(mean);
        else g = mean.clone();
        record(k);
      }
    }
    resetBuckets();
  }

  // A gradient the reducer did not write: another tensor, or the same one changed since.
  bool isStale(size_t k) const {
    const at::Tensor& g = params_[k].grad();
    return g.defined() && (g.unsafeGetTensorImpl() != syncedImpl_[k] || g._version() != syncedVersion_[k]);
  }

  // Parameter k's .grad becomes `mean` (its flat slice of an averaged bucket).
  void setMean(size_t k, const at::Tensor& flatMean) {
    at::Tensor mean = flatMean.view(params_[k].sizes());
    at::Tensor& g = params_[k].mutable_grad();
    if (g.defined() && g.sizes() == params_[k].sizes()) g.copy_(mean);
    else g = mean.clone();
    record(k);
  }

  // Remembers which gradient tensor (and version of it) holds the mean over ranks, for syncStale.
  void record(size_t k) {
    const at::Tensor& g = params_[k].grad();
    syncedImpl_[k] = g.unsafeGetTensorImpl();
    syncedVersion_[k] = g._version();
  }

  std::vector<at::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucketOf_;
  std::vector<int64_t> offsetOf_;
  std::vector<bool> ready_;
  std::vector<const c10::TensorImpl*> syncedImpl_;
  std::vector<int64_t> syncedVersion_;
  // the set of stale parameters the ranks agreed on at the last syncStale
  std::vector<size_t> expected_;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> accumulators_;
  size_t nextBucket_ = 0;
  bool callbackQueued_ = false;
  bool enabled_ = true;
  int64_t launchedEarly_ = 0, launchedAtEnd_ = 0, passes_ = 0, staleCollectives_ = 0;
  std::mutex mu_;
};

// Reducers by id: the addon's one instance-data slot belongs to the Tensor class, so JS holds an
// id and frees it explicitly (DistributedDataParallel.dispose()).
std::map<int64_t, std::shared_ptr<BucketReducer>> g_reducers;
int64_t g_nextReducer = 1;

std::shared_ptr<BucketReducer> Reducer(Args& a, size_t i) {
  int64_t id = a.int64(i);
  auto it = g_reducers.find(id);
  if (it == g_reducers.end()) throw a.error("no gradient reducer " + std::to_string(id) + " (disposed?)");
  return it->second;
}

}  // namespace

void RegisterDist(Napi::Env env, Napi::Object e) {
  (void)env;
  // dist_init(host, port, rank, worldSize, backend, timeoutMs)
  MIMMX_DEF(e, "dist_init", {
    dist::InitOptions o;
    o.host = a.string(0);
    o.port = static_cast<int>(a.int64(1));
    o.rank = static_cast<int>(a.int64(2));
    o.worldSize = static_cast<int>(a.int64(3));
    o.backend = a.string(4);
    o.timeoutMs = a.int64(5);
    dist::init(o);
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "dist_destroy", {
    g_reducers.clear();
    dist::destroy();
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "dist_is_initialized", { return Napi::Boolean::New(a.env(), dist::initialized()); });
  MIMMX_DEF(e, "dist_rank", { return Napi::Number::New(a.env(), dist::rank()); });
  MIMMX_DEF(e, "dist_world_size", { return Napi::Number::New(a.env(), dist::worldSize()); });
  MIMMX_DEF(e, "dist_backend", { return Napi::String::New(a.env(), dist::backend()); });
  MIMMX_DEF(e, "dist_available_backends", { return Napi::String::New(a.env(), dist::availableBackends()); });
  // dist_all_reduce(t, op): in place
  MIMMX_DEF(e, "dist_all_reduce", {
    at::Tensor t = a.tensor(0);
    if (!t.is_contiguous()) throw a.error("allReduce needs a contiguous tensor");
    dist::allReduce(t, a.has(1) ? a.string(1) : "sum");
    return a.env().Undefined();
  });
  MIMMX_DEF(e, "dist_broadcast", {
    at::Tensor t = a.tensor(0);
    if (!t.is_contiguous()) throw a.error("broadcast needs a contiguous tensor");
    at::NoGradGuard noGrad;  // parameters are overwritten in place, outside autograd
    dist::broadcast(t, static_cast<int>(a.int64(1, 0)));
    return a.env().Undefined();
  });
  MIMMX_OP(e, "dist_all_gather", dist::allGather(a.tensor(0)));
  MIMMX_DEF(e, "dist_barrier", {
    dist::barrier(a.int64(0, 0));
    return a.env().Undefined();
  });
  MIMMX_OP(e, "dist_all_reduce_sum_autograd", AllReduceSumFn::apply(a.tensor(0)));
  MIMMX_DEF(e, "dist_all_gather_autograd", {
    const at::Tensor& x = a.tensor(0);
    if (x.dim() < 1) throw a.error("allGatherRows needs a tensor with a row dimension");
    return Wrap(a.env(), AllGatherFn::apply(x, a.boolean(1, false)));
  });
  // dist_reducer_new(params[], bucketBytes) -> id
  MIMMX_DEF(e, "dist_reducer_new", {
    if (!dist::initialized()) throw a.error("DistributedDataParallel needs a process group (initProcessGroup first)");
    int64_t cap = a.int64(1);
    if (cap < 1) throw a.error("bucket size must be positive, got " + std::to_string(cap));
    auto r = std::make_shared<BucketReducer>(a.tensors(0), cap);
    r->install();
    int64_t id = g_nextReducer++;
    g_reducers[id] = r;
    return Napi::Number::New(a.env(), static_cast<double>(id));
  });
  MIMMX_DEF(e, "dist_reducer_set_enabled", {
    Reducer(a, 0)->setEnabled(a.boolean(1));
    return a.env().Undefined();
  });
  // dist_reducer_sync_stale(id, bucketBytes) -> how many gradients it averaged
  MIMMX_DEF(e, "dist_reducer_sync_stale", {
    return Napi::Number::New(a.env(), static_cast<double>(Reducer(a, 0)->syncStale(a.int64(1))));
  });
  MIMMX_DEF(e, "dist_reducer_first_stale", {
    return Napi::Number::New(a.env(), static_cast<double>(Reducer(a, 0)->firstStale()));
  });
  MIMMX_DEF(e, "dist_reducer_stats", {
    auto r = Reducer(a, 0);
    Napi::Object o = Napi::Object::New(a.env());
    o.Set("buckets", Napi::Number::New(a.env(), static_cast<double>(r->numBuckets())));
    o.Set("launchedDuringBackward", Napi::Number::New(a.env(), static_cast<double>(r->launchedEarly())));
    o.Set("launchedAtEnd", Napi::Number::New(a.env(), static_cast<double>(r->launchedAtEnd())));
    o.Set("backwardPasses", Napi::Number::New(a.env(), static_cast<double>(r->backwardPasses())));
    o.Set("staleCollectives", Napi::Number::New(a.env(), static_cast<double>(r->staleCollectives())));
    auto sizes = r->bucketSizes();
    Napi::Array arr = Napi::Array::New(a.env(), sizes.size());
    for (size_t k = 0; k < sizes.size(); ++k) arr.Set(static_cast<uint32_t>(k), Napi::Number::New(a.env(), static_cast<double>(sizes[k])));
    o.Set("bucketNumels", arr);
    return o;
  });
  MIMMX_DEF(e, "dist_reducer_free", {
    auto it = g_reducers.find(a.int64(0));
    if (it != g_reducers.end()) {
      it->second->uninstall();
      g_reducers.erase(it);
    }
    return a.env().Undefined();
  });
}

}  // namespace mimmx

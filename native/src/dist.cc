// c10d behind dist.h: TCPStore rendezvous, ProcessGroupGloo (ProcessGroupNCCL under USE_C10D_NCCL)
// and the collectives. The only file of the addon that includes c10d headers (see dist.h for why).
#include "dist.h"

#include <stdexcept>

#ifndef MIMMX_NO_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include <pthread.h>

namespace mimmx {
namespace dist {

namespace {

// c10d 1.13's TCPStore gives up on the first EINTR from its socket calls, so a signal with a
// handler that lands while a rank waits for the master (a profiler's SIGPROF, node's SIGUSR1 for
// the inspector, a user's SIGUSR2) failed the rendezvous with "Interrupted system call". This holds
// those signals on the joining thread until the group is up; they are delivered then. SIGINT,
// SIGTERM, SIGHUP and SIGQUIT are not held: a stop request still ends a rendezvous at once. Gloo's
// threads, started inside, keep the mask, which only steers process signals to other threads.
class HeldSignals {
 public:
  HeldSignals() {
    sigset_t held;
    sigemptyset(&held);
    for (int s : {SIGPROF, SIGVTALRM, SIGALRM, SIGCHLD, SIGWINCH, SIGURG, SIGUSR1, SIGUSR2, SIGPIPE, SIGCONT})
      sigaddset(&held, s);
    pthread_sigmask(SIG_BLOCK, &held, &previous_);
  }
  ~HeldSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  HeldSignals(const HeldSignals&) = delete;
  HeldSignals& operator=(const HeldSignals&) = delete;

 private:
  sigset_t previous_;
};

// libtorch 2.x split ProcessGroup into a dispatching front and per-device Backends; the concrete
// Gloo/NCCL classes are Backends there and ProcessGroups in 1.13. Both expose the same collectives.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct State {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> group;
  InitOptions options;
};
State* g_state = nullptr;

State& Need(const char* op) {
  if (!g_state)
    throw std::runtime_error(std::string(op) + ": no process group (call initProcessGroup first)");
  return *g_state;
}

std::string Where(const char* op) {
  if (!g_state) return op;
  return std::string(op) + " (rank " + std::to_string(g_state->options.rank) + " of " +
         std::to_string(g_state->options.worldSize) + ", " + g_state->options.backend + ")";
}

// Runs a c10d call; its failure becomes one runtime_error that says which collective, which rank,
// and what a failure there usually means.
template <typename F>
auto Checked(const char* op, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const c10::Error& e) {
    throw std::runtime_error(Where(op) + " failed: " + e.what_without_backtrace() +
                             " (another rank has probably exited or stopped responding)");
  } catch (const std::exception& e) {
    throw std::runtime_error(Where(op) + " failed: " + e.what() +
                             " (another rank has probably exited or stopped responding)");
  }
}

void Wait(const c10::intrusive_ptr<c10d::Work>& work) { work->wait(); }

class PendingWork : public Pending {
 public:
  explicit PendingWork(c10::intrusive_ptr<c10d::Work> w) : work_(std::move(w)) {}
  void wait() override {
    Checked("allreduce (bucket)", [&] {
      Wait(work_);
      return 0;
    });
  }

 private:
  c10::intrusive_ptr<c10d::Work> work_;
};

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::shared_ptr<::gloo::transport::Device> GlooDevice(const std::string& master) {
  // torchrun's convention: GLOO_SOCKET_IFNAME names the interface to bind; otherwise the address
  // this machine's hostname resolves to. A loopback master means a one-machine run: bind loopback,
  // which works even where the hostname does not resolve.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    if (*ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (IsLoopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10d::ReduceOp Op(const std::string& op) {
  if (op == "sum" || op == "avg") return c10d::ReduceOp::SUM;  // Gloo has no AVG: sum, then divide
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  if (op == "product") return c10d::ReduceOp::PRODUCT;
  throw std::runtime_error("allReduce: unknown op \"" + op + "\" (sum, avg, max, min, product)");
}

}  // namespace

std::string availableBackends() {
#ifdef USE_C10D_NCCL
  return "gloo,nccl";
#else
  return "gloo";
#endif
}

void init(const InitOptions& o) {
  if (g_state)
    throw std::runtime_error("initProcessGroup: a process group already exists (destroy it first)");
  if (o.worldSize < 1) throw std::runtime_error("initProcessGroup: WORLD_SIZE must be >= 1, got " + std::to_string(o.worldSize));
  if (o.rank < 0 || o.rank >= o.worldSize)
    throw std::runtime_error("initProcessGroup: RANK " + std::to_string(o.rank) + " is outside [0, WORLD_SIZE=" +
                             std::to_string(o.worldSize) + ")");
  if (o.port < 1 || o.port > 65535)
    throw std::runtime_error("initProcessGroup: MASTER_PORT " + std::to_string(o.port) + " is not a port");
  if (o.timeoutMs < 1) throw std::runtime_error("initProcessGroup: the timeout must be positive");
  auto timeout = std::chrono::milliseconds(o.timeoutMs);
  auto state = std::make_unique<State>();
  state->options = o;
  std::string where = "initProcessGroup (rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) +
                      ", master " + o.host + ":" + std::to_string(o.port) + ")";
  try {
    HeldSignals held;
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(o.port);
    so.isServer = o.rank == 0;
    so.numWorkers = static_cast<std::size_t>(o.worldSize);
    so.waitWorkers = true;
    so.timeout = timeout;
    state->store = c10::make_intrusive<c10d::TCPStore>(o.host, so);
    if (o.backend == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      opts->devices.push_back(GlooDevice(o.host));
      opts->threads = 2;  // gloo's worker threads: one bucket in flight while the next is filled
      state->group = c10::make_intrusive<c10d::ProcessGroupGloo>(state->store, o.rank, o.worldSize, opts);
    } else if (o.backend == "nccl") {
#ifdef USE_C10D_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      state->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(state->store, o.rank, o.worldSize, opts);
#else
      throw std::runtime_error("backend \"nccl\": this addon was built without NCCL (a CPU libtorch); use \"gloo\"");
#endif
    } else {
      throw std::runtime_error("unknown backend \"" + o.backend + "\" (available: " + availableBackends() + ")");
    }
  } catch (const c10::Error& e) {
    throw std::runtime_error(where + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  g_state = state.release();
}

bool initialized() { return g_state != nullptr; }

void destroy() {
  delete g_state;  // the group closes its pairs, then the store its socket
  g_state = nullptr;
}

int rank() { return Need("rank").options.rank; }
int worldSize() { return Need("worldSize").options.worldSize; }
std::string backend() { return Need("backend").options.backend; }

void allReduce(at::Tensor& t, const std::string& op) {
  State& s = Need("allReduce");
  c10d::AllreduceOptions ao;
  ao.reduceOp = Op(op);
  std::vector<at::Tensor> ts{t};
  Checked("allReduce", [&] {
    Wait(s.group->allreduce(ts, ao));
    return 0;
  });
  if (op == "avg") t.div_(s.options.worldSize);
}

std::unique_ptr<Pending> allReduceSumAsync(at::Tensor t) {
  State& s = Need("allReduce");
  std::vector<at::Tensor> ts{std::move(t)};
  return Checked("allreduce (bucket)", [&] { return std::make_unique<PendingWork>(s.group->allreduce(ts)); });
}

void broadcast(at::Tensor& t, int src) {
  State& s = Need("broadcast");
  if (src < 0 || src >= s.options.worldSize)
    throw std::runtime_error("broadcast: src " + std::to_string(src) + " is not a rank of a world of " +
                             std::to_string(s.options.worldSize));
  c10d::BroadcastOptions bo;
  bo.rootRank = src;
  std::vector<at::Tensor> ts{t};
  Checked("broadcast", [&] {
    Wait(s.group->broadcast(ts, bo));
    return 0;
  });
}

at::Tensor allGather(const at::Tensor& t) {
  State& s = Need("allGather");
  at::Tensor in = t.contiguous();
  // Gloo needs the same size everywhere and would fail without saying which rank differs: compare
  // the shapes first (one small collective).
  constexpr int64_t kMaxDims = 8;
  if (in.dim() > kMaxDims) throw std::runtime_error("allGather: at most 8 dimensions, got " + std::to_string(in.dim()));
  at::Tensor shape = at::full({kMaxDims + 1}, -1, at::kLong);
  shape[0] = in.dim();
  for (int64_t d = 0; d < in.dim(); ++d) shape[d + 1] = in.size(d);
  std::vector<at::Tensor> shapes;
  for (int r = 0; r < s.options.worldSize; ++r) shapes.push_back(at::empty_like(shape));
  std::vector<std::vector<at::Tensor>> shapesOut{shapes};
  std::vector<at::Tensor> shapeIn{shape};
  Checked("allGather (shapes)", [&] {
    Wait(s.group->allgather(shapesOut, shapeIn));
    return 0;
  });
  for (int r = 0; r < s.options.worldSize; ++r) {
    if (!shapesOut[0][r].equal(shape)) {
      auto describe = [](const at::Tensor& sh) {
        std::string out = "[";
        for (int64_t d = 0; d < sh[0].item<int64_t>(); ++d) out += (d ? ", " : "") + std::to_string(sh[d + 1].item<int64_t>());
        return out + "]";
      };
      throw std::runtime_error("allGather: every rank must pass the same shape; rank " + std::to_string(s.options.rank) +
                               " has " + describe(shape) + ", rank " + std::to_string(r) + " has " +
                               describe(shapesOut[0][r]));
    }
  }
  std::vector<at::Tensor> outs;
  for (int r = 0; r < s.options.worldSize; ++r) outs.push_back(at::empty_like(in));
  std::vector<std::vector<at::Tensor>> out{outs};
  std::vector<at::Tensor> ins{in};
  Checked("allGather", [&] {
    Wait(s.group->allgather(out, ins));
    return 0;
  });
  if (in.dim() == 0) return at::stack(out[0]);
  return at::cat(out[0], 0);
}

void barrier(int64_t timeoutMs) {
  State& s = Need("barrier");
  c10d::BarrierOptions bo;
  if (timeoutMs > 0) bo.timeout = std::chrono::milliseconds(timeoutMs);
  Checked("barrier", [&] {
    Wait(s.group->barrier(bo));
    return 0;
  });
}

}  // namespace dist
}  // namespace mimmx

#else  // MIMMX_NO_C10D: this libtorch has no c10d/Gloo headers; every collective says so.

namespace mimmx {
namespace dist {
namespace {
[[noreturn]] void Missing() {
  throw std::runtime_error(
      "distributed training: this addon was built without c10d (no gloo headers were found next to "
      "libtorch; on Debian install libgloo-dev and rebuild)");
}
}  // namespace
std::string availableBackends() { return ""; }
void init(const InitOptions&) { Missing(); }
bool initialized() { return false; }
void destroy() {}
int rank() { Missing(); }
int worldSize() { Missing(); }
std::string backend() { Missing(); }
void allReduce(at::Tensor&, const std::string&) { Missing(); }
std::unique_ptr<Pending> allReduceSumAsync(at::Tensor) { Missing(); }
void broadcast(at::Tensor&, int) { Missing(); }
at::Tensor allGather(const at::Tensor&) { Missing(); }
void barrier(int64_t) { Missing(); }
}  // namespace dist
}  // namespace mimmx

#endif  // MIMMX_NO_C10D

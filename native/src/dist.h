// The addon's one layer over c10d, PyTorch's collective library: rendezvous through a TCPStore,
// a Gloo process group (NCCL where the libtorch has it), and the collectives the training code
// needs. Only dist.cc includes c10d headers: their API differs between libtorch 1.13 (Debian) and
// the 2.x builds that CUDA machines carry (ProcessGroup vs Backend), so a port touches one file.
// Every failure (unreachable master, a dead peer, a timeout) is thrown as std::runtime_error with a
// message naming the collective and this rank; the N-API guard turns it into a JS Error.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>

namespace mimmx {
namespace dist {

struct InitOptions {
  std::string host;     // MASTER_ADDR
  int port = 29500;     // MASTER_PORT: rank 0 serves the TCPStore on it
  int rank = 0;         // RANK
  int worldSize = 1;    // WORLD_SIZE
  std::string backend;  // "gloo" | "nccl"
  int64_t timeoutMs = 60000;  // rendezvous and every collective
};

// A collective in flight (launched, not yet waited for).
class Pending {
 public:
  virtual ~Pending() = default;
  // Blocks until the collective is done; throws when it failed or timed out.
  virtual void wait() = 0;
};

void init(const InitOptions& o);
bool initialized();
void destroy();
int rank();
int worldSize();
std::string backend();
// "gloo" and, when this libtorch was built with it and the addon with USE_C10D_NCCL, "nccl".
std::string availableBackends();

// In place. op: sum | avg | max | min | product.
void allReduce(at::Tensor& t, const std::string& op);
// In place sum, returned before it finishes (gradient buckets overlap it with the backward pass).
std::unique_ptr<Pending> allReduceSumAsync(at::Tensor t);
// In place: every rank ends with src's values.
void broadcast(at::Tensor& t, int src);
// Every rank's t (same shape on all ranks) concatenated along dim 0, in rank order.
at::Tensor allGather(const at::Tensor& t);
// timeoutMs > 0: this barrier's own timeout (e.g. ranks waiting while rank 0 evaluates); else the group's.
void barrier(int64_t timeoutMs = 0);

}  // namespace dist
}  // namespace mimmx

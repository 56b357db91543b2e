"""PyTorch side of `mimmx bench ddp`: torch.nn.parallel.DistributedDataParallel with gloo on the
same small CNN as bench/erm_torch.py (ERM, Adam), N processes x 1 thread on loopback, each with its
share of the global batch. Rank 0 prints one JSON line: {"step_seconds": ...}, the median step (as
bench/ddp-worker.ts reports ours: host stalls of 70-160 ms hit either side a few times a run).
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import os
import socket
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from erm_torch import Net  # noqa: E402


def rank_main(rank, world, port, a, queue):
    # bound to its cores as our launcher binds each of our ranks, before any thread starts
    if a.cpus:
        os.sched_setaffinity(0, {int(c) for c in a.cpus.split(";")[rank].split(",")})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(Net())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1 + rank)
    x = torch.randn(a.batch // world, 1, 28, 28, generator=g)
    y = torch.randint(0, 2, (a.batch // world,), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    dist.barrier()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    dist.barrier()
    if rank == 0:
        queue.put(statistics.median(times))
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--cpus", default="", help="each rank's CPUs, as 0,1 with ';' between ranks (default: unbound)")
    a = p.parse_args()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    mp.start_processes(rank_main, args=(a.world, port, a, queue), nprocs=a.world, join=True, start_method="spawn")
    print(json.dumps({"step_seconds": queue.get(), "world": a.world, "batch": a.batch}))


if __name__ == "__main__":
    main()

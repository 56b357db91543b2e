"""PyTorch side of `mimmx bench erm`: the same model, optimiser, batch and thread count as bench/erm.ts.

Prints one JSON line: {"images_per_second": ..., "step_seconds": ..., "threads": ...}.
Run with Debian's /usr/bin/python3 (python3-torch).
"""
import argparse
import json
import time

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 3), nn.ReLU(),
            nn.Conv2d(16, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, 6),
        )
        self.head = nn.Linear(2, 2)

    def forward(self, x):
        return self.head(self.encoder(x)[:, :2])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 1, 28, 28)
    y = torch.randint(0, 2, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    print(json.dumps({"images_per_second": a.batch / dt, "step_seconds": dt, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()

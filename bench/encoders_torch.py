"""PyTorch side of `mimmx bench encoders` (bench/encoders.ts): the same architectures, weights, batch,
loss, optimiser and thread count, served over stdin/stdout so that one process (one torch import)
runs every encoder and its rounds interleave with ours.

Protocol, one JSON object a line each way (the first line out is {"ready": true, ...}):
  {"cmd": "load", "path": F}  build the model named in F's metadata, copy F's state into it by order
                              (encoder_state.pair_by_order), run two training steps on F's batch and
                              reply {"max_abs_diff", "max_abs", "losses": [step 1, step 2], "entries"}:
                              step 1's output against ours (F's "output"), and both steps' losses.
  {"cmd": "round", "warmup": W, "steps": S}  W untimed then S timed steps of the loaded model;
                              reply {"step_seconds": ...} (mean over the S steps).
  {"cmd": "quit"}             (or end of input) exit.
A failed command replies {"error": "..."} and the process keeps serving.
Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision).
"""
import argparse
import json
import sys
import time
import traceback

from encoder_state import pair_by_order, read_safetensors

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:  # reported on the protocol line so that the TS side can name the cause
    print(json.dumps({"error": f"PyTorch side needs python3-torch and python3-torchvision: {e}"}), flush=True)
    sys.exit(1)

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}


class Cnn3d(nn.Module):
    """src/models/cnn3d.ts with its defaults: 4 stages of conv3d(3, pad 1, no bias)-BN-ReLU-maxpool(2)
    with 8, 16, 32, 64 channels, global average pooling, Linear(64, 256), ReLU, Linear(256, out)."""

    def __init__(self, out_features, in_channels=1, channels=(8, 16, 32, 64), hidden=256):
        super().__init__()
        layers, c = [], in_channels
        for w in channels:
            layers += [nn.Conv3d(c, w, 3, padding=1, bias=False), nn.BatchNorm3d(w), nn.ReLU(), nn.MaxPool3d(2)]
            c = w
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(c, hidden)
        self.out = nn.Linear(hidden, out_features)

    def forward(self, x):
        return self.out(F.relu(self.fc(self.body(x).mean(dim=(2, 3, 4)))))


def build(name, out_features):
    """torchvision's model with a 1-channel stem and a Linear to our encoder's width, or our cnn3d."""
    if name == "resnet18":
        m = torchvision.models.resnet18(weights=None)
        # Assigning to an existing attribute keeps its place in the module order (and state_dict's).
        m.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        m.fc = nn.Linear(m.fc.in_features, out_features)
        return m
    if name == "densenet121":
        m = torchvision.models.densenet121(weights=None)
        m.features.conv0 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        m.classifier = nn.Linear(m.classifier.in_features, out_features)
        return m
    if name == "cnn3d":
        return Cnn3d(out_features)
    raise ValueError(f"unknown encoder {name!r} (known: resnet18, densenet121, cnn3d)")


def to_tensor(path, tensors, name):
    if name not in tensors:
        raise ValueError(f"{path}: no tensor named {name}")
    dtype, shape, raw = tensors[name]
    if dtype not in DTYPES:
        raise ValueError(f"{path}: tensor {name} has unsupported dtype {dtype}")
    # bytearray: frombuffer needs a writable buffer to share; clone so the tensor owns its memory.
    return torch.frombuffer(bytearray(raw), dtype=DTYPES[dtype]).reshape(shape).clone()


class Case:
    """One encoder loaded from a file of ours: model, optimiser, batch, target."""

    def __init__(self, path, device):
        tensors, meta = read_safetensors(path)
        self.device = device
        self.model = build(meta["encoder"], int(meta["out_features"]))
        self.model.train()
        order = json.loads(meta["state_order"])
        ours = [(n, tensors["state." + n][1]) for n in order]
        theirs = [(n, list(t.shape)) for n, t in self.model.state_dict().items()]
        pairs = pair_by_order(ours, theirs)
        target_state = self.model.state_dict()  # shares storage with the model's parameters and buffers
        with torch.no_grad():
            for on, tn in pairs:
                target_state[tn].copy_(to_tensor(path, tensors, "state." + on))
        self.entries = len(pairs)
        # the state is copied in on the CPU, then model and batch move (the optimiser is made after)
        self.model.to(device)
        self.x = to_tensor(path, tensors, "input").to(device)
        self.target = to_tensor(path, tensors, "target").to(device)
        self.expected = to_tensor(path, tensors, "output").to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=float(meta["lr"]))

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        out = self.model(self.x)
        loss = F.mse_loss(out, self.target)
        loss.backward()
        self.opt.step()
        return out.detach(), loss.detach()

    def check(self):
        out1, loss1 = self.step()
        _, loss2 = self.step()
        return {
            "max_abs_diff": (out1 - self.expected).abs().max().item(),
            "max_abs": self.expected.abs().max().item(),
            "losses": [loss1.item(), loss2.item()],
            "entries": self.entries,
        }

    def wait(self):
        """A CUDA step only queues its kernels: the clock reads after they ran."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def round(self, warmup, steps):
        for _ in range(warmup):
            self.step()
        self.wait()
        t0 = time.perf_counter()
        for _ in range(steps):
            self.step()
        self.wait()
        return {"step_seconds": (time.perf_counter() - t0) / steps}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {a.device}: this torch ({torch.__version__}) has no CUDA or sees no GPU")
    reply = {
        "ready": True,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
    }
    print(json.dumps(reply), flush=True)
    case = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            cmd = msg.get("cmd")
            if cmd == "quit":
                break
            if cmd == "load":
                case = None  # free the previous model before building the next
                case = Case(msg["path"], device)
                reply = case.check()
            elif cmd == "round":
                if case is None:
                    raise ValueError("round before a successful load")
                reply = case.round(int(msg["warmup"]), int(msg["steps"]))
            else:
                raise ValueError(f"unknown command {cmd!r}")
        except Exception as e:  # every failure goes back to the caller, which raises it
            print(traceback.format_exc(), file=sys.stderr, flush=True)
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()

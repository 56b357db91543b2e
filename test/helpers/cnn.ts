// The small CNN of the optimizer golden test (scripts/make-golden.py builds the same one in PyTorch),
// with deterministic "formula" weights both sides compute exactly.
import * as nn from "../../src/nn/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";

/** ((i*7919 + 31k) % 997)/997 - 0.5, times scale: the same float64 values as make-golden.py's formula(). */
export function formula(n: number, k: number, scale: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => (((i * 7919 + 31 * k) % 997) / 997 - 0.5) * scale);
}

/** conv(1→6,3) ReLU maxpool2, conv(6→16,3) ReLU, conv(16→16,3) ReLU maxpool2, flatten, linear(256→256) ReLU, linear(256→6). */
export function buildCnn(): nn.Sequential {
  const net = new nn.Sequential(
    new nn.Conv2d(1, 6, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 3),
    new nn.ReLU(),
    new nn.Conv2d(16, 16, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(256, 256),
    new nn.ReLU(),
    new nn.Linear(256, 6),
  );
  torch.noGrad(() => {
    [...net.namedParameters()].forEach(([, p], k) => {
      const s = p.shape;
      const scale = s.length > 1 ? 2 / Math.sqrt(s.slice(1).reduce((a, b) => a * b, 1)) : 0.2;
      torch.tidy(() => p.copy_(torch.tensor(formula(p.numel(), k, scale), { dtype: "float32", shape: s })));
    });
  });
  return net;
}

/** The fixed batch: 4 images 28x28 and their labels. */
export function cnnBatch(labels: number[]): { x: Tensor; y: Tensor } {
  return {
    x: torch.tensor(formula(4 * 28 * 28, 99, 2), { dtype: "float32", shape: [4, 1, 28, 28] }),
    y: torch.tensor(labels, { dtype: "int64" }),
  };
}

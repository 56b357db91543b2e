// PyTorch's default initialisations (torch.nn.init), written in place under no-grad.
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";

/** fan_in and fan_out of a weight [out, in, *kernel]. */
export function fans(weight: Tensor): { fanIn: number; fanOut: number } {
  const s = weight.shape;
  if (s.length < 2) throw new Error(`fans: weight needs at least 2 dims, got [${s.join(", ")}]`);
  const receptive = s.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: s[1] * receptive, fanOut: s[0] * receptive };
}

function gain(nonlinearity: "relu" | "leaky_relu" | "linear" | "tanh" | "sigmoid", a = 0): number {
  switch (nonlinearity) {
    case "relu":
      return Math.SQRT2;
    case "leaky_relu":
      return Math.sqrt(2 / (1 + a * a));
    case "tanh":
      return 5 / 3;
    default:
      return 1;
  }
}

export function uniform_(t: Tensor, low: number, high: number): Tensor {
  return noGrad(() => t.uniform_(low, high));
}
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return noGrad(() => t.normal_(mean, std));
}
export function zeros_(t: Tensor): Tensor {
  return noGrad(() => t.zero_());
}
export function ones_(t: Tensor): Tensor {
  return noGrad(() => t.fill_(1));
}
/** Kaiming/He uniform on fan_in; PyTorch's Linear and Conv use a = sqrt(5) with leaky_relu. */
export function kaimingUniform_(
  t: Tensor,
  a = 0,
  nonlinearity: "relu" | "leaky_relu" = "leaky_relu",
): Tensor {
  const bound = gain(nonlinearity, a) * Math.sqrt(3 / fans(t).fanIn);
  return uniform_(t, -bound, bound);
}
export function kaimingNormal_(
  t: Tensor,
  a = 0,
  nonlinearity: "relu" | "leaky_relu" = "relu",
  mode: "fan_in" | "fan_out" = "fan_in",
): Tensor {
  const f = fans(t);
  const std = gain(nonlinearity, a) / Math.sqrt(mode === "fan_in" ? f.fanIn : f.fanOut);
  return normal_(t, 0, std);
}
export function xavierUniform_(t: Tensor, g = 1): Tensor {
  const f = fans(t);
  const bound = g * Math.sqrt(6 / (f.fanIn + f.fanOut));
  return uniform_(t, -bound, bound);
}
/** PyTorch's default for Linear/Conv: weight kaiming_uniform(a=sqrt(5)), bias U(-1/sqrt(fan_in), ..). */
export function defaultLayerInit_(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, Math.sqrt(5));
  if (bias) {
    const bound = 1 / Math.sqrt(fans(weight).fanIn);
    uniform_(bias, -bound, bound);
  }
}

// Finite-difference gradient check (PyTorch's torch.autograd.gradcheck, simplified): in float64, the
// autograd gradient of sum(fn(inputs) * g), for a fixed pseudo-random upstream g, must equal central
// differences (f(x + eps) - f(x - eps)) / 2eps element by element.
import assert from "node:assert/strict";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** seed of the upstream gradient */
  seed?: number;
  /** which inputs to differentiate (default: all) */
  wrt?: number[];
}

/** A small deterministic PRNG (mulberry32): uniform numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A float64 tensor of uniform values in [lo, hi) from a seeded PRNG. */
export function uniform(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
  return torch.tensor(data, { shape, dtype: "float64" });
}

/** Values in [lo, hi) whose magnitude is at least `gap` (away from kinks at 0). */
export function awayFromZero(shape: number[], seed: number, gap = 0.1, hi = 1): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (gap + (hi - gap) * r()));
  return torch.tensor(data, { shape, dtype: "float64" });
}

/**
 * Checks autograd against central differences for every element of every float input. Inputs must be
 * float64; they are copied (the caller's tensors are not touched). Throws an AssertionError naming
 * the input, the element, both values.
 */
export function gradcheck(
  name: string,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): void {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  for (const i of wrt)
    assert.equal(inputs[i].dtype, "float64", `${name}: input ${i} must be float64 for gradcheck`);
  const base = inputs.map((t) => t.dataSync());
  const shapes = inputs.map((t) => t.shape);
  const dtypes = inputs.map((t) => t.dtype);
  const rebuild = (i: number, data = base[i], requiresGrad = false) =>
    torch.tensor(data, { shape: shapes[i], dtype: dtypes[i], requiresGrad });

  torch.tidy(() => {
    // Analytic: autograd of sum(out * g).
    const xs = inputs.map((_, i) => rebuild(i, base[i], wrt.includes(i)));
    const out = fn(...xs);
    assert.equal(out.dtype, "float64", `${name}: output dtype ${out.dtype}, expected float64`);
    const upstream = uniform(out.shape, opts.seed ?? 1234, -1, 1);
    const g = upstream.dataSync() as Float64Array;
    const analytic = torch.grad(
      out.mul(upstream).sum(),
      wrt.map((i) => xs[i]),
      { allowUnused: true },
    );
    const objective = (): number =>
      torch.tidy(() =>
        torch.noGrad(() => {
          const ys = inputs.map((_, k) => rebuild(k));
          const o = fn(...ys).dataSync() as Float64Array;
          let s = 0;
          for (let k = 0; k < o.length; k++) s += o[k] * g[k];
          return s;
        }),
      );
    wrt.forEach((i, wi) => {
      const a = analytic[wi];
      const aData = a === null ? new Float64Array(base[i].length) : (a.dataSync() as Float64Array);
      const d = base[i] as Float64Array;
      for (let j = 0; j < d.length; j++) {
        const orig = d[j];
        d[j] = orig + eps;
        const fPlus = objective();
        d[j] = orig - eps;
        const fMinus = objective();
        d[j] = orig;
        const numeric = (fPlus - fMinus) / (2 * eps);
        const diff = Math.abs(aData[j] - numeric);
        if (!(diff <= atol + rtol * Math.abs(numeric))) {
          assert.fail(
            `${name}: d/d(input ${i})[${j}] autograd ${aData[j]} vs finite differences ${numeric} (|diff| ${diff.toExponential(2)})`,
          );
        }
      }
    });
  });
}

// The classification half of MIMM-X's encoder objective (METHOD.md, "Objective"):
//     L_class = sum_k w_k CE_k
// and its gradient on the features f, the last shared layer W and the heads, in one autograd pass.
// The encoder below f is not touched here: assemble.ts pulls the gradient on f back through it.
import { grad } from "../../tensor/autograd.js";
import type { Tensor } from "../../tensor/tensor.js";

/** Gradients of one loss on f, on W, and (class loss only) on every head parameter; null = unused. */
export interface FeatureGradients {
  f: Tensor | null;
  W: Tensor | null;
}

export interface ClassGradients extends FeatureGradients {
  heads: (Tensor | null)[];
}

/** sum_k w_k CE_k; a weight of exactly 1 multiplies nothing (the unweighted graph stays as it is). */
export function weightedClassLoss(ceTerms: Tensor[], w: number[]): Tensor {
  return ceTerms.map((t, i) => (w[i] === 1 ? t : t.mul(w[i]))).reduce((x, y) => x.add(y));
}

/** grad of L_class on [f, W, heads]; the graph is retained for the MI pass and f.backward. */
export function classificationGradients(
  classLoss: Tensor,
  f: Tensor,
  W: Tensor,
  headParams: Tensor[],
): ClassGradients {
  const [gf, gw, ...heads] = grad(classLoss, [f, W, ...headParams], {
    retainGraph: true,
    allowUnused: true,
  });
  return { f: gf, W: gw, heads };
}

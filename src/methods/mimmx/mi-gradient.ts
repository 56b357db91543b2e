// The MI half of MIMM-X's encoder objective (METHOD.md, "Objective" and "MI estimation"):
//     L_MI = sum_p a_p Ĩ_p
// where Ĩ_p is pair p's corrected DV surrogate (the critics frozen, their EMA held constant) and a_p
// the attention weight of the pair's spurion (1 for z_i-z_j pairs or without attention). Its
// gradient is taken on f and W only; lambda, w_MI and s multiply it in assemble.ts.
import { grad } from "../../tensor/autograd.js";
import { tensor } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { FeatureGradients } from "./classification.js";

/** sum_p a_p Ĩ_p from the per-pair surrogates [P] and the pair weights a_p. */
export function miPenalty(surrogates: Tensor, pairWeights: number[]): Tensor {
  return surrogates.mul(tensor(pairWeights, { device: surrogates.device })).sum();
}

/** grad of L_MI on [f, W]; the graph is retained (the encoder scope pulls it back further). */
export function miGradients(miLoss: Tensor, f: Tensor, W: Tensor): FeatureGradients {
  const [gf, gw] = grad(miLoss, [f, W], { retainGraph: true, allowUnused: true });
  return { f: gf, W: gw };
}

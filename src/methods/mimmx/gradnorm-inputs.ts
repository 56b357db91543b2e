// What GradNorm (../gradnorm.ts) observes at one encoder step: per term the unweighted gradient norm
// n_k on the last shared layer W and the loss value L_k (METHOD.md, "w_k").
// Row block k of W feeds part k alone and head k reads part k alone, so the block of
// grad_W(sum_j w_j CE_j) is w_k grad_W CE_k: n_k = ||block k|| / w_k, without one pass per term.
// The MI term's norm is that of its contribution lambda s grad_W L_MI.
import type { Tensor } from "../../tensor/tensor.js";
import { globalNorm } from "../grad-utils.js";

export interface GradNormObservation {
  norms: number[];
  values: number[];
}

export interface MiObservation {
  /** grad_W L_MI */
  gradW: Tensor | null;
  lambda: number;
  s: number;
  /** L_MI's value */
  value: number;
}

export function gradNormObservation(
  classGradW: Tensor,
  w: number[],
  partSize: number,
  ceValues: number[],
  mi: MiObservation | null,
): GradNormObservation {
  const norms = ceValues.map((_, i) => globalNorm([classGradW.narrow(0, i * partSize, partSize)]) / w[i]);
  const values = [...ceValues];
  if (mi) {
    norms.push(mi.lambda * mi.s * globalNorm([mi.gradW]));
    values.push(mi.value);
  }
  return { norms, values };
}

// s, MINE's adaptive MI scaling (METHOD.md): s = min(||g_class||, ||g_MI||) / ||g_MI||, so the MI
// gradient never outweighs the classification gradient. Two scopes for where the norms are taken:
//   "lastLayer": on the last shared layer W (nearly free: both gradients on W exist already);
//   "encoder":   on every encoder parameter (exact; one extra pull-back of each gradient through the
//                encoder, whose results assemble.ts then reuses as the parameters' gradients).
import { grad } from "../../tensor/autograd.js";
import type { Tensor } from "../../tensor/tensor.js";
import { globalNorm } from "../grad-utils.js";
import type { FeatureGradients } from "./classification.js";

export type ScalingScope = "encoder" | "lastLayer";

/** s from the two norms; 1 where the MI gradient vanishes. */
export function scaleFrom(classNorm: number, miNorm: number): number {
  return miNorm > 0 ? Math.min(classNorm, miNorm) / miNorm : 1;
}

/** s on the last shared layer: from grad_W L_class and grad_W L_MI. */
export function lastLayerScale(cls: FeatureGradients, mi: FeatureGradients): number {
  return scaleFrom(globalNorm([cls.W]), globalNorm([mi.W]));
}

/** Per-parameter gradients of the class and MI losses on the whole encoder. */
export interface EncoderGradients {
  cls: (Tensor | null)[];
  mi: (Tensor | null)[];
}

/**
 * Pulls the gradients on f back to every encoder parameter (the class pass keeps the graph for the
 * MI pass, which frees it). A missing MI gradient on f counts as zero.
 */
export function encoderGradients(
  f: Tensor,
  encoderParams: Tensor[],
  cls: FeatureGradients,
  mi: FeatureGradients,
): EncoderGradients {
  const gc = grad(f, encoderParams, { gradOutputs: [cls.f!], retainGraph: true, allowUnused: true });
  const gm = grad(f, encoderParams, {
    gradOutputs: [mi.f ?? cls.f!.mul(0)],
    retainGraph: false,
    allowUnused: true,
  });
  return { cls: gc, mi: gm };
}

/** s on the whole encoder, from the per-parameter gradients. */
export function encoderScale(g: EncoderGradients): number {
  return scaleFrom(globalNorm(g.cls), globalNorm(g.mi));
}

// Routes the two halves of MIMM-X's encoder gradient into the parameters (METHOD.md, "Objective"):
//     grad = grad L_class + c grad L_MI,   c = lambda * w_MI * s
// Where each half may go (our design, switches spurionGrad and miGrad):
//   "trunk":     through f into the whole encoder;
//   "lastLayer": onto the last shared layer's weight W only, i.e. the term is differentiated as if
//                the trunk output h and the layer's bias were constants (h.detach(), b.detach()).
//                spurionGrad "lastLayer" does this for everything that reaches the spurion parts
//                f_zi (CE_zi and the MI gradient on f_zi): the z-heads shape f_zi = W_zi h but never
//                train h to represent the spurions. miGrad "lastLayer" does it for the MI term on
//                every part: the penalty can rotate f_y away from the spurions, not collapse h.
import { tensor } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { ClassGradients, FeatureGradients } from "./classification.js";
import type { EncoderGradients } from "./scale.js";

export type GradientRoute = "trunk" | "lastLayer";

export interface Routes {
  spurionGrad: GradientRoute;
  miGrad: GradientRoute;
}

/** f's layout: part 0 (f_y) is the first `partSize` columns, then one part per spurion. */
export interface PartLayout {
  partSize: number;
  numParts: number;
}

/**
 * Scaling scope "lastLayer" (or no adaptive scaling): one f.backward carries what enters the trunk;
 * what skips the trunk is added onto W.grad directly.
 */
export function assembleThroughFeatures(
  f: Tensor,
  W: Tensor,
  cls: ClassGradients,
  mi: FeatureGradients,
  coef: number,
  routes: Routes,
  layout: PartLayout,
): void {
  const spurionLast = routes.spurionGrad === "lastLayer";
  const miLast = routes.miGrad === "lastLayer";
  // What enters the trunk through f: the class gradient, plus the MI gradient unless it stops at W.
  let gf = mi.f && !miLast ? cls.f!.add(mi.f.mul(coef)) : cls.f!;
  let gwDirect: Tensor | null = null;
  if (spurionLast) {
    // Only f_y's columns enter the trunk; the spurion rows of W get their gradient directly.
    const D = layout.numParts * layout.partSize;
    const yMask = (keepY: boolean) =>
      Array.from({ length: D }, (_, j) => (j < layout.partSize === keepY ? 1 : 0));
    gf = gf.mul(tensor(yMask(true), { shape: [1, D], device: gf.device }));
    const gw = mi.W && !miLast ? cls.W!.add(mi.W.mul(coef)) : cls.W!;
    gwDirect = gw.mul(tensor(yMask(false), { shape: [D, 1], device: gw.device }));
  }
  if (miLast && mi.W) gwDirect = gwDirect ? gwDirect.add(mi.W.mul(coef)) : mi.W.mul(coef);
  f.backward(gf);
  if (gwDirect) W.grad = W.grad ? W.grad.add(gwDirect) : gwDirect;
}

/** Scaling scope "encoder": the per-parameter gradients exist already; combine them. */
export function assembleOnParameters(encoderParams: Tensor[], g: EncoderGradients, coef: number): void {
  encoderParams.forEach((p, i) => {
    const a = g.cls[i];
    const b = g.mi[i];
    p.grad = a && b ? a.add(b.mul(coef)) : (a ?? (b ? b.mul(coef) : null));
  });
}

/** The heads' gradients come from the class loss alone (the critics read f or detached head outputs). */
export function assembleHeads(headParams: Tensor[], cls: ClassGradients): void {
  headParams.forEach((p, i) => {
    p.grad = cls.heads[i];
  });
}

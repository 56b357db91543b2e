// P joint critics evaluated as one: the parameters of every pair's MLP are stacked along a leading
// dimension and applied with batched matmuls, so P pairs cost the op count of one. At the sizes MI
// critics run at (B = 128, hidden 64) the per-op overhead, not arithmetic, dominates a critic step,
// which is why this is the default for MIMM-X's pairs (all of which have the same part width).
//
// Each pair's critic is the joint MLP T(a, c) = w . relu(BN(W_L .. relu(BN(W_a a + W_c c + b)))):
// the first layer is split (W_a a_i and W_c c_j computed once per sample, then broadcast-added), and
// BatchNorm always uses the statistics of the current rows (positives and negatives together, as the
// published all-pairs critic does), so there are no running statistics to track.
import * as F from "../nn/functional.js";
import { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import { empty, ones, zeros } from "../tensor/creation.js";
import { cat } from "../tensor/functions.js";
import type { Tensor } from "../tensor/tensor.js";
import { allPairsMask, sampledPartners } from "./pairs.js";

/**
 * Scores of P pairs: pos [P, B]; neg [P, M] with a validity mask [P, M] (null: all valid). With
 * sample weights, posLogW [P, B] and negLogW [P, M] are the log importance weights of each joint and
 * each product-of-marginals sample (w_i and w_i * w_j); null: uniform.
 */
export interface StackedScores {
  pos: Tensor;
  neg: Tensor;
  mask: Tensor | null;
  posLogW?: Tensor | null;
  negLogW?: Tensor | null;
}

export interface StackedCriticConfig {
  hidden: number[];
  /** "all": every j != i; a number K: K sampled partners per row (shared by the P pairs) */
  negatives: "all" | number;
  /** soft bound on the scores (0: none) */
  scoreBound?: number;
}

function uniformInit(shape: number[], fanIn: number): Tensor {
  // PyTorch's Linear default, kaiming_uniform(a = sqrt(5)), reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  const bound = 1 / Math.sqrt(fanIn);
  return noGrad(() => empty(shape).uniform_(-bound, bound));
}

export class StackedJointCritic extends Module {
  readonly wa: Tensor;
  readonly wc: Tensor;
  /** per layer l >= 1: weight [P, H_{l-1}, H_l]; the last maps to 1 */
  readonly weights: Tensor[] = [];
  readonly biases: Tensor[] = [];
  /** BatchNorm affine parameters per hidden layer, [P * H] */
  readonly gammas: Tensor[] = [];
  readonly betas: Tensor[] = [];

  constructor(
    readonly numPairs: number,
    readonly dimA: number,
    readonly dimC: number,
    readonly cfg: StackedCriticConfig,
  ) {
    super();
    const h = cfg.hidden;
    if (h.length === 0) throw new Error("StackedJointCritic: needs at least one hidden layer");
    const p = numPairs;
    const fanIn = dimA + dimC;
    this.wa = this.registerParameter("wa", uniformInit([p, dimA, h[0]], fanIn));
    this.wc = this.registerParameter("wc", uniformInit([p, dimC, h[0]], fanIn));
    this.biases.push(this.registerParameter("b0", uniformInit([p, 1, h[0]], fanIn)));
    const widths = [...h, 1];
    for (let l = 0; l < h.length; l++) {
      this.gammas.push(this.registerParameter(`bn${l}_weight`, ones([p * h[l]])));
      this.betas.push(this.registerParameter(`bn${l}_bias`, zeros([p * h[l]])));
      this.weights.push(this.registerParameter(`w${l + 1}`, uniformInit([p, h[l], widths[l + 1]], h[l])));
      this.biases.push(this.registerParameter(`b${l + 1}`, uniformInit([p, 1, widths[l + 1]], h[l])));
    }
  }

  forward(): Tensor {
    throw new Error("StackedJointCritic: call score(a, c, condition)");
  }

  /** BN (per pair and unit, over rows) then ReLU on x [P, R, H]. */
  private bnRelu(x: Tensor, l: number): Tensor {
    const [p, r, hd] = x.shape;
    const rows = x.transpose(0, 1).reshape(r, p * hd);
    const y = F.batchNorm(rows, null, null, { weight: this.gammas[l], bias: this.betas[l], training: true });
    return y.relu().view(r, p, hd).transpose(0, 1);
  }

  /** MLP from first-layer pre-activations [P, R, H0] to scores [P, R]. */
  private head(h0: Tensor): Tensor {
    let x = h0;
    for (let l = 0; l < this.weights.length; l++) {
      x = this.bnRelu(x, l)
        .matmul(this.weights[l])
        .add(this.biases[l + 1]);
    }
    const s = x.squeeze(2);
    const bound = this.cfg.scoreBound ?? 0;
    return bound > 0 ? s.div(bound).tanh().mul(bound) : s;
  }

  /**
   * a [P, B, dimA], c [P, B, dimC] -> scores. condition [B] (labels) keeps only negatives with the
   * same label (conditional negatives). logW [P, B]: log importance weight of every sample per pair
   * (the estimate then refers to the reweighted distribution; see src/methods/pair-weights.ts).
   */
  score(a: Tensor, c: Tensor, condition?: Tensor, logW?: Tensor): StackedScores {
    const [p, b] = a.shape;
    const h = this.cfg.hidden[0];
    const ha = a.matmul(this.wa); // [P, B, H]
    const hc = c.matmul(this.wc).add(this.biases[0]); // [P, B, H]
    if (this.cfg.negatives === "all") {
      const grid = ha
        .unsqueeze(2)
        .add(hc.unsqueeze(1))
        .view(p, b * b, h); // row i*B + j = (a_i, c_j)
      const m = this.head(grid).view(p, b, b);
      const mask = allPairsMask(b, m.device, condition);
      const pos = m.diagonal(0, 1, 2);
      const fullMask = mask.unsqueeze(0).expand(p, b, b);
      const neg = m.maskedSelect(fullMask).view(p, -1);
      const negLogW = logW
        ? logW.unsqueeze(2).add(logW.unsqueeze(1)).maskedSelect(fullMask).view(p, -1)
        : null;
      return { pos, neg, mask: null, posLogW: logW ?? null, negLogW };
    }
    const k = this.cfg.negatives;
    const partners = sampledPartners(b, k, ha.device); // [B, K], shared across pairs
    const negH = ha
      .unsqueeze(2)
      .add(hc.indexSelect(1, partners.flatten()).view(p, b, k, h))
      .view(p, b * k, h);
    const scores = this.head(cat([ha.add(hc), negH], 1)); // [P, B + B*K]
    const pos = scores.narrow(1, 0, b);
    const neg = scores.narrow(1, b, b * k);
    const negLogW = logW ? logW.repeatInterleave(k, 1).add(logW.indexSelect(1, partners.flatten())) : null;
    let mask: Tensor | null = null;
    if (condition) {
      const partnerLabels = condition.indexSelect(0, partners.flatten());
      mask = partnerLabels
        .eq(condition.repeatInterleave(k))
        .unsqueeze(0)
        .expand(p, b * k);
    }
    return { pos, neg, mask, posLogW: logW ?? null, negLogW };
  }
}

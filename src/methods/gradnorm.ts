// GradNorm-inspired dynamic loss weights (METHOD.md, "Objective"): one learnable weight w_k per loss
// term. With n_k = ||grad_W L_k|| on the encoder's last shared layer W:
//   G_k = w_k n_k,  G = mean_k G_k,  r_k = (L_k/L_k(0)) / mean_j(L_j/L_j(0))  (CE terms; r = 1 for MI)
// w descends sum_k |G_k - G r_k^alpha| with the target held constant, so d/dw_k = sign(G_k - T_k) n_k.
// The step is Adam's (GradNorm used Adam, lr 0.025): gradient norms differ by orders of magnitude
// across terms and Adam's per-coordinate normalisation keeps the step size meaningful for each.
// Afterwards w is kept positive and renormalised to sum to the number of terms.

import { allReduceMean } from "../dist/process-group.js";

export interface GradNormConfig {
  /** exponent of the inverse training rate in the target G r_k^alpha */
  alpha: number;
  /** Adam step size on w */
  lr: number;
}

export interface GradNormState {
  w: number[];
  initialLosses: (number | null)[];
  m: number[];
  v: number[];
  t: number;
}

export class GradNormWeights {
  w: number[];
  initialLosses: (number | null)[];
  private m: number[];
  private v: number[];
  private t = 0;
  readonly alpha: number;
  readonly lr: number;
  constructor(
    readonly names: string[],
    /** per term: true when it is a loss whose decay rate matters (CE); false for the MI term (r = 1) */
    readonly isRateTerm: boolean[],
    cfg: GradNormConfig,
  ) {
    this.alpha = cfg.alpha;
    this.lr = cfg.lr;
    this.w = names.map(() => 1);
    this.initialLosses = names.map(() => null);
    this.m = names.map(() => 0);
    this.v = names.map(() => 0);
  }

  /** Relative inverse training rates r_k. */
  rates(losses: number[]): number[] {
    losses.forEach((l, k) => {
      if (this.isRateTerm[k] && this.initialLosses[k] === null && l > 0) this.initialLosses[k] = l;
    });
    const ratio = losses.map((l, k) => (this.isRateTerm[k] ? l / (this.initialLosses[k] ?? l) : 1));
    const rateIdx = ratio.map((_, k) => k).filter((k) => this.isRateTerm[k]);
    const mean = rateIdx.reduce((s, k) => s + ratio[k], 0) / Math.max(1, rateIdx.length);
    return ratio.map((r, k) => (this.isRateTerm[k] && mean > 0 ? r / mean : 1));
  }

  /**
   * One update from the unweighted gradient norms n_k and loss values L_k of this step. Returns the
   * weighted norms G_k before the update (for logging).
   */
  update(localNorms: number[], localLosses: number[]): number[] {
    // Under DDP each rank observes its own share: the means over ranks make w the same everywhere
    // (the identity in one process).
    const agreed = allReduceMean([...localNorms, ...localLosses]);
    const gradNorms = agreed.slice(0, localNorms.length);
    const losses = agreed.slice(localNorms.length);
    const r = this.rates(losses);
    const g = gradNorms.map((n, k) => this.w[k] * n);
    const gMean = g.reduce((a, b) => a + b, 0) / g.length;
    const beta1 = 0.9;
    const beta2 = 0.999;
    this.t += 1;
    this.w = this.w.map((wk, k) => {
      const target = gMean * r[k] ** this.alpha;
      const grad = Math.sign(g[k] - target) * gradNorms[k];
      this.m[k] = beta1 * this.m[k] + (1 - beta1) * grad;
      this.v[k] = beta2 * this.v[k] + (1 - beta2) * grad * grad;
      const mHat = this.m[k] / (1 - beta1 ** this.t);
      const vHat = this.v[k] / (1 - beta2 ** this.t);
      return Math.max(1e-3, wk - (this.lr * mHat) / (Math.sqrt(vHat) + 1e-8));
    });
    const sum = this.w.reduce((a, b) => a + b, 0);
    this.w = this.w.map((wk) => (wk * this.w.length) / sum);
    return g;
  }

  getState(): GradNormState {
    return {
      w: [...this.w],
      initialLosses: [...this.initialLosses],
      m: [...this.m],
      v: [...this.v],
      t: this.t,
    };
  }
  setState(s: GradNormState): void {
    this.w = [...s.w];
    this.initialLosses = [...s.initialLosses];
    this.m = [...s.m];
    this.v = [...s.v];
    this.t = s.t;
  }
}

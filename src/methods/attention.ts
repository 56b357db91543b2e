// The Confounder Attention Weighter (our design, METHOD.md): per spurion i a leakage score u_i, the
// EMA of the detached estimate of I(f_y; f_zi); attention a_i = N softmax(u / tau)_i, mixed with a
// floor so that no spurion is ever dropped: a_i = floor + (1 - floor) N softmax(u / tau)_i (the a_i
// still sum to N, so the overall MI penalty keeps its scale). The spurion leaking most into f_y gets
// most of the penalty. Uniform weights (a_i = 1) are the ablation.

export interface AttentionConfig {
  /** softmax temperature in nats (default 1, as method.attention.tau) */
  tau?: number;
  /** share of the uniform weight every spurion keeps (default 0.1, as method.attention.floor) */
  floor?: number;
  /** EMA rate on the leakage: u <- rate u + (1 - rate) estimate (default 0.9) */
  ema?: number;
}

export class ConfounderAttention {
  /** leakage scores u_i (nats); null until the first estimate */
  u: (number | null)[];
  readonly tau: number;
  readonly floor: number;
  readonly ema: number;
  constructor(
    readonly numSpurions: number,
    cfg: AttentionConfig = {},
  ) {
    this.tau = cfg.tau ?? 1;
    this.floor = cfg.floor ?? 0.1;
    this.ema = cfg.ema ?? 0.9;
    if (!(this.tau > 0)) throw new Error(`ConfounderAttention: tau must be > 0, got ${this.tau}`);
    if (!(this.floor >= 0 && this.floor <= 1))
      throw new Error(`ConfounderAttention: floor must be in [0, 1], got ${this.floor}`);
    this.u = new Array(numSpurions).fill(null);
  }

  /** Folds in this step's leakage estimates (one per spurion; null = not measured this step). */
  observe(estimates: (number | null)[]): void {
    estimates.forEach((e, i) => {
      if (e === null || !Number.isFinite(e)) return;
      const prev = this.u[i];
      this.u[i] = prev === null ? e : this.ema * prev + (1 - this.ema) * e;
    });
  }

  /** The current attention weights a_i (sum N). */
  weights(): number[] {
    const n = this.numSpurions;
    const u = this.u.map((x) => x ?? 0);
    const m = Math.max(...u);
    const e = u.map((x) => Math.exp((x - m) / this.tau));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => this.floor + (1 - this.floor) * ((n * x) / z));
  }

  getState(): { u: (number | null)[] } {
    return { u: [...this.u] };
  }
  setState(s: { u: (number | null)[] }): void {
    this.u = [...s.u];
  }
}

// Critics T(a, c) for the DV bound. Each returns the joint scores T(a_i, c_i) and the negative scores
// T(a_i, c_j) of the chosen pairs (see pairs.ts).
//
// - JointCritic: an MLP on the pair [a; c] (published: 3 x 400, BatchNorm + ReLU, all B*B pairs).
//   firstLayer "split" computes W_a a_i and W_c c_j once per sample and broadcast-adds them, so the
//   first layer costs O(B) matmuls instead of O(B^2) (it is the same function as "concat").
//   With K sampled negatives only B(1+K) rows go through the MLP instead of B^2.
// - SeparableCritic: g(a)^T h(c) from two small MLPs, all B^2 pairs for O(B) network cost. Scores
//   MUST be bounded (cosine x temperature, or tanh): unbounded ones diverge (METHOD.md).
import * as nn from "../nn/index.js";
import { cat } from "../tensor/functions.js";
import type { Tensor } from "../tensor/tensor.js";
import type { PairScores } from "./dv.js";
import { allPairsMask, type NegativeSampling, sampledMask, sampledPartners } from "./pairs.js";

export abstract class Critic extends nn.Module {
  abstract score(a: Tensor, c: Tensor, sampling: NegativeSampling): PairScores;
  forward(): Tensor {
    throw new Error("a critic has no plain forward: call score(a, c, sampling)");
  }
}

/** Soft clamp to (-bound, bound); bound 0 or Infinity means no clamp. */
function softBound(x: Tensor, bound: number): Tensor {
  return bound > 0 && Number.isFinite(bound) ? x.div(bound).tanh().mul(bound) : x;
}

/** Splits a full score matrix M [B, B] into its diagonal and the masked off-diagonal entries. */
function fromMatrix(m: Tensor, sampling: NegativeSampling): PairScores {
  return { pos: m.diagonal(), neg: m.maskedSelect(allPairsMask(m.shape[0], m.device, sampling.condition)) };
}

export interface JointCriticConfig {
  hidden: number[];
  firstLayer?: "split" | "concat";
  /** soft bound on scores (default 0: none; the published critic is unbounded) */
  scoreBound?: number;
}

export class JointCritic extends Critic {
  readonly first: nn.Linear;
  /** BN-ReLU after the first layer, then (Linear-BN-ReLU)*, then Linear -> 1 */
  readonly rest: nn.Sequential;
  readonly firstLayer: "split" | "concat";
  constructor(
    readonly dimA: number,
    readonly dimC: number,
    readonly cfg: JointCriticConfig,
  ) {
    super();
    if (cfg.hidden.length === 0) throw new Error("JointCritic: needs at least one hidden layer");
    this.firstLayer = cfg.firstLayer ?? "split";
    this.first = this.registerModule("first", new nn.Linear(dimA + dimC, cfg.hidden[0]));
    const layers: nn.Module[] = [new nn.BatchNorm1d(cfg.hidden[0]), new nn.ReLU()];
    for (let i = 1; i < cfg.hidden.length; i++) {
      layers.push(
        new nn.Linear(cfg.hidden[i - 1], cfg.hidden[i]),
        new nn.BatchNorm1d(cfg.hidden[i]),
        new nn.ReLU(),
      );
    }
    layers.push(new nn.Linear(cfg.hidden[cfg.hidden.length - 1], 1));
    this.rest = this.registerModule("rest", new nn.Sequential(...layers));
  }

  /** Scores of rows of first-layer pre-activations [R, H] -> [R]. */
  private head(h: Tensor): Tensor {
    return softBound(this.rest.forward(h).squeeze(1), this.cfg.scoreBound ?? 0);
  }

  score(a: Tensor, c: Tensor, sampling: NegativeSampling): PairScores {
    const b = a.shape[0];
    const hidden = this.cfg.hidden[0];
    if (this.firstLayer === "concat") {
      if (sampling.negatives !== "all")
        throw new Error('JointCritic: firstLayer "concat" supports only all pairs');
      // The published form: every pair concatenated, B^2 rows through the whole MLP.
      const pairs = cat([a.unsqueeze(1).expand(b, b, this.dimA), c.unsqueeze(0).expand(b, b, this.dimC)], 2);
      const m = this.head(this.first.forward(pairs.reshape(b * b, this.dimA + this.dimC))).view(b, b);
      return fromMatrix(m, sampling);
    }
    // W [a; c] + bias = W_a a + (W_c c + bias): one matmul per side, then broadcast-add.
    const wa = this.first.weight.narrow(1, 0, this.dimA);
    const wc = this.first.weight.narrow(1, this.dimA, this.dimC);
    const ha = a.matmul(wa.t()); // [B, H]
    const hc = c.matmul(wc.t()).add(this.first.bias!); // [B, H]
    if (sampling.negatives === "all") {
      const m = this.head(
        ha
          .unsqueeze(1)
          .add(hc.unsqueeze(0))
          .view(b * b, hidden),
      ).view(b, b);
      return fromMatrix(m, sampling);
    }
    const k = sampling.negatives;
    const partners = sampledPartners(b, k, ha.device); // [B, K]
    const negH = ha.unsqueeze(1).add(hc.indexSelect(0, partners.flatten()).view(b, k, hidden));
    // Positives and negatives share one BatchNorm pass, as in the all-pairs critic.
    const scores = this.head(cat([ha.add(hc), negH.view(b * k, hidden)], 0));
    const pos = scores.narrow(0, 0, b);
    const negAll = scores.narrow(0, b, b * k);
    const mask = sampledMask(partners, sampling.condition);
    return { pos, neg: mask ? negAll.maskedSelect(mask.flatten()) : negAll };
  }
}

export interface SeparableCriticConfig {
  hidden: number;
  embed: number;
  /** how scores are bounded: cosine x temperature (default) or bound * tanh(g.h / bound) */
  bound?: "cosine" | "tanh";
  /** temperature for cosine, bound for tanh (default 10) */
  scale?: number;
}

function mlp(inDim: number, hidden: number, out: number): nn.Sequential {
  return new nn.Sequential(
    new nn.Linear(inDim, hidden),
    new nn.ReLU(),
    new nn.Linear(hidden, hidden),
    new nn.ReLU(),
    new nn.Linear(hidden, out),
  );
}

export class SeparableCritic extends Critic {
  readonly g: nn.Sequential;
  readonly h: nn.Sequential;
  constructor(
    dimA: number,
    dimC: number,
    readonly cfg: SeparableCriticConfig,
  ) {
    super();
    this.g = this.registerModule("g", mlp(dimA, cfg.hidden, cfg.embed));
    this.h = this.registerModule("h", mlp(dimC, cfg.hidden, cfg.embed));
  }
  score(a: Tensor, c: Tensor, sampling: NegativeSampling): PairScores {
    const ga = this.g.forward(a);
    const hc = this.h.forward(c);
    const scale = this.cfg.scale ?? 10;
    let m: Tensor;
    if ((this.cfg.bound ?? "cosine") === "cosine") {
      const na = ga.div(ga.norm(2, 1, true).clamp(1e-6));
      const nc = hc.div(hc.norm(2, 1, true).clamp(1e-6));
      m = na.matmul(nc.t()).mul(scale);
    } else {
      m = ga.matmul(hc.t()).div(scale).tanh().mul(scale);
    }
    // K sampled negatives are pointless here: the full matrix costs one [B, E] x [E, B] matmul.
    return fromMatrix(m, sampling);
  }
}

// MIMM-X's hand-assembled encoder gradient against autograd of the objective written out here from
// METHOD.md, for every combination of the switches that shape it:
//     L = sum_k w_k CE_k + lambda * w_MI * s * sum_p a_p Ĩ_p
// Ĩ_p: the corrected DV surrogate mean(pos) - mean(exp(neg)) / EMA (weighted means under the
// balanced distribution), with the EMA, s, w and a held constant. The "lastLayer" routes are
// stop-gradients: a term routed to the last layer sees f = h.detach() W^T + b.detach(), where h is
// the trunk's output and W, b the last shared layer. s is recomputed here from autograd norms.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Batch } from "../../src/methods/batch.js";
import type { EncoderStepPieces } from "../../src/methods/mimmx/pieces.js";
import type { Mimmx } from "../../src/methods/mimmx.js";
import type { PartPair } from "../../src/mi/index.js";
import type { MlpEncoder } from "../../src/models/mlp.js";
import * as nn from "../../src/nn/index.js";
import * as torch from "../../src/tensor/index.js";
import { labelCarryingBatch, type MimmxOverrides, smallMlpMimmx } from "./helpers.js";

torch.setNumThreads(1);

const B = 24;
const DIM = 10;
const K = 3;
const LAMBDA = 0.7;
const REL_TOL = 1e-5;

type Route = "trunk" | "lastLayer";
interface Switches {
  adaptiveScaling: boolean;
  scalingScope: "encoder" | "lastLayer";
  spurionGrad: Route;
  miGrad: Route;
  gradNorm: "off" | "ce" | "ce+mi";
  attention: boolean;
  spurionView: "part" | "probs";
  miDistribution: "train" | "balanced";
}

function optionsOf(sw: Switches): MimmxOverrides {
  return {
    lambda: LAMBDA,
    // all negatives: the reference sees the same pairs without sharing a random draw
    estimator: { critic: "joint", hidden: [8], firstLayer: "split", negatives: "all", scoreBound: 5 },
    criticLr: 1e-2,
    nMI: 2,
    adaptiveScaling: sw.adaptiveScaling,
    scalingScope: sw.scalingScope,
    spurionGrad: sw.spurionGrad,
    miGrad: sw.miGrad,
    gradNorm: sw.gradNorm !== "off",
    gradNormMi: sw.gradNorm === "ce+mi",
    gradNormLr: 0.2,
    attention: sw.attention,
    attentionTau: 0.05,
    spurionView: sw.spurionView,
    miDistribution: sw.miDistribution,
  };
}

const makeBatch = (seed: number): Batch => labelCarryingBatch(seed, B, DIM);

function build(sw: Switches, pieces: Partial<EncoderStepPieces> = {}): Mimmx {
  return smallMlpMimmx(optionsOf(sw), { inputDim: DIM, partSize: K }, pieces);
}

/** Per-pair sample weights pi [B] (sum 1): 1 / count of the sample's label group, or uniform. */
function sampleWeights(pair: PartPair, labels: number[][], balanced: boolean): number[] {
  if (!balanced) return new Array(B).fill(1 / B);
  const tasks = [...pair.a, ...pair.c];
  const key = (b: number) => tasks.map((t) => labels[t][b]).join(",");
  const counts = new Map<string, number>();
  for (let b = 0; b < B; b++) counts.set(key(b), (counts.get(key(b)) ?? 0) + 1);
  const raw = Array.from({ length: B }, (_, b) => 1 / counts.get(key(b))!);
  const total = raw.reduce((x, v) => x + v, 0);
  return raw.map((v) => v / total);
}

interface Held {
  w: number[];
  wMi: number;
  a: number[] | null;
  logEma: number[];
}

/**
 * The reference: autograd of L on the encoder and head parameters, with the stop-gradients of the
 * routes and the held constants. Returns the gradients and the s it used.
 */
function referenceGradients(
  m: Mimmx,
  batch: Batch,
  sw: Switches,
  held: Held,
): { grads: (torch.Tensor | null)[]; s: number } {
  const enc = m.model.encoder as MlpEncoder;
  const heads = m.model.heads;
  const W = enc.out.weight;
  const bias = enc.out.bias!;
  const h = enc.body.forward(batch.x);
  const full = h.matmul(W.t()).add(bias);
  const lastOnly = h.detach().matmul(W.t()).add(bias.detach());
  const part = (f: torch.Tensor, i: number) => f.narrow(1, i * K, K);
  const spurionLast = sw.spurionGrad === "lastLayer";
  const miLast = sw.miGrad === "lastLayer";
  const labels = [batch.y, ...batch.z];
  const labelValues = labels.map((t) => Array.from(t.dataSync() as ArrayLike<number>, Number));

  // sum_k w_k CE_k: the spurion parts see only the last layer with spurionGrad "lastLayer".
  const classParts = [0, 1, 2].map((i) => part(i > 0 && spurionLast ? lastOnly : full, i));
  const ceTerms = classParts.map((p, i) =>
    nn.F.crossEntropy(heads.head(i, p), labels[i], { ignoreIndex: -1 }).mul(held.w[i]),
  );
  const classLoss = ceTerms[0].add(ceTerms[1]).add(ceTerms[2]);

  // sum_p a_p Ĩ_p on the views the critics read.
  const miParts = [0, 1, 2].map((i) => part(miLast || (i > 0 && spurionLast) ? lastOnly : full, i));
  const views = miParts.map((p, i) =>
    i > 0 && sw.spurionView === "probs" ? heads.head(i, p).softmax(1).detach() : p,
  );
  const pairs = m.pairs;
  const est = m.estimators!;
  const critic = est.module as unknown as {
    score(a: torch.Tensor, c: torch.Tensor): { pos: torch.Tensor; neg: torch.Tensor };
  };
  const scores = critic.score(
    torch.stack(pairs.map((p) => views[p.a[0]])),
    torch.stack(pairs.map((p) => views[p.c[0]])),
  );
  const terms = pairs.map((p, pi) => {
    const pi_ = sampleWeights(p, labelValues, sw.miDistribution === "balanced");
    // negatives in row-major order over (i, j), j != i, each weighted pi_i pi_j
    const negW: number[] = [];
    for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) if (i !== j) negW.push(pi_[i] * pi_[j]);
    const negTotal = negW.reduce((x, v) => x + v, 0);
    const pos = scores.pos.select(0, pi).mul(torch.tensor(pi_)).sum();
    const expNeg = scores.neg
      .select(0, pi)
      .exp()
      .mul(torch.tensor(negW.map((v) => v / negTotal)))
      .sum();
    const a = held.a && p.spurion !== null ? held.a[p.spurion] : 1;
    return pos.sub(expNeg.div(Math.exp(held.logEma[pi]))).mul(a);
  });
  const miLoss = terms.reduce((x, t) => x.add(t));

  // s from the norms of both gradients on the scope's parameters.
  let s = 1;
  const encoderParams = enc.parameters();
  if (sw.adaptiveScaling) {
    const scope = sw.scalingScope === "encoder" ? encoderParams : [W];
    const norm = (gs: (torch.Tensor | null)[]) =>
      Math.sqrt(gs.reduce((acc, g) => acc + (g ? g.square().sum().item() : 0), 0));
    const gc = norm(torch.grad(classLoss, scope, { retainGraph: true, allowUnused: true }));
    const gm = norm(torch.grad(miLoss, scope, { retainGraph: true, allowUnused: true }));
    s = gm > 0 ? Math.min(gc, gm) / gm : 1;
  }
  const total = classLoss.add(miLoss.mul(LAMBDA * held.wMi * s));
  const params = [...encoderParams, ...heads.parameters()];
  return { grads: torch.grad(total, params, { allowUnused: true }), s };
}

/**
 * Runs a warmed-up step without the optimiser step; returns the worst relative gradient error
 * against the reference for `refSw` (default: the switches the method was built with).
 */
function gradientError(
  sw: Switches,
  pieces: Partial<EncoderStepPieces> = {},
  refSw: Switches = sw,
): { err: number; where: string } {
  return torch.tidy(() => {
    const m = build(sw, pieces);
    const batch = makeBatch(2);
    // two full updates first: GradNorm's w, the attention and the EMAs move away from their start
    for (let i = 0; i < 2; i++) torch.tidy(() => m.update(batch));
    const w = m.gradNorm ? [...m.gradNorm.w] : [1, 1, 1];
    const { logs } = m.encoderStep(batch, false);
    const held: Held = {
      w,
      wMi: sw.gradNorm === "ce+mi" ? w[3] : 1,
      a: m.attention ? m.attention.weights() : null,
      logEma: m.estimators!.emaState() as number[],
    };
    const params = [...m.model.encoder.parameters(), ...m.model.heads.parameters()];
    const got = params.map((p) =>
      p.grad ? (Array.from(p.grad.dataSync() as Float32Array) as number[]) : null,
    );
    const ref = referenceGradients(m, batch, refSw, held);
    let worst = { err: 0, where: "" };
    if (sw.adaptiveScaling) {
      const e = Math.abs(logs.scale - ref.s) / ref.s;
      if (e > worst.err) worst = { err: e, where: `s ${logs.scale} vs ${ref.s}` };
    }
    params.forEach((p, i) => {
      const r = ref.grads[i] ? (Array.from(ref.grads[i]!.dataSync() as Float32Array) as number[]) : null;
      const n = p.numel();
      const g = got[i] ?? new Array(n).fill(0);
      const rr = r ?? new Array(n).fill(0);
      const scale = Math.max(1e-12, ...rr.map(Math.abs), ...g.map(Math.abs));
      const d = Math.max(...g.map((v, j) => Math.abs(v - rr[j])));
      if (d / scale > worst.err) worst = { err: d / scale, where: `parameter ${i} [${p.shape}]` };
    });
    return worst;
  });
}

const label = (sw: Switches) =>
  `adaptive ${sw.adaptiveScaling}, scope ${sw.scalingScope}, spurionGrad ${sw.spurionGrad}, miGrad ${sw.miGrad}, gradNorm ${sw.gradNorm}, attention ${sw.attention}, view ${sw.spurionView}, mi ${sw.miDistribution}`;

/** The gradient-shaping groups: adaptive x scope x routes, where the routes are valid. */
const GROUPS: Pick<Switches, "adaptiveScaling" | "scalingScope" | "spurionGrad" | "miGrad">[] = [];
for (const adaptiveScaling of [false, true])
  for (const scalingScope of ["lastLayer", "encoder"] as const)
    for (const spurionGrad of ["trunk", "lastLayer"] as const)
      for (const miGrad of ["trunk", "lastLayer"] as const) {
        if (adaptiveScaling && scalingScope === "encoder" && (spurionGrad !== "trunk" || miGrad !== "trunk"))
          continue;
        GROUPS.push({ adaptiveScaling, scalingScope, spurionGrad, miGrad });
      }

function* rest(group: (typeof GROUPS)[number]): Generator<Switches> {
  for (const gradNorm of ["off", "ce", "ce+mi"] as const)
    for (const attention of [false, true])
      for (const spurionView of ["part", "probs"] as const)
        for (const miDistribution of ["train", "balanced"] as const)
          yield { ...group, gradNorm, attention, spurionView, miDistribution };
}

describe("MIMM-X encoder gradient equals autograd of sum w_k CE_k + lambda s sum a_p Ĩ_p", () => {
  for (const group of GROUPS) {
    it(`${label({ ...group, gradNorm: "off", attention: false, spurionView: "part", miDistribution: "train" }).split(", gradNorm")[0]}: every GradNorm / attention / view / distribution`, () => {
      const failures: string[] = [];
      for (const sw of rest(group)) {
        const { err, where } = gradientError(sw);
        if (!(err <= REL_TOL)) failures.push(`${label(sw)}: ${where} off by ${err.toExponential(2)}`);
      }
      assert.deepEqual(failures, []);
    });
  }

  it("catches a wrong piece: flipped or zeroed MI gradient, doubled s, unweighted CE", () => {
    const sw: Switches = {
      adaptiveScaling: true,
      scalingScope: "lastLayer",
      spurionGrad: "trunk",
      miGrad: "trunk",
      gradNorm: "ce+mi",
      attention: true,
      spurionView: "part",
      miDistribution: "train",
    };
    assert.ok(gradientError(sw).err <= REL_TOL);
    const mutants: Record<string, Partial<EncoderStepPieces>> = {
      "flipped MI gradient": {
        miGradients: (loss, f, W) => {
          const [gf, gw] = torch.grad(loss, [f, W], { retainGraph: true, allowUnused: true });
          return { f: gf!.neg(), W: gw!.neg() };
        },
      },
      "zeroed MI gradient": {
        miGradients: (loss, f, W) => {
          const [gf, gw] = torch.grad(loss, [f, W], { retainGraph: true, allowUnused: true });
          return { f: gf!.mul(0), W: gw!.mul(0) };
        },
      },
      "doubled s": {
        lastLayerScale: (c, mi) => {
          const n = (t: torch.Tensor | null) => (t ? t.norm().item() : 0);
          return (2 * Math.min(n(c.W), n(mi.W))) / n(mi.W);
        },
      },
      "CE terms unweighted": { weightedClassLoss: (ce) => ce.reduce((x, y) => x.add(y)) },
    };
    for (const [name, pieces] of Object.entries(mutants)) {
      const { err } = gradientError(sw, pieces);
      assert.ok(err > 1e-2, `${name}: the check would not notice (error ${err})`);
    }
    // Each route's stop-gradient matters here: a method routing differently from the reference fails.
    for (const route of [{ spurionGrad: "lastLayer" }, { miGrad: "lastLayer" }] as const) {
      const { err } = gradientError(sw, {}, { ...sw, ...route });
      assert.ok(err > 1e-2, `${JSON.stringify(route)} vs trunk: the check would not notice (error ${err})`);
    }
  });

  it("refuses trunk-skipping routes with the exact encoder scope", () => {
    assert.throws(
      () =>
        build({
          adaptiveScaling: true,
          scalingScope: "encoder",
          spurionGrad: "lastLayer",
          miGrad: "trunk",
          gradNorm: "off",
          attention: false,
          spurionView: "part",
          miDistribution: "train",
        }),
      /spurionGrad "lastLayer".*scalingScope "lastLayer"/,
    );
  });
});

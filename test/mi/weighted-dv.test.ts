// The reweighted DV estimate / corrected surrogate and the Jensen-Shannon surrogate of the stacked
// estimators, against hand computation on small score matrices, and the balanced importance weights.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { balancedLogWeights } from "../../src/methods/pair-weights.js";
import type { StackedScores } from "../../src/mi/stacked-critic.js";
import {
  stackedDv,
  stackedJsdSurrogate,
  stackedLogMeanExp,
  stackedSurrogate,
} from "../../src/mi/stacked-dv.js";
import * as torch from "../../src/tensor/index.js";
import { assertAllClose } from "../helpers/assert.js";

const softplus = (x: number) => Math.log1p(Math.exp(x));

describe("weighted stacked DV", () => {
  const pos = [0.5, -0.2, 1.0];
  const neg = [0.1, -0.3, 0.4, 0.0];
  const wPos = [1, 2, 1];
  const wNeg = [0.5, 1, 1, 2.5];
  const scores = (weighted: boolean, mask?: boolean[]): StackedScores => ({
    pos: torch.tensor(pos, { shape: [1, 3] }),
    neg: torch.tensor(neg, { shape: [1, 4] }),
    mask: mask ? torch.tensor(mask, { shape: [1, 4], dtype: "bool" }) : null,
    posLogW: weighted ? torch.tensor(wPos.map(Math.log), { shape: [1, 3] }) : null,
    negLogW: weighted ? torch.tensor(wNeg.map(Math.log), { shape: [1, 4] }) : null,
  });
  const wmean = (v: number[], w: number[]) =>
    v.reduce((a, x, i) => a + w[i] * x, 0) / w.reduce((a, x) => a + x);

  it("uniform: mean(pos) - log mean exp(neg)", () => {
    const want = wmean(pos, [1, 1, 1]) - Math.log(wmean(neg.map(Math.exp), [1, 1, 1, 1]));
    assertAllClose(stackedDv(scores(false)).toArray() as number[], [want], "dv");
  });

  it("weighted: weighted means of pos and of exp(neg)", () => {
    const want = wmean(pos, wPos) - Math.log(wmean(neg.map(Math.exp), wNeg));
    assertAllClose(stackedDv(scores(true)).toArray() as number[], [want], "weighted dv");
  });

  it("weighted and masked: masked negatives carry no weight", () => {
    const mask = [true, false, true, true];
    const w = wNeg.map((x, i) => (mask[i] ? x : 0));
    const want = wmean(pos, wPos) - Math.log(wmean(neg.map(Math.exp), w));
    assertAllClose(stackedDv(scores(true, mask)).toArray() as number[], [want], "masked dv");
  });

  it("corrected surrogate: mean(pos) - mean(exp(neg)) / EMA, weighted", () => {
    const s = scores(true);
    const lme = stackedLogMeanExp(s);
    const logEma = torch.tensor([0.3]);
    const want = wmean(pos, wPos) - wmean(neg.map(Math.exp), wNeg) / Math.exp(0.3);
    assertAllClose(stackedSurrogate(s, lme, logEma).toArray() as number[], [want], "surrogate");
  });

  it("JSD surrogate: mean(-softplus(-pos)) - mean(softplus(neg)), weighted and not", () => {
    const want = (wp: number[], wn: number[]) =>
      -wmean(
        pos.map((p) => softplus(-p)),
        wp,
      ) - wmean(neg.map(softplus), wn);
    assertAllClose(
      stackedJsdSurrogate(scores(false)).toArray() as number[],
      [want([1, 1, 1], [1, 1, 1, 1])],
      "jsd",
    );
    assertAllClose(
      stackedJsdSurrogate(scores(true)).toArray() as number[],
      [want(wPos, wNeg)],
      "weighted jsd",
    );
  });
});

describe("balancedLogWeights", () => {
  it("-log(count of the sample's label group), per pair", () => {
    const y = [0, 0, 0, 1, 1, 0];
    const z0 = [0, 0, 1, 1, 1, 0];
    const z1 = [1, 0, 1, 0, 1, 1];
    const pairs = [
      { name: "y;z0", a: [0], c: [1], spurion: 0 },
      { name: "y;z1", a: [0], c: [2], spurion: 1 },
    ];
    const lw = balancedLogWeights(pairs, [y, z0, z1], "cpu");
    assert.deepEqual(lw.shape, [2, 6]);
    // y;z0 groups: (0,0) x3, (0,1) x1, (1,1) x2. y;z1 groups: (0,1) x3, (0,0) x1, (1,0) x1, (1,1) x1.
    const want = [
      [3, 3, 1, 2, 2, 3],
      [3, 1, 3, 1, 1, 3],
    ].flatMap((r) => r.map((n) => -Math.log(n)));
    assertAllClose(lw.dataSync() as Float32Array, want, "log weights");
  });

  it("makes the weighted label distribution of a pair uniform over the groups present", () => {
    const y = [0, 0, 0, 0, 1, 1, 1, 1, 0, 1];
    const z = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0];
    const lw = balancedLogWeights([{ name: "y;z0", a: [0], c: [1], spurion: 0 }], [y, z], "cpu");
    const w = Array.from(lw.dataSync() as Float32Array, Math.exp);
    const mass = new Map<string, number>();
    y.forEach((v, i) => {
      mass.set(`${v}${z[i]}`, (mass.get(`${v}${z[i]}`) ?? 0) + w[i]);
    });
    for (const m of mass.values()) assert.ok(Math.abs(m - 1) < 1e-6, `group mass ${m}`);
  });
});

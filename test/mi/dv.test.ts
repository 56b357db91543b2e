import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  allPairsMask,
  assertFinite,
  correctedSurrogate,
  dvEstimate,
  LogEma,
  logMeanExp,
  miPairs,
  NonFiniteError,
  stackedDv,
} from "../../src/mi/index.js";
import * as torch from "../../src/tensor/index.js";

torch.setNumThreads(1);

const M = [
  [1, 0.5, 0.2],
  [0.1, 2, 0.3],
  [0.4, 0.6, 1.5],
];
const DIAG = [1, 2, 1.5];
const OFF = [0.5, 0.2, 0.1, 0.3, 0.4, 0.6];
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function scoresOf(m: torch.Tensor, condition?: torch.Tensor) {
  return { pos: m.diagonal(), neg: m.maskedSelect(allPairsMask(3, "cpu", condition)) };
}

describe("Donsker-Varadhan estimate", () => {
  it("matches the hand-computed value on a 3x3 score matrix", () => {
    const expected = mean(DIAG) - Math.log(mean(OFF.map(Math.exp)));
    const got = torch.tidy(() => dvEstimate(scoresOf(torch.tensor(M))).item());
    assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
  });

  it("is stable for large scores (logsumexp)", () => {
    const big = M.map((r) => r.map((v) => v + 1000));
    const got = torch.tidy(() => dvEstimate(scoresOf(torch.tensor(big))).item());
    const expected = mean(DIAG) - Math.log(mean(OFF.map(Math.exp)));
    assert.ok(Math.abs(got - expected) < 1e-3, `${got} vs ${expected}`);
  });

  it("conditional negatives keep only same-label pairs", () => {
    const got = torch.tidy(() => {
      const s = scoresOf(torch.tensor(M), torch.tensor([0, 0, 1], { dtype: "int64" }));
      return s.neg.toArray();
    });
    assert.deepEqual(
      got.map((v) => +v.toFixed(4)),
      [0.5, 0.1],
    );
  });

  it("the stacked form gives the same estimate per pair", () => {
    const got = torch.tidy(() => {
      const m = torch.tensor(M);
      const neg = m.maskedSelect(allPairsMask(3, "cpu")).unsqueeze(0);
      return stackedDv({ pos: m.diagonal().unsqueeze(0), neg, mask: null }).toArray()[0];
    });
    assert.ok(Math.abs(got - (mean(DIAG) - Math.log(mean(OFF.map(Math.exp))))) < 1e-6);
  });
});

describe("bias-corrected gradient surrogate", () => {
  it("EMA follows EMA = r new + (1 - r) EMA in the log domain", () => {
    const ema = new LogEma(0.9);
    assert.equal(ema.update(Math.log(2)), Math.log(2));
    const v = ema.update(Math.log(4));
    assert.ok(Math.abs(Math.exp(v) - (0.9 * 4 + 0.1 * 2)) < 1e-9);
  });

  it("value and gradient match mean(diag) - mean(exp(off)) / EMA", () => {
    const emaValue = 1.7;
    const m = torch.tensor(M).requiresGrad_(true);
    const s = correctedSurrogate(scoresOf(m), Math.log(emaValue));
    const expected = mean(DIAG) - mean(OFF.map(Math.exp)) / emaValue;
    assert.ok(Math.abs(s.item() - expected) < 1e-6, `${s.item()} vs ${expected}`);
    s.backward();
    const g = m.grad!.toArray();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const want = i === j ? 1 / 3 : -Math.exp(M[i][j]) / (6 * emaValue);
        assert.ok(Math.abs(g[i * 3 + j] - want) < 1e-6, `grad[${i}][${j}] ${g[i * 3 + j]} vs ${want}`);
      }
    }
  });

  it("logMeanExp of an empty set is an error, not NaN", () => {
    assert.throws(() => torch.tidy(() => logMeanExp(torch.zeros([0]))), /no negative samples/);
  });
});

describe("NaN/Inf guard and pair sets", () => {
  it("names the term", () => {
    assert.throws(
      () => assertFinite("mi[y;z0]", Number.NaN),
      (e: unknown) => e instanceof NonFiniteError && e.term === "mi[y;z0]",
    );
    assert.equal(assertFinite("x", 1.5), 1.5);
  });

  it("all pairs and the chain", () => {
    assert.deepEqual(
      miPairs(3, "all").map((p) => [p.name, p.spurion]),
      [
        ["y;z0", 0],
        ["y;z1", 1],
        ["z0;z1", null],
      ],
    );
    assert.deepEqual(
      miPairs(3, "chain").map((p) => [p.name, p.c]),
      [
        ["y;z0,z1", [1, 2]],
        ["z0;z1", [2]],
      ],
    );
  });
});

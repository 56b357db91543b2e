// The fused native critic step (native/src/critic.cc) against the TS path it replaces: N critic steps
// from the same seed, both ways, must leave the same critic parameters, Adam moments, EMAs and logs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Batch } from "../../src/methods/batch.js";
import { createMethod, type MethodConfig } from "../../src/methods/index.js";
import type { Mimmx } from "../../src/methods/mimmx.js";
import { type FusedCriticMode, type StackedPairEstimators, setFusedCriticStep } from "../../src/mi/index.js";
import * as torch from "../../src/tensor/index.js";
import { mimmxOptions } from "../methods/helpers.js";

torch.setNumThreads(1);

const TASKS = [
  { name: "y", numClasses: 2 },
  { name: "z0", numClasses: 2 },
  { name: "z1", numClasses: 2 },
];
/** the one-hidden-layer critic (the kernel's case) with a critic lr of 1e-3 (the tolerances assume it) */
const BASE = mimmxOptions({ estimator: "joint-64-k8", criticLr: 1e-3 });
const B = 64;
const STEPS = 6;
const TOL = 1e-5;
/** after STEPS Adam steps (lr 1e-3), the other parameters see b1's noise through the scores */
const PARAM_TOL_KERNEL = 1e-4;
/** b1's noise moves every score, hence log-mean-exp, the EMA and the estimates, by up to lr per step */
const B1_DRIFT = 2 * 1e-3 * STEPS;

interface Run {
  params: Map<string, number[]>;
  moments: Map<string, number[]>;
  ema: (number | null)[];
  logs: Record<string, number>[];
}

function runSteps(mode: FusedCriticMode, extra: Partial<MethodConfig>, partSize = 2): Run {
  const prev = setFusedCriticStep(mode);
  try {
    return torch.tidy(() => {
      torch.manualSeed(7);
      const m = createMethod({
        method: "mimmx",
        tasks: TASKS,
        encoder: { name: "small-cnn" },
        partSize,
        ...BASE,
        ...extra,
      } as MethodConfig) as Mimmx;
      const y = torch.randint(0, 2, [B]);
      const batch: Batch = {
        x: torch.zeros([B, 1, 28, 28]),
        y,
        z: [torch.randint(0, 2, [B]), torch.randint(0, 2, [B])],
      };
      // features correlated with the labels, so the critics have something to find
      const f = torch.randn([B, 3 * partSize]).add(y.unsqueeze(1).float().mul(0.8));
      const logs: Record<string, number>[] = [];
      for (let i = 0; i < STEPS; i++) logs.push(m.criticStep(f, batch));
      const params = new Map<string, number[]>();
      for (const [name, p] of m.estimators!.module.namedParameters())
        params.set(name, p.toArray() as number[]);
      const sd = m.optimizers.critics.stateDict();
      const moments = new Map([...sd.tensors].map(([k, t]) => [k, t.toArray() as number[]]));
      return { params, moments, ema: m.estimators!.emaState(), logs };
    });
  } finally {
    setFusedCriticStep(prev);
  }
}

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function assertSame(ref: Run, got: Run, label: string): void {
  assert.equal(got.params.size, ref.params.size);
  for (const [name, v] of ref.params) {
    // b0 (the first layer's bias) feeds BatchNorm, which removes it, and b1 shifts every score alike,
    // which the DV surrogate cancels while the EMA equals the batch value (first step): their
    // gradients are zero up to float rounding and Adam moves them by noise of either sign, whose
    // size does not depend on the gradient's. They follow a different summation order in the kernel
    // (the "aten" mode runs the TS path's ops and matches to TOL). The one-step gradient test below
    // checks the kernel's arithmetic tightly.
    const noise = name === "b0" || name === "b1";
    const tol = noise ? 2 * 1e-3 * STEPS : label.includes("kernel") ? PARAM_TOL_KERNEL : TOL;
    const d = maxDiff(v, got.params.get(name)!);
    assert.ok(d <= tol, `${label}: parameter ${name} differs by ${d}`);
  }
  assert.equal(got.moments.size, ref.moments.size);
  for (const [key, m] of ref.moments) {
    if (key.startsWith("2.") || key.startsWith("6.")) continue; // b0's and b1's follow noise (above)
    const d = maxDiff(m, got.moments.get(key)!);
    const scale = Math.max(...m.map(Math.abs));
    const tol = label.includes("kernel") ? 1e-3 * scale + 1e-9 : TOL * Math.max(1, scale);
    assert.ok(d <= tol, `${label}: optimizer state ${key} differs by ${d} (scale ${scale})`);
  }
  ref.ema.forEach((e, i) => {
    assert.ok(
      Math.abs((e as number) - (got.ema[i] as number)) <= (label.includes("kernel") ? B1_DRIFT : TOL),
      `${label}: ema ${i} ${e} vs ${got.ema[i]}`,
    );
  });
  ref.logs.forEach((l, s) => {
    for (const [k, v] of Object.entries(l))
      assert.ok(
        Math.abs(v - got.logs[s][k]) <= (label.includes("kernel") ? B1_DRIFT : TOL),
        `${label}: step ${s} ${k} ${v} vs ${got.logs[s][k]}`,
      );
  });
}

const CASES: [string, Partial<MethodConfig>][] = [
  ["default (joint-64-k8)", {}],
  ["conditional negatives", { conditional: true }],
  ["balanced distribution (log weights)", { miDistribution: "balanced" }],
  ["jsd objective", { objective: "jsd" }],
  [
    "all negatives, bounded scores",
    { estimator: { critic: "joint", hidden: [32], negatives: "all", scoreBound: 5 } },
  ],
  ["two hidden layers (ATen graph)", { estimator: { critic: "joint", hidden: [16, 16], negatives: 4 } }],
];

/** The critic gradients of one step on fixed parameters, by the given path. */
function oneStepGrads(mode: FusedCriticMode, extra: Partial<MethodConfig>): Map<string, number[]> {
  const prev = setFusedCriticStep(false);
  try {
    return torch.tidy(() => {
      torch.manualSeed(11);
      const m = createMethod({
        method: "mimmx",
        tasks: TASKS,
        encoder: { name: "small-cnn" },
        partSize: 2,
        ...BASE,
        ...extra,
      } as MethodConfig) as Mimmx;
      const est = m.estimators as StackedPairEstimators;
      const y = torch.randint(0, 2, [B]);
      const f = torch.randn([B, 6]).add(y.unsqueeze(1).float().mul(0.8));
      // a second step (the first by the TS path in every mode), so the EMA differs from the batch value
      m.criticStep(f, { x: torch.zeros([B, 1, 28, 28]), y, z: [y, y] });
      setFusedCriticStep(mode);
      const inputs = est.stackInputs(m.model.split(f));
      m.optimizers.critics.zeroGrad();
      if (mode === false) est.stackedTerms(inputs, y).surrogates.sum().neg().backward();
      else assert.ok(est.fusedCriticBackward(inputs, y));
      const out = new Map<string, number[]>();
      for (const [name, p] of est.module.namedParameters()) out.set(name, p.grad!.toArray() as number[]);
      return out;
    });
  } finally {
    setFusedCriticStep(prev);
  }
}

describe("fused critic step", () => {
  for (const [label, extra] of CASES) {
    it(`gives the TS path's gradients: ${label}`, () => {
      const ref = oneStepGrads(false, extra);
      for (const mode of [true, "aten"] as const) {
        const got = oneStepGrads(mode, extra);
        for (const [name, g] of ref) {
          const scale = Math.max(...g.map(Math.abs));
          const d = maxDiff(g, got.get(name)!);
          // b0's gradient is rounding noise (BatchNorm removes it): compare on the others' scale
          // The kernel sums in another order; the BN backward sums and b1's (sum of the score gradients)
          // cancel by construction, so rounding shows at ~1e-5..1e-4 of the largest entry (b1: more). A wrong formula
          // would differ by O(scale). The "aten" mode runs the TS path's ops.
          const rel = mode !== true ? 1e-5 : name === "b1" ? 1e-3 : 1e-4;
          const tol = name === "b0" ? 1e-6 : rel * scale + 1e-7;
          assert.ok(d <= tol, `${label} (${mode}): grad ${name} differs by ${d} (scale ${scale})`);
        }
      }
    });
  }

  for (const [label, extra] of CASES) {
    it(`matches the TS path: ${label}`, () => {
      const ref = runSteps(false, extra);
      assertSame(ref, runSteps(true, extra), `${label} (kernel)`);
      assertSame(ref, runSteps("aten", extra), `${label} (aten)`);
    });
  }

  it("matches with partSize 8 and spurion probabilities", () => {
    const ref = runSteps(false, { spurionView: "probs" }, 8);
    assertSame(ref, runSteps(true, { spurionView: "probs" }, 8), "probs (kernel)");
  });

  it("a full update() gives the same logs both ways", () => {
    const logsOf = (mode: FusedCriticMode) => {
      const prev = setFusedCriticStep(mode);
      try {
        return torch.tidy(() => {
          torch.manualSeed(3);
          const m = createMethod({
            method: "mimmx",
            tasks: TASKS,
            encoder: { name: "small-cnn" },
            partSize: 2,
            ...BASE,
          });
          const batch: Batch = {
            x: torch.randn([B, 1, 28, 28]),
            y: torch.randint(0, 2, [B]),
            z: [torch.randint(0, 2, [B]), torch.randint(0, 2, [B])],
          };
          return [m.update(batch), m.update(batch)];
        });
      } finally {
        setFusedCriticStep(prev);
      }
    };
    const a = logsOf(false);
    const b = logsOf(true);
    a.forEach((l, s) => {
      for (const [k, v] of Object.entries(l))
        assert.ok(
          Math.abs(v - b[s][k]) <= 1e-4 * Math.max(1, Math.abs(v)),
          `update ${s} ${k}: ${v} vs ${b[s][k]}`,
        );
    });
  });
});

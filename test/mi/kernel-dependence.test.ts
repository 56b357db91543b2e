// The kernel estimate of D(f; z | y): its contrast rows, its value against a direct double sum of
// MMD^2 V-statistics, its gradient against finite differences, zero for independence and growth
// with dependence, and that minimising it removes what a linear probe reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { linearProbe } from "../../src/eval/probe.js";
import {
  classMedian,
  conditionalDependence,
  dependenceFromKernel,
  groupContrasts,
  median,
  rbfKernel,
  squaredDistances,
  standardisedLinearKernel,
} from "../../src/mi/kernel-dependence.js";
import { KernelPairEstimators } from "../../src/mi/kernel-pairs.js";
import * as torch from "../../src/tensor/index.js";
import { Rng } from "../../src/util/random.js";
import { gradcheck, uniform } from "../helpers/gradcheck.js";

/** MMD^2 V-statistic between row sets A and B of f under kernel k, by a plain double sum. */
function mmd2(f: number[][], a: number[], b: number[], k: (p: number[], q: number[]) => number): number {
  const mean = (s: number[], t: number[]) => {
    let acc = 0;
    for (const i of s) for (const j of t) acc += k(f[i], f[j]);
    return acc / (s.length * t.length);
  };
  return mean(a, a) + mean(b, b) - 2 * mean(a, b);
}

function rows(t: torch.Tensor): number[][] {
  const [n, d] = t.shape;
  const v = t.toArray();
  return Array.from({ length: n }, (_, i) => v.slice(i * d, (i + 1) * d));
}

describe("kernel conditional dependence", () => {
  it("builds one contrast row per present (class, group), none for a one-group class", () => {
    // class 0: z = 0, 0, 1; class 1: z = 1, 1 (one group only -> no rows); one unknown z
    const y = [0, 0, 0, 1, 1, 0];
    const z = [0, 0, 1, 1, 1, -1];
    const { rows: r, count } = groupContrasts(y, z, 2, 2);
    assert.equal(count, 2);
    const row0 = Array.from(r.subarray(0, 6));
    const row1 = Array.from(r.subarray(6, 12));
    const e = 1e-7;
    [1 / 2 - 1 / 3, 1 / 2 - 1 / 3, -1 / 3, 0, 0, 0].forEach((v, i) => {
      assert.ok(Math.abs(row0[i] - v) < e);
    });
    [-1 / 3, -1 / 3, 1 - 1 / 3, 0, 0, 0].forEach((v, i) => {
      assert.ok(Math.abs(row1[i] - v) < e);
    });
  });

  it("equals the sum of MMD^2 between each group and its class, by a direct double sum", () => {
    const f = uniform([10, 3], 7);
    const y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    const z = [0, 1, 1, 0, 2, 1, 1, 0, 0, 0];
    const h = 0.8;
    const bw = [0.5, 1, 2];
    const k = (p: number[], q: number[]) => {
      const d2 = p.reduce((acc, v, i) => acc + (v - q[i]) ** 2, 0);
      return bw.reduce((acc, m) => acc + Math.exp(-d2 / (2 * m * h)), 0) / bw.length;
    };
    const fr = rows(f);
    let expected = 0;
    for (let c = 0; c < 2; c++) {
      const cls = y.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0);
      for (let j = 0; j < 3; j++) {
        const g = cls.filter((i) => z[i] === j);
        if (g.length > 0) expected += mmd2(fr, g, cls, k);
      }
    }
    const got = conditionalDependence(f, y, z, 2, 3, bw, h).item();
    assert.ok(Math.abs(got - expected) < 1e-9, `${got} vs ${expected}`);
  });

  it("has the gradient of finite differences (bandwidth held fixed)", () => {
    const y = [0, 0, 0, 1, 1, 1, 0, 1];
    const z = [0, 1, 1, 0, 1, 0, 0, 0];
    gradcheck("conditionalDependence", (f) => conditionalDependence(f, y, z, 2, 2, [0.5, 1, 2], 1.3), [
      uniform([8, 2], 3),
    ]);
  });

  it("is at its permutation null when f is independent of z given y, and grows with the dependence", () => {
    const rng = new Rng(1);
    const n = 256;
    const y = Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
    const z = y.map((v) => (rng.next() < 0.9 ? v : 1 - v)); // z correlated with y, as in training
    // The null: z shuffled within each class keeps the group sizes and breaks any f-z link.
    const shuffledWithinClass = () => {
      const out = [...z];
      for (const c of [0, 1]) {
        const idx = y.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0);
        const vals = idx.map((i) => z[i]);
        for (let i = vals.length - 1; i > 0; i--) {
          const j = Math.floor(rng.next() * (i + 1));
          [vals[i], vals[j]] = [vals[j], vals[i]];
        }
        idx.forEach((i, k) => {
          out[i] = vals[k];
        });
      }
      return out;
    };
    const nulls = Array.from({ length: 10 }, shuffledWithinClass);
    const measure = (shift: number) => {
      const f = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        f[2 * i] = rng.normal() + 2 * y[i]; // y is in the features: that is allowed
        f[2 * i + 1] = rng.normal() + shift * z[i]; // the spurion, by `shift`
      }
      return torch.tidy(() => {
        const t = torch.tensor(f, { shape: [n, 2] });
        const nullMean =
          nulls.reduce((acc, zn) => acc + conditionalDependence(t, y, zn, 2, 2).item(), 0) / nulls.length;
        return conditionalDependence(t, y, z, 2, 2).item() - nullMean;
      });
    };
    const excess = [0, 1, 2, 4].map(measure);
    assert.ok(Math.abs(excess[0]) < 0.25 * excess[1], `independent ${excess[0]} vs shift 1 ${excess[1]}`);
    for (let i = 1; i < excess.length; i++) assert.ok(excess[i] > excess[i - 1], excess.join(", "));
  });

  it("removes what a linear probe reads when minimised (not blind)", () => {
    const rng = new Rng(2);
    const n = 120;
    const y = Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
    const z = Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
    const init = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      init[2 * i] = rng.normal() * 0.3 + y[i];
      init[2 * i + 1] = rng.normal() * 0.3 + 1.5 * z[i];
    }
    const probeZ = (f: Float32Array) => linearProbe(f, 2, Int32Array.from(z), { numClasses: 2 }).accuracy;
    const before = probeZ(init);
    const f = torch.tensor(init, { shape: [n, 2], requiresGrad: true });
    for (let step = 0; step < 120; step++) {
      torch.tidy(() => {
        const d = conditionalDependence(f, y, z, 2, 2);
        const [g] = torch.grad(d, [f]);
        torch.noGrad(() => f.add_(g as torch.Tensor, -40));
      });
    }
    const after = probeZ(f.dataSync() as Float32Array);
    const yProbe = linearProbe(f.dataSync() as Float32Array, 2, Int32Array.from(y), {
      numClasses: 2,
    }).accuracy;
    assert.ok(before > 0.9, `the probe reads z before: ${before}`);
    assert.ok(after < 0.62, `after minimising, the probe reads z at ${after}`);
    assert.ok(yProbe > 0.85, `y stays readable: ${yProbe}`);
    void rbfKernel;
  });

  it("with the standardised linear kernel, scores each group's mean shift from its class", () => {
    const rng = new Rng(5);
    const n = 40;
    const d = 3;
    const y = Array.from({ length: n }, (_, i) => i % 2);
    const z = Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
    const vals = Float32Array.from({ length: n * d }, () => rng.normal() * 2 + 1);
    const f = torch.tensor(vals, { shape: [n, d] });
    // By hand: standardise each column with the batch mean and (population) sd; with
    // v the contrast row of a present (class c, group j), sum_{a != b} v_a v_b <g_a, g_b>
    // = |sum_b v_b g_b|^2 - sum_b v_b^2 |g_b|^2, |sum_b v_b g_b| being the group's mean shift.
    const g = rows(f).map((r) => r.slice());
    for (let j = 0; j < d; j++) {
      const col = g.map((r) => r[j]);
      const mu = col.reduce((a, b) => a + b) / n;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - mu) ** 2, 0) / n);
      for (const r of g) r[j] = (r[j] - mu) / sd;
    }
    let want = 0;
    for (let c = 0; c < 2; c++) {
      const cls = y.map((_, i) => i).filter((i) => y[i] === c);
      for (let j = 0; j < 2; j++) {
        const grp = cls.filter((i) => z[i] === j);
        if (grp.length === 0) continue;
        const v = y.map((_, i) => (y[i] === c ? (z[i] === j ? 1 / grp.length : 0) - 1 / cls.length : 0));
        const shift = Array.from({ length: d }, (_, k) => v.reduce((a, vb, i) => a + vb * g[i][k], 0));
        want += shift.reduce((a, s) => a + s * s, 0);
        want -= v.reduce((a, vb, i) => a + vb * vb * g[i].reduce((q, x) => q + x * x, 0), 0);
      }
    }
    const got = dependenceFromKernel(standardisedLinearKernel(f), y, z, 2, 2).item();
    assert.ok(Math.abs(got - want) < 1e-5 * Math.max(1, want), `${got} vs ${want}`);
    // Scale-free: the features times 10 score the same.
    const scaled = dependenceFromKernel(standardisedLinearKernel(f.mul(10)), y, z, 2, 2).item();
    assert.ok(Math.abs(scaled - got) < 1e-4 * Math.max(1, got), `${scaled} vs ${got}`);
  });

  it("the class bandwidth is the median squared distance over same-class pairs, and the estimator uses it", () => {
    const rng = new Rng(9);
    const n = 21;
    // two classes far apart along the first axis: the batch median is a between-class distance
    const y: number[] = Array.from({ length: n }, (_, i) => (i < 11 ? 0 : 1));
    y[3] = -1; // an unknown label takes no part
    const z = Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
    const vals = Float32Array.from({ length: n * 2 }, (_, k) =>
      k % 2 === 0 ? 10 * (y[k >> 1] === 1 ? 1 : 0) + rng.normal() : rng.normal(),
    );
    const f = torch.tensor(vals, { shape: [n, 2] });
    const fr = rows(f);
    const within: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++)
        if (y[i] >= 0 && y[i] === y[j]) within.push((fr[i][0] - fr[j][0]) ** 2 + (fr[i][1] - fr[j][1]) ** 2);
    within.sort((a, b) => a - b);
    const want = within[Math.floor(within.length / 2)];
    const h = classMedian(squaredDistances(f).toArray(), y);
    assert.ok(Math.abs(h - want) < 1e-3 * want, `${h} vs ${want}`);
    // the estimator with bandwidth_pairs "class" scores with exactly that h
    const est = new KernelPairEstimators([{ name: "y;z", a: [0], c: [1], spurion: 0 }], [2, 2], {
      critic: "kernel",
      bandwidthPairs: "class",
    });
    const zView = torch.tensor(
      z.flatMap((v) => (v === 1 ? [0, 1] : [1, 0])),
      { shape: [n, 2] },
    );
    const got = est.estimates([f, zView], torch.tensor(y, { dtype: "int64" }))[0];
    const byHand = conditionalDependence(f, y, z, 2, 2, undefined, h).item();
    assert.ok(Math.abs(got - byHand) < 1e-6, `${got} vs ${byHand}`);
    // and not the batch median's value (the between-class pairs make that one ~20 times larger)
    const batchScale = conditionalDependence(f, y, z, 2, 2).item();
    assert.ok(Math.abs(got - batchScale) > 1e-3, `${got} vs ${batchScale}`);
  });
});

describe("median", () => {
  it("is the element of rank floor(n / 2) a sort finds, ties and odd/even lengths included", () => {
    const rng = new Rng(3);
    for (const n of [1, 2, 3, 10, 101, 16384]) {
      for (const ties of [false, true]) {
        const a = Float32Array.from({ length: n }, () => (ties ? Math.floor(rng.next() * 5) : rng.normal()));
        const sorted = Float64Array.from(a).sort();
        assert.equal(median(a), sorted[Math.floor(n / 2)], `n ${n} ties ${ties}`);
      }
    }
  });
});

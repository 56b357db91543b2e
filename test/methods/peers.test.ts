// The group-robust peers' pieces: groups (weights, subsets, empty and tiny cells), reweighting's
// loss, JTT's error set and weights, DFR's split, L1 logistic regression and last-layer fit, and
// GroupDRO's group membership under both schemes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Dfr,
  errorSet,
  fitDfrHead,
  fitL1Logistic,
  GroupDro,
  groups,
  Jtt,
  Reweight,
  splitHoldout,
  weightedCe,
} from "../../src/methods/index.js";
import * as torch from "../../src/tensor/index.js";
import { Rng } from "../../src/util/random.js";
import { asBatch, shortcutDataset, TASKS } from "./helpers.js";

torch.setNumThreads(1);
const common = { tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2 } as const;

/** Labels [y, z_1..z_N] of n rows with P(z_i = y) = ratio, independently per spurion. */
function confounded(n: number, spurions: number, ratio: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  const y = Int32Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
  const zs = Array.from({ length: spurions }, () =>
    Int32Array.from(y, (v) => (rng.next() < ratio ? v : 1 - v)),
  );
  return [y, ...zs];
}

/** Rows per cell of every grouping of a scheme, optionally weighted. */
function cellTotals(
  labels: Int32Array[],
  scheme: groups.GroupScheme,
  weight?: ArrayLike<number>,
): number[][] {
  const classes = labels.map(() => 2);
  const gs = groups.groupingsOf(classes, scheme);
  return groups.cellIds(gs, labels, classes).map((ids, gi) => {
    const t = new Array<number>(gs[gi].numCells).fill(0);
    ids.forEach((c, r) => {
      if (c >= 0) t[c] += weight ? weight[r] : 1;
    });
    return t;
  });
}

/** labels from explicit (y, z) rows */
function rowsToLabels(rows: number[][]): Int32Array[] {
  return rows[0].map((_, t) => Int32Array.from(rows, (r) => r[t]));
}

describe("groups", () => {
  it("joint is one grouping of every (y, z..) cell; pairs one per spurion; they agree for one spurion", () => {
    const j = groups.groupingsOf([2, 2, 3], "joint");
    assert.deepEqual(
      j.map((g) => [g.name, g.numCells, g.tasks]),
      [["y,z0,z1", 12, [0, 1, 2]]],
    );
    const p = groups.groupingsOf([2, 2, 3], "pairs");
    assert.deepEqual(
      p.map((g) => [g.name, g.numCells, g.tasks]),
      [
        ["y,z0", 4, [0, 1]],
        ["y,z1", 6, [0, 2]],
      ],
    );
    assert.deepEqual(groups.groupingsOf([2, 2], "pairs"), groups.groupingsOf([2, 2], "joint"));
    // mixed radix: y + 2 z0 + 4 z1; unknown -> -1
    const labels = rowsToLabels([
      [1, 0, 2],
      [0, 1, 1],
      [1, -1, 0],
    ]);
    assert.deepEqual([...groups.cellIds(j, labels, [2, 2, 3])[0]], [9, 6, -1]);
    assert.deepEqual([...groups.cellIds(p, labels, [2, 2, 3])[1]], [5, 2, 1]);
  });

  it("joint weights are 1 / n_cell scaled to mean 1 (hand computation)", () => {
    // (0,0) x6, (1,1) x6, (0,1) x2, (1,0) x2
    const rows = [
      ...Array(6).fill([0, 0]),
      ...Array(6).fill([1, 1]),
      ...Array(2).fill([0, 1]),
      ...Array(2).fill([1, 0]),
    ];
    const labels = rowsToLabels(rows);
    const w = groups.balancingWeights(labels, [2, 2], { scheme: "joint", minCount: 1 });
    // w ∝ 1/n: total 16 rows, 4 cells of equal weight 4 each -> 4/6 and 2
    rows.forEach((r, i) => {
      assert.ok(Math.abs(w[i] - (r[0] === r[1] ? 4 / 6 : 2)) < 1e-12, `row ${i}: ${w[i]}`);
    });
    // tiny floor: cells under 4 rows count as 4: w ∝ 1/max(n, 4) = 1/6, 1/4 -> sum n w = 3 -> x 16/3
    const f = groups.balancingWeights(labels, [2, 2], { scheme: "joint", minCount: 4 });
    rows.forEach((r, i) => {
      assert.ok(Math.abs(f[i] - (r[0] === r[1] ? 16 / 18 : 16 / 12)) < 1e-12, `row ${i}: ${f[i]}`);
    });
  });

  it("empty cells get no weight and divide nothing; unknown labels weigh 0", () => {
    // cell (1, 0) is empty; row 5 has an unknown spurion
    const labels = rowsToLabels([
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 1],
      [1, 1],
      [1, -1],
    ]);
    const w = groups.balancingWeights(labels, [2, 2], { scheme: "joint", minCount: 1 });
    assert.ok([...w].every(Number.isFinite));
    assert.equal(w[5], 0);
    // three non-empty cells carry 5/3 each
    const totals = cellTotals(labels, "joint", w)[0];
    assert.deepEqual(
      totals.map((t) => +t.toFixed(9)),
      [5 / 3, 0, 5 / 3, 5 / 3].map((t) => +t.toFixed(9)),
    );
  });

  it("pairs weights balance every (y, z_i) marginal at once (N = 2, ratio 0.9)", () => {
    const labels = confounded(4000, 2, 0.9, 1);
    const w = groups.balancingWeights(labels, [2, 2, 2], { scheme: "pairs" });
    const totals = cellTotals(labels, "pairs", w);
    for (const t of totals) for (const v of t) assert.ok(Math.abs(v - 1000) < 1e-5, `${t}`);
    // and the raw marginals were not balanced
    assert.ok(Math.min(...cellTotals(labels, "pairs")[0]) < 300);
  });

  it("N = 4 at 0.98: many joint cells are empty, pairs weights stay finite and balance the marginals", () => {
    const labels = confounded(8000, 4, 0.98, 2);
    const joint = cellTotals(labels, "joint")[0];
    assert.ok(joint.filter((c) => c === 0).length >= 8, `empty joint cells: ${joint}`);
    const w = groups.balancingWeights(labels, [2, 2, 2, 2, 2], { scheme: "pairs" });
    assert.ok([...w].every((v) => Number.isFinite(v) && v >= 0));
    for (const t of cellTotals(labels, "pairs", w))
      for (const v of t) assert.ok(Math.abs(v / 2000 - 1) < 1e-3, `marginal ${t}`);
  });

  it("subsampling keeps exactly the smallest cell's size per cell and drops only majority rows", () => {
    const labels = confounded(1000, 1, 0.9, 3);
    const before = cellTotals(labels, "joint")[0];
    const smallest = Math.min(...before);
    const rows = groups.balancedSubset(labels, [2, 2], { scheme: "joint" }, 7);
    const sub = labels.map((l) => Int32Array.from(rows, (r) => l[r]));
    assert.deepEqual(cellTotals(sub, "joint")[0], [smallest, smallest, smallest, smallest]);
    assert.equal(new Set(rows).size, rows.length);
    // every row of the smallest cell is kept: only rows of larger cells were dropped
    const minCell = before.indexOf(smallest);
    const ids = groups.cellIds(groups.groupingsOf([2, 2], "joint"), labels, [2, 2])[0];
    const kept = new Set(rows);
    ids.forEach((c, r) => {
      if (c === minCell) assert.ok(kept.has(r), `minority row ${r} dropped`);
    });
    // fixed by the seed, different for another
    assert.deepEqual(groups.balancedSubset(labels, [2, 2], { scheme: "joint" }, 7), rows);
    assert.notDeepEqual(groups.balancedSubset(labels, [2, 2], { scheme: "joint" }, 8), rows);
  });

  it("subsampling under pairs balances each (y, z_i) marginal up to rounding (N = 3)", () => {
    const labels = confounded(6000, 3, 0.9, 4);
    const rows = groups.balancedSubset(labels, [2, 2, 2, 2], { scheme: "pairs" }, 1);
    const sub = labels.map((l) => Int32Array.from(rows, (r) => l[r]));
    for (const t of cellTotals(sub, "pairs")) {
      const mean = t.reduce((a, b) => a + b) / t.length;
      // one row of rounding per joint cell at most (16 cells)
      for (const v of t) assert.ok(Math.abs(v - mean) <= 16, `marginal ${t}`);
    }
    // the expected-count LP optimum at these settings is 348 rows (scripts/golden-balanced-subset.py's
    // construction); the sample differs a little
    assert.ok(rows.length > 250 && rows.length < 450, `kept ${rows.length}`);
  });
});

describe("maximiseLp", () => {
  it("pairs subsampling keeps the largest balanced subset (scipy linprog golden: 720 rows)", () => {
    const counts: Record<string, number> = {
      "0,0,0": 1615,
      "0,0,1": 188,
      "0,1,0": 172,
      "0,1,1": 19,
      "1,0,0": 16,
      "1,0,1": 186,
      "1,1,0": 164,
      "1,1,1": 1640,
    };
    const rows: number[][] = [];
    for (const [k, n] of Object.entries(counts))
      for (let i = 0; i < n; i++) rows.push(k.split(",").map(Number));
    const labels = rowsToLabels(rows);
    const kept = groups.balancedSubset(labels, [2, 2, 2], { scheme: "pairs" }, 0);
    // one row of rounding per joint cell at most
    assert.ok(Math.abs(kept.length - 720) <= 8, `kept ${kept.length}`);
  });

  it("solves a textbook LP (max 3x + 5y, x <= 4, 2y <= 12, 3x + 2y <= 18 -> x = 2, y = 6)", () => {
    const x = groups.maximiseLp(
      [3, 5],
      [
        [1, 0],
        [0, 2],
        [3, 2],
      ],
      [4, 12, 18],
    );
    assert.ok(Math.abs(x[0] - 2) < 1e-9 && Math.abs(x[1] - 6) < 1e-9, `${x}`);
  });
});

describe("reweight", () => {
  it("weightedCe is sum w l / sum w (hand computation)", () => {
    const logits = [2, -1, 0.5, 0.5, -3, 1];
    const y = [0, 1, 1];
    const w = [0.5, 2, 3];
    const l = y.map((c, i) => {
      const a = logits[2 * i];
      const b = logits[2 * i + 1];
      const m = Math.max(a, b);
      return m + Math.log(Math.exp(a - m) + Math.exp(b - m)) - (c === 0 ? a : b);
    });
    const expected = l.reduce((s, v, i) => s + w[i] * v, 0) / (0.5 + 2 + 3);
    const got = torch.tidy(() =>
      weightedCe(
        torch.tensor(logits, { shape: [3, 2] }),
        torch.tensor(y, { dtype: "int64" }),
        Float32Array.from(w),
      ).item(),
    );
    assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
  });

  it("balance_by loss: the update's loss is the per-sample CE weighted by the training split's inverse group shares", () => {
    const ds = shortcutDataset(48, 5, 0.8);
    const labels = [ds.labels.y, ds.labels.z0, ds.labels.z1];
    torch.manualSeed(0);
    const m = new Reweight({ ...common, scheme: "joint", minCount: 1, balanceBy: "loss" });
    m.fitGroups(labels);
    // hand weights: 1 / n_cell, scaled to mean 1
    const counts = new Map<string, number>();
    for (let r = 0; r < ds.length; r++) {
      const k = `${labels[0][r]},${labels[1][r]},${labels[2][r]}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const cells = counts.size;
    const batch = asBatch(ds);
    const w = m.sampleWeights(batch);
    for (let r = 0; r < ds.length; r++) {
      const n = counts.get(`${labels[0][r]},${labels[1][r]},${labels[2][r]}`) as number;
      assert.ok(Math.abs(w[r] - ds.length / (cells * n)) < 1e-5, `row ${r}: ${w[r]}`);
    }
    // the loss of update() = sum w l / sum w on the training-mode logits of the same batch
    const expected = torch.tidy(() => {
      m.model.train();
      const logits = torch.noGrad(() => m.model.heads.head(0, m.model.split(m.model.forward(batch.x))[0]));
      const lg = logits.toArray();
      let num = 0;
      let den = 0;
      for (let r = 0; r < ds.length; r++) {
        const a = lg[2 * r];
        const b = lg[2 * r + 1];
        const mx = Math.max(a, b);
        const l = mx + Math.log(Math.exp(a - mx) + Math.exp(b - mx)) - (ds.labels.y[r] === 0 ? a : b);
        num += w[r] * l;
        den += w[r];
      }
      return num / den;
    });
    const got = m.update(batch)["ce/y"];
    assert.ok(Math.abs(got - expected) < 1e-4, `${got} vs ${expected}`);
  });

  it("balance_by sampler (default): the update's loss is plain CE, and the row weights are the loss form's weights", () => {
    const ds = shortcutDataset(48, 5, 0.8);
    const labels = [ds.labels.y, ds.labels.z0, ds.labels.z1];
    torch.manualSeed(0);
    const m = new Reweight({ ...common, scheme: "joint", minCount: 1 });
    assert.equal(m.objective.by, "sampler");
    m.fitGroups(labels);
    const batch = asBatch(ds);
    // the sampler's per-row weights of the split are the weights the loss form puts on the same rows
    const rowW = m.objective.rowWeights(labels);
    const batchW = m.sampleWeights(batch);
    for (let r = 0; r < ds.length; r++) assert.ok(Math.abs(rowW[r] - batchW[r]) < 1e-5, `row ${r}`);
    const expected = torch.tidy(() => {
      m.model.train();
      const lg = torch
        .noGrad(() => m.model.heads.head(0, m.model.split(m.model.forward(batch.x))[0]))
        .toArray();
      let sum = 0;
      for (let r = 0; r < ds.length; r++) {
        const a = lg[2 * r];
        const b = lg[2 * r + 1];
        const mx = Math.max(a, b);
        sum += mx + Math.log(Math.exp(a - mx) + Math.exp(b - mx)) - (ds.labels.y[r] === 0 ? a : b);
      }
      return sum / ds.length;
    });
    const got = m.update(batch)["ce/y"];
    assert.ok(Math.abs(got - expected) < 1e-4, `${got} vs ${expected}`);
  });

  it("refuses to train before its weights are fitted", () => {
    const m = new Reweight({ ...common });
    assert.throws(() => m.update(asBatch(shortcutDataset(8, 1))), /fitGroups/);
  });
});

describe("jtt", () => {
  it("the error set is exactly the misclassified rows with a known label", () => {
    // 5 rows, 3 classes: predictions 0, 2, 1, 1, 0; labels 0, 1, 1, 2, -1
    const logits = [3, 1, 0, 0, 1, 2, 0, 5, 1, 0, 2, 1, 9, 0, 0];
    assert.deepEqual([...errorSet(logits, 3, [0, 1, 1, 2, -1])], [1, 3]);
  });

  it("up-weights exactly the error set by exactly lambda_up", () => {
    const ds = shortcutDataset(16, 2);
    const batch = asBatch(ds);
    batch.rows = Int32Array.from([15, 3, 7, 0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]);
    const m = new Jtt({ ...common, upweight: 20 });
    m.setErrorSet(Int32Array.of(3, 8, 15), 16);
    const w = [...m.sampleWeights(batch)];
    assert.deepEqual(
      w,
      [...batch.rows].map((r) => ([3, 8, 15].includes(r) ? 20 : 1)),
    );
    assert.deepEqual(m.getState(), { errorSet: [3, 8, 15], numRows: 16 });
    assert.throws(() => m.setErrorSet(Int32Array.of(16), 16), /outside/);
    const noRows = { ...batch, rows: undefined };
    assert.throws(() => m.sampleWeights(noRows), /row indices/);
  });
});

describe("dfr", () => {
  it("splits validation into disjoint held-out and selection parts, stratified by cell", () => {
    const labels = confounded(301, 2, 0.9, 5);
    const s = splitHoldout(labels, 0.5, 3);
    const all = [...s.holdout, ...s.selection].sort((a, b) => a - b);
    assert.deepEqual(
      all,
      Array.from({ length: 301 }, (_, i) => i),
    );
    const sub = (rows: Int32Array) => labels.map((l) => Int32Array.from(rows, (r) => l[r]));
    const full = cellTotals(labels, "joint")[0];
    const hold = cellTotals(sub(s.holdout), "joint")[0];
    full.forEach((n, c) => {
      assert.equal(hold[c], Math.round(n * 0.5), `cell ${c}`);
    });
  });

  it("the L1 logistic fit meets its optimality conditions (binary and multinomial)", () => {
    const rng = new Rng(1);
    const n = 200;
    const d = 4;
    const x = Float64Array.from({ length: n * d }, () => rng.normal());
    for (const classes of [2, 3]) {
      const y = Int32Array.from({ length: n }, (_, i) => {
        const s = x[i * d] + 0.5 * x[i * d + 1];
        return classes === 2 ? (s + 0.3 * rng.normal() > 0 ? 1 : 0) : s > 0.7 ? 2 : s > -0.7 ? 1 : 0;
      });
      const c = 0.1;
      const fit = fitL1Logistic(x, y, d, classes, c, { maxIter: 5000, tol: 1e-10 });
      const k = fit.outputs;
      // gradient of the mean loss at the solution
      const g = new Float64Array(k * d + k);
      for (let i = 0; i < n; i++) {
        const s = Array.from({ length: k }, (_, j) => {
          let v = fit.bias[j];
          for (let f = 0; f < d; f++) v += fit.weight[j * d + f] * x[i * d + f];
          return v;
        });
        let r: number[];
        if (k === 1) r = [1 / (1 + Math.exp(-s[0])) - (y[i] === 1 ? 1 : 0)];
        else {
          const m = Math.max(...s);
          const z = s.reduce((a, v) => a + Math.exp(v - m), 0);
          r = s.map((v, j) => Math.exp(v - m) / z - (j === y[i] ? 1 : 0));
        }
        for (let j = 0; j < k; j++) {
          for (let f = 0; f < d; f++) g[j * d + f] += (r[j] * x[i * d + f]) / n;
          g[k * d + j] += r[j] / n;
        }
      }
      const lambda = 1 / (c * n);
      for (let j = 0; j < k * d; j++) {
        const w = fit.weight[j];
        if (w === 0) assert.ok(Math.abs(g[j]) <= lambda + 1e-5, `zero weight ${j}: |g| ${g[j]} > ${lambda}`);
        else assert.ok(Math.abs(g[j] + lambda * Math.sign(w)) < 1e-5, `weight ${j}: g ${g[j]}, w ${w}`);
      }
      for (let j = 0; j < k; j++) assert.ok(Math.abs(g[k * d + j]) < 1e-5, `bias ${j}: ${g[k * d + j]}`);
      // the L1 term zeroes the uninformative features 2 and 3 of the binary fit
      if (k === 1) assert.ok(fit.weight[2] === 0 && fit.weight[3] === 0, `${[...fit.weight]}`);
    }
  });

  it("on features holding both y and z, the balanced refit leans less on z than a fit on the held-out data as is", () => {
    // f = [y + noise (weak), z + small noise (strong)], P(z = y) = 0.9 as in validation
    const rng = new Rng(4);
    const make = (n: number, ratio: number) => {
      const labels = confounded(n, 1, ratio, rng.int(1 << 30));
      const x = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        x[2 * i] = labels[0][i] + 0.7 * rng.normal();
        x[2 * i + 1] = labels[1][i] + 0.1 * rng.normal();
      }
      return { x, labels };
    };
    const holdout = make(600, 0.9);
    const selection = make(600, 0.9);
    const r = fitDfrHead(holdout, selection, 2, [2, 2], { scheme: "pairs", subsamples: 5, seed: 1 });
    // balanced subsets: rows of the held-out part, equal counts per (y, z) cell
    for (const rows of r.subsets) {
      assert.ok(rows.every((v) => v >= 0 && v < 600));
      const sub = holdout.labels.map((l) => Int32Array.from(rows, (q) => l[q]));
      const t = cellTotals(sub, "joint")[0];
      assert.ok(
        t.every((v) => v === t[0]),
        `subset cells ${t}`,
      );
    }
    const plain = fitL1Logistic(Float64Array.from(holdout.x), holdout.labels[0], 2, 2, 1);
    const ratio = (w: ArrayLike<number>) => Math.abs(w[1]) / Math.abs(w[0]);
    assert.ok(ratio(plain.weight) > 1, `plain fit reads z: ${[...plain.weight]}`);
    assert.ok(
      ratio(r.fit.weight) < 0.5 * ratio(plain.weight),
      `dfr ${[...r.fit.weight]} vs ${[...plain.weight]}`,
    );
    // and it classifies an inverted split better
    const test = make(2000, 0.1);
    const acc = (w: ArrayLike<number>, b: number) => {
      let hit = 0;
      for (let i = 0; i < 2000; i++)
        if ((w[0] * test.x[2 * i] + w[1] * test.x[2 * i + 1] + b > 0 ? 1 : 0) === test.labels[0][i]) hit++;
      return hit / 2000;
    };
    // the plain fit saw standardised-free inputs, so compare on raw features for both
    assert.ok(acc(r.fit.weight, r.fit.bias[0]) > acc(plain.weight, plain.bias[0]) + 0.2);
  });

  it("writes a fit into the y head's last layer and nothing else", () => {
    torch.manualSeed(0);
    const m = new Dfr({ ...common });
    const before = new Map([...m.stateModule.stateDict()].map(([k, v]) => [k, v.toArray()]));
    m.setLastLayer({ weight: Float64Array.of(1.5, -2), bias: Float64Array.of(0.25), outputs: 1, inputs: 2 });
    for (const [k, v] of m.stateModule.stateDict()) {
      const changed = JSON.stringify(v.toArray()) !== JSON.stringify(before.get(k));
      const head = k === "model.heads.0.weight" || k === "model.heads.0.bias";
      assert.equal(changed, head, `${k} changed: ${changed}`);
    }
    const sd = m.stateModule.stateDict();
    assert.deepEqual(sd.get("model.heads.0.weight")?.toArray(), [0, 0, 1.5, -2]);
    assert.deepEqual(sd.get("model.heads.0.bias")?.toArray(), [0, 0.25]);
  });
});

describe("groupdro groups", () => {
  it("joint: one group per sample by mixed radix; pairs: one group per (y, z_i) family", () => {
    const ds = shortcutDataset(12, 6);
    const batch = asBatch(ds);
    const joint = new GroupDro({ ...common, groups: "joint" });
    const pairs = new GroupDro({ ...common, groups: "pairs" });
    assert.equal(joint.numGroups, 8);
    assert.equal(pairs.numGroups, 8);
    const mj = torch.tidy(() => joint.membership(batch).toArray());
    const mp = torch.tidy(() => pairs.membership(batch).toArray());
    for (let r = 0; r < 12; r++) {
      const [y, z0, z1] = [ds.labels.y[r], ds.labels.z0[r], ds.labels.z1[r]];
      const rowJ = mj.slice(r * 8, (r + 1) * 8);
      const rowP = mp.slice(r * 8, (r + 1) * 8);
      assert.deepEqual(
        rowJ,
        rowJ.map((_, g) => (g === y + 2 * z0 + 4 * z1 ? 1 : 0)),
      );
      assert.deepEqual(
        rowP,
        rowP.map((_, g) => (g === y + 2 * z0 || g === 4 + y + 2 * z1 ? 1 : 0)),
      );
    }
    assert.throws(() => joint.setState({ q: [0.5, 0.5] }), /method.groups/);
  });
});

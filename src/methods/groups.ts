// Groups of examples for the group-robust peers (GroupDRO, subsampling, reweighting, DFR): one module
// so every method means the same thing by "group", "empty" and "tiny".
//
// Two schemes (method.groups):
//   joint: one grouping, every (y, z_1, .., z_N) cell. Exact, but at N = 4 spurions and ratio 0.98
//          most of the 2^5 cells are empty and the rest of the minority cells hold a handful of rows.
//   pairs: N groupings, grouping i = the (y, z_i) cells. An example belongs to one cell of each
//          grouping. These are the groups the evaluation's worst-group accuracy is taken over, and
//          at ratio r each (y, z_i) cell holds about (1 - r) / 2 of the rows, so none is tiny.
//   With one spurion the two schemes are the same; with none, the groups are the classes of y.
//
// Balancing (reweighting, subsampling, DFR's balanced subsets) asks for weights under which every
// non-empty cell of every grouping carries the same total weight. Weights are found per joint cell
// by raking (iterative proportional fitting over the groupings): for one grouping that is one step,
// w = 1 / n_cell, exact; for pairs it balances every (y, z_i) marginal at once (to 1e-9 when the
// non-empty joint cells allow it, otherwise as close as 5000 sweeps get; sparse tables converge slowly).
// Subsampling cannot up-weight: under pairs it keeps the largest subset whose (y, z_i) marginals are
// all balanced (a linear programme over the joint cells, balancedSubset); under joint, the smallest
// cell's size per cell.
//   empty cells: hold no rows, get no target and appear in no denominator (never a division by 0);
//   tiny cells:  a cell with n < minCount rows is treated as if it had minCount: its target weight
//                is scaled by n / minCount, so none of its rows weighs more than a row of a cell of
//                minCount rows (one image in 8,000 never gets 1/32 of the whole loss).
//   unknown labels (-1 in y or any z): the row is in no cell and gets weight 0.

import { Rng } from "../util/random.js";

export type GroupScheme = "joint" | "pairs";

export interface GroupOptions {
  scheme: GroupScheme;
  /** cells with fewer rows count as this many (the tiny-cell floor); default 10 */
  minCount?: number;
}

export const DEFAULT_MIN_COUNT = 10;

/** Labels in task order: [y, z_1, .., z_N], each one class index per row (-1 = unknown). */
export type TaskLabels = ArrayLike<number>[];

/** The groupings of a scheme: for each, its cell count and the cell of a row's labels (-1 unknown). */
export interface Grouping {
  /** display name, e.g. "y,z0" or "y,z0,z1" */
  name: string;
  numCells: number;
  /** the tasks (indices into the labels) whose combination is the cell */
  tasks: number[];
}

export function groupingsOf(numClasses: number[], scheme: GroupScheme, names?: string[]): Grouping[] {
  const label = (ts: number[]) => ts.map((t) => names?.[t] ?? (t === 0 ? "y" : `z${t - 1}`)).join(",");
  const cells = (ts: number[]) => ts.reduce((n, t) => n * numClasses[t], 1);
  const all = numClasses.map((_, t) => t);
  if (scheme === "joint" || numClasses.length <= 2)
    return [{ name: label(all), numCells: cells(all), tasks: all }];
  return numClasses.slice(1).map((_, i) => {
    const ts = [0, i + 1];
    return { name: label(ts), numCells: cells(ts), tasks: ts };
  });
}

/** Cell of row `row` in a grouping: mixed radix over its tasks' labels; -1 if any is unknown. */
export function cellOf(g: Grouping, labels: TaskLabels, numClasses: number[], row: number): number {
  let id = 0;
  let radix = 1;
  for (const t of g.tasks) {
    const v = labels[t][row];
    if (!(v >= 0 && v < numClasses[t])) return -1;
    id += v * radix;
    radix *= numClasses[t];
  }
  return id;
}

/** Cell ids of every row in each grouping. */
export function cellIds(groupings: Grouping[], labels: TaskLabels, numClasses: number[]): Int32Array[] {
  const n = labels[0].length;
  return groupings.map((g) => Int32Array.from({ length: n }, (_, r) => cellOf(g, labels, numClasses, r)));
}

/** Rows per cell (unknown rows are not counted). */
export function cellCounts(ids: Int32Array, numCells: number): number[] {
  const counts = new Array<number>(numCells).fill(0);
  for (const c of ids) if (c >= 0) counts[c]++;
  return counts;
}

/** The joint (y, z_1..z_N) key of a row, or undefined when a label is unknown. */
export function jointKey(labels: TaskLabels, row: number): string | undefined {
  const parts: number[] = [];
  for (const col of labels) {
    if (!(col[row] >= 0)) return undefined;
    parts.push(col[row]);
  }
  return parts.join(",");
}

/**
 * Balancing weight of each non-empty joint cell (key "y,z1,..,zN"), scaled so the weights have mean 1
 * over the rows with known labels. Weights are constant within a joint cell under both schemes.
 */
export function balancingCellWeights(
  labels: TaskLabels,
  numClasses: number[],
  o: GroupOptions,
): Map<string, number> {
  const minCount = o.minCount ?? DEFAULT_MIN_COUNT;
  if (!(minCount >= 1)) throw new Error(`groups: minCount must be >= 1, got ${minCount}`);
  const n = labels[0].length;
  // Joint cells with their counts and their labels.
  const count = new Map<string, number>();
  const rowOf = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    const k = jointKey(labels, r);
    if (k === undefined) continue;
    count.set(k, (count.get(k) ?? 0) + 1);
    if (!rowOf.has(k)) rowOf.set(k, r);
  }
  const keys = [...count.keys()];
  if (keys.length === 0) throw new Error("groups: no row has all of its labels known; nothing to balance");
  const groupings = groupingsOf(numClasses, o.scheme);
  // For each grouping: the cell of each joint cell, and the per-cell targets (equal for non-empty
  // cells, scaled down for tiny ones).
  const total = keys.reduce((s, k) => s + (count.get(k) as number), 0);
  const plan = groupings.map((g) => {
    const cellOfKey = keys.map((k) => cellOf(g, labels, numClasses, rowOf.get(k) as number));
    const rows = new Array<number>(g.numCells).fill(0);
    keys.forEach((k, i) => {
      rows[cellOfKey[i]] += count.get(k) as number;
    });
    const share = rows.map((m) => (m === 0 ? 0 : Math.min(1, m / minCount)));
    const shareSum = share.reduce((a, b) => a + b, 0);
    const target = share.map((s) => (s * total) / shareSum);
    return { cellOfKey, target };
  });
  const w = new Float64Array(keys.length).fill(1);
  const mass = (cellOfKey: number[], cells: number) => {
    const m = new Float64Array(cells);
    keys.forEach((k, i) => {
      m[cellOfKey[i]] += w[i] * (count.get(k) as number);
    });
    return m;
  };
  for (let sweep = 0; sweep < 5000; sweep++) {
    let worst = 0;
    for (const { cellOfKey, target } of plan) {
      const m = mass(cellOfKey, target.length);
      for (let c = 0; c < target.length; c++)
        if (m[c] > 0) worst = Math.max(worst, Math.abs(m[c] / target[c] - 1));
      keys.forEach((_, i) => {
        const c = cellOfKey[i];
        w[i] *= target[c] / m[c];
      });
    }
    if (worst < 1e-9) break;
  }
  // Mean 1 over known rows.
  const sum = keys.reduce((s, k, i) => s + w[i] * (count.get(k) as number), 0);
  return new Map(keys.map((k, i) => [k, (w[i] * total) / sum]));
}

/** Balancing weight of every row (0 for rows with an unknown label); mean 1 over known rows. */
export function balancingWeights(labels: TaskLabels, numClasses: number[], o: GroupOptions): Float64Array {
  const table = balancingCellWeights(labels, numClasses, o);
  return Float64Array.from({ length: labels[0].length }, (_, r) => {
    const k = jointKey(labels, r);
    return k === undefined ? 0 : (table.get(k) as number);
  });
}

/**
 * max c.x subject to A x <= b, x >= 0, for b >= 0 (so x = 0 is a vertex to start from): a dense
 * tableau simplex with Bland's rule (no cycling on the degenerate b = 0 rows). Small problems only.
 */
export function maximiseLp(c: number[], a: number[][], b: number[]): number[] {
  const n = c.length;
  const m = a.length;
  const eps = 1e-12;
  // rows: [A | I | b]; objective row: [-c | 0 | 0]
  const t = a.map((row, i) => {
    if (!(b[i] >= 0)) throw new Error(`maximiseLp: b[${i}] = ${b[i]} < 0`);
    const r = new Float64Array(n + m + 1);
    r.set(row);
    r[n + i] = 1;
    r[n + m] = b[i];
    return r;
  });
  const obj = new Float64Array(n + m + 1);
  c.forEach((v, j) => {
    obj[j] = -v;
  });
  const basis = Array.from({ length: m }, (_, i) => n + i);
  for (let iter = 0; iter < 100000; iter++) {
    let enter = -1;
    for (let j = 0; j < n + m; j++)
      if (obj[j] < -1e-9) {
        enter = j;
        break;
      }
    if (enter < 0) break;
    let leave = -1;
    let best = Infinity;
    for (let i = 0; i < m; i++) {
      if (t[i][enter] <= eps) continue;
      const ratio = t[i][n + m] / t[i][enter];
      if (ratio < best - 1e-12 || (Math.abs(ratio - best) <= 1e-12 && basis[i] < basis[leave])) {
        best = ratio;
        leave = i;
      }
    }
    if (leave < 0) throw new Error("maximiseLp: unbounded");
    const pivot = t[leave][enter];
    for (let j = 0; j <= n + m; j++) t[leave][j] /= pivot;
    for (const row of [...t.filter((_, i) => i !== leave), obj]) {
      const f = row[enter];
      if (f !== 0) for (let j = 0; j <= n + m; j++) row[j] -= f * t[leave][j];
    }
    basis[leave] = enter;
  }
  const x = new Array<number>(n).fill(0);
  basis.forEach((v, i) => {
    if (v < n) x[v] = t[i][n + m];
  });
  return x;
}

/**
 * The largest balanced keep-fractions per joint cell under several groupings (pairs): maximise the
 * rows kept, sum_c n_c p_c, subject to 0 <= p_c <= 1 and, in every grouping, every non-empty cell g
 * holding mass s_g t_i (the same level t_i for all cells of grouping i; s_g = min(1, n_g / minCount),
 * the tiny-cell floor). A linear programme over the joint cells (at most a few dozen).
 */
function balancedKeepFractions(
  keys: string[],
  count: number[],
  labels: TaskLabels,
  rowOf: number[],
  numClasses: number[],
  groupings: Grouping[],
  minCount: number,
): number[] {
  const k = keys.length;
  const nVars = k + groupings.length; // p_c, then t_i
  const a: number[][] = [];
  const b: number[] = [];
  groupings.forEach((g, gi) => {
    const cellOfKey = rowOf.map((r) => cellOf(g, labels, numClasses, r));
    const rows = new Array<number>(g.numCells).fill(0);
    cellOfKey.forEach((cell, i) => {
      rows[cell] += count[i];
    });
    rows.forEach((n, cell) => {
      if (n === 0) return;
      // sum_{c in cell} n_c p_c - s t_i = 0, as two inequalities
      const row = new Array<number>(nVars).fill(0);
      cellOfKey.forEach((cc, i) => {
        if (cc === cell) row[i] = count[i];
      });
      row[k + gi] = -Math.min(1, n / minCount);
      a.push(
        row,
        row.map((v) => -v),
      );
      b.push(0, 0);
    });
  });
  for (let i = 0; i < k; i++) {
    const row = new Array<number>(nVars).fill(0);
    row[i] = 1;
    a.push(row);
    b.push(1);
  }
  const x = maximiseLp([...count, ...groupings.map(() => 0)], a, b);
  return x.slice(0, k).map((v) => Math.min(1, Math.max(0, v)));
}

/**
 * A group-balanced subset (sorted row indices), drawn once from `seed`: in each joint cell, exactly
 * round(n_cell * p_cell) rows chosen at random, where p is the keep fraction. Only rows of
 * over-represented cells are dropped.
 *   joint (or one spurion): p = w / max w from the balancing weights, so every non-tiny cell ends
 *     with exactly the size of the smallest non-tiny cell (or minCount, when the smallest non-empty
 *     cell is tiny; tiny cells keep every row).
 *   pairs: p = the largest subset in which every (y, z_i) marginal is balanced (a linear programme,
 *     balancedKeepFractions), up to the rounding of one row per joint cell. Balancing N marginals
 *     exactly costs data: the subset needs rows that disagree with y on several spurions at once
 *     (at N = 2 and ratio 0.9 it keeps about a fifth of the rows, at N = 4 and 0.98 a few dozen of
 *     8,000); reweighting keeps every row.
 * Rows with an unknown label are dropped.
 */
export function balancedSubset(
  labels: TaskLabels,
  numClasses: number[],
  o: GroupOptions,
  seed: number,
): Int32Array {
  const rowsOf = new Map<string, number[]>();
  for (let r = 0; r < labels[0].length; r++) {
    const k = jointKey(labels, r);
    if (k === undefined) continue;
    const list = rowsOf.get(k);
    if (list) list.push(r);
    else rowsOf.set(k, [r]);
  }
  // Cells in a fixed order (sorted keys), so the subset depends only on labels and seed.
  const keys = [...rowsOf.keys()].sort();
  const groupings = groupingsOf(numClasses, o.scheme);
  let fraction: number[];
  if (groupings.length === 1) {
    const table = balancingCellWeights(labels, numClasses, o);
    const maxW = Math.max(...table.values());
    fraction = keys.map((k) => (table.get(k) as number) / maxW);
  } else {
    fraction = balancedKeepFractions(
      keys,
      keys.map((k) => (rowsOf.get(k) as number[]).length),
      labels,
      keys.map((k) => (rowsOf.get(k) as number[])[0]),
      numClasses,
      groupings,
      o.minCount ?? DEFAULT_MIN_COUNT,
    );
  }
  const rng = new Rng(seed);
  const kept: number[] = [];
  keys.forEach((k, ki) => {
    const rows = rowsOf.get(k) as number[];
    const keep = Math.min(rows.length, Math.round(rows.length * fraction[ki]));
    const order = rng.permutation(rows.length);
    for (let i = 0; i < keep; i++) kept.push(rows[order[i]]);
  });
  return Int32Array.from(kept.sort((a, b) => a - b));
}

// Confounded splits (METHOD.md, "Data protocol").
//
// Definitions we implement:
// - mode "ratio" (train / val / oracle): for every spurion i, P(z_i = pair_i(y)) = ratio_i; the other
//   (1 - ratio_i) is spread evenly over the remaining values of z_i. For a binary z with the default
//   pairing pair(y) = y this is the usual "z agrees with y in ratio_i of the rows". For a multi-class
//   z, "z_i equals the value paired with y" uses `pairing[y]` (default y mod K_z).
// - mode "inverted": the same with ratio 1 - ratio_i (a binary shortcut now points the wrong way).
// - mode "balanced": every (y, z_i) combination in equal share (z_i uniform given y).
// - y is balanced over its classes unless `yWeights` says otherwise.
// - Spurions are conditionally independent given y: their joint is built so every y x z_i marginal
//   is met exactly (counted in rows) and the joint is within rounding of the product.
// - Unless `coupling` c > 0: then, within each y, a share c of the rows is "coupled": in them the
//   spurions agree with y (z_i = pair_i(y)) or not from ONE shared draw (nested: a row that agrees
//   on the spurion with the lowest ratio agrees on all), the rest stay independent. Marginals are
//   still met exactly. Every mode keeps c, so the inverted test flips each spurion's agreement with
//   y while the spurions keep agreeing with each other (P(a_i = a_j) is the same as in training).
//
// Spurions are either "natural" (a value every pool row already has: sex, site, ...; rows are
// selected to meet the ratio) or "synthetic" (assigned here and later written into the image; any
// row can take any value, so only y constrains which rows can be used).
//
// Disjointness: each split draws from a named pool. Rows a split takes are excluded from later
// splits of the same pool (by default from all earlier ones; `disjointFrom` narrows that, e.g. an
// oracle training split may reuse the rows of the confounded train split but not of val). The test
// splits of a benchmark are normally drawn from a different pool (the official test set), which
// keeps them apart from training rows by construction.
import { hashSeed, hashString, Rng } from "../../util/random.js";
import { apportion, interleave } from "./apportion.js";
import { computeCounts, type SplitCounts } from "./counts.js";

export interface SpurionSpec {
  name: string;
  numClasses: number;
  /** Confounding ratio used by mode "ratio" (and inverted as 1 - ratio). */
  ratio: number;
  kind: "natural" | "synthetic";
  /** pairing[y] = value of z paired with class y. Default: y mod numClasses. */
  pairing?: number[];
}

export interface PoolData {
  /** Primary label per row; rows with y < 0 are never used. */
  y: ArrayLike<number>;
  /** Values of natural spurions per row, by spurion name; rows with a negative value are never used. */
  spurions?: Record<string, ArrayLike<number>>;
}

export interface SplitRequest {
  name: string;
  pool: string;
  size: number;
  mode: "ratio" | "inverted" | "balanced";
  /** Per-spurion ratios overriding the spurion's own (e.g. 0.5 for an uncorrelated oracle split). */
  ratios?: Record<string, number>;
  /** Names of earlier splits whose rows this split must not reuse. Default: all earlier splits of its pool. */
  disjointFrom?: string[];
  /** Allow drawing a row more than once when a group is too small. Default: the config's `oversample`. */
  oversample?: boolean;
  /** Overrides the config's `coupling` for this split. */
  coupling?: number;
}

export interface ConfoundedConfig {
  primary: { name: string; numClasses: number };
  spurions: SpurionSpec[];
  pools: Record<string, PoolData>;
  splits: SplitRequest[];
  seed: number;
  /** Default false: an impossible request is refused rather than silently duplicating rows. */
  oversample?: boolean;
  /** Relative share of each y class; default equal. */
  yWeights?: number[];
  /** Share of rows (per y) whose spurions agree with y from one shared draw; default 0 (independent). */
  coupling?: number;
}

export interface ConfoundedSplit {
  name: string;
  pool: string;
  mode: SplitRequest["mode"];
  /** Row of the pool for every item (may repeat only when oversampling was used). */
  rows: Int32Array;
  /** Labels per item: the primary task under its name and every spurion under its name. */
  labels: Record<string, Int32Array>;
  /** Requested P(z_i = pair(y)) per spurion. */
  targetRatios: Record<string, number>;
  counts: SplitCounts;
  oversampledRows: number;
}

export function pairingOf(s: SpurionSpec, numY: number): number[] {
  return s.pairing ?? Array.from({ length: numY }, (_, y) => y % s.numClasses);
}

/** P(z = v | y) for one spurion under a split mode. */
function conditional(
  s: SpurionSpec,
  y: number,
  ratio: number,
  mode: SplitRequest["mode"],
  numY: number,
): number[] {
  const k = s.numClasses;
  if (mode === "balanced") return new Array<number>(k).fill(1 / k);
  const r = mode === "inverted" ? 1 - ratio : ratio;
  const paired = pairingOf(s, numY)[y];
  if (k === 1) return [1];
  return Array.from({ length: k }, (_, v) => (v === paired ? r : (1 - r) / (k - 1)));
}

interface Slot {
  y: number;
  z: number[];
}

/** The exact (y, z_1..z_N) composition of a split, before any row is chosen. */
function planSlots(
  cfg: ConfoundedConfig,
  req: SplitRequest,
): { slots: Slot[]; ratios: Record<string, number> } {
  const ky = cfg.primary.numClasses;
  const ny = apportion(req.size, cfg.yWeights ?? new Array<number>(ky).fill(1));
  const ratios: Record<string, number> = {};
  for (const s of cfg.spurions) {
    const r = req.ratios?.[s.name] ?? s.ratio;
    if (!(r >= 0 && r <= 1))
      throw new Error(`split '${req.name}': ratio for spurion '${s.name}' must be in [0,1], got ${r}`);
    ratios[s.name] = req.mode === "balanced" ? 1 / s.numClasses : req.mode === "inverted" ? 1 - r : r;
  }
  const coupling = req.coupling ?? cfg.coupling ?? 0;
  if (!(coupling >= 0 && coupling <= 1))
    throw new Error(`split '${req.name}': coupling must be in [0,1], got ${coupling}`);
  const slots: Slot[] = [];
  for (let y = 0; y < ky; y++) {
    if (coupling > 0 && cfg.spurions.length > 1) {
      slots.push(...coupledGroup(cfg, req, y, ny[y], coupling));
      continue;
    }
    const group: Slot[] = Array.from({ length: ny[y] }, () => ({ y, z: [] }));
    cfg.spurions.forEach((s, i) => {
      const r = req.ratios?.[s.name] ?? s.ratio;
      const counts = apportion(ny[y], conditional(s, y, r, req.mode, ky));
      // Sort by the values assigned so far, then interleave this spurion's values across that order:
      // each earlier (z_1..z_{i-1}) block receives z_i in nearly the target proportion.
      group.sort((a, b) => {
        for (let j = 0; j < i; j++) if (a.z[j] !== b.z[j]) return a.z[j] - b.z[j];
        return 0;
      });
      const seq = interleave(counts);
      group.forEach((slot, p) => {
        slot.z[i] = seq[p];
      });
    });
    slots.push(...group);
  }
  return { slots, ratios };
}

/** Sorts slots by their values of the spurions before `i` (so a following interleave spreads evenly). */
function sortByEarlier<T extends { z: number[] }>(
  list: T[],
  i: number,
  key: (s: T, j: number) => number,
): void {
  list.sort((a, b) => {
    for (let j = 0; j < i; j++) if (key(a, j) !== key(b, j)) return key(a, j) - key(b, j);
    return 0;
  });
}

/**
 * The slots of class y when the spurions are coupled (see the header): exact y x z_i marginals; in
 * the first round(c * n) slots the agreement indicators a_i = [z_i = pair_i(y)] are nested (one
 * shared draw), in the others they are interleaved as if independent. Values of disagreeing slots
 * are spread over the other levels of z_i.
 */
function coupledGroup(cfg: ConfoundedConfig, req: SplitRequest, y: number, n: number, c: number): Slot[] {
  const ky = cfg.primary.numClasses;
  const m = Math.round(c * n);
  const slots = Array.from({ length: n }, () => ({ y, z: [] as number[], agree: [] as boolean[] }));
  const coupled = slots.slice(0, m);
  const free = slots.slice(m);
  const counts = cfg.spurions.map((s) =>
    apportion(n, conditional(s, y, req.ratios?.[s.name] ?? s.ratio, req.mode, ky)),
  );
  cfg.spurions.forEach((s, i) => {
    const paired = pairingOf(s, ky)[y];
    const agreeTotal = counts[i][paired];
    const cond = agreeTotal / Math.max(1, n);
    // Agreeing rows inside the coupled block, kept feasible for the free block's exact remainder.
    const inBlock = Math.min(agreeTotal, m, Math.max(m - (n - agreeTotal), Math.round(cond * m)));
    coupled.forEach((slot, p) => {
      slot.agree[i] = p < inBlock;
    });
    sortByEarlier(free, i, (sl, j) => (sl.agree[j] ? 0 : 1));
    const seq = interleave([agreeTotal - inBlock, free.length - (agreeTotal - inBlock)]);
    free.forEach((slot, p) => {
      slot.agree[i] = seq[p] === 0;
    });
    // Values: the paired level where a_i, the other levels (in their exact counts) elsewhere.
    const others = counts[i].map((k, v) => (v === paired ? 0 : k));
    const disagreeing = slots.filter((sl) => !sl.agree[i]);
    sortByEarlier(disagreeing, i, (sl, j) => sl.z[j]);
    const values = interleave(others);
    disagreeing.forEach((slot, p) => {
      slot.z[i] = values[p];
    });
    for (const slot of slots) if (slot.agree[i]) slot.z[i] = paired;
  });
  return slots.map(({ y: sy, z }) => ({ y: sy, z }));
}

function describeKey(cfg: ConfoundedConfig, key: string): string {
  const parts = key.split("|").map(Number);
  const nat = cfg.spurions.filter((s) => s.kind === "natural");
  return [`${cfg.primary.name}=${parts[0]}`, ...nat.map((s, i) => `${s.name}=${parts[i + 1]}`)].join(", ");
}

/**
 * Builds all requested splits in order. Deterministic given `seed`: the same config gives the same
 * rows, the same labels and the same counts.
 */
export function makeConfoundedSplits(cfg: ConfoundedConfig): ConfoundedSplit[] {
  const natural = cfg.spurions.filter((s) => s.kind === "natural");
  const ky = cfg.primary.numClasses;
  // Which rows of each pool are usable, grouped by their key (y + natural spurion values).
  const poolKeys = new Map<string, string[]>();
  for (const [poolName, pool] of Object.entries(cfg.pools)) {
    const n = pool.y.length;
    const keys = new Array<string>(n);
    for (let r = 0; r < n; r++) {
      const y = pool.y[r];
      let ok = y >= 0 && y < ky;
      const parts = [y];
      for (const s of natural) {
        const vals = pool.spurions?.[s.name];
        if (!vals) throw new Error(`pool '${poolName}' has no values for natural spurion '${s.name}'`);
        if (vals.length !== n)
          throw new Error(`pool '${poolName}': spurion '${s.name}' has ${vals.length} values, y has ${n}`);
        const v = vals[r];
        if (!(v >= 0 && v < s.numClasses)) ok = false;
        parts.push(v);
      }
      keys[r] = ok ? parts.join("|") : "";
    }
    poolKeys.set(poolName, keys);
  }

  const used = new Map<string, { pool: string; rows: Set<number> }>();
  const out: ConfoundedSplit[] = [];
  for (const req of cfg.splits) {
    const keys = poolKeys.get(req.pool);
    if (!keys)
      throw new Error(
        `split '${req.name}': unknown pool '${req.pool}' (pools: ${Object.keys(cfg.pools).join(", ")})`,
      );
    if (used.has(req.name)) throw new Error(`split name '${req.name}' is used twice`);
    const excludeNames =
      req.disjointFrom ?? [...used.entries()].filter(([, u]) => u.pool === req.pool).map(([k]) => k);
    const excluded = new Set<number>();
    for (const nm of excludeNames) {
      const u = used.get(nm);
      if (!u)
        throw new Error(`split '${req.name}': disjointFrom names '${nm}', which is not an earlier split`);
      if (u.pool === req.pool) for (const r of u.rows) excluded.add(r);
    }
    const available = new Map<string, number[]>();
    keys.forEach((k, r) => {
      if (k === "" || excluded.has(r)) return;
      const list = available.get(k);
      if (list) list.push(r);
      else available.set(k, [r]);
    });

    const { slots, ratios } = planSlots(cfg, req);
    const natIdx = natural.map((s) => cfg.spurions.indexOf(s));
    const needed = new Map<string, Slot[]>();
    for (const slot of slots) {
      const k = [slot.y, ...natIdx.map((i) => slot.z[i])].join("|");
      const list = needed.get(k);
      if (list) list.push(slot);
      else needed.set(k, [slot]);
    }

    const oversample = req.oversample ?? cfg.oversample ?? false;
    const short = [...needed.entries()].filter(([k, s]) => s.length > (available.get(k)?.length ?? 0));
    if (short.length > 0 && (!oversample || short.some(([k]) => (available.get(k)?.length ?? 0) === 0))) {
      const lines = short.map(
        ([k, s]) => `  ${describeKey(cfg, k)}: needs ${s.length}, available ${available.get(k)?.length ?? 0}`,
      );
      let maxSize = Number.POSITIVE_INFINITY;
      for (const [k, s] of needed)
        maxSize = Math.min(maxSize, Math.floor(((available.get(k)?.length ?? 0) * req.size) / s.length));
      const ratioText = Object.entries(ratios)
        .map(([n, r]) => `P(${n}=paired y)=${r.toFixed(3)}`)
        .join(", ");
      throw new Error(
        `split '${req.name}' (pool '${req.pool}', size ${req.size}, mode ${req.mode}, ${ratioText}) cannot be met` +
          `${oversample ? " (a group is empty)" : " without oversampling"}:\n${lines.join("\n")}\n` +
          `available per group${excludeNames.length ? ` after excluding rows of ${excludeNames.join(", ")}` : ""}: ` +
          [...available.entries()]
            .sort()
            .map(([k, l]) => `${describeKey(cfg, k)}: ${l.length}`)
            .join("; ") +
          `\nlargest size these ratios allow: ~${maxSize}. Lower the size or ratio, or allow oversampling.`,
      );
    }

    const rng = new Rng(hashSeed(cfg.seed, hashString(req.name)));
    const rowOf = new Map<Slot, number>();
    const taken = new Set<number>();
    let oversampledRows = 0;
    for (const k of [...needed.keys()].sort()) {
      const want = needed.get(k)!;
      const avail = rng.shuffle((available.get(k) ?? []).slice());
      // Shuffle the slots too, so which row gets which synthetic value is random.
      const order = rng.shuffle(want.slice());
      order.forEach((slot, i) => {
        let row: number;
        if (i < avail.length) row = avail[i];
        else {
          row = avail[rng.int(avail.length)];
          oversampledRows++;
        }
        rowOf.set(slot, row);
        taken.add(row);
      });
    }
    // Final item order: shuffled, so groups are not stored in blocks.
    const finalSlots = rng.shuffle(slots.slice());
    const rows = new Int32Array(finalSlots.length);
    const labels: Record<string, Int32Array> = { [cfg.primary.name]: new Int32Array(finalSlots.length) };
    for (const s of cfg.spurions) labels[s.name] = new Int32Array(finalSlots.length);
    finalSlots.forEach((slot, i) => {
      rows[i] = rowOf.get(slot)!;
      labels[cfg.primary.name][i] = slot.y;
      cfg.spurions.forEach((s, j) => {
        labels[s.name][i] = slot.z[j];
      });
    });
    used.set(req.name, { pool: req.pool, rows: taken });
    const counts = computeCounts({
      split: req.name,
      primary: cfg.primary.name,
      y: labels[cfg.primary.name],
      numClasses: ky,
      spurions: cfg.spurions.map((s) => ({
        name: s.name,
        values: labels[s.name],
        numClasses: s.numClasses,
        pairing: pairingOf(s, ky),
      })),
    });
    out.push({
      name: req.name,
      pool: req.pool,
      mode: req.mode,
      rows,
      labels,
      targetRatios: ratios,
      counts,
      oversampledRows,
    });
  }
  return out;
}

// What MI critics score under DDP: the global batch, not this rank's share. Each rank's critic
// views and labels are gathered and put back in the one-process batch's order (rank r holds rows
// r, r + W, ... of it: src/dist/sampler.ts), so every rank scores the same rows, draws the same
// negatives (the loop seeds torch from (seed, step) identically on every rank) and folds the same
// numbers into its EMAs and attention scores: the estimate does not weaken as ranks are added, and
// the state it drives stays identical across ranks without further collectives.
import type { Batch } from "../methods/batch.js";
import { tensor } from "../tensor/creation.js";
import { cat, stack } from "../tensor/functions.js";
import type { Tensor } from "../tensor/tensor.js";
import { allGatherRows, getWorldSize } from "./process-group.js";

export interface GlobalCriticInputs {
  /** every view's rows of all ranks (differentiable: see allGatherRows) */
  views: Tensor[];
  /** the labels of the same rows (x is not gathered: critics never read images) */
  batch: Batch;
}

/**
 * The global batch of critic views and labels, in the one-process batch's row order (so sampled
 * negatives, which are drawn by row index, are the one-process ones too). In a one-process run
 * the inputs themselves (no copy). Batch.rows is dropped: per-row state belongs to a rank's share.
 */
export function globalCriticInputs(views: Tensor[], batch: Batch): GlobalCriticInputs {
  const world = getWorldSize();
  if (world === 1) return { views, batch };
  const order = stridedToGlobalOrder(batch.y.shape[0], world);
  // One collective per call, whatever the number of views and spurions: the views side by side and
  // the labels as extra columns (small integers, exact in float32) in one differentiable gather.
  // Each collective is a round trip both ranks wait on (about 1 ms on loopback here); one per
  // tensor cost MIMM-X's DDP step several.
  const widths = views.map((v) => v.shape[1]);
  const labels = stack([batch.y, ...batch.z], 1).to(views[0].dtype);
  // Every rank scores these same rows the same way, so the gather's backward needs no all-reduce.
  const all = allGatherRows(cat([...views, labels], 1), { replicated: true }).indexSelect(0, order);
  let start = 0;
  const next = (w: number) => {
    const v = all.narrow(1, start, w);
    start += w;
    return v;
  };
  const gathered = widths.map(next);
  const labelType = batch.y.dtype;
  const labelColumns = next(1 + batch.z.length)
    .detach()
    .round()
    .to(labelType);
  const column = (k: number) => labelColumns.select(1, k).contiguous();
  return {
    views: gathered,
    batch: { x: batch.x, y: column(0), z: batch.z.map((_, k) => column(k + 1)) },
  };
}

/**
 * Row i of the global batch sits at (i mod W) * b + floor(i / W) of the rank-major gather of W
 * shares of b rows each (int64 [W b]).
 */
export function stridedToGlobalOrder(rowsPerRank: number, worldSize: number): Tensor {
  const n = rowsPerRank * worldSize;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = (i % worldSize) * rowsPerRank + Math.floor(i / worldSize);
  return tensor(idx, { dtype: "int64" });
}

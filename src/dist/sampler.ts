// Which rows each rank trains on. A run's global batch is the same for every world size: the
// epoch's permutation (seeded by seed and epoch, as in one process) cut into batches of
// train.batch_size rows. Rank r takes the strided share rows[r], rows[r + W], ... of each global
// batch, so the ranks' shares are disjoint, their union is the global batch, and each share is a
// uniform sample of it: a split's confounding (the y-z correlation) and its groups are kept in
// every share in expectation and exactly across ranks together. Batch-derived quantities (losses
// per group, MI estimates) are then summed or averaged over ranks with src/dist's collectives.

/** Rank `rank`'s strided share of one global batch (rows in global-batch order). */
export function rankShare(globalBatch: Int32Array, rank: number, worldSize: number): Int32Array {
  if (!(worldSize >= 1) || !Number.isInteger(worldSize))
    throw new Error(`rankShare: world size ${worldSize}`);
  if (!(rank >= 0 && rank < worldSize) || !Number.isInteger(rank))
    throw new Error(`rankShare: rank ${rank} is not in [0, ${worldSize})`);
  const n = Math.ceil((globalBatch.length - rank) / worldSize);
  const out = new Int32Array(Math.max(0, n));
  for (let i = 0; i < out.length; i++) out[i] = globalBatch[rank + i * worldSize];
  return out;
}

export interface Shard {
  rank: number;
  worldSize: number;
}

/**
 * Checks that a global batch of `globalBatchSize` rows splits evenly over the world (each rank's
 * loss is a mean over its rows; equal shares make the mean of the ranks' means the global mean).
 */
export function perRankBatchSize(globalBatchSize: number, shard: Shard): number {
  if (globalBatchSize % shard.worldSize !== 0)
    throw new Error(
      `distributed: train.batch_size ${globalBatchSize} (the global batch) does not divide over ${shard.worldSize} processes; use a multiple of ${shard.worldSize}`,
    );
  return globalBatchSize / shard.worldSize;
}

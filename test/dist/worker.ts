// One rank of the 2-process DDP tests (test/dist/ddp.test.ts spawns it with torchrun's
// environment). argv: <scenario> <output prefix> (writes <prefix>.<rank>.json). Prints "ready" once the process group is up.
import { writeFileSync } from "node:fs";
import * as dist from "../../src/dist/index.js";
import * as torch from "../../src/tensor/index.js";
import {
  mimmxEstimates,
  trainErm,
  trainEveryMethod,
  trainInterruptedOnRank1,
  trainStatefulMethods,
  trainWithChangingKeys,
} from "./scenarios.js";

/**
 * Gradients written by hand, averaged by syncStaleGradients: three calls with the same parameter
 * set (after the first, one collective each), then a call that adds a parameter (the set changes).
 */
function staleGradients(rank: number): Record<string, unknown> {
  const w = torch.zeros([2]).requiresGrad_();
  const v = torch.zeros([3]).requiresGrad_();
  const ddp = new dist.DistributedDataParallel([w, v]);
  const means: number[][] = [];
  for (let step = 0; step < 3; step++) {
    w.grad = torch.tensor([rank + step, 2 * rank]);
    ddp.syncStaleGradients();
    means.push(w.grad.toArray() as number[]);
  }
  const steady = ddp.stats().staleCollectives;
  w.grad = torch.tensor([4 * rank, 1]);
  v.grad = torch.tensor([rank, 3 * rank, 5]);
  ddp.syncStaleGradients();
  means.push(w.grad.toArray() as number[], v.grad.toArray() as number[]);
  // A caller whose gradients must all come from backward passes: a hand-written one is named.
  ddp.assertNoStaleGradients("no hand-written gradients");
  let refused = "";
  v.grad = torch.tensor([1, 2, 3]);
  try {
    ddp.assertNoStaleGradients("no hand-written gradients");
  } catch (e) {
    refused = (e as Error).message;
  }
  const out = { means, steady, after: ddp.stats().staleCollectives, refused };
  ddp.dispose();
  return out;
}

async function collectives(rank: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const s = torch.tensor([rank + 1, 10 * (rank + 1)]);
  out.sum = dist.allReduce(s, "sum").toArray();
  out.avg = dist.allReduce(torch.tensor([rank + 1, 10 * (rank + 1)]), "avg").toArray();
  out.max = dist.allReduce(torch.tensor([rank, -rank]), "max").toArray();
  out.broadcast = dist.broadcast(torch.tensor([rank + 5, rank + 6]), 1).toArray();
  out.gather = dist.allGather(torch.tensor([[rank, rank + 0.5]])).toArray();
  out.mean = dist.allReduceMean([rank, 2 * rank + 1]);
  out.anyRank = [dist.anyRank(rank === 1), dist.anyRank(false)];
  // Differentiable gather: loss = sum over the global batch of (row index + 1) * x; every rank
  // computes the same loss, so each rank's rows get the gradient summed over both ranks' losses.
  const x = torch.tensor([[rank + 1], [rank + 2]]).requiresGrad_();
  const g = dist.allGatherRows(x);
  g.mul(torch.tensor([[1], [2], [3], [4]]))
    .sum()
    .backward();
  out.gatherGrad = x.grad?.toArray();
  // The same loss on every rank, declared: the backward pass skips its all-reduce, same gradient.
  const xr = torch.tensor([[rank + 1], [rank + 2]]).requiresGrad_();
  dist
    .allGatherRows(xr, { replicated: true })
    .mul(torch.tensor([[1], [2], [3], [4]]))
    .sum()
    .backward();
  out.gatherGradReplicated = xr.grad?.toArray();
  out.stale = staleGradients(rank);
  const y = torch.tensor([rank + 1, 3]).requiresGrad_();
  dist
    .allReduceSumAutograd(y)
    .mul(torch.tensor([rank + 1, 1]))
    .sum()
    .backward();
  out.reduceGrad = y.grad?.toArray();
  try {
    dist.allGather(torch.zeros([rank + 1, 2]));
    out.shapeError = null;
  } catch (e) {
    out.shapeError = (e as Error).message;
  }
  dist.barrier();
  return out;
}

async function main() {
  const [scenario, outPrefix] = process.argv.slice(2);
  const env = dist.initProcessGroup({ timeoutMs: 20_000 });
  console.log("ready");
  const shard = { rank: env.rank, worldSize: env.worldSize };
  let result: unknown;
  // One launch for all (each start of a rank costs seconds): the collectives, ERM, every method,
  // MIMM-X's estimates on the gathered batch, the methods with batch-derived state.
  if (scenario === "erm")
    result = {
      collectives: await collectives(env.rank),
      erm: await trainErm(shard),
      every: await trainEveryMethod(shard),
      estimates: mimmxEstimates(shard),
      stateful: await trainStatefulMethods(shard),
      interrupted: await trainInterruptedOnRank1(shard),
      changingKeys: await trainWithChangingKeys(shard),
    };
  // Trains until killed (the dead-rank tests kill one rank mid-run).
  else if (scenario === "long") result = await trainErm(shard, 1_000_000);
  // Rank 1 fails after the group is up, the way a crash in a method would.
  else if (scenario === "fail") {
    if (env.rank === 1) throw new Error("rank 1 failed on purpose");
    result = await trainErm(shard, 1_000_000);
  } else throw new Error(`worker: unknown scenario ${scenario}`);
  writeFileSync(`${outPrefix}.${env.rank}.json`, JSON.stringify(result));
  dist.destroyProcessGroup();
}

main().catch((e) => {
  console.error(`rank ${process.env.RANK}: ${(e as Error).message}`);
  process.exit(1);
});

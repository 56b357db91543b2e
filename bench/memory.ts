// `mimmx bench memory`: resident memory across a long training loop of the small CNN. Each step runs in
// torch.tidy, so temporaries are freed deterministically; the report compares RSS after warm-up with
// RSS at the end (target: within 10%) and counts live native tensor handles (must not grow).
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { SmallCnn } from "../src/models/small-cnn.js";
import * as nn from "../src/nn/index.js";
import { Adam } from "../src/optim/index.js";
import * as torch from "../src/tensor/index.js";

export interface BenchMemoryOptions {
  steps: number;
  batch: number;
  warmup: number;
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

export async function benchMemory(o: BenchMemoryOptions): Promise<Record<string, unknown>> {
  torch.manualSeed(0);
  // The small CNN with a BatchNorm added, so running-statistics buffers are exercised too.
  const cnn = new SmallCnn({ numParts: 1, partSize: 2 });
  const model = new nn.Sequential(
    cnn.body.layers[0],
    cnn.body.layers[1],
    cnn.body.layers[2],
    cnn.body.layers[3],
    new nn.BatchNorm2d(16),
    ...cnn.body.layers.slice(4),
    cnn.out,
  );
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = torch.randn([o.batch, 1, 28, 28]).keep();
  const y = torch.randint(0, 2, [o.batch]).keep();
  const start = { rss: rssMiB(), handles: torch.liveTensorCount() };
  let afterWarmup = start;
  const samples: number[] = [];
  const wrappers: number[] = [];
  const t0 = Date.now();
  for (let step = 1; step <= o.steps; step++) {
    torch.tidy(() => {
      opt.zeroGrad();
      const loss = nn.F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
    });
    // Node runs the finalisers of garbage-collected native handles from its event loop: a loop that
    // never yields would pile them up. Real training yields (data, progress, checkpoints); so do we.
    if (step % 50 === 0) await yieldToEventLoop();
    if (step === o.warmup) afterWarmup = { rss: rssMiB(), handles: torch.liveTensorCount() };
    if (step % Math.max(1, Math.floor(o.steps / 20)) === 0) {
      samples.push(Math.round(rssMiB()));
      wrappers.push(torch.pendingWrapperCount());
    }
  }
  const end = { rss: rssMiB(), handles: torch.liveTensorCount() };
  const growth = (end.rss - afterWarmup.rss) / afterWarmup.rss;
  return {
    bench: "memory",
    steps: o.steps,
    batch: o.batch,
    seconds: (Date.now() - t0) / 1000,
    rss_start_mib: +start.rss.toFixed(1),
    rss_after_warmup_mib: +afterWarmup.rss.toFixed(1),
    rss_end_mib: +end.rss.toFixed(1),
    rss_growth_after_warmup: +growth.toFixed(4),
    rss_samples_mib: samples,
    pending_wrappers: wrappers,
    allocator_cache_mib: +(torch.cachedBytes() / 2 ** 20).toFixed(1),
    malloc_in_use_mib: +(torch.mallocStats().in_use / 2 ** 20).toFixed(1),
    live_handles_after_warmup: afterWarmup.handles,
    live_handles_end: end.handles,
    flat: growth <= 0.1 && end.handles <= afterWarmup.handles,
  };
}

// Hyper-parameter search for the demo's MIMM-X run on the built-in "fashion-confounded" benchmark.
// One invocation = one training run (ERM, oracle = ERM on train_oracle, MTL or MIMM-X) judged the way
// METHOD.md asks: primary accuracy on val / test_inverted / test_balanced, worst-group accuracy, and
// linear probes f_y -> z_i (plus f_y -> y, to catch a collapsed encoder) on frozen balanced-test
// features. Never judged on the training loss. Each result is appended as one JSON line.
//
//   node dist/bench/tune-mimmx.js '{"name":"erm","method":"erm"}'
//   node dist/bench/tune-mimmx.js '{"name":"mx-l2","method":"mimmx","mimmx":{"lambda":2},"epochs":6}'
//
// Fields of the JSON argument (all optional except method):
//   name, method ("erm" | "oracle" | "mtl" | "mimmx" | any createMethod name), mimmx (extra method
//   config), data (fashionConfounded options), epochs, batchSize, lr, partSize, seed, threads,
//   timeLimitS (stop training after this many seconds, at an epoch boundary), out (results file),
//   evalEvery (log val/inverted accuracy after every epoch, default true).
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  type ConfoundedBenchmark,
  type FashionConfoundedOptions,
  fashionConfounded,
} from "../src/data/index.js";
import type { InMemoryDataset } from "../src/data/types.js";
import { evaluateTask, linearProbe } from "../src/eval/index.js";
import { createMethod, type Method, type MethodConfig } from "../src/methods/index.js";
import * as torch from "../src/tensor/index.js";
import { arraySource, train } from "../src/train/index.js";
import { METHOD_LAYER_MIMMX } from "./mimmx-method-layer.js";

export interface TuneConfig {
  name?: string;
  method: string;
  mimmx?: Record<string, unknown>;
  data?: FashionConfoundedOptions;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  partSize?: number;
  seed?: number;
  threads?: number;
  timeLimitS?: number;
  out?: string;
  evalEvery?: boolean;
}

/** Logits of the primary task and the full feature vector of a split, in chunks. */
function infer(
  method: Method,
  ds: InMemoryDataset,
  chunk = 500,
): { yScores: Float32Array; feats: Float32Array; dim: number } {
  const px = ds.itemShape.reduce((a, b) => a * b, 1);
  const yParts: Float32Array[] = [];
  const fParts: Float32Array[] = [];
  let dim = 0;
  for (let s = 0; s < ds.length; s += chunk) {
    const n = Math.min(chunk, ds.length - s);
    torch.tidy(() => {
      const x = torch.tensor(ds.images.subarray(s * px, (s + n) * px), { shape: [n, ...ds.itemShape] });
      const f = method.features(x);
      dim = f.shape[1];
      const logits = method.predict(x)[0];
      yParts.push(Float32Array.from(logits.dataSync() as Float32Array));
      fParts.push(Float32Array.from(f.dataSync() as Float32Array));
    });
  }
  const cat = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return { yScores: cat(yParts), feats: cat(fParts), dim };
}

function splitMetrics(method: Method, ds: InMemoryDataset, spurions: string[]) {
  const { yScores, feats, dim } = infer(method, ds);
  const ev = evaluateTask(yScores, ds.labels.y, {
    factors: spurions.map((z) => ds.labels[z]),
    factorNames: spurions,
    bootstrap: 0,
  });
  return {
    acc: ev.accuracy,
    bacc: ev.balancedAccuracy,
    auc: ev.auc,
    worst: ev.worstGroup?.worstAccuracy ?? null,
    jointWorst: ev.worstGroup?.jointWorstAccuracy ?? null,
    feats,
    dim,
  };
}

export async function runTune(
  cfg: TuneConfig,
  bench?: ConfoundedBenchmark,
): Promise<Record<string, unknown>> {
  torch.setNumThreads(cfg.threads ?? 1);
  const t0 = performance.now();
  const b = bench ?? fashionConfounded(cfg.data ?? {});
  const tData = (performance.now() - t0) / 1000;
  const spurions = b.tasks.filter((t) => t.role === "spurion").map((t) => t.name);
  const isOracle = cfg.method === "oracle";
  const methodName = isOracle ? "erm" : cfg.method;
  const partSize = cfg.partSize ?? (cfg.mimmx?.partSize as number | undefined) ?? 8;
  const seed = cfg.seed ?? 0;
  torch.manualSeed(seed);
  const method = createMethod({
    method: methodName,
    tasks: b.tasks.map((t) => ({ name: t.name, numClasses: t.numClasses })),
    encoder: { name: "small-cnn" },
    partSize,
    lr: cfg.lr ?? 1e-3,
    // The recorded tuning runs override the switches of the method layer's former fallbacks.
    ...(methodName === "mimmx" ? METHOD_LAYER_MIMMX : {}),
    ...(cfg.mimmx ?? {}),
  } as MethodConfig);
  const trainSplit = isOracle ? b.splits.train_oracle : b.splits.train;
  const batchSize = cfg.batchSize ?? 128;
  const data = arraySource(trainSplit, { batchSize, tasks: { primary: "y", spurions }, seed });
  const epochs = cfg.epochs ?? 5;
  const tTrain0 = performance.now();
  const perEpoch: Record<string, number>[] = [];
  const ac = new AbortController();
  let lastLosses: Record<string, number> = {};
  const res = await train({
    method,
    data,
    epochs,
    seed,
    onProgress: (e) => {
      lastLosses = e.losses;
    },
    signal: ac.signal,
    evaluate: (m, epoch) => {
      const rec: Record<string, number> = { epoch, t: (performance.now() - tTrain0) / 1000 };
      if (cfg.evalEvery ?? true) {
        rec.val = splitMetrics(m, b.splits.val, spurions).acc;
        rec.inv = splitMetrics(m, b.splits.test_inverted, spurions).acc;
      }
      for (const [k, v] of Object.entries(lastLosses))
        if (/^(ce\/|mi\/|scale|w\/|att\/)/.test(k)) rec[k] = +v.toFixed(4);
      perEpoch.push(rec);
      process.stderr.write(`[${cfg.name ?? methodName}] ${JSON.stringify(rec)}\n`);
      if (cfg.timeLimitS && rec.t > cfg.timeLimitS) ac.abort();
      const ret: Record<string, number> = {};
      if (rec.val !== undefined) ret["val/acc/y"] = rec.val;
      return ret;
    },
  });
  const trainSeconds = (performance.now() - tTrain0) / 1000;

  const tEval0 = performance.now();
  const val = splitMetrics(method, b.splits.val, spurions);
  const inv = splitMetrics(method, b.splits.test_inverted, spurions);
  const bal = splitMetrics(method, b.splits.test_balanced, spurions);
  // Probes on frozen balanced-test features: f_y -> z_i should be ~0.5, f_y -> y should stay high.
  const k = partSize;
  const probe = (part: number, labels: Int32Array) =>
    linearProbe(bal.feats, bal.dim, labels, { columns: [part * k, (part + 1) * k], bootstrap: 0 }).accuracy;
  const probes: Record<string, number> = { "f_y->y": probe(0, b.splits.test_balanced.labels.y) };
  spurions.forEach((z, i) => {
    probes[`f_y->${z}`] = probe(0, b.splits.test_balanced.labels[z]);
    if (methodName !== "erm") probes[`f_${z}->y`] = probe(i + 1, b.splits.test_balanced.labels.y);
  });
  const evalSeconds = (performance.now() - tEval0) / 1000;
  const r3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  const out = {
    name: cfg.name ?? methodName,
    method: cfg.method,
    config: { ...cfg, out: undefined },
    status: res.status,
    nonFiniteTerm: res.nonFiniteTerm,
    epochsDone: res.epochs,
    val: r3(val.acc),
    inverted: r3(inv.acc),
    balanced: r3(bal.acc),
    invBacc: r3(inv.bacc),
    worstInv: r3(inv.worst),
    worstBal: r3(bal.worst),
    probes: Object.fromEntries(Object.entries(probes).map(([k2, v]) => [k2, r3(v)])),
    trainSeconds: Math.round(trainSeconds),
    evalSeconds: Math.round(evalSeconds * 10) / 10,
    dataSeconds: Math.round(tData * 10) / 10,
    perEpoch,
    when: new Date().toISOString(),
  };
  const path = cfg.out ?? "/tmp/tune/results.jsonl";
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify(out)}\n`);
  return out;
}

const isMain = process.argv[1]?.endsWith("tune-mimmx.js");
if (isMain) {
  const arg = process.argv[2];
  if (!arg) {
    console.error("usage: node dist/bench/tune-mimmx.js '<json config>'");
    process.exit(2);
  }
  const cfg = JSON.parse(arg) as TuneConfig;
  const r = await runTune(cfg);
  const { perEpoch: _p, config: _c, ...summary } = r;
  console.log(JSON.stringify(summary));
}

// The MIMM-X switches of the third tuning round (spurionView "probs", miDistribution "balanced",
// objective "jsd"), and the method's effect on the toy shortcut problem, judged on the inverted split.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runToy } from "../../bench/toy-shortcut.js";
import { miGradients } from "../../src/methods/mimmx/mi-gradient.js";
import type { EncoderStepPieces } from "../../src/methods/mimmx/pieces.js";
import { Mimmx } from "../../src/methods/mimmx.js";
import * as torch from "../../src/tensor/index.js";
import { assertThrowsWith } from "../helpers/assert.js";
import { asBatch, mimmxOptions, shortcutDataset, TASKS } from "./helpers.js";

torch.setNumThreads(1);

const common = { tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 4, lr: 3e-3 } as const;

describe("MIMM-X round-3 switches", () => {
  const batch = asBatch(shortcutDataset(32, 7));

  it('spurionView "probs": y-z_i pairs only, critics read the spurion heads\' probabilities', () => {
    torch.manualSeed(0);
    const m = new Mimmx({
      ...common,
      ...mimmxOptions({ spurionView: "probs", gradNorm: false, adaptiveScaling: false }),
    });
    assert.deepEqual(
      m.pairs.map((p) => p.name),
      ["y;z0", "y;z1"],
    );
    const critic = m.estimators!.module.parameters();
    // wa [P, k, H] reads f_y (k = 4); wc [P, C, H] reads the 2 class probabilities.
    assert.deepEqual(critic[0].shape.slice(0, 2), [2, 4]);
    assert.deepEqual(critic[1].shape.slice(0, 2), [2, 2]);
    const logs = torch.tidy(() => m.update(batch));
    assert.ok(Number.isFinite(logs["mi/y;z0"]) && Number.isFinite(logs["critic_mi/y;z1"]));
  });

  it('spurionView "probs": the MI gradient reaches f_y only, never the spurion rows of W', () => {
    torch.manualSeed(0);
    // lambda large, CE terms silenced by zeroed heads on z: W's z rows may move only through CE_z
    // (zero here), so they must stay put while f_y's rows move.
    const m = new Mimmx({
      ...common,
      ...mimmxOptions({ spurionView: "probs", gradNorm: false, adaptiveScaling: false, lambda: 5 }),
    });
    const W = m.model.encoder.lastSharedWeight();
    const heads = m.model.heads.parameters();
    torch.noGrad(() => {
      for (const p of heads.slice(2)) p.zero_();
    });
    const before = Array.from(W.dataSync() as Float32Array);
    torch.tidy(() => m.update(batch));
    const after = Array.from(W.dataSync() as Float32Array);
    const rowLen = before.length / 12;
    const moved = (from: number, to: number) =>
      before.slice(from * rowLen, to * rowLen).some((v, i) => v !== after[from * rowLen + i]);
    assert.ok(moved(0, 4), "f_y rows did not move");
    assert.ok(!moved(4, 12), "spurion rows moved without any CE_z gradient");
  });

  it('miDistribution "balanced" runs on the stacked critics and refuses the separate ones', () => {
    torch.manualSeed(0);
    const m = new Mimmx({ ...common, ...mimmxOptions({ miDistribution: "balanced" }) });
    const logs = torch.tidy(() => m.update(batch));
    assert.ok(Number.isFinite(logs["mi/y;z0"]) && Number.isFinite(logs.loss));
    const sep = new Mimmx({
      ...common,
      ...mimmxOptions({ miDistribution: "balanced", estimator: "separable-tanh" }),
    });
    assertThrowsWith(() => torch.tidy(() => sep.update(batch)), ["balanced", "stacked"]);
  });

  it('objective "jsd": critics ascend the JS bound, the DV estimate is still reported', () => {
    torch.manualSeed(0);
    const m = new Mimmx({ ...common, ...mimmxOptions({ objective: "jsd" }) });
    const logs = torch.tidy(() => m.update(batch));
    assert.ok(Number.isFinite(logs["mi/y;z0"]) && Number.isFinite(logs.mi_loss));
    // The JS surrogate is <= 0 per pair (both softplus terms are >= 0): the weighted sum is too.
    assert.ok(logs.mi_loss <= 0, `jsd surrogate ${logs.mi_loss}`);
  });
});

describe("MIMM-X on the toy shortcut problem", () => {
  // 16-d inputs: two noisy shape coordinates (~89% accurate), one clean marker z = y with p 0.9.
  const steps = 500;
  const mimmx = { lambda: 1, adaptiveScaling: false, gradNorm: false };
  let baselines: { erm: Record<string, unknown>; oracle: Record<string, unknown> } | null = null;
  const baseline = () => {
    baselines ??= { erm: runToy({ method: "erm", steps }), oracle: runToy({ method: "oracle", steps }) };
    return baselines;
  };
  const inv = (r: Record<string, unknown>) => r.inverted as number;
  const probe = (r: Record<string, unknown>) => (r.probes as Record<string, number>)["f_y->z0"];
  /** What a MIMM-X run must show against ERM and the oracle; the ones it misses. */
  const misses = (mx: Record<string, unknown>): string[] => {
    const { erm, oracle } = baseline();
    const out: string[] = [];
    // ERM leans on the marker: it loses > 15 points on the inverted split; MIMM-X must not.
    if (!(inv(mx) > inv(erm) + 0.1)) out.push(`inverted ${inv(mx)} not above ERM's ${inv(erm)} + 0.1`);
    if (!(inv(mx) > inv(oracle) - 0.06))
      out.push(`inverted ${inv(mx)} not within 0.06 of the oracle's ${inv(oracle)}`);
    if (!(probe(mx) < probe(erm))) out.push(`probe f_y->z0 ${probe(mx)} not below ERM's ${probe(erm)}`);
    return out;
  };

  it("removes the shortcut ERM takes: inverted-split accuracy near the oracle's", () => {
    const { erm, oracle } = baseline();
    assert.ok(inv(erm) < inv(oracle) - 0.15, `ERM inverted ${inv(erm)} vs oracle ${inv(oracle)}`);
    assert.deepEqual(misses(runToy({ method: "mimmx", steps, mimmx })), []);
  });

  it("fails with the MI gradient zeroed or its sign flipped (the test above can catch a broken method)", () => {
    const mutants: Record<string, (g: torch.Tensor) => torch.Tensor> = {
      zeroed: (g) => g.mul(0),
      flipped: (g) => g.neg(),
    };
    for (const [name, mutate] of Object.entries(mutants)) {
      const pieces: Partial<EncoderStepPieces> = {
        miGradients: (loss, f, W) => {
          const g = miGradients(loss, f, W);
          return { f: g.f && mutate(g.f), W: g.W && mutate(g.W) };
        },
      };
      const missed = misses(runToy({ method: "mimmx", steps, mimmx, pieces }));
      assert.ok(missed.length > 0, `MI gradient ${name}: the toy test still passes`);
    }
  });
});

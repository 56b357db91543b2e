// MIMM-X with the spurion labels as the spurion view, the kernel estimator, and GroupDRO's loss on
// y: the assembled encoder gradient against autograd of the objective written out here, the config
// path (preset kernel-dro, the errors of impossible combinations), and the toy shortcut, where the
// kernel penalty must remove what ERM keeps and a zeroed penalty must not.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runToy } from "../../bench/toy-shortcut.js";
import { parseConfig } from "../../src/config/index.js";
import type { Batch } from "../../src/methods/batch.js";
import { GroupDroLoss } from "../../src/methods/group-dro-loss.js";
import { balancingCellWeights } from "../../src/methods/groups.js";
import { miGradients } from "../../src/methods/mimmx/mi-gradient.js";
import type { EncoderStepPieces } from "../../src/methods/mimmx/pieces.js";
import type { Mimmx } from "../../src/methods/mimmx.js";
import { conditionalDependence } from "../../src/mi/kernel-dependence.js";
import { KernelPairEstimators } from "../../src/mi/kernel-pairs.js";
import * as nn from "../../src/nn/index.js";
import { buildMethod } from "../../src/run/method.js";
import * as torch from "../../src/tensor/index.js";
import { configErrorOf } from "../helpers/config.js";
import { labelCarryingBatch, type MimmxOverrides, smallMlpMimmx, TASKS } from "./helpers.js";

torch.setNumThreads(1);

const B = 32;
const DIM = 10;
const K = 3;
const LAMBDA = 0.7;

const makeBatch = (seed: number): Batch => labelCarryingBatch(seed, B, DIM);

type YLossKind = "ce" | "groupdro" | "reweight";

function build(yLoss: YLossKind, pieces: Partial<EncoderStepPieces> = {}): Mimmx {
  const overrides: MimmxOverrides = {
    lambda: LAMBDA,
    estimator: { critic: "kernel" },
    spurionView: "labels",
    adaptiveScaling: false,
    gradNorm: false,
    attention: false,
    yLoss:
      yLoss === "ce"
        ? { kind: "ce" }
        : yLoss === "groupdro"
          ? { kind: "groupdro", eta: 0.5, groups: "pairs" }
          : { kind: "reweight", groups: "pairs", minCount: 1 },
  };
  return smallMlpMimmx(overrides, { inputDim: DIM, partSize: K }, pieces);
}

/**
 * The group-balanced CE written out: sum_b w_b l_b / sum_b w_b, w_b the balancing weight of the
 * sample's joint cell fitted on the training labels (balancingCellWeights, tested in groups.test.ts).
 */
function reweighted(logits: torch.Tensor, batch: Batch, train: Int32Array[]): torch.Tensor {
  const table = balancingCellWeights(train, [2, 2, 2], { scheme: "pairs", minCount: 1 });
  const labels = [batch.y, ...batch.z].map(host);
  const w = Float32Array.from(
    { length: B },
    (_, r) => table.get(labels.map((l) => l[r]).join(",")) as number,
  );
  const perSample = nn.F.crossEntropy(logits, batch.y, { reduction: "none" });
  const wt = torch.tensor(w);
  return perSample.mul(wt).sum().div(wt.sum());
}

const host = (t: torch.Tensor) => Int32Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);

describe("MIMM-X, kernel estimator on the spurion labels", () => {
  for (const yLoss of ["ce", "groupdro", "reweight"] as const) {
    it(`assembles the gradient of CE (${yLoss} on y) + lambda sum_i D(f_y; z_i | y)`, () => {
      const m = build(yLoss);
      assert.ok(m.estimators instanceof KernelPairEstimators);
      assert.equal(m.hasCritics, false, "the kernel estimator trains no critic");
      const batch = makeBatch(3);
      // The reweighted CE's group weights come from "training" labels: a second batch's.
      const trainBatches = [9, 10, 11, 12, 13, 14].map(makeBatch);
      const trainLabels = [0, 1, 2].map((i) =>
        Int32Array.from(trainBatches.flatMap((b) => [...host([b.y, ...b.z][i])])),
      );
      if (yLoss === "reweight") {
        assert.throws(
          () => m.encoderStep(batch, false),
          /mimmx: fitGroups\(training labels\) must run before training/,
        );
        m.fitGroups(trainLabels);
      }
      const params = [...m.model.encoder.parameters(), ...m.model.heads.parameters()];
      // The reference, from the same initial state: q of GroupDRO starts uniform in both.
      const ref = torch.tidy(() => {
        const f = m.model.forward(batch.x);
        const parts = m.model.split(f);
        const labels = [batch.y, ...batch.z];
        const yLogits = m.model.heads.head(0, parts[0]);
        const yTerm =
          yLoss === "ce"
            ? nn.F.crossEntropy(yLogits, batch.y)
            : yLoss === "groupdro"
              ? new GroupDroLoss(TASKS, { eta: 0.5, groups: "pairs" }, "cpu").loss(yLogits, batch).loss
              : reweighted(yLogits, batch, trainLabels);
        let loss = yTerm;
        for (let i = 1; i < 3; i++)
          loss = loss.add(nn.F.crossEntropy(m.model.heads.head(i, parts[i]), labels[i]));
        for (let i = 0; i < 2; i++)
          loss = loss.add(conditionalDependence(parts[0], host(batch.y), host(batch.z[i]), 2, 2).mul(LAMBDA));
        return torch.grad(loss, params, { allowUnused: true }).map((g) => g?.keep() ?? null);
      });
      for (const p of params) p.grad = null;
      torch.tidy(() => m.encoderStep(batch, false));
      params.forEach((p, i) => {
        const got = p.grad?.toArray() ?? [];
        const want = ref[i]?.toArray() ?? [];
        assert.equal(got.length, want.length);
        const scale = Math.max(1e-8, ...want.map(Math.abs));
        got.forEach((g, j) => {
          assert.ok(Math.abs(g - want[j]) <= 1e-5 * scale + 1e-7, `param ${i}[${j}]: ${g} vs ${want[j]}`);
        });
      });
    });
  }

  it("the MI term moves the gradient: zeroing it changes f_y's gradient", () => {
    const batch = makeBatch(5);
    const grads = (zero: boolean) => {
      const m = build("ce", zero ? { miGradients: (loss, f, W) => miGradients(loss.mul(0), f, W) } : {});
      torch.tidy(() => m.encoderStep(batch, false));
      return m.model.encoder.parameters()[0].grad!.toArray();
    };
    const a = grads(false);
    const b = grads(true);
    assert.ok(Math.max(...a.map((v, i) => Math.abs(v - b[i]))) > 1e-4);
  });

  it("preset kernel-dro sets the view, the estimator, GroupDRO on y, k and the checkpoint rule", () => {
    const base = `name: t\ndata:\n  source: fashion-confounded\n  spurions:\n    - {name: marker, kind: patch}\n    - {name: block, kind: block}\n`;
    const c = parseConfig(`${base}method: {name: mimmx, preset: kernel-dro}\n`);
    assert.equal(c.method.spurion_view, "labels");
    assert.equal(c.method.estimator.critic, "kernel");
    assert.equal(c.method.y_loss, "groupdro");
    assert.equal(c.model.feature_dim, 2);
    assert.equal(c.train.select_by, "val_worst_group");
    const m = buildMethod(c, [
      { name: "y", numClasses: 2 },
      { name: "marker", numClasses: 2 },
      { name: "block", numClasses: 2 },
    ] as never) as Mimmx;
    assert.ok(m.estimators instanceof KernelPairEstimators);
    assert.ok(m.yObjective, "GroupDRO's objective on y");
    assert.match(
      configErrorOf(`${base}method: {name: mimmx, preset: none, estimator: {critic: kernel}}\n`),
      /spurion_view: labels/,
    );
    assert.match(
      configErrorOf(
        `${base}method: {name: mimmx, preset: none, spurion_view: labels, mi_distribution: balanced, estimator: {critic: kernel}}\n`,
      ),
      /mi_distribution/,
    );
  });

  it("removes the toy's shortcut where ERM keeps it (and a zeroed penalty does not)", () => {
    const steps = 800;
    const kernel = {
      lambda: 1,
      spurionView: "labels",
      estimator: { critic: "kernel" },
      adaptiveScaling: false,
      gradNorm: false,
      attention: false,
    };
    const erm = runToy({ method: "erm", steps }) as { inverted: number; probes: Record<string, number> };
    const mx = runToy({ method: "mimmx", steps, mimmx: kernel }) as typeof erm;
    const zeroed = runToy({
      method: "mimmx",
      steps,
      mimmx: kernel,
      pieces: { miGradients: (loss, f, W) => miGradients(loss.mul(0), f, W) },
    }) as typeof erm;
    assert.ok(mx.inverted > erm.inverted + 0.08, `kernel ${mx.inverted} vs ERM ${erm.inverted}`);
    assert.ok(mx.probes["f_y->z0"] < erm.probes["f_y->z0"] - 0.05, JSON.stringify([mx.probes, erm.probes]));
    assert.ok(zeroed.inverted < mx.inverted - 0.05, `zeroed ${zeroed.inverted} vs ${mx.inverted}`);
  });
});

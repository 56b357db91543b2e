// The CPU-only check that every tensor a training step or an evaluation creates is placed on the
// configured device (issue 11, item 1). Under recordDevices({ simulate: "cuda:7" }) every requested
// device is served by the CPU but logged, and every tensor reports "cuda:7" as its device, so a
// tensor built from libtorch's default (no device) or from a literal "cpu" shows up in the log.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InMemoryDataset } from "../../src/data/types.js";
import { infer } from "../../src/eval/driver.js";
import { miAudit } from "../../src/eval/mi-audit.js";
import type { Batch } from "../../src/methods/batch.js";
import {
  createMethod,
  Dfr,
  Jtt,
  METHOD_NAMES,
  type MethodConfig,
  Reweight,
} from "../../src/methods/index.js";
import * as torch from "../../src/tensor/index.js";
import { arraySource } from "../../src/train/data.js";
import { mimmOptions, mimmxOptions, shortcutDataset, TASK_NAMES, TASKS } from "./helpers.js";

torch.setNumThreads(1);

const DEVICE = "cuda:7" as const;
const common = { tasks: TASKS, encoder: { name: "small-cnn" }, partSize: 2, device: DEVICE } as const;
const SWITCHES: Partial<Record<string, object>> = { mimmx: mimmxOptions(), mimm: mimmOptions() };

/** Every placement that did not ask for the configured device, as readable lines. */
function misplaced(records: readonly torch.PlacementRecord[]): string[] {
  return records
    .filter((r) => r.device !== DEVICE)
    .map((r) => `${r.op} on ${r.device ?? "(default)"} ${r.site}`);
}

describe("device placement: every tensor comes from the configured device", () => {
  const data = shortcutDataset(16, 5);

  it("the recorder logs defaults and literals, and serves a simulated device from the CPU", () => {
    const { records, result } = torch.recordDevices(
      () =>
        torch.tidy(() => {
          const a = torch.zeros([2]);
          const b = torch.ones([2], { device: "cpu" });
          const c = torch.tensor([1, 2], { device: DEVICE });
          const d = c.to(DEVICE);
          return [a.device, b.device, c.device, d.device, d.add(b).toArray().join(",")];
        }),
      { simulate: DEVICE },
    );
    assert.deepEqual(
      records.map((r) => [r.op, r.device]),
      [
        ["zeros", undefined],
        ["ones", "cpu"],
        ["tensor", DEVICE],
        ["to", DEVICE],
      ],
    );
    assert.deepEqual(result, ["cpu", "cpu", DEVICE, DEVICE, "2,3"]);
    assert.equal(misplaced(records).length, 2);
    assert.match(records[0].site, /device-placement\.test/);
    // Outside the recorder a tensor reports where it really lives.
    torch.tidy(() => assert.equal(torch.zeros([1]).device, "cpu"));
    assert.throws(
      () => torch.recordDevices(() => torch.zeros([1], { device: "gpu" as never }), { simulate: DEVICE }),
      /device must be cpu, cuda or cuda:N, got "gpu"/,
    );
  });

  // MIMM-X once more with balanced pair weights (pair-weights.ts) and sampled negatives (pairs.ts).
  const CASES: [string, string, object][] = [
    ...METHOD_NAMES.map((m): [string, string, object] => [m, m, SWITCHES[m] ?? {}]),
    [
      "mimmx (balanced pairs, 4 sampled negatives)",
      "mimmx",
      {
        ...mimmxOptions(),
        miDistribution: "balanced",
        estimator: { ...(mimmxOptions().estimator as object), negatives: 4 },
      },
    ],
  ];
  for (const [label, name, switches] of CASES) {
    it(`one ${label} step builds its batch and every tensor on ${DEVICE}`, () => {
      torch.manualSeed(0);
      const { records, result } = torch.recordDevices(
        () => {
          const method = createMethod({ method: name, ...common, ...switches } as MethodConfig);
          if (method instanceof Reweight) method.fitGroups([data.labels.y, data.labels.z0, data.labels.z1]);
          if (method instanceof Jtt) method.setErrorSet(Int32Array.of(0, 5, 9), data.length);
          // Construction initialises layers on the CPU and moves them (as in PyTorch): after it,
          // every parameter and buffer (model, critics, adversaries) must be on the device.
          const state = [...method.stateModule.parameters(), ...method.stateModule.buffers()];
          const stranded = state.filter((t) => t.device !== DEVICE).length;
          const fromStep = torch.recordedPlacements().length;
          const source = arraySource(data, { batchSize: 16, tasks: TASK_NAMES, seed: 1, device: DEVICE });
          for (const make of source(0) as Iterable<() => Batch>) {
            torch.tidy(() => method.update(make()));
            break;
          }
          if (method instanceof Dfr) {
            // DFR's second stage: last-layer inputs of a batch, then the refitted layer written back.
            torch.tidy(() => {
              const x = torch.tensor(data.images, { shape: [16, 1, 28, 28], device: method.device });
              const d = method.lastLayerInputs(x).shape[1];
              method.setLastLayer({
                inputs: d,
                outputs: 1,
                weight: new Float64Array(d),
                bias: new Float64Array(1),
              });
            });
          }
          return { device: method.device, state: state.length, stranded, fromStep };
        },
        { simulate: DEVICE },
      );
      assert.equal(result.device, DEVICE);
      assert.ok(result.state > 0);
      assert.equal(result.stranded, 0, `${name}: ${result.stranded} parameters or buffers left on the CPU`);
      const construction = records.slice(0, result.fromStep);
      assert.ok(
        construction.some((r) => r.op === "to" && r.device === DEVICE),
        "the model was moved",
      );
      const badInit = misplaced(construction.filter((r) => !isLayerInit(r)));
      assert.deepEqual(badInit, [], `${name} construction:\n${badInit.join("\n")}`);
      const step = records.slice(result.fromStep);
      assert.ok(
        step.some((r) => r.op === "tensor"),
        "the step created its batch",
      );
      const bad = misplaced(step);
      assert.deepEqual(bad, [], `${name}: tensors not on the configured device:\n${bad.join("\n")}`);
    });
  }

  it(`evaluation (driver, probe features, MI audit) builds every tensor on ${DEVICE}`, () => {
    torch.manualSeed(0);
    const ds: InMemoryDataset = { ...data, tasks: TASKS } as unknown as InMemoryDataset;
    const { records, result } = torch.recordDevices(
      () => {
        const method = createMethod({ method: "erm", ...common });
        const fromEval = torch.recordedPlacements().length;
        const out = infer(method, ds, { batchSize: 8 });
        const parts = [0, 1, 2].map((p) =>
          Float32Array.from(
            { length: 16 * 2 },
            (_, i) => out.features[Math.floor(i / 2) * 6 + p * 2 + (i % 2)],
          ),
        );
        const audit = miAudit(parts, 2, ["y", "z0", "z1"], {
          steps: 3,
          evalBatches: 2,
          device: DEVICE,
          seed: 1,
        });
        return { fromEval, audit: audit.length };
      },
      { simulate: DEVICE },
    );
    assert.equal(result.audit, 3);
    const evalRecords = records.slice(result.fromEval);
    assert.ok(evalRecords.length > 0);
    const bad = misplaced(evalRecords.filter((r) => !isLayerInit(r)));
    assert.deepEqual(bad, [], `evaluation: tensors not on the configured device:\n${bad.join("\n")}`);
  });
});

/**
 * Layers initialise their parameters on the CPU (nn/layers.ts, stacked-critic.ts, with no device)
 * and the method moves them before any optimiser holds them, as PyTorch code does; those
 * initialisations are the one allowed default. Everything else must name the configured device.
 */
function isLayerInit(r: torch.PlacementRecord): boolean {
  return r.device === undefined && /[/\\](nn[/\\]layers|mi[/\\]stacked-critic)\.[jt]s/.test(r.site);
}

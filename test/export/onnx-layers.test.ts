// Every layer of src/nn exported alone or in small stacks, run in onnxruntime-node against mimmx.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  exportModuleOnnx,
  exportOnnx,
  OnnxExportError,
  registerExporter,
  toOnnxBytes,
} from "../../src/export/index.js";
import { Encoder, PartitionedModel } from "../../src/models/index.js";
import * as nn from "../../src/nn/index.js";
import * as torch from "../../src/tensor/index.js";
import { assertMatches, evalForward, openSession, runSession, tempDir } from "./ort-helpers.js";

torch.setNumThreads(1);

interface LayerCase {
  title: string;
  make: () => nn.Module;
  inputShape: number[];
  /** training-mode passes first (BatchNorm statistics) */
  warmup?: boolean;
  opset?: number;
}

const CASES: LayerCase[] = [
  {
    title: "Conv2d (stride, padding, dilation, groups) + BatchNorm2d + ReLU",
    make: () =>
      new nn.Sequential(
        new nn.Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 }),
        new nn.BatchNorm2d(6),
        new nn.ReLU(),
      ),
    inputShape: [4, 11, 9],
    warmup: true,
  },
  {
    title: "Conv2d without bias, BatchNorm2d without affine, LeakyReLU, ELU, Sigmoid, Tanh",
    make: () =>
      new nn.Sequential(
        new nn.Conv2d(2, 3, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(3, { affine: false, eps: 1e-3 }),
        new nn.LeakyReLU(0.2),
        new nn.Conv2d(3, 3, 1),
        new nn.ELU(0.7),
        new nn.Conv2d(3, 3, 1),
        new nn.Sigmoid(),
        new nn.Conv2d(3, 3, 1),
        new nn.Tanh(),
      ),
    inputShape: [2, 7, 7],
    warmup: true,
  },
  {
    title: "MaxPool2d (ceil_mode, padding, dilation, stride) and AvgPool2d (ceil_mode, count_include_pad on)",
    make: () =>
      new nn.Sequential(
        new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
        new nn.MaxPool2d([2, 3], { stride: [1, 2], dilation: [2, 1] }),
        new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
      ),
    inputShape: [2, 16, 17],
  },
  {
    title: "ceil_mode where PyTorch drops a last window starting in the padding (stride 3)",
    make: () =>
      new nn.Sequential(
        new nn.MaxPool2d(3, { stride: 3, padding: 1, ceilMode: true }),
        new nn.AvgPool2d(2, { stride: 1, padding: 1, ceilMode: true, countIncludePad: false }),
      ),
    inputShape: [2, 16, 10],
  },
  {
    title: "AvgPool2d ceil_mode, stride 3, count_include_pad on",
    make: () => new nn.AvgPool2d(3, { stride: 3, padding: 1, ceilMode: true }),
    inputShape: [1, 16, 10],
  },
  {
    title: "AvgPool3d ceil_mode with count_include_pad (partial windows at the end)",
    make: () => new nn.AvgPool3d([3, 2, 3], { stride: 2, padding: [1, 0, 1], ceilMode: true }),
    inputShape: [2, 7, 5, 4],
  },
  {
    title: "AvgPool2d with count_include_pad off, ceil_mode off",
    make: () => new nn.AvgPool2d([3, 2], { stride: [2, 1], padding: [1, 1], countIncludePad: false }),
    inputShape: [3, 9, 8],
  },
  {
    title: "AvgPool2d with count_include_pad off, ceil_mode on",
    make: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }),
    inputShape: [2, 10, 8],
  },
  {
    title: "AdaptiveAvgPool2d(1) + Flatten + Linear (Gemm) + BatchNorm1d + Dropout + Identity + Linear",
    make: () =>
      new nn.Sequential(
        new nn.AdaptiveAvgPool2d(1),
        new nn.Flatten(),
        new nn.Linear(3, 5),
        new nn.BatchNorm1d(5),
        new nn.Dropout(0.5),
        new nn.Identity(),
        new nn.Linear(5, 2, false),
      ),
    inputShape: [3, 6, 5],
    warmup: true,
    opset: 13,
  },
  {
    title: "Conv3d + BatchNorm3d + MaxPool3d + AvgPool3d + AdaptiveAvgPool3d(1) + Flatten",
    make: () =>
      new nn.Sequential(
        new nn.Conv3d(2, 4, [3, 3, 2], { padding: [1, 0, 1], stride: [1, 2, 1] }),
        new nn.BatchNorm3d(4),
        new nn.ReLU(),
        new nn.MaxPool3d(2, { ceilMode: true }),
        new nn.AvgPool3d([2, 1, 2], { padding: [1, 0, 0], countIncludePad: false }),
        new nn.AdaptiveAvgPool3d([1, 1, 1]),
        new nn.Flatten(),
      ),
    inputShape: [2, 7, 9, 6],
    warmup: true,
  },
  {
    title: "Linear on a 3-d input (MatMul + Add) and BatchNorm1d on [N, C, L]",
    make: () =>
      new nn.Sequential(new nn.BatchNorm1d(3), new nn.Linear(4, 6), new nn.ReLU(), new nn.Linear(6, 2)),
    inputShape: [3, 4],
    warmup: true,
  },
  {
    title: "Flatten(2, 3) and Flatten(0) of a batch",
    make: () => new nn.Sequential(new nn.Flatten(2, 3), new nn.Linear(12, 3), new nn.Flatten(0)),
    inputShape: [2, 3, 4],
  },
];

describe("ONNX export of src/nn layers", () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir();
  });
  after(() => tmp.cleanup());

  CASES.forEach((c, ci) => {
    it(`${c.title} matches mimmx within 1e-4`, async () => {
      torch.manualSeed(7 + ci);
      const m = c.make();
      if (c.warmup) {
        m.train();
        for (let i = 0; i < 3; i++)
          torch.tidy(() =>
            torch.noGrad(() =>
              m.forward(
                torch
                  .randn([6, ...c.inputShape])
                  .mul(2)
                  .add(-1),
              ),
            ),
          );
      }
      const path = join(tmp.dir, `layer-${ci}.onnx`);
      exportModuleOnnx(m, path, { inputShape: c.inputShape, opset: c.opset });
      // Unoptimised, the graph's own semantics; fully optimised, what users run (fusions included).
      for (const level of ["disabled", "all"] as const) {
        const session = await openSession(path, level);
        try {
          for (const batch of [1, 5]) {
            await torch.tidyAsync(async () => {
              const x = torch.randn([batch, ...c.inputShape]);
              const out = await runSession(session, x);
              assertMatches(
                `${c.title} (batch ${batch}, optimisation ${level})`,
                out.output,
                evalForward(m, x),
              );
            });
          }
        } finally {
          await session.release();
        }
      }
    });
  });
});

class Swish extends nn.Module {
  forward(x: torch.Tensor): torch.Tensor {
    return x.mul(x.sigmoid());
  }
}

class CustomEncoder extends Encoder {
  readonly out = this.registerModule("out", new nn.Linear(4, 4));
  embed(x: torch.Tensor): torch.Tensor {
    return x;
  }
}

describe("ONNX export errors", () => {
  it("an unsupported module is an error naming its class and dotted path", () => {
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.Sequential(new nn.ReLU(), new Swish()));
    assert.throws(
      () => toOnnxBytes(m, { inputShape: [3] }),
      (e: unknown) =>
        e instanceof OnnxExportError && /no exporter for module Swish at 1\.1\b/.test(e.message),
    );
  });

  it("an unsupported encoder class is named with its path in the model", () => {
    const model = new PartitionedModel(new CustomEncoder({ numParts: 2, partSize: 2 }), [
      { name: "y", numClasses: 2 },
      { name: "z", numClasses: 2 },
    ]);
    assert.throws(
      () => exportOnnx(model, "/nonexistent/never-written.onnx", { inputShape: [4] }),
      /no exporter for module CustomEncoder at encoder\b/,
    );
  });

  it("AdaptiveAvgPool to a size other than 1 is refused, naming the module", () => {
    const m = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.AdaptiveAvgPool2d([2, 1]));
    assert.throws(
      () => toOnnxBytes(m, { inputShape: [1, 8, 8] }),
      /AdaptiveAvgPool2d at 1: only output size 1 .*got \[2, 1\]/,
    );
  });

  it("a shape mismatch is reported at the layer that sees it", () => {
    const m = new nn.Sequential(new nn.Flatten(), new nn.Linear(10, 2));
    assert.throws(
      () => toOnnxBytes(m, { inputShape: [3, 3] }),
      /Linear at 1: expects 10 input features, got \[N, 9\]/,
    );
  });

  it("a registered exporter makes a custom module exportable", async () => {
    registerExporter(Swish, (b, _m, x) => {
      const s = b.op("Sigmoid", [x], b.shapeOf(x));
      return b.op("Mul", [x, s], b.shapeOf(x));
    });
    const m = new nn.Sequential(new nn.Linear(3, 4), new Swish());
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, "swish.onnx");
      exportModuleOnnx(m, path, { inputShape: [3], outputName: "y" });
      const session = await openSession(path);
      await torch.tidyAsync(async () => {
        const x = torch.randn([5, 3]);
        assertMatches("swish", (await runSession(session, x)).y, evalForward(m, x));
      });
      await session.release();
    } finally {
      tmp.cleanup();
    }
  });
});

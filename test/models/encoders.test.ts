import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildEncoder, type EncoderConfig, PartitionedModel, splitFeatures } from "../../src/models/index.js";
import * as torch from "../../src/tensor/index.js";

torch.setNumThreads(1);

describe("encoders with partitioned features", () => {
  const cases = [
    { cfg: { name: "small-cnn", numParts: 3, partSize: 4 } as const, input: [2, 1, 28, 28] },
    {
      cfg: {
        name: "resnet18",
        numParts: 2,
        partSize: 3,
        widths: [4, 8],
        blocks: [1, 1],
        smallInput: true,
      } as const,
      input: [2, 1, 16, 16],
    },
    {
      cfg: {
        name: "densenet121",
        numParts: 2,
        partSize: 3,
        growthRate: 4,
        blockConfig: [2, 2],
        initFeatures: 8,
      } as const,
      input: [2, 3, 32, 32],
    },
    {
      cfg: { name: "cnn3d", numParts: 3, partSize: 2, channels: [2, 4], hidden: 8 } as const,
      input: [2, 1, 8, 8, 8],
    },
  ];
  for (const { cfg, input } of cases) {
    it(`${cfg.name} gives [B, (N+1)k] and splits into N+1 parts`, () => {
      torch.tidy(() => {
        const enc = buildEncoder({ ...cfg, inChannels: input[1] } as EncoderConfig);
        const f = enc.forward(torch.randn(input));
        assert.deepEqual(f.shape, [2, cfg.numParts * cfg.partSize]);
        const parts = splitFeatures(f, cfg.numParts);
        assert.equal(parts.length, cfg.numParts);
        for (const p of parts) assert.deepEqual(p.shape, [2, cfg.partSize]);
        assert.deepEqual(enc.lastSharedWeight().shape[0], cfg.numParts * cfg.partSize);
      });
    });
  }

  it("heads read their own part and have their task's class count", () => {
    torch.tidy(() => {
      const enc = buildEncoder({ name: "small-cnn", numParts: 3, partSize: 2 });
      const model = new PartitionedModel(enc, [
        { name: "y", numClasses: 2 },
        { name: "sex", numClasses: 2 },
        { name: "site", numClasses: 5 },
      ]);
      const logits = model.logits(model.split(model.forward(torch.randn([4, 1, 28, 28]))));
      assert.deepEqual(
        logits.map((l) => l.shape),
        [
          [4, 2],
          [4, 2],
          [4, 5],
        ],
      );
    });
  });

  it("an unknown encoder name is a clear error", () => {
    assert.throws(() => buildEncoder({ name: "vgg" } as never), /unknown encoder "vgg"/);
  });
});

// data.transforms augmentation: applied to training batches only, seeded by (seed, epoch, row),
// never to the images evaluation reads.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type DeepPartial, type RunConfig, resolveDefaults } from "../../src/config/index.js";
import { Compose } from "../../src/data/transforms/compose.js";
import { translate } from "../../src/data/transforms/spatial.js";
import type { InMemoryDataset } from "../../src/data/types.js";
import type { Batch } from "../../src/methods/index.js";
import { buildMethod } from "../../src/run/method.js";
import { augmentationSpecs, trainBatches, trainMethod } from "../../src/run/train-method.js";
import * as torch from "../../src/tensor/index.js";
import type { Tensor } from "../../src/tensor/tensor.js";
import { gatherBatch, hashSeed, permutation } from "../../src/train/index.js";
import { shortcutDataset } from "../methods/helpers.js";

torch.setNumThreads(1);

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TASKS = [
  { name: "y", role: "primary" as const, numClasses: 2 },
  { name: "z0", role: "spurion" as const, numClasses: 2 },
  { name: "z1", role: "spurion" as const, numClasses: 2 },
];
const NAMES = { primary: "y", spurions: ["z0", "z1"] };

function split(n: number, seed: number, name: string): InMemoryDataset {
  return { ...shortcutDataset(n, seed), name, tasks: TASKS };
}

function config(transforms: Record<string, unknown>, seed = 3): RunConfig {
  return resolveDefaults(
    {
      name: "aug",
      seed,
      data: {
        source: "fashion-confounded",
        spurions: [
          { name: "z0", kind: "patch" },
          { name: "z1", kind: "contrast" },
        ],
        transforms,
      },
      model: { feature_dim: 4 },
      method: { name: "erm" },
      train: { epochs: 1, batch_size: 16 },
      eval: { bootstrap: 0 },
    } as DeepPartial<RunConfig>,
    "test",
  );
}

const ALL = { hflip: true, rotate_deg: 15, crop_padding: 3, intensity_jitter: 0.2 };

function epochImages(cfg: RunConfig, ds: InMemoryDataset, epoch: number): number[][] {
  const out: number[][] = [];
  for (const make of trainBatches(cfg, ds, NAMES)(epoch) as Iterable<() => Batch>)
    torch.tidy(() => {
      out.push(make().x.toArray());
    });
  return out;
}

describe("augmentation transforms", () => {
  it("translate (padded random crop) shifts content and fills, 2-D and 3-D", () => {
    const img = { data: Float32Array.from({ length: 9 }, (_, i) => i + 1), shape: [1, 3, 3] };
    assert.deepEqual(Array.from(translate(img, [1, -1], 0).data), [0, 0, 0, 2, 3, 0, 5, 6, 0]);
    assert.deepEqual(Array.from(translate(img, [0, 0], 0).data), Array.from(img.data));
    const vol = { data: Float32Array.from({ length: 8 }, (_, i) => i + 1), shape: [1, 2, 2, 2] };
    // out[d][h][w] = in[d - 1][h][w + 1]
    assert.deepEqual(Array.from(translate(vol, [1, 0, -1], -1).data), [-1, -1, -1, -1, 2, -1, 4, -1]);
    // randomCrop draws each shift from [-padding, padding]: over many seeds every shift occurs.
    const seen = new Set<string>();
    const c = new Compose([{ type: "randomCrop", padding: 1 }]);
    const one = { data: new Float32Array(9), shape: [1, 3, 3] };
    one.data[4] = 1; // the centre pixel moves to (1 + dy, 1 + dx)
    for (let s = 0; s < 200; s++) seen.add(String(c.apply(one, s).data.indexOf(1)));
    assert.deepEqual([...seen].sort(), ["0", "1", "2", "3", "4", "5", "6", "7", "8"]);
  });

  it("rotation of a volume rotates every slice in plane by the same angle", () => {
    const vol = {
      data: Float32Array.from({ length: 2 * 5 * 5 }, (_, i) => (i * 37) % 11),
      shape: [1, 2, 5, 5],
    };
    const out = new Compose([{ type: "randomRotate", maxDegrees: 40 }]).apply(vol, 9);
    assert.deepEqual(out.shape, [1, 2, 5, 5]);
    assert.notDeepEqual(Array.from(out.data), Array.from(vol.data));
    // The same seed on the 2-slice stack as a 2-channel image gives the same rotation.
    const asImage = new Compose([{ type: "randomRotate", maxDegrees: 40 }]).apply(
      { data: vol.data, shape: [2, 5, 5] },
      9,
    );
    assert.deepEqual(Array.from(out.data), Array.from(asImage.data));
  });

  it("config keys map to transforms in torchvision order; none on = no augmentation", () => {
    assert.deepEqual(
      augmentationSpecs(config(ALL).data.transforms, 2).map((s) => s.type),
      ["randomCrop", "randomFlip", "randomRotate", "intensityJitter"],
    );
    assert.deepEqual(augmentationSpecs(config({}).data.transforms, 2), []);
    assert.deepEqual(augmentationSpecs(config({ hflip: true }).data.transforms, 3), [
      { type: "randomFlip", axes: [2], p: 0.5 },
    ]);
  });

  it("training batches change, reproducibly under the same seed; the split itself does not", () => {
    const ds = split(64, 1, "train");
    const pristine = ds.images.slice();
    const plain = epochImages(config({}), ds, 0);
    // Without augmentation a batch is exactly the rows of the epoch's permutation.
    const order = permutation(64, hashSeed(3, 0));
    assert.deepEqual(plain[0], Array.from(gatherBatch(ds, order.subarray(0, 16), 784).images));
    const a = epochImages(config(ALL), ds, 0);
    const b = epochImages(config(ALL), ds, 0);
    assert.deepEqual(a, b, "same seed, same epoch: identical augmented batches");
    assert.equal(a.length, plain.length);
    let changed = 0;
    for (let i = 0; i < a.length; i++)
      for (let k = 0; k < 16; k++) {
        const x = a[i].slice(k * 784, (k + 1) * 784);
        const y = plain[i].slice(k * 784, (k + 1) * 784);
        if (x.some((v, j) => Math.abs(v - y[j]) > 1e-6)) changed++;
      }
    assert.ok(changed >= 60, `${changed} of 64 training images changed`);
    assert.notDeepEqual(epochImages(config(ALL), ds, 1), a, "another epoch draws again");
    assert.notDeepEqual(epochImages(config(ALL, 4), ds, 0), a, "another seed draws again");
    assert.deepEqual(ds.images, pristine);
  });

  it("a training run augments what the model trains on and evaluates on the original pixels", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mimmx-aug-"));
    dirs.push(dir);
    const cfg = config(ALL);
    const trainSet = split(64, 1, "train");
    const validation = split(40, 2, "validation");
    torch.manualSeed(cfg.seed);
    const method = buildMethod(cfg, TASKS);
    const seenTrain: number[][] = [];
    const seenEval: number[][] = [];
    const forward = method.model.forward.bind(method.model);
    method.model.forward = (x: Tensor) => {
      (method.model.training ? seenTrain : seenEval).push(x.toArray());
      return forward(x);
    };
    const r = await trainMethod({
      config: cfg,
      method,
      trainSet,
      validation,
      dir,
      label: "erm",
      progressMode: "quiet",
    });
    assert.equal(r.status, "completed");
    assert.equal(seenTrain.length, 4);
    assert.deepEqual(seenTrain, epochImages(cfg, trainSet, 0), "the loop trains on the augmented batches");
    const plain = epochImages(config({}), trainSet, 0);
    assert.notDeepEqual(seenTrain, plain);
    assert.deepEqual(seenEval.flat(), Array.from(validation.images), "validation reads the original pixels");
  });
});

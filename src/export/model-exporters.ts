// Exporters for the encoders of src/models and for PartitionedModel, each reproducing its forward():
// ResNet's residual adds, DenseNet's concatenations, the global means, and the split of the feature
// vector into the parts each head reads.

import { Cnn3dEncoder } from "../models/cnn3d.js";
import { DenseNetEncoder } from "../models/densenet.js";
import { PartitionedModel } from "../models/model.js";
import { ResNetEncoder } from "../models/resnet.js";
import { SmallCnn } from "../models/small-cnn.js";
import * as nn from "../nn/index.js";
import type { Module } from "../nn/module.js";
import { type GraphBuilder, getExporter, int, registerExporter } from "./graph.js";
import { globalAveragePool } from "./nn-exporters.js";

/** x.mean(spatial dims): GlobalAveragePool then Flatten to [N, C]. */
function spatialMean(b: GraphBuilder, x: string): string {
  const s = b.shapeOf(x);
  const pooled = globalAveragePool(b, x, s);
  return b.op("Flatten", [pooled], [s[0], s[1]], { axis: int(1) });
}
const relu = (b: GraphBuilder, x: string) => b.op("Relu", [x], b.shapeOf(x));

registerExporter(SmallCnn, (b, m, x) => {
  const s = b.shapeOf(x);
  if (s.length !== 4 || s[2] !== 28 || s[3] !== 28)
    b.fail(m, `expects [N, C, 28, 28], got [${s.join(", ")}]`);
  return b.emit(m.out, b.emit(m.body, x, "body"), "out");
});

// ResNet's BasicBlock and DenseNet's DenseLayer are private to their files: they are recognised by
// class name and structure when their encoder is exported, and registered then.
interface BasicBlockLike extends Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  shortcut: nn.Sequential | null;
}
function isBasicBlock(m: Module): m is BasicBlockLike {
  const o = m as unknown as Partial<BasicBlockLike>;
  return (
    m.constructor.name === "BasicBlock" &&
    o.conv1 instanceof nn.Conv2d &&
    o.bn1 instanceof nn.BatchNorm2d &&
    o.conv2 instanceof nn.Conv2d &&
    o.bn2 instanceof nn.BatchNorm2d &&
    (o.shortcut === null || o.shortcut instanceof nn.Sequential)
  );
}
function exportBasicBlock(b: GraphBuilder, m: BasicBlockLike, x: string): string {
  // bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x), then ReLU.
  let h = relu(b, b.emit(m.bn1, b.emit(m.conv1, x, "conv1"), "bn1"));
  h = b.emit(m.bn2, b.emit(m.conv2, h, "conv2"), "bn2");
  const sc = m.shortcut ? b.emit(m.shortcut, x, "shortcut") : x;
  const hs = b.shapeOf(h);
  const ss = b.shapeOf(sc);
  if (hs.join() !== ss.join()) b.fail(m, `residual shapes differ: [${hs.join(", ")}] and [${ss.join(", ")}]`);
  return relu(b, b.op("Add", [h, sc], hs));
}

interface DenseLayerLike extends Module {
  body: nn.Sequential;
}
function isDenseLayer(m: Module): m is DenseLayerLike {
  return (
    m.constructor.name === "DenseLayer" &&
    (m as unknown as Partial<DenseLayerLike>).body instanceof nn.Sequential
  );
}
function exportDenseLayer(b: GraphBuilder, m: DenseLayerLike, x: string): string {
  // cat([x, body(x)], 1)
  const y = b.emit(m.body, x, "body");
  const xs = b.shapeOf(x);
  const ys = b.shapeOf(y);
  if (xs.length !== ys.length || xs.some((d, i) => i !== 1 && d !== ys[i])) {
    b.fail(m, `cannot concatenate [${xs.join(", ")}] and [${ys.join(", ")}] along channels`);
  }
  const out = [...xs];
  out[1] = (xs[1] as number) + (ys[1] as number);
  return b.op("Concat", [x, y], out, { axis: int(1) });
}

/** Registers the exporter of a private block class found in `seq`, when it matches the structure. */
function registerPrivateBlocks<M extends Module>(
  seq: nn.Sequential,
  is: (m: Module) => m is M,
  exporter: (b: GraphBuilder, m: M, x: string) => string,
): void {
  for (const layer of seq.layers) {
    if (!getExporter(layer) && is(layer)) registerExporter(layer.constructor as new () => M, exporter);
  }
}

registerExporter(ResNetEncoder, (b, m, x) => {
  registerPrivateBlocks(m.stages, isBasicBlock, exportBasicBlock);
  const h = b.emit(m.stages, b.emit(m.stem, x, "stem"), "stages");
  return b.emit(m.out, spatialMean(b, h), "out");
});

registerExporter(DenseNetEncoder, (b, m, x) => {
  registerPrivateBlocks(m.features, isDenseLayer, exportDenseLayer);
  const h = b.emit(m.features, x, "features");
  return b.emit(m.out, spatialMean(b, h), "out");
});

registerExporter(Cnn3dEncoder, (b, m, x) => {
  const s = b.shapeOf(x);
  if (s.length !== 5) b.fail(m, `expects [N, C, D, H, W], got [${s.join(", ")}]`);
  const h = spatialMean(b, b.emit(m.body, x, "body"));
  return b.emit(m.out, relu(b, b.emit(m.fc, h, "fc")), "out");
});

/**
 * The encoder's features become the graph output `features` [N, (N+1)k]; they are split into the
 * parts f_y, f_z1.. and each head's logits become `logits_<task name>`.
 */
registerExporter(PartitionedModel, (b, m, x) => {
  const features = b.emit(m.encoder, x, "encoder");
  const fs = b.shapeOf(features);
  const { numParts, partSize } = m.encoder;
  if (fs.length !== 2 || fs[1] !== numParts * partSize) {
    b.fail(m, `encoder features have shape [${fs.join(", ")}], expected [N, ${numParts * partSize}]`);
  }
  const names = new Set<string>();
  for (const t of m.tasks) {
    if (names.has(t.name)) b.fail(m, `two tasks are called ${t.name}; output names must be unique`);
    names.add(t.name);
  }
  b.addOutput("features", features);
  const parts =
    numParts === 1
      ? [features]
      : b.addNode(
          "Split",
          [features, b.addInt64s("split_sizes", new Array(numParts).fill(partSize))],
          new Array(numParts).fill([fs[0], partSize]),
          { axis: int(1) },
        );
  m.tasks.forEach((t, i) => {
    const logits = b.emit(m.heads.items[i], parts[i], `heads.${i}`);
    b.addOutput(`logits_${t.name}`, logits);
  });
  return features;
});

// ONNX export of mimmx models (encoder + per-task heads) for inference elsewhere (onnxruntime, ...).
//
//   exportOnnx(model, "model.onnx", { inputShape: [1, 28, 28] });
//   // graph input "input" [N, 1, 28, 28]; outputs "features" [N, (N+1)k] and "logits_<task>" [N, C]
//
// The graph reproduces eval-mode forward: BatchNorm uses its running statistics, Dropout is dropped.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { PartitionedModel } from "../models/model.js";
import type { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import { zeros } from "../tensor/creation.js";
import type { Device } from "../tensor/tensor.js";
import { GraphBuilder, OnnxExportError } from "./graph.js";
import "./nn-exporters.js";
import "./model-exporters.js";

export {
  BATCH_DIM,
  type Exporter,
  GraphBuilder,
  getExporter,
  MAX_OPSET,
  MIN_OPSET,
  OnnxExportError,
  registerExporter,
} from "./graph.js";
export { encodeModel, type ModelProto } from "./onnx-proto.js";

export interface OnnxExportOptions {
  /** Shape of one example, without the batch dimension (e.g. [1, 28, 28]); the batch is symbolic "N". */
  inputShape: number[];
  /** Default-domain opset, 13 to 21 (default 17). */
  opset?: number;
  /** Name of the graph input (default "input"). */
  inputName?: string;
}

export interface OnnxExportResult {
  path: string;
  bytes: number;
  inputName: string;
  /** Output names in graph order: "features", then "logits_<task>" per task. */
  outputs: string[];
  opset: number;
}

/** Runs `fn` with the whole module tree in eval mode, restoring every module's own flag after. */
function inEvalMode<T>(model: Module, fn: () => T): T {
  const saved = [...model.namedModules()].map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    return fn();
  } finally {
    for (const [m, t] of saved) m.training = t;
  }
}

function checkInputShape(shape: number[]): void {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new OnnxExportError(
      `ONNX export: inputShape must list positive integer sizes without the batch, got [${shape}]`,
    );
  }
}

/**
 * Builds the ONNX model bytes of any module with a registered exporter. A module with a single
 * output gets the graph output `outputName` (default "output"); PartitionedModel names its own.
 */
export function toOnnxBytes(
  module: Module,
  opts: OnnxExportOptions & { outputName?: string },
): { bytes: Uint8Array; outputs: string[]; opset: number } {
  checkInputShape(opts.inputShape);
  return inEvalMode(module, () => {
    const b = new GraphBuilder(opts.opset ?? 17);
    const input = b.addInput(opts.inputName ?? "input", opts.inputShape);
    const out = b.emit(module, input, "");
    if (b.outputs.length === 0) b.addOutput(opts.outputName ?? "output", out);
    return {
      bytes: b.encode({ graphName: module.constructor.name }),
      outputs: b.outputs.map((o) => o.name),
      opset: b.opset,
    };
  });
}

/** Writes any exportable module as an .onnx file (one output, `outputName`). */
export function exportModuleOnnx(
  module: Module,
  path: string,
  opts: OnnxExportOptions & { outputName?: string },
): OnnxExportResult {
  const { bytes, outputs, opset } = toOnnxBytes(module, opts);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return { path, bytes: bytes.length, inputName: opts.inputName ?? "input", outputs, opset };
}

/**
 * Writes encoder + heads as an .onnx file: input [N, ...inputShape]; outputs `features` [N, (N+1)k]
 * and `logits_<task>` [N, numClasses] per task. The model is put in eval mode for the export and
 * restored after. Before writing, one forward pass of the model on a zero batch checks that it
 * accepts `inputShape` (so its own shape errors surface here).
 */
export function exportOnnx(model: PartitionedModel, path: string, opts: OnnxExportOptions): OnnxExportResult {
  checkInputShape(opts.inputShape);
  inEvalMode(model, () =>
    noGrad(() => {
      const device = model.parameters()[0]?.device as Device | undefined;
      const x = zeros([1, ...opts.inputShape], { device });
      try {
        model.forward(x).dispose();
      } finally {
        x.dispose();
      }
    }),
  );
  return exportModuleOnnx(model, path, opts);
}

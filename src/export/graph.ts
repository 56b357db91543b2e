// Building an ONNX graph from mimmx modules: a GraphBuilder that holds nodes, initializers and the
// static shape of every value (the batch dimension is symbolic, "N"), and a registry of exporters
// keyed by module class. An exporter appends the nodes reproducing its module's eval-mode forward
// and returns the name of the output value.

import type { Module } from "../nn/module.js";
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import {
  type AttributeValue,
  DataType,
  type DataTypeCode,
  type Dim,
  encodeModel,
  irVersionForOpset,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./onnx-proto.js";

/** The symbolic batch dimension of the graph's inputs and outputs. */
export const BATCH_DIM = "N";

/** Opsets the exporters are written for (every op they emit exists unchanged in this range). */
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;

/** An export failure; its message names the module class and its dotted path in the model. */
export class OnnxExportError extends Error {
  override name = "OnnxExportError";
}

// biome-ignore lint/suspicious/noExplicitAny: constructors of any signature are valid keys.
type ModuleClass<M extends Module> = abstract new (...args: any[]) => M;
export type Exporter<M extends Module = Module> = (builder: GraphBuilder, module: M, input: string) => string;

const registry = new Map<ModuleClass<Module>, Exporter>();

/**
 * Registers how to export instances of exactly `cls` (subclasses are not matched: they may override
 * forward). Re-registering a class replaces its exporter.
 */
export function registerExporter<M extends Module>(cls: ModuleClass<M>, exporter: Exporter<M>): void {
  registry.set(cls, exporter as Exporter);
}
export function getExporter(module: Module): Exporter | undefined {
  return registry.get(module.constructor as ModuleClass<Module>);
}

/** Attribute helpers, so exporters can write `{ pads: ints(p), epsilon: float(e) }`. */
export const ints = (value: number[]): AttributeValue => ({ kind: "ints", value });
export const int = (value: number): AttributeValue => ({ kind: "int", value });
export const float = (value: number): AttributeValue => ({ kind: "float", value });

export interface GraphOutput {
  name: string;
  value: string;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly shapes = new Map<string, Dim[]>();
  private readonly pathStack: string[] = [];

  constructor(readonly opset = 17) {
    if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
      throw new OnnxExportError(
        `ONNX export: opset ${opset} is not supported (use ${MIN_OPSET} to ${MAX_OPSET})`,
      );
    }
  }

  /** Dotted path of the module being exported ("" at the root), as in state-dict keys. */
  get path(): string {
    return this.pathStack.filter((p) => p !== "").join(".");
  }

  /** `base`, or `base_1`, `base_2`, ... : a name no other value, initializer or node has. */
  uniqueName(base: string): string {
    const clean = base === "" ? "v" : base;
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }
  private scoped(suffix: string): string {
    return this.path ? `${this.path}.${suffix}` : suffix;
  }

  /** Declares a graph input [N, ...shape] of floats. */
  addInput(name: string, shape: number[]): string {
    const n = this.uniqueName(name);
    if (n !== name) throw new OnnxExportError(`ONNX export: input name ${name} is already used`);
    const full: Dim[] = [BATCH_DIM, ...shape];
    this.inputs.push({ name, elemType: DataType.FLOAT, shape: full });
    this.shapes.set(name, full);
    return name;
  }
  /** Makes `value` a graph output called `name` (through an Identity node when the names differ). */
  addOutput(name: string, value: string): void {
    if (this.outputs.some((o) => o.name === name))
      throw new OnnxExportError(`ONNX export: two outputs are called ${name}`);
    const shape = this.shapeOf(value);
    if (name !== value) {
      if (this.used.has(name)) throw new OnnxExportError(`ONNX export: output name ${name} is already used`);
      this.used.add(name);
      this.nodes.push({
        opType: "Identity",
        name: this.uniqueName(`output.${name}`),
        inputs: [value],
        outputs: [name],
        attributes: {},
      });
      this.shapes.set(name, shape);
    }
    this.outputs.push({ name, elemType: DataType.FLOAT, shape });
  }

  /** A float32 initializer holding a copy of `t` (any float dtype, any device), named after the current path. */
  addTensor(suffix: string, t: Tensor): string {
    const data = noGrad(() => {
      if (t.dtype === "float32") return t.toBytes();
      const f = t.dataSync();
      if (f instanceof BigInt64Array) return new Uint8Array(Float32Array.from(f, Number).buffer);
      return new Uint8Array(Float32Array.from(f as ArrayLike<number>).buffer);
    });
    return this.addRaw(suffix, t.shape, DataType.FLOAT, data);
  }
  addFloats(suffix: string, dims: number[], values: ArrayLike<number>): string {
    return this.addRaw(suffix, dims, DataType.FLOAT, new Uint8Array(Float32Array.from(values).buffer));
  }
  addInt64s(suffix: string, values: number[]): string {
    return this.addRaw(
      suffix,
      [values.length],
      DataType.INT64,
      new Uint8Array(BigInt64Array.from(values, BigInt).buffer),
    );
  }
  private addRaw(suffix: string, dims: number[], dataType: DataTypeCode, rawData: Uint8Array): string {
    const name = this.uniqueName(this.scoped(suffix));
    this.initializers.push({ name, dims: [...dims], dataType, rawData });
    this.shapes.set(name, [...dims]);
    return name;
  }

  /**
   * Appends a node with one output per entry of `outShapes` (static shapes, BATCH_DIM allowed) and
   * returns the output names.
   */
  addNode(
    opType: string,
    inputs: string[],
    outShapes: Dim[][],
    attributes: Record<string, AttributeValue> = {},
  ): string[] {
    for (const i of inputs) {
      if (i !== "" && !this.shapes.has(i))
        throw new OnnxExportError(
          `ONNX export: ${opType} at ${this.path || "<root>"} reads unknown value ${i}`,
        );
    }
    const name = this.uniqueName(this.scoped(opType));
    const outputs = outShapes.map((s, k) => {
      const out = this.uniqueName(outShapes.length === 1 ? `${name}:out` : `${name}:out${k}`);
      this.shapes.set(out, s);
      return out;
    });
    this.nodes.push({ opType, name, inputs, outputs, attributes });
    return outputs;
  }
  /** A single-output node. */
  op(
    opType: string,
    inputs: string[],
    outShape: Dim[],
    attributes: Record<string, AttributeValue> = {},
  ): string {
    return this.addNode(opType, inputs, [outShape], attributes)[0];
  }

  shapeOf(value: string): Dim[] {
    const s = this.shapes.get(value);
    if (!s) throw new OnnxExportError(`ONNX export: no shape known for value ${value}`);
    return [...s];
  }

  /**
   * Exports `module` (registered as `childName` under the current module) reading `input`, with the
   * exporter registered for its class or the one given. Errors name the class and dotted path.
   */
  emit(module: Module, input: string, childName: string, exporter?: Exporter): string {
    this.pathStack.push(childName);
    try {
      const fn = exporter ?? getExporter(module);
      if (!fn) {
        throw new OnnxExportError(
          `ONNX export: no exporter for module ${module.constructor.name} at ${this.path || "<root>"} (register one with registerExporter)`,
        );
      }
      return fn(this, module, input);
    } catch (e) {
      if (e instanceof OnnxExportError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new OnnxExportError(
        `ONNX export: ${module.constructor.name} at ${this.path || "<root>"}: ${msg}`,
        { cause: e },
      );
    } finally {
      this.pathStack.pop();
    }
  }

  /** Raises an OnnxExportError naming `module` and the current path. */
  fail(module: Module, why: string): never {
    throw new OnnxExportError(`ONNX export: ${module.constructor.name} at ${this.path || "<root>"}: ${why}`);
  }

  /** The serialised model. */
  encode(opts: { graphName?: string; producerVersion?: string; docString?: string } = {}): Uint8Array {
    if (this.outputs.length === 0) throw new OnnxExportError("ONNX export: the graph has no outputs");
    return encodeModel({
      irVersion: irVersionForOpset(this.opset),
      opsetVersion: this.opset,
      producerName: "mimmx",
      producerVersion: opts.producerVersion ?? "0.1.0",
      docString: opts.docString,
      graph: {
        name: opts.graphName ?? "mimmx",
        nodes: this.nodes,
        initializers: this.initializers,
        inputs: this.inputs,
        outputs: this.outputs,
      },
    });
  }
}

/** Normalises a possibly negative dimension index against a rank. */
export function normDim(d: number, rank: number): number {
  const r = d < 0 ? d + rank : d;
  if (r < 0 || r >= rank) throw new Error(`dimension ${d} is out of range for a ${rank}-d tensor`);
  return r;
}

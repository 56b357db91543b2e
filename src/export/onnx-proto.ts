// ONNX messages as plain objects, and their protobuf encoders. Only the fields an inference graph of
// dense float tensors needs; field numbers follow the public onnx.proto (IR version 7-10).
import { ProtoWriter } from "./protobuf.js";

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** A dense tensor: shape, element type and little-endian row-major bytes (TensorProto.raw_data). */
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
  rawData: Uint8Array;
}

/** An attribute value; the encoder picks the AttributeProto type from the JS shape. */
export type AttributeValue =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "string"; value: string }
  | { kind: "ints"; value: number[] }
  | { kind: "floats"; value: number[] }
  | { kind: "tensor"; value: TensorProto };

export interface NodeProto {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
  domain?: string;
}

/** One dimension: a fixed size or a symbolic name such as "N". */
export type Dim = number | string;
export interface ValueInfoProto {
  name: string;
  elemType: DataTypeCode;
  shape: Dim[];
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graph: GraphProto;
  docString?: string;
  metadata?: Record<string, string>;
}

// Field numbers (onnx.proto).
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadata: 14,
};
const OPSET = { domain: 1, version: 2 };
const STRING_ENTRY = { key: 1, value: 2 };
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 };
const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, type: 20 };
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1 };
const TENSOR_TYPE = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIMENSION = { dimValue: 1, dimParam: 2 };

export function writeTensor(w: ProtoWriter, t: TensorProto): void {
  const expected = t.dims.reduce((a, b) => a * b, 1) * bytesPerElement(t.dataType);
  if (t.rawData.length !== expected) {
    throw new Error(
      `onnx: tensor ${t.name} has ${t.rawData.length} bytes of data but dims [${t.dims.join(", ")}] need ${expected}`,
    );
  }
  w.packedVarints(TENSOR.dims, t.dims);
  w.varint(TENSOR.dataType, t.dataType);
  w.string(TENSOR.name, t.name);
  w.bytes(TENSOR.rawData, t.rawData);
}

function bytesPerElement(dt: DataTypeCode): number {
  return dt === DataType.INT64 || dt === DataType.DOUBLE ? 8 : 4;
}

function writeAttribute(w: ProtoWriter, name: string, a: AttributeValue): void {
  w.string(ATTR.name, name);
  switch (a.kind) {
    case "int":
      w.varint(ATTR.i, a.value);
      break;
    case "float":
      w.float(ATTR.f, a.value);
      break;
    case "string":
      w.string(ATTR.s, a.value);
      break;
    case "ints":
      w.packedVarints(ATTR.ints, a.value);
      break;
    case "floats":
      w.packedFloats(ATTR.floats, a.value);
      break;
    case "tensor":
      w.message(ATTR.t, (m) => writeTensor(m, a.value));
      break;
  }
  w.varint(ATTR.type, ATTR_TYPE[a.kind]);
}

function writeNode(w: ProtoWriter, n: NodeProto): void {
  for (const i of n.inputs) w.string(NODE.input, i);
  for (const o of n.outputs) w.string(NODE.output, o);
  w.string(NODE.name, n.name);
  w.string(NODE.opType, n.opType);
  for (const [k, v] of Object.entries(n.attributes))
    w.message(NODE.attribute, (m) => writeAttribute(m, k, v));
  if (n.domain) w.string(NODE.domain, n.domain);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  w.string(VALUE_INFO.name, v.name);
  w.message(VALUE_INFO.type, (type) =>
    type.message(TYPE.tensorType, (tt) => {
      tt.varint(TENSOR_TYPE.elemType, v.elemType);
      tt.message(TENSOR_TYPE.shape, (shape) => {
        for (const d of v.shape) {
          shape.message(SHAPE.dim, (dim) => {
            if (typeof d === "number") dim.varint(DIMENSION.dimValue, d);
            else dim.string(DIMENSION.dimParam, d);
          });
        }
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.nodes) w.message(GRAPH.node, (m) => writeNode(m, n));
  w.string(GRAPH.name, g.name);
  for (const t of g.initializers) w.message(GRAPH.initializer, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(GRAPH.input, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(GRAPH.output, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo ?? []) w.message(GRAPH.valueInfo, (m) => writeValueInfo(m, v));
}

/** The serialised ModelProto (the bytes of a .onnx file). */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  w.varint(MODEL.irVersion, model.irVersion);
  w.message(MODEL.opsetImport, (m) => {
    m.string(OPSET.domain, "");
    m.varint(OPSET.version, model.opsetVersion);
  });
  w.string(MODEL.producerName, model.producerName);
  w.string(MODEL.producerVersion, model.producerVersion);
  if (model.docString) w.string(MODEL.docString, model.docString);
  w.message(MODEL.graph, (m) => writeGraph(m, model.graph));
  for (const [k, v] of Object.entries(model.metadata ?? {})) {
    w.message(MODEL.metadata, (m) => {
      m.string(STRING_ENTRY.key, k);
      m.string(STRING_ENTRY.value, v);
    });
  }
  return w.finish();
}

/** The lowest IR version that may carry a given default-domain opset (ONNX's versioning table). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

// onnxruntime-node 1.20.1 ships without its .d.ts files; these are the few declarations the export
// tests use (the runtime API is onnxruntime-common's, re-exported by onnxruntime-node).
declare module "onnxruntime-node" {
  export class Tensor {
    constructor(type: "float32", data: Float32Array, dims: readonly number[]);
    readonly data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
    readonly dims: readonly number[];
    readonly type: string;
  }
  export interface SessionOptions {
    intraOpNumThreads?: number;
    interOpNumThreads?: number;
    graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  }
  export class InferenceSession {
    static create(path: string, options?: SessionOptions): Promise<InferenceSession>;
    readonly inputNames: readonly string[];
    readonly outputNames: readonly string[];
    run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
    release(): Promise<void>;
  }
}

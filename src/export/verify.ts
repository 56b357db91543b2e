// Checks an exported .onnx file in onnxruntime-node against mimmx's own eval-mode outputs.
// onnxruntime-node is an optional dependency: it is imported here on demand, and when it is not
// installed the check reports that instead of failing, so `mimmx export` works without it.
import type { PartitionedModel } from "../models/model.js";
import { noGrad } from "../tensor/autograd.js";
import { randn } from "../tensor/creation.js";
import { tidyAsync } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";

/** The few parts of onnxruntime-node's API used here (the package ships no type declarations). */
interface Ort {
  InferenceSession: {
    create(path: string, opts: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => unknown;
}
interface OrtSession {
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: ArrayLike<number> }>>;
  release?(): Promise<void>;
}

export type OnnxCheck =
  | { verified: true; maxRelDiff: number; tolerance: number; batch: number }
  | { verified: false; reason: string };

/** Relative tolerance on the outputs' scale (float32 kernels differ in summation order). */
const TOLERANCE = 1e-4;

async function loadOrt(): Promise<Ort | string> {
  const name = "onnxruntime-node"; // a variable, so TypeScript does not look for its types
  try {
    return (await import(name)) as Ort;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
      return "onnxruntime-node is not installed (it is an optional dependency: `npm install onnxruntime-node`)";
    return `onnxruntime-node could not be loaded: ${(e as Error).message}`;
  }
}

/**
 * Runs `path` on a random batch in onnxruntime and compares every output (features, then the
 * logits of each task) with the model's. Throws when they differ beyond the tolerance; returns
 * { verified: false } only when onnxruntime-node is unavailable.
 */
export async function verifyOnnx(
  model: PartitionedModel,
  path: string,
  inputShape: number[],
  batch = 4,
): Promise<OnnxCheck> {
  const ort = await loadOrt();
  if (typeof ort === "string") return { verified: false, reason: ort };
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const wasTraining = model.training;
  model.eval();
  try {
    return await tidyAsync(async () => {
      const x = randn([batch, ...inputShape]);
      const expected: Tensor[] = noGrad(() => {
        const f = model.forward(x);
        return [f, ...model.logits(model.split(f))];
      });
      const out = await session.run({
        input: new ort.Tensor("float32", x.dataSync() as Float32Array, x.shape),
      });
      let worst = 0;
      session.outputNames.forEach((name, i) => {
        const want = expected[i]?.dataSync() as Float32Array | undefined;
        const got = out[name]?.data;
        if (!want || !got || want.length !== got.length)
          throw new Error(
            `ONNX check of ${path}: output "${name}" has ${got?.length ?? 0} values, mimmx ${want?.length ?? 0}`,
          );
        let scale = 1;
        for (const v of want) scale = Math.max(scale, Math.abs(v));
        for (let j = 0; j < want.length; j++) {
          const d = Math.abs(want[j] - got[j]) / scale;
          if (!(d <= worst)) worst = d; // NaN stays NaN and fails below
        }
      });
      if (!(worst <= TOLERANCE))
        throw new Error(
          `ONNX check of ${path}: onnxruntime's outputs differ from mimmx's by ${worst} (relative; tolerance ${TOLERANCE})`,
        );
      return { verified: true as const, maxRelDiff: worst, tolerance: TOLERANCE, batch };
    });
  } finally {
    if (wasTraining) model.train();
    await session.release?.();
  }
}

// What methods consume: a batch of images with the primary label y and one label per spurion z_i,
// as tensors. The data layer hands out tensor-free batches; toBatch converts one per step.
import { tensor } from "../tensor/creation.js";
import type { Device, Tensor } from "../tensor/tensor.js";

export interface Batch {
  /** images [B, C, H, W] or volumes [B, C, D, H, W], float32 */
  x: Tensor;
  /** primary labels [B], int64; -1 = unknown (ignored by the losses) */
  y: Tensor;
  /** spurion labels, one [B] int64 tensor per spurion, in task order */
  z: Tensor[];
  /**
   * Row of each sample in the split it was drawn from (the data layer's DataBatch.indices); methods
   * with per-example state (JTT's error set) key on it. Absent for hand-built batches.
   */
  rows?: Int32Array;
}

/** The data layer's batch (src/data/types.ts), restated here so methods do not depend on it. */
export interface DataBatch {
  images: Float32Array;
  shape: number[];
  labels: Record<string, Int32Array>;
  indices: Int32Array;
}

/** Which label columns are the primary task and the spurions, in part order. */
export interface TaskNames {
  primary: string;
  spurions: string[];
}

function labelTensor(labels: Record<string, Int32Array>, name: string, device: Device): Tensor {
  const col = labels[name];
  if (!col)
    throw new Error(`toBatch: the batch has no label "${name}" (it has: ${Object.keys(labels).join(", ")})`);
  return tensor(col, { dtype: "int64", device });
}

/**
 * A data-layer batch as tensors on `device` (the method's). For a CUDA device the native copy stages
 * the bytes in pinned host memory and does not block (see from_buffer in native/src/creation.cc).
 */
export function toBatch(b: DataBatch, names: TaskNames, device: Device): Batch {
  return {
    x: tensor(b.images, { shape: b.shape, device }),
    y: labelTensor(b.labels, names.primary, device),
    z: names.spurions.map((s) => labelTensor(b.labels, s, device)),
    rows: b.indices,
  };
}

/** All labels of a batch in task order: [y, z_0, .., z_N-1]. */
export function taskLabels(b: Batch): Tensor[] {
  return [b.y, ...b.z];
}

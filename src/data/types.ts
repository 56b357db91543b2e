// Plain-array types shared by the whole data layer. The data layer deliberately knows nothing about
// the tensor engine: it hands typed arrays to the training loop, which converts them once per batch.

/** One image or volume, channels-first: [C,H,W] (2D) or [C,D,H,W] (3D). */
export interface ImageArray {
  data: Float32Array;
  shape: number[];
  /** Physical size of a voxel along the spatial axes (same order as shape without C), if known. */
  spacing?: number[];
  /** 4x4 voxel-to-world matrix (row-major), if the format carries one (NIfTI qform/sform). */
  affine?: number[][];
}

/** A batch ready for the training loop. `images` holds N items back to back, shape = [N, ...item]. */
export interface Batch {
  images: Float32Array;
  shape: number[];
  /** One Int32Array per task (primary task and each spurion); -1 marks an unknown/masked label. */
  labels: Record<string, Int32Array>;
  /** Position of each item within its dataset (lets a run trace predictions back to rows). */
  indices: Int32Array;
}

/** What one label column means: the run uses it to size heads and to name things in reports. */
export interface TaskInfo {
  name: string;
  role: "primary" | "spurion";
  numClasses: number;
  /** Human-readable class names, index = class id. */
  classNames?: string[];
  description?: string;
}

/** A split held fully in memory: N items of identical shape stored contiguously. */
export interface InMemoryDataset {
  name: string;
  images: Float32Array;
  /** Shape of one item (without N). */
  itemShape: number[];
  labels: Record<string, Int32Array>;
  length: number;
  tasks?: TaskInfo[];
  /** Row of the source pool each item came from (for audits); optional. */
  sourceIndex?: Int32Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

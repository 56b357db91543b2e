// Applying several synthetic spurions to one image in a fixed, meaningful order: geometry first
// (rotation, stroke thickness), then global intensity (and the background gradient), then overlays
// (marker, blobs, block, collimation frame), then noise. Otherwise, e.g., a contrast change would dim the marker and the two spurions would
// interact in the pixels, which would blur the "known ground truth" of each.
import { hashSeed } from "../../util/random.js";
import type { ImageArray } from "../types.js";
import { applySpurion, type SyntheticSpurion } from "./synthetic.js";

const STAGE: Record<SyntheticSpurion["type"], number> = {
  rotation: 0,
  thickness: 0,
  intensity: 1,
  contrast: 1,
  gradient: 1,
  marker: 2,
  blobs: 2,
  block: 2,
  frame: 2,
  noise: 3,
};

/** Applies specs[i] with values[i]; each spurion draws from its own seed stream hashSeed(seed, i). */
export function applySpurions(
  img: ImageArray,
  specs: readonly SyntheticSpurion[],
  values: readonly number[],
  seed: number,
): ImageArray {
  const order = specs.map((_, i) => i).sort((a, b) => STAGE[specs[a].type] - STAGE[specs[b].type] || a - b);
  let out = img;
  for (const i of order) out = applySpurion(out, specs[i], values[i], hashSeed(seed, i));
  return out;
}

// The pure pieces MIMM-X's encoder step is composed of, as one record so that a test can swap one
// (e.g. a zeroed or sign-flipped MI gradient, to prove the tests would catch it). Production code
// always uses STEP_PIECES.
import { classificationGradients, weightedClassLoss } from "./classification.js";
import { miGradients, miPenalty } from "./mi-gradient.js";
import { encoderScale, lastLayerScale } from "./scale.js";

export interface EncoderStepPieces {
  /** sum_k w_k CE_k */
  weightedClassLoss: typeof weightedClassLoss;
  /** its gradient on f, W and the heads */
  classificationGradients: typeof classificationGradients;
  /** sum_p a_p Ĩ_p */
  miPenalty: typeof miPenalty;
  /** its gradient on f and W */
  miGradients: typeof miGradients;
  /** s with scalingScope "lastLayer" */
  lastLayerScale: typeof lastLayerScale;
  /** s with scalingScope "encoder" */
  encoderScale: typeof encoderScale;
}

export const STEP_PIECES: EncoderStepPieces = {
  weightedClassLoss,
  classificationGradients,
  miPenalty,
  miGradients,
  lastLayerScale,
  encoderScale,
};

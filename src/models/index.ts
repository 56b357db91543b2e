// Encoders with a partitioned feature vector, per-task heads, and the model that joins them.
export { type Cnn3dConfig, Cnn3dEncoder } from "./cnn3d.js";
export { type DenseNetConfig, DenseNetEncoder } from "./densenet.js";
export { Encoder, type PartitionSpec, splitFeatures } from "./encoder.js";
export { type HeadConfig, Heads, makeHead, type TaskSpec } from "./heads.js";
export { type MlpConfig, MlpEncoder } from "./mlp.js";
export { PartitionedModel } from "./model.js";
export { buildEncoder, ENCODER_NAMES, type EncoderConfig, type EncoderName } from "./registry.js";
export { type ResNetConfig, ResNetEncoder } from "./resnet.js";
export { SmallCnn, type SmallCnnConfig } from "./small-cnn.js";

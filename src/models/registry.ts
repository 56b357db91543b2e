// Encoders by name, so configs and the CLI can say `encoder: { name: "resnet18", ... }`.
import { type Cnn3dConfig, Cnn3dEncoder } from "./cnn3d.js";
import { type DenseNetConfig, DenseNetEncoder } from "./densenet.js";
import type { Encoder, PartitionSpec } from "./encoder.js";
import { type MlpConfig, MlpEncoder } from "./mlp.js";
import { type ResNetConfig, ResNetEncoder } from "./resnet.js";
import { SmallCnn, type SmallCnnConfig } from "./small-cnn.js";

export type EncoderConfig =
  | ({ name: "small-cnn" } & SmallCnnConfig)
  | ({ name: "resnet18" } & ResNetConfig)
  | ({ name: "densenet121" } & DenseNetConfig)
  | ({ name: "cnn3d" } & Cnn3dConfig)
  | ({ name: "mlp" } & MlpConfig);

export type EncoderName = EncoderConfig["name"];

const BUILDERS: Record<EncoderName, (cfg: PartitionSpec & Record<string, unknown>) => Encoder> = {
  "small-cnn": (c) => new SmallCnn(c as SmallCnnConfig),
  resnet18: (c) => new ResNetEncoder(c as ResNetConfig),
  densenet121: (c) => new DenseNetEncoder(c as DenseNetConfig),
  cnn3d: (c) => new Cnn3dEncoder(c as Cnn3dConfig),
  mlp: (c) => new MlpEncoder(c as unknown as MlpConfig),
};

export const ENCODER_NAMES = Object.keys(BUILDERS) as EncoderName[];

export function buildEncoder(cfg: EncoderConfig): Encoder {
  const build = BUILDERS[cfg.name];
  if (!build) throw new Error(`unknown encoder "${cfg.name}" (known: ${ENCODER_NAMES.join(", ")})`);
  return build(cfg as unknown as PartitionSpec & Record<string, unknown>);
}

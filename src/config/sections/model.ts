// Schema of the `model` section: the partitioned encoder f = [f_y, f_z1..f_zN] and its heads.
import { INVALID, int, num, obj, oneOf, type Schema } from "../schema.js";
import { ENCODERS, type ModelConfig } from "../types.js";

/** false, or the path of a .safetensors file with encoder weights. */
const pretrained: Schema<false | string> = {
  expected: "false or the path of a .safetensors file with encoder weights",
  description:
    "false, or the path of a .safetensors file whose encoder weights initialise the encoder (a mimmx checkpoint such as runs/NAME/methods/erm/last.safetensors, or an encoder state dict). Nothing is downloaded, so true is an error.",
  required: true,
  defaultValue: () => false,
  parse(v, path, ctx) {
    if (v === false) return false;
    if (v === true) {
      ctx.error(
        path,
        "no pretrained weights are bundled or downloaded; give the path of a .safetensors file with encoder weights instead (a mimmx checkpoint such as runs/NAME/methods/erm/last.safetensors, or an encoder state dict), or false",
      );
      return INVALID;
    }
    if (typeof v === "string" && v.length > 0) {
      if (!v.endsWith(".safetensors"))
        ctx.warn(path, `expected a .safetensors file, got ${JSON.stringify(v)}; it is read as safetensors`);
      return v;
    }
    ctx.error(path, `expected false or the path of a .safetensors file, got ${JSON.stringify(v)}`);
    return INVALID;
  },
};

export const modelSchema = obj<ModelConfig>(
  {
    encoder: oneOf(ENCODERS, {
      default: "small-cnn",
      description: "small-cnn (28x28 inputs), resnet18, densenet121 (2-D) or cnn3d (volumes).",
    }),
    feature_dim: int({
      min: 1,
      max: 4096,
      default: 32,
      description: "k: the length of each feature part; the encoder outputs (spurions + 1) * k values.",
    }),
    in_channels: int({ min: 1, max: 16, default: 1, description: "Image channels (1 for X-rays and MRI)." }),
    pretrained,
    dropout: num({
      min: 0,
      exclusiveMax: 1,
      default: 0,
      description: "Dropout on the feature parts before the heads, in training only (0 = off).",
    }),
  },
  { description: "The partitioned encoder f = [f_y, f_z1..f_zN] and one linear head per part." },
);

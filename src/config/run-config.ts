// The whole run configuration's schema: the sections, and the rules that span them.
import { type Context, int, obj, str } from "./schema.js";
import { dataSchema } from "./sections/data.js";
import { evalSchema } from "./sections/eval.js";
import { methodSchema } from "./sections/method.js";
import { modelSchema } from "./sections/model.js";
import { trainSchema } from "./sections/train.js";
import type { RunConfig } from "./types.js";

export const runConfigSchema = obj<RunConfig>(
  {
    name: str({
      pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      patternText: "a run name of letters, digits, '.', '_' or '-'",
      description: "The run's name: its folder under runs/ and the title of its report.",
      example: "fashion-demo",
    }),
    seed: int({
      min: 0,
      max: 2 ** 32 - 1,
      default: 0,
      description: "Seeds the splits, synthetic spurions, initialisation, batches and augmentation.",
    }),
    output_dir: str({ default: "", description: "Where the run is written; empty: runs/<name>." }),
    data: dataSchema,
    model: modelSchema,
    method: methodSchema,
    train: trainSchema,
    eval: evalSchema,
  },
  {
    description: "A mimmx run: data, model, method, training and evaluation.",
    refine: (v, given, _path, ctx) => crossCheck(v, given, ctx),
  },
);

/** Rules that span sections (data vs model vs method). */
function crossCheck(v: RunConfig, given: ReadonlySet<string>, ctx: Context): RunConfig {
  if (!given.has("output_dir") || v.output_dir === "") v.output_dir = `runs/${v.name}`;
  const is3d = v.model.encoder === "cnn3d";
  if (is3d !== (v.data.image_size.length === 3)) {
    ctx.error(
      ["data", "image_size"],
      `encoder "${v.model.encoder}" needs ${is3d ? "a 3-D size [D, H, W]" : "a 2-D size [H, W]"}, got [${v.data.image_size.join(", ")}]`,
    );
  }
  const names = v.data.spurions.map((s) => s.name);
  if (v.method.name === "mimm") {
    const chosen = v.method.spurion ?? names[0];
    if (!names.includes(chosen)) {
      ctx.error(
        ["method", "spurion"],
        `${JSON.stringify(chosen)} is not a spurion of this data; expected one of ${names.map((n) => JSON.stringify(n)).join(", ")}`,
      );
    } else if (names.length > 1) {
      ctx.warn(
        ["method", "spurion"],
        `MIMM debiases one spurion ("${chosen}"); the other ${names.length - 1} stay unpenalised (use mimmx for all)`,
      );
    }
    v.method.spurion = chosen;
  }
  if (v.method.name === "mimmx" && v.method.pairs === "chain" && names.length === 1) {
    ctx.warn(["method", "pairs"], "with one spurion, chain and all are the same single pair");
  }
  const size = v.data.image_size;
  if (v.model.encoder === "small-cnn" && size.length === 2 && (size[0] !== 28 || size[1] !== 28))
    ctx.error(
      ["data", "image_size"],
      `encoder "small-cnn" takes 28x28 images, got [${size.join(", ")}]; set image_size: 28 or use resnet18 / densenet121`,
    );
  if (is3d && size.length === 3 && size.some((n) => n < 16))
    ctx.error(
      ["data", "image_size"],
      `encoder "cnn3d" halves each axis four times and needs at least 16 voxels per axis, got [${size.join(", ")}]`,
    );
  if (v.data.image_size.length === 3)
    v.data.spurions.forEach((s, i) => {
      if (s.kind !== "metadata")
        ctx.error(
          ["data", "spurions", i, "kind"],
          `synthetic spurions are written into 2-D images; "${s.kind}" cannot be drawn into volumes (use a metadata spurion, or a 2-D image_size for slices)`,
        );
    });
  if ((v.data.source === "chexpert" || v.data.source === "mri") && v.model.in_channels !== 1)
    ctx.error(
      ["model", "in_channels"],
      `source "${v.data.source}" gives 1-channel images; got ${v.model.in_channels}`,
    );
  return v;
}

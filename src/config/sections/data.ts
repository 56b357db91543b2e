// Schema of the `data` section: where images and labels come from, the spurions, sizes and
// augmentation. The rules of the real-data sources live beside those sources.
import { checkChexpertConfig } from "../../data/sources/chexpert-config.js";
import { checkMriConfig } from "../../data/sources/mri-config.js";
import { bool, coerce, int, list, num, obj, oneOf, optional, type Schema, str } from "../schema.js";
import {
  type ChexpertConfig,
  DATA_SOURCES,
  type DataConfig,
  type LabelSpec,
  type MriCohortConfig,
  type MriConfig,
  SPURION_KINDS,
  type SplitSizes,
  type SpurionConfig,
  type TransformConfig,
} from "../types.js";

const positive = () =>
  optional(
    list(str({ description: "A value (as text) that means class 1." }), {
      minItems: 1,
      description: "Values of the column that map to class 1 (as text); every other value is class 0.",
    }),
  );
const threshold = () =>
  optional(num({ description: "Numeric columns: class 1 when value >= threshold (e.g. age >= 60)." }));

const labelSpec = obj<LabelSpec>(
  {
    column: str({ description: "The CSV column (or the source's label name) that holds the label." }),
    positive: positive(),
    threshold: threshold(),
  },
  {
    description: "The primary label y. A string means { column }. Required for chexpert, mri and manifest.",
    fromScalar: (v) => ({ column: String(v) }),
    refine: (v, _given, path, ctx) => {
      if (v.positive && v.threshold !== undefined)
        ctx.error([...path, "threshold"], "give either positive or threshold, not both");
      return v;
    },
  },
);

const spurion = obj<SpurionConfig>(
  {
    name: str({
      pattern: /^[A-Za-z][A-Za-z0-9_-]*$/,
      patternText: "a name of letters, digits, _ or - starting with a letter",
      description: 'Display name and key in reports, e.g. "sex", "site", "marker".',
    }),
    kind: oneOf(SPURION_KINDS, {
      description:
        "metadata: read from a CSV column; the others are synthetic artefacts written into the image (known truth).",
    }),
    column: optional(str({ description: "kind metadata: the column the spurion's value comes from." })),
    positive: positive(),
    threshold: threshold(),
    ratio: num({
      min: 0,
      max: 1,
      default: 0.9,
      description: "P(z = y) in training and validation; the inverted test uses 1 - ratio.",
    }),
  },
  {
    description: "One spurious factor z_i: its name, where it comes from and how strongly it follows y.",
    refine: (v, _given, path, ctx) => {
      if (v.kind === "metadata" && !v.column)
        ctx.error(
          [...path, "column"],
          `required for kind "metadata"; name the CSV column that holds ${v.name}`,
        );
      if (v.kind !== "metadata" && (v.column || v.positive || v.threshold !== undefined)) {
        ctx.error(
          [...path, "column"],
          `kind "${v.kind}" is written into the image; column/positive/threshold apply only to kind "metadata"`,
        );
      }
      if (v.positive && v.threshold !== undefined)
        ctx.error([...path, "threshold"], "give either positive or threshold, not both");
      if (v.ratio < 0.5)
        ctx.warn(
          [...path, "ratio"],
          `ratio ${v.ratio} < 0.5 makes z anti-correlated with y in training; the "inverted" test is then the aligned one`,
        );
      return v;
    },
  },
);

const dims = coerce(
  list(int({ min: 1, description: "Pixels (or voxels) along one axis." }), {
    minItems: 2,
    maxItems: 3,
    description:
      "[H, W] for 2-D, [D, H, W] for 3-D; a single number means a square. Default by source: 28 (fashion-confounded, manifest), 224 (chexpert), [96, 96, 96] (mri).",
  }),
  (v) => (typeof v === "number" ? [v, v] : v),
);

const columnName = (what: string) =>
  optional(str({ description: `This cohort's ${what} column; default: the one of data.mri.` }));

const mriCohort = obj<MriCohortConfig>(
  {
    name: str({
      pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      patternText: "a cohort name of letters, digits, '.', '_' or '-'",
      description: 'Cohort name: the class name of the "cohort" label.',
    }),
    csv: str({ description: "Metadata CSV, relative to the cohort's root." }),
    root: optional(
      str({
        description:
          "Folder of this cohort's CSV and volumes (relative paths: under data.root). Default data.root.",
      }),
    ),
    path_column: columnName("path"),
    age_column: columnName("age"),
    sex_column: columnName("sex"),
    site_column: columnName("site"),
  },
  { description: "One brain-MRI cohort: a metadata CSV with one NIfTI volume per row." },
);

const mri = obj<MriConfig>(
  {
    cohorts: list(mriCohort, {
      default: [],
      description:
        "Several cohorts merged, the cohort a label; empty = one cohort from data.root and data.csv.",
    }),
    path_column: str({ default: "path", description: "Column of the NIfTI file path." }),
    age_column: str({ default: "age", description: "Column of the age in years." }),
    sex_column: str({ default: "sex", description: "Column of the sex (F/Female/0, M/Male/1)." }),
    site_column: str({ default: "site", description: "Column of the scanner site." }),
    resize: oneOf(["resample", "crop_or_pad"] as const, {
      default: "resample",
      description: "3-D: resample volumes to image_size, or centre crop/pad them (keeps the voxel size).",
    }),
    slice_axis: int({
      min: 0,
      max: 2,
      default: 0,
      description: "2-D image_size: the volume axis slices are cut across (0 = D, 1 = H, 2 = W).",
    }) as Schema<0 | 1 | 2>,
    slices: list(num({ min: 0, max: 1, description: "A slice position as a fraction of the axis length." }), {
      minItems: 1,
      default: [0.5],
      description:
        "2-D image_size: slice positions as fractions of the axis length; each slice is one image.",
    }),
  },
  {
    description:
      'Options of source "mri". Labels a task or metadata spurion can name: age (binned at `threshold`, default bins 50/60/70), sex, site and cohort.',
  },
);

export const dataSchema = obj<DataConfig>(
  {
    source: oneOf(DATA_SOURCES, {
      description:
        "fashion-confounded (built-in, synthetic spurions), chexpert (the published CSV layout), mri (NIfTI cohorts) or manifest (any CSV of image paths and labels).",
      example: "fashion-confounded",
    }),
    root: optional(str({ description: "Data directory. Required for chexpert, mri and manifest." })),
    csv: optional(str({ description: "Metadata CSV (relative to root). Required for manifest." })),
    task: optional(labelSpec),
    classes: list(int({ min: 0, max: 9, description: "A Fashion-MNIST class index." }), {
      minItems: 2,
      maxItems: 2,
      unique: true,
      default: [0, 6],
      description: "fashion-confounded: the two Fashion-MNIST classes that become y = 0 and y = 1.",
    }),
    spurions: list(spurion, {
      minItems: 1,
      description: "The spurious factors z_1..z_N, one feature part f_zi each.",
      example: [
        { name: "marker", kind: "patch", ratio: 0.95 },
        { name: "contrast", kind: "contrast", ratio: 0.95 },
      ],
    }),
    image_size: { ...dims, defaultValue: () => [28, 28] },
    splits: obj<SplitSizes>(
      {
        train: int({ min: 1, default: 8000, description: "Training images." }),
        validation: int({
          min: 1,
          default: 1000,
          description: "Validation images (confounded like training).",
        }),
        test_inverted: int({ min: 1, default: 1000, description: "Test images with P(z = y) = 1 - ratio." }),
        test_balanced: int({ min: 1, default: 1000, description: "Test images with z independent of y." }),
      },
      { description: "Split sizes (images); real-data sources sample them from the available rows." },
    ),
    transforms: obj<TransformConfig>(
      {
        normalize: bool({
          default: true,
          description: "Scale each image's intensities to zero mean, unit variance.",
        }),
        hflip: bool({
          default: false,
          description: "Random horizontal flip (last axis) with probability 0.5.",
        }),
        rotate_deg: num({
          min: 0,
          max: 180,
          default: 0,
          description:
            "Random rotation by an angle uniform in [-rotate_deg, rotate_deg] (in-plane for volumes; 0 = off).",
        }),
        crop_padding: int({
          min: 0,
          default: 0,
          description:
            "Pad every side by this many pixels (zeros), then crop back at a random offset (0 = off).",
        }),
        intensity_jitter: num({
          min: 0,
          max: 1,
          default: 0,
          description:
            "Random brightness (added) and contrast (about the mean) factors, each uniform in +-amplitude (0 = off).",
        }),
      },
      {
        description:
          "Preprocessing and augmentation. Augmentations apply to training batches only, drawn per image from (seed, epoch, row); order: crop, flip, rotation, intensity.",
      },
    ),
    on_unreadable: oneOf(["skip", "fail"] as const, {
      default: "skip",
      description: "What to do with an image that cannot be read.",
    }),
    missing_labels: oneOf(["drop", "fail", "negative"] as const, {
      default: "drop",
      description:
        'Rows with no primary label (default "negative" for chexpert: a blank cell is "not mentioned").',
    }),
    uncertain_labels: oneOf(["drop", "zeros", "ones"] as const, {
      default: "drop",
      description: "CheXpert's -1 (uncertain): drop, or map to 0 (U-zeros) or 1 (U-ones).",
    }),
    chexpert: obj<ChexpertConfig>(
      {
        frontal_only: bool({
          default: true,
          description: "Keep frontal views only (the usual protocol; lateral views look different).",
        }),
      },
      { description: 'Options of source "chexpert".' },
    ),
    mri,
  },
  {
    description: "Where images and labels come from, the spurions, image size, splits and augmentation.",
    refine: (v, given, path, ctx) => {
      for (const key of ["chexpert", "mri"] as const)
        if (given.has(key) && v.source !== key)
          ctx.warn([...path, key], `only used by source "${key}"; ignored for "${v.source}"`);
      if (v.source === "chexpert") {
        checkChexpertConfig(v, path, ctx);
        // CheXpert's reading of a blank cell is "not mentioned = negative".
        if (!given.has("missing_labels")) v.missing_labels = "negative";
      }
      if (v.source === "mri") checkMriConfig(v, path, ctx);
      if (v.source !== "fashion-confounded") {
        if (!v.root) ctx.error([...path, "root"], `required for source "${v.source}": the data directory`);
        if (!v.task)
          ctx.error([...path, "task"], `required for source "${v.source}": the column of the primary label`);
        if (given.has("classes"))
          ctx.warn(
            [...path, "classes"],
            `only used by source "fashion-confounded"; ignored for "${v.source}"`,
          );
      }
      if (v.source === "manifest" && !v.csv)
        ctx.error([...path, "csv"], 'required for source "manifest": the CSV listing image paths and labels');
      if (v.source === "fashion-confounded") {
        v.spurions.forEach((s, i) => {
          if (s.kind === "metadata")
            ctx.error(
              [...path, "spurions", i, "kind"],
              "fashion-confounded has no metadata; use a synthetic kind (tag, patch, blob, block, intensity, contrast, noise, rotation, thickness)",
            );
        });
      }
      const names = new Set<string>();
      v.spurions.forEach((s, i) => {
        if (names.has(s.name))
          ctx.error([...path, "spurions", i, "name"], `duplicate spurion name "${s.name}"`);
        names.add(s.name);
      });
      if (!given.has("image_size")) {
        // Natural defaults per source: 28x28 Fashion-MNIST, 224x224 X-rays, 96^3 MRI volumes.
        v.image_size = v.source === "mri" ? [96, 96, 96] : v.source === "chexpert" ? [224, 224] : [28, 28];
      }
      return v;
    },
  },
);

// Schema of the `data` section: where images and labels come from, the spurions, sizes and
// augmentation. The rules of the real-data sources live beside those sources.
import { checkChexpertConfig } from "../../data/sources/chexpert-config.js";
import { checkMriConfig } from "../../data/sources/mri-config.js";
import {
  bool,
  type Context,
  coerce,
  INVALID,
  int,
  list,
  num,
  obj,
  oneOf,
  optional,
  type Path,
  type Schema,
  str,
} from "../schema.js";
import {
  type ChexpertConfig,
  DATA_SOURCES,
  type DataConfig,
  type ExternalTestConfig,
  type LabelSpec,
  type MriCohortConfig,
  type MriConfig,
  SPLIT_NAMES,
  SPURION_KINDS,
  type SplitColumnConfig,
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
const negative = () =>
  optional(
    list(str({ description: "A value (as text) that means class 0." }), {
      minItems: 1,
      description: "With positive: the values of class 0; then a value in neither list is an error.",
    }),
  );

/** A label's value map: {cell text: class id}, the ids 0, 1, ..., K-1 each used. */
const valueMap = (): Schema<Record<string, number> | undefined> => ({
  expected: "a mapping of cell values to class ids 0, 1, ...",
  description: "A value map {cell text: class id} (ids 0, 1, ..., K-1); any other value is an error.",
  required: false,
  parse(v, path, ctx) {
    if (v === null || typeof v !== "object" || Array.isArray(v) || Object.keys(v).length < 2) {
      ctx.error(
        path,
        "expected a mapping of at least two cell values to class ids, e.g. { healthy: 0, disease: 1 }",
      );
      return INVALID;
    }
    const out: Record<string, number> = {};
    for (const [k, c] of Object.entries(v)) {
      if (typeof c !== "number" || !Number.isInteger(c) || c < 0) {
        ctx.error([...path, k], `expected a class id (0, 1, ...), got ${JSON.stringify(c)}`);
        return INVALID;
      }
      out[k] = c;
    }
    const ids = new Set(Object.values(out));
    const gap = [...Array(Math.max(...ids) + 1).keys()].find((i) => !ids.has(i));
    if (gap !== undefined) {
      ctx.error(
        path,
        `class ids must be 0, 1, ..., ${Math.max(...ids)} with none left out; no value maps to ${gap}`,
      );
      return INVALID;
    }
    return out;
  },
});

/** The rules every label mapping (task or metadata spurion) follows. */
function checkLabelMapping(
  v: { positive?: string[]; negative?: string[]; values?: Record<string, number>; threshold?: number },
  path: Path,
  ctx: Context,
): void {
  if (v.positive && v.threshold !== undefined)
    ctx.error([...path, "threshold"], "give either positive or threshold, not both");
  if (v.negative && !v.positive)
    ctx.error([...path, "negative"], "needs positive (the values of class 1) beside it");
  if (v.values && (v.positive || v.negative || v.threshold !== undefined))
    ctx.error(
      [...path, "values"],
      "a value map stands alone: give values, or positive/negative, or threshold",
    );
  const both = v.negative?.find((n) => v.positive?.includes(n));
  if (both !== undefined) ctx.error([...path, "negative"], `"${both}" is also a positive value`);
}

/** data.cache: a switch or a folder. */
const dataCache: Schema<boolean | string> = {
  expected: "true, false or the folder of the prepared-image cache",
  description:
    "On-disk cache of prepared images: true = $MIMMX_CACHE_DIR, else $XDG_CACHE_HOME/mimmx, else ~/.cache/mimmx (never the data folder unless named); a folder (relative to data.root); false = off.",
  required: true,
  defaultValue: () => true,
  parse(v, path, ctx) {
    if (typeof v === "boolean" || (typeof v === "string" && v.length > 0)) return v;
    ctx.error(
      path,
      `expected true, false or a folder for the prepared-image cache, got ${JSON.stringify(v)}`,
    );
    return INVALID;
  },
};

const labelSpec = obj<LabelSpec>(
  {
    column: str({ description: "The CSV column (or the source's label name) that holds the label." }),
    positive: positive(),
    negative: negative(),
    values: valueMap(),
    threshold: threshold(),
  },
  {
    description: "The primary label y. A string means { column }. Required for chexpert, mri and manifest.",
    fromScalar: (v) => ({ column: String(v) }),
    refine: (v, _given, path, ctx) => {
      checkLabelMapping(v, path, ctx);
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
    negative: negative(),
    values: valueMap(),
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
      if (
        v.kind !== "metadata" &&
        (v.column || v.positive || v.negative || v.values || v.threshold !== undefined)
      ) {
        ctx.error(
          [...path, "column"],
          `kind "${v.kind}" is written into the image; column/positive/negative/values/threshold apply only to kind "metadata"`,
        );
      }
      checkLabelMapping(v, path, ctx);
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

const splitValues = (which: string) =>
  list(str({ minLength: 0, description: `A value of the split column that marks a ${which} row.` }), {
    default: [],
    description: `Values of the split column whose rows are ${which} rows${which === "test" ? " (the induced-shift tests are drawn from them)" : ""}.`,
  });

const splitColumn = obj<SplitColumnConfig>(
  {
    column: str({ description: "The column that holds each row's split, e.g. split or Split." }),
    train: splitValues("training"),
    validation: splitValues("validation"),
    test: splitValues("test"),
    confound: bool({
      default: false,
      description:
        "true: sample train and validation from their rows to data.splits at the spurion ratios; false: use every usable row as it is (the natural distribution; metadata spurions only).",
    }),
  },
  {
    description:
      "The dataset's own split (e.g. a column with train / valid / test): training and validation rows come from its train and validation values, the induced-shift tests from its test values (none: those tests are skipped). Every value of the column must be listed.",
    refine: (v, _given, path, ctx) => {
      if (v.train.length === 0) ctx.error([...path, "train"], "list the values that mark training rows");
      if (v.validation.length === 0)
        ctx.error([...path, "validation"], "list the values that mark validation rows");
      const seen = new Map<string, string>();
      for (const k of ["train", "validation", "test"] as const)
        for (const value of v[k]) {
          const other = seen.get(value);
          if (other) ctx.error([...path, k], `"${value}" is also listed under ${other}`);
          seen.set(value, k);
        }
      return v;
    },
  },
);

const externalTest = obj<ExternalTestConfig>(
  {
    name: str({
      pattern: /^[A-Za-z][A-Za-z0-9_-]*$/,
      patternText: "a name of letters, digits, _ or - starting with a letter",
      description: "The test's name in the report and summary.json, e.g. site_B, nako, chexpert_valid.",
    }),
    csv: optional(str({ description: "A table of the data's layout (relative to root), e.g. valid.csv." })),
    root: optional(
      str({
        description: "Folder of that table and its images (relative: under data.root); default data.root.",
      }),
    ),
    column: optional(
      str({ description: "Instead of csv: a column of the data's own table (mri: also cohort)." }),
    ),
    values: optional(
      list(str({ minLength: 0, description: "A value of that column." }), {
        minItems: 1,
        description: "With column: the rows holding one of these values form the test (and leave training).",
      }),
    ),
  },
  {
    description:
      "An external test cohort, evaluated as it comes: another CSV (csv, root) or the rows of a column value (column, values).",
    refine: (v, given, path, ctx) => {
      const byCsv = given.has("csv");
      const byColumn = given.has("column") || given.has("values");
      if (byCsv === byColumn)
        ctx.error(path, "give either csv (another table) or column and values (rows of this one)");
      if (byColumn && (!v.column || !v.values))
        ctx.error([...path, v.column ? "values" : "column"], "column and values go together");
      if (given.has("root") && !byCsv) ctx.error([...path, "root"], "only used with csv");
      if (
        (SPLIT_NAMES as readonly string[]).includes(v.name) ||
        v.name === "train" ||
        v.name === "train_oracle"
      )
        ctx.error(
          [...path, "name"],
          `"${v.name}" is a split of the protocol; name the test after its cohort`,
        );
      return v;
    },
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
    spurion_coupling: num({
      min: 0,
      max: 1,
      default: 0,
      description:
        "Correlation of the spurions with each other beyond what y induces: the fraction of each split's rows (per y) in which all spurions agree or disagree with y together; every split keeps it, so the inverted test flips each spurion's agreement with y and keeps their agreement with each other. 0 = independent given y.",
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
    max_skipped: num({
      min: 0,
      max: 1,
      default: 0.01,
      description:
        "on_unreadable skip: the largest fraction of any split that may be skipped; past it the run stops before training and names the files.",
    }),
    missing_labels: oneOf(["drop", "fail", "negative"] as const, {
      default: "drop",
      description:
        'Rows with no primary label (default "negative" for chexpert: a blank cell is "not mentioned"). Rows with no spurion label are dropped, or fail with "fail".',
    }),
    missing_values: list(str({ minLength: 0, description: "A cell text that means no value." }), {
      default: ["", "NA", "N/A", "n/a", "nan"],
      description: "Label cells that mean no value (compared after trimming); they follow missing_labels.",
    }),
    case_insensitive: bool({
      default: false,
      description: "Compare label values (positive, negative, values, missing_values) ignoring case.",
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
    reorient: bool({
      default: true,
      description:
        "NIfTI: reorder/flip voxel axes to RAS+ from the affine (sform, else qform), so cohorts stored in different orientations look alike.",
    }),
    spacing: optional(
      list(num({ exclusiveMin: 0, description: "Millimetres along one axis." }), {
        minItems: 3,
        maxItems: 3,
        description:
          "NIfTI 3-D: resample (trilinear) to this voxel spacing [dz, dy, dx] in mm first; unset = keep.",
      }),
    ),
    window: oneOf(["none", "file", "fixed"] as const, {
      default: "none",
      description:
        "DICOM VOI: none (physical values, HU for CT), the file's window / VOI LUT, or a fixed window (window_center, window_width). Off by default: a stored window is a per-site display choice.",
    }),
    window_center: optional(num({ description: "window fixed: its centre, in modality units (e.g. HU)." })),
    window_width: optional(
      num({ exclusiveMin: 0, description: "window fixed: its width, in modality units (e.g. HU)." }),
    ),
    delimiter: oneOf(["auto", ",", "tab", ";", "|"] as const, {
      default: "auto",
      description:
        "Field delimiter of the manifest table: auto = tab for .tsv, else sniffed from the header.",
    }),
    workers: int({
      min: 0,
      max: 1024,
      default: 0,
      description:
        "Worker threads that decode and prepare file-backed images; 0 = the cores / LOCAL_WORLD_SIZE.",
    }),
    prefetch: int({
      min: 1,
      max: 64,
      default: 4,
      description: "Batches of images prepared ahead of the one being collected.",
    }),
    cache: dataCache,
    split_column: optional(splitColumn),
    external_tests: list(externalTest, {
      default: [],
      unique: false,
      description:
        "Test cohorts evaluated as they come (the natural distribution), beside the induced-shift tests: train on one site or cohort, test on another.",
    }),
  },
  {
    description: "Where images and labels come from, the spurions, image size, splits and augmentation.",
    refine: (v, given, path, ctx) => {
      // A fixed window needs its centre and width, and only then are they read.
      for (const key of ["window_center", "window_width"] as const) {
        if (v.window === "fixed" && v[key] === undefined)
          ctx.error(
            [...path, key],
            "required with window: fixed (e.g. window_center: 40, window_width: 400)",
          );
        if (v.window !== "fixed" && given.has(key))
          ctx.error([...path, key], `only used with window: fixed (window is "${v.window}")`);
      }
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
              `fashion-confounded has no metadata; use a synthetic kind (${SPURION_KINDS.filter((k) => k !== "metadata").join(", ")})`,
            );
        });
      }
      if (v.source === "fashion-confounded") {
        if (v.split_column)
          ctx.error(
            [...path, "split_column"],
            "fashion-confounded has no table; a split column needs a file source",
          );
        if (v.external_tests.length > 0)
          ctx.error(
            [...path, "external_tests"],
            "fashion-confounded has no table; external tests need a file source",
          );
      }
      if (v.split_column && !v.split_column.confound)
        v.spurions.forEach((s, i) => {
          if (s.kind !== "metadata")
            ctx.error(
              [...path, "spurions", i, "kind"],
              `split_column.confound is false, so rows are used as they are and a synthetic spurion has no value to take; set split_column.confound: true, or use metadata spurions`,
            );
        });
      const testNames = new Set<string>();
      v.external_tests.forEach((t, i) => {
        if (testNames.has(t.name))
          ctx.error([...path, "external_tests", i, "name"], `duplicate test name "${t.name}"`);
        testNames.add(t.name);
      });
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

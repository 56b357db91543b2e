// The run configuration: its TypeScript types, its schema, and loading from YAML. One file answers
// "what can I put in a config and what happens if I leave it out". Every default below is the
// value a run uses when the key is absent; `resolveDefaults` turns any partial object into a full
// RunConfig, so code never has to guess a default again.

import { readFile } from "node:fs/promises";
import { type Document, isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { CHEXPERT_OBSERVATIONS } from "../data/sources/chexpert.js";
import {
  bool,
  type Context,
  coerce,
  formatPath,
  INVALID,
  type Issue,
  int,
  list,
  num,
  obj,
  oneOf,
  optional,
  type Path,
  type Schema,
  str,
  suggest,
  ValidationError,
  validate,
} from "./schema.js";

// ---------------------------------------------------------------------------------------------
// Types

export const DATA_SOURCES = ["fashion-confounded", "chexpert", "mri", "manifest"] as const;
export type DataSource = (typeof DATA_SOURCES)[number];

/** metadata: read from a column. The others are written into the image (synthetic, known truth). */
export const SPURION_KINDS = [
  "metadata",
  "tag",
  "patch",
  "blob",
  "block",
  "intensity",
  "contrast",
  "noise",
  "rotation",
  "thickness",
  "frame",
  "gradient",
] as const;
export type SpurionKind = (typeof SPURION_KINDS)[number];

export const ENCODERS = ["small-cnn", "resnet18", "densenet121", "cnn3d"] as const;
export type Encoder = (typeof ENCODERS)[number];

export const METHODS = ["erm", "mtl", "mimm", "mimmx", "adversarial", "groupdro", "oracle"] as const;
export type MethodName = (typeof METHODS)[number];

export const CRITICS = ["joint", "separable", "split", "published"] as const;
export type CriticKind = (typeof CRITICS)[number];

export const SPLIT_NAMES = ["validation", "test_inverted", "test_balanced"] as const;
export type EvalSplit = (typeof SPLIT_NAMES)[number];

/** How a metadata column becomes a binary label. */
export interface LabelSpec {
  /** Column in the CSV. */
  column: string;
  /** Values that map to class 1 (as text); everything else is class 0. */
  positive?: string[];
  /** Numeric columns: class 1 when value >= threshold (e.g. age >= 60). */
  threshold?: number;
}

export interface SpurionConfig {
  /** Display name and key in reports, e.g. "sex", "site", "marker". */
  name: string;
  kind: SpurionKind;
  /** metadata spurions: where the value comes from. */
  column?: string;
  positive?: string[];
  threshold?: number;
  /** P(z = y) in train and validation; the inverted test uses 1 - ratio. */
  ratio: number;
}

export interface SplitSizes {
  train: number;
  validation: number;
  test_inverted: number;
  test_balanced: number;
}

/**
 * Preprocessing and augmentation. The augmentations apply to training batches only (never to
 * validation or test images), drawn per image from (seed, epoch, row): reproducible, and the same
 * after a resume. Order: crop, flip, rotation, intensity.
 */
export interface TransformConfig {
  /** Scale each image's intensities to zero mean, unit variance. */
  normalize: boolean;
  /** Random horizontal flip (last axis) with probability 0.5. */
  hflip: boolean;
  /** Random rotation by an angle uniform in [-rotate_deg, rotate_deg] (in-plane for volumes; 0 = off). */
  rotate_deg: number;
  /** Pad every side by this many pixels (zeros), then crop back to size at a random offset (0 = off). */
  crop_padding: number;
  /** Random brightness (added) and contrast (about the mean) factors, each uniform in +-amplitude (0 = off). */
  intensity_jitter: number;
}

/** Options of source "chexpert" (the published CSV layout, src/data/sources/chexpert.ts). */
export interface ChexpertConfig {
  /** Keep frontal views only (the usual protocol; lateral views look different). */
  frontal_only: boolean;
}

/** One brain-MRI cohort: a metadata CSV with one NIfTI volume per row. */
export interface MriCohortConfig {
  /** Cohort name: the class name of the "cohort" label. */
  name: string;
  /** Metadata CSV, relative to the cohort's root. */
  csv: string;
  /** Folder of this cohort's CSV and volumes (relative paths: under data.root). Default data.root. */
  root?: string;
  /** Column names; default: those of data.mri. */
  path_column?: string;
  age_column?: string;
  sex_column?: string;
  site_column?: string;
}

/**
 * Options of source "mri" (src/data/sources/brain-mri.ts). The labels a task or metadata spurion can
 * name (its `column`) are the source's: age (binned at `threshold`, default bins 50/60/70), sex,
 * site and cohort. A 3-D image_size gives whole volumes, a 2-D one slices along `slice_axis`.
 */
export interface MriConfig {
  /** Several cohorts merged, the cohort a label; empty = one cohort from data.root and data.csv. */
  cohorts: MriCohortConfig[];
  path_column: string;
  age_column: string;
  sex_column: string;
  site_column: string;
  /** 3-D: resample volumes to image_size, or centre crop/pad them (keeps the voxel size). */
  resize: "resample" | "crop_or_pad";
  /** 2-D image_size: the volume axis slices are cut across (0 = D, 1 = H, 2 = W). */
  slice_axis: 0 | 1 | 2;
  /** 2-D image_size: slice positions as fractions of the axis length; each slice is one image. */
  slices: number[];
}

export const MRI_LABELS = ["age", "sex", "site", "cohort"] as const;

export interface DataConfig {
  source: DataSource;
  /** Data directory. Required for chexpert, mri and manifest. */
  root?: string;
  /** Metadata CSV (relative to root). Required for manifest. */
  csv?: string;
  /** Primary label. Required for chexpert, mri and manifest; a string means { column }. */
  task?: LabelSpec;
  /** fashion-confounded: the two Fashion-MNIST classes that become y = 0 and y = 1. */
  classes: number[];
  spurions: SpurionConfig[];
  /**
   * Correlation of the spurions with each other beyond what y induces: in this fraction of each
   * split's rows (per y) all spurions agree or disagree with y together (one shared draw); the rest
   * are independent given y. Every split keeps it, so the inverted test flips each spurion's
   * agreement with y and keeps their agreement with each other. 0 = independent given y.
   */
  spurion_coupling: number;
  /** [H, W] for 2-D, [D, H, W] for 3-D; a single number means a square/cube. */
  image_size: number[];
  splits: SplitSizes;
  transforms: TransformConfig;
  /** What to do with an image that cannot be read. */
  on_unreadable: "skip" | "fail";
  /** Rows with no primary label. */
  missing_labels: "drop" | "fail" | "negative";
  /** CheXpert's -1 (uncertain): drop, or map to 0 (U-zeros) or 1 (U-ones). */
  uncertain_labels: "drop" | "zeros" | "ones";
  chexpert: ChexpertConfig;
  mri: MriConfig;
}

export interface ModelConfig {
  encoder: Encoder;
  /** k: length of each feature part; the encoder outputs (spurions + 1) * k values. */
  feature_dim: number;
  in_channels: number;
  /**
   * false, or the path of a .safetensors file whose encoder weights initialise the encoder (a mimmx
   * checkpoint such as runs/NAME/methods/erm/last.safetensors, or an encoder state dict). Nothing is
   * ever downloaded, so `true` is an error.
   */
  pretrained: false | string;
  /** Dropout on the feature parts before the heads, in training only (0 = off). */
  dropout: number;
}

export interface EstimatorConfig {
  critic: CriticKind;
  /** Hidden units per critic layer (published: 400). */
  hidden: number;
  /** Hidden layers (published: 3). */
  layers: number;
  /** Sampled negatives per row; 0 = all B - 1 off-diagonal pairs. */
  negatives: number;
  /** Rate r of the bias-correction EMA: EMA = r * new + (1 - r) * EMA. */
  ema_rate: number;
  /** Pair (i, j) only where y_i = y_j: estimates I(f_y; f_z | y). */
  conditional_negatives: boolean;
  /** Bound on critic scores; unbounded separable scores diverged in the prototype. */
  score_bound: "tanh" | "cosine" | "none";
  /** Scale of bounded scores (tanh amplitude or cosine temperature inverse). */
  temperature: number;
  batch_norm: boolean;
  /** Critic learning rate (its own Adam). */
  lr: number;
  /** What critics ascend and the encoder descends: "dv" (MINE, published) or "jsd" (bounded gradients). */
  objective: "dv" | "jsd";
}

export interface MethodConfig {
  name: MethodName;
  /** Weight of the MI penalty (mimm, mimmx). */
  lambda: number;
  /** Encoder/head batches per round (critics frozen). */
  n_fe: number;
  /** Critic batches per round (features detached). */
  n_mi: number;
  /**
   * Where critic batches come from: "fresh" (published: their own batches through a no-grad encoder
   * pass) or "reuse" (the detached features of the encoder batch just seen; cheaper, weaker critic).
   */
  critic_data: "fresh" | "reuse";
  estimator: EstimatorConfig;
  /** all: every pair (f_y, f_zi), (f_zi, f_zj); chain: N estimators. */
  pairs: "all" | "chain";
  /** MINE adaptive scaling s = min(|g_class|, |g_MI|) / |g_MI|. */
  adaptive_scaling: boolean;
  gradnorm: { enabled: boolean; alpha: number; lr: number };
  attention: { enabled: boolean; tau: number; floor: number; ema: number };
  /** Encoder steps at the start without the MI penalty while the critics learn. */
  mi_warmup: number;
  /** After the warm-up, lambda rises linearly from 0 over this many encoder steps. */
  lambda_ramp: number;
  /** "all" pairs of the pair set, or only the pairs with f_y ("y"). */
  penalise: "all" | "y";
  /**
   * What the critics see of each spurion: its part f_zi ("part", published) or its head's detached
   * class probabilities ("probs"; y-z_i pairs only).
   */
  spurion_view: "part" | "probs";
  /**
   * The distribution the MI terms refer to: the training data ("train", published) or each batch
   * reweighted so every (y, z_i) group weighs the same, as in the balanced test ("balanced").
   */
  mi_distribution: "train" | "balanced";
  adversarial: { lambda: number };
  groupdro: { eta: number };
  /** mimm: the one spurion it debiases (default: the first). */
  spurion?: string;
}

export interface TrainConfig {
  epochs: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  /** The model optimiser (critics keep their own Adam). */
  optimizer: "adam" | "adamw" | "sgd";
  /** SGD momentum. */
  momentum: number;
  /** SGD Nesterov momentum. */
  nesterov: boolean;
  /** Stepped once per epoch: StepLR (step_size, gamma) or CosineAnnealingLR (T_max = epochs, min_lr). */
  scheduler: "none" | "step" | "cosine";
  /** step scheduler: epochs between decays, and the factor. */
  step_size: number;
  gamma: number;
  /** cosine scheduler: the final learning rate (eta_min). */
  min_lr: number;
  /** patience 0 = no early stopping. A number alone means { patience }. */
  early_stopping: { patience: number; min_delta: number };
  /** Checkpoint kept at the end. The validation split is confounded like training data, so
   * selecting on its accuracy favours shortcut models; "last" is the neutral default. */
  select_by: "last" | "val_loss" | "val_accuracy" | "val_balanced_accuracy" | "val_worst_group";
  /** "cuda" is refused at the start of a run: models, batches and optimiser state are CPU tensors. */
  device: "cpu" | "cuda";
  /** Intra-op threads; 0 = all cores. */
  threads: number;
  /** Clip the global gradient norm of the model optimiser's parameters to this (0 = off). */
  grad_clip: number;
  /** Log every this many steps. */
  log_every: number;
}

export interface EvalConfig {
  splits: EvalSplit[];
  bootstrap: number;
  /** Groups smaller than this are not eligible as the worst group. */
  min_group_size: number;
  probes: { enabled: boolean; split: EvalSplit; folds: number; l2: number; max_iter: number };
  tsne: { enabled: boolean; split: EvalSplit; perplexity: number; iterations: number; max_points: number };
  mi_audit: {
    enabled: boolean;
    split: EvalSplit;
    critic: CriticKind;
    hidden: number;
    layers: number;
    steps: number;
    lr: number;
    batch_size: number;
  };
}

export interface RunConfig {
  name: string;
  seed: number;
  /** Default: runs/<name>. */
  output_dir: string;
  data: DataConfig;
  model: ModelConfig;
  method: MethodConfig;
  train: TrainConfig;
  eval: EvalConfig;
}

// ---------------------------------------------------------------------------------------------
// Schema

const labelFields = {
  column: str(),
  positive: optional(list(str(), { minItems: 1 })),
  threshold: optional(num()),
};

const labelSpec = obj<LabelSpec>(labelFields, {
  fromScalar: (v) => ({ column: String(v) }),
  refine: (v, _given, path, ctx) => {
    if (v.positive && v.threshold !== undefined)
      ctx.error([...path, "threshold"], "give either positive or threshold, not both");
    return v;
  },
});

const spurion = obj<SpurionConfig>(
  {
    name: str({
      pattern: /^[A-Za-z][A-Za-z0-9_-]*$/,
      patternText: "a name of letters, digits, _ or - starting with a letter",
    }),
    kind: oneOf(SPURION_KINDS),
    column: optional(str()),
    positive: optional(list(str(), { minItems: 1 })),
    threshold: optional(num()),
    ratio: num({ min: 0, max: 1, default: 0.9 }),
  },
  {
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

const dims = coerce(list(int({ min: 1 }), { minItems: 2, maxItems: 3 }), (v) =>
  typeof v === "number" ? [v, v] : v,
);

const columnName = () => optional(str());

const mriCohort = obj<MriCohortConfig>({
  name: str({
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    patternText: "a cohort name of letters, digits, '.', '_' or '-'",
  }),
  csv: str(),
  root: optional(str()),
  path_column: columnName(),
  age_column: columnName(),
  sex_column: columnName(),
  site_column: columnName(),
});

const mri = obj<MriConfig>({
  cohorts: list(mriCohort, { default: [] }),
  path_column: str({ default: "path" }),
  age_column: str({ default: "age" }),
  sex_column: str({ default: "sex" }),
  site_column: str({ default: "site" }),
  resize: oneOf(["resample", "crop_or_pad"] as const, { default: "resample" }),
  slice_axis: int({ min: 0, max: 2, default: 0 }) as Schema<0 | 1 | 2>,
  slices: list(num({ min: 0, max: 1 }), { minItems: 1, default: [0.5] }),
});

/** Columns source "chexpert" can read a metadata spurion from. */
const CHEXPERT_SPURION_COLUMNS = ["Sex", "Age", "AP/PA", ...CHEXPERT_OBSERVATIONS];

function checkChexpert(v: DataConfig, path: Path, ctx: Context): void {
  const task = v.task;
  if (task) {
    if (!(CHEXPERT_OBSERVATIONS as readonly string[]).includes(task.column)) {
      const hint = suggest(task.column, CHEXPERT_OBSERVATIONS);
      ctx.error(
        [...path, "task", "column"],
        `${JSON.stringify(task.column)} is not a CheXpert observation${hint ? `; did you mean ${hint}?` : ""} Expected one of ${CHEXPERT_OBSERVATIONS.map((o) => JSON.stringify(o)).join(", ")}`,
      );
    }
    for (const key of ["positive", "threshold"] as const)
      if (task[key] !== undefined)
        ctx.error(
          [...path, "task", key],
          "CheXpert observations are 1 / 0 / -1 (uncertain) / blank cells; use uncertain_labels and missing_labels instead",
        );
  }
  const ages = new Set<number | undefined>();
  v.spurions.forEach((sp, i) => {
    if (sp.kind !== "metadata" || !sp.column) return;
    const at = [...path, "spurions", i];
    if (!CHEXPERT_SPURION_COLUMNS.includes(sp.column)) {
      const hint = suggest(sp.column, CHEXPERT_SPURION_COLUMNS);
      ctx.error(
        [...at, "column"],
        `${JSON.stringify(sp.column)} is not a CheXpert column${hint ? `; did you mean ${hint}?` : ""} Expected Sex, Age, AP/PA or an observation`,
      );
    }
    // The source codes its columns itself; `positive` may restate that coding, not change it.
    const coded: string[] = sp.column === "Sex" ? ["Male"] : sp.column === "AP/PA" ? ["PA"] : ["1", "1.0"];
    if (sp.positive && (sp.column === "Age" || !sp.positive.every((p) => coded.includes(p))))
      ctx.error(
        [...at, "positive"],
        `the CheXpert source codes its columns itself (Sex: Female 0 / Male 1, AP/PA: AP 0 / PA 1, observations 1 / 0, Age by threshold); positive ${JSON.stringify(sp.positive)} does not match that: remove it`,
      );
    if (sp.threshold !== undefined && sp.column !== "Age")
      ctx.error([...at, "threshold"], `only the Age column is binned by a threshold, not ${sp.column}`);
    if (sp.column === "Age") ages.add(sp.threshold);
  });
  if (ages.size > 1)
    ctx.error([...path, "spurions"], "every Age spurion of a CheXpert run must use the same threshold");
  if (v.image_size.length === 2 && v.image_size[0] !== v.image_size[1])
    ctx.error(
      [...path, "image_size"],
      `source "chexpert" pads X-rays to a square; give a square size, got [${v.image_size.join(", ")}]`,
    );
}

function checkMri(v: DataConfig, path: Path, ctx: Context): void {
  const known = MRI_LABELS as readonly string[];
  const label = (column: string, at: Path) => {
    if (!known.includes(column)) {
      const hint = suggest(column, MRI_LABELS);
      ctx.error(
        [...at, "column"],
        `${JSON.stringify(column)} is not a label of source "mri"${hint ? `; did you mean ${hint}?` : ""} Expected one of ${MRI_LABELS.map((l) => JSON.stringify(l)).join(", ")} (the CSV columns they come from are set in data.mri)`,
      );
    }
  };
  const ages = new Set<number | undefined>();
  const check = (l: { column?: string; positive?: string[]; threshold?: number }, at: Path) => {
    if (!l.column) return;
    label(l.column, at);
    const coded = ["M", "Male", "male", "1"];
    if (l.positive && (l.column !== "sex" || !l.positive.every((p) => coded.includes(p))))
      ctx.error(
        [...at, "positive"],
        `source "mri" codes its labels itself (sex: F/Female/0 -> 0, M/Male/1 -> 1; age by threshold; sites and cohorts by name); positive ${JSON.stringify(l.positive)} does not match that: remove it`,
      );
    if (l.threshold !== undefined && l.column !== "age")
      ctx.error([...at, "threshold"], `only "age" is binned by a threshold, not "${l.column}"`);
    if (l.column === "age") ages.add(l.threshold);
  };
  if (v.task) check(v.task, [...path, "task"]);
  v.spurions.forEach((sp, i) => {
    if (sp.kind === "metadata") check(sp, [...path, "spurions", i]);
  });
  if (ages.size > 1)
    ctx.error([...path, "task"], "age is binned once for a run: use the same threshold everywhere");
  const used = [v.task?.column, ...v.spurions.map((sp) => (sp.kind === "metadata" ? sp.column : undefined))];
  const dup = used.find((c, i) => c !== undefined && used.indexOf(c) !== i);
  if (dup) ctx.error([...path, "spurions"], `label "${dup}" is used twice (task and spurions must differ)`);
  const m = v.mri;
  if (m.cohorts.length === 0 && !v.csv)
    ctx.error(
      [...path, "csv"],
      'required for source "mri" without data.mri.cohorts: the metadata CSV (one row per volume)',
    );
  if (m.cohorts.length > 0 && v.csv)
    ctx.warn([...path, "csv"], "ignored: data.mri.cohorts name their own CSVs");
  const names = new Set<string>();
  m.cohorts.forEach((c, i) => {
    if (names.has(c.name)) ctx.error([...path, "mri", "cohorts", i, "name"], `duplicate cohort "${c.name}"`);
    names.add(c.name);
  });
  if (used.includes("cohort") && Math.max(1, m.cohorts.length) < 2)
    ctx.error(
      [...path, "mri", "cohorts"],
      'the "cohort" label needs at least two cohorts in data.mri.cohorts',
    );
}

const data = obj<DataConfig>(
  {
    source: oneOf(DATA_SOURCES),
    root: optional(str()),
    csv: optional(str()),
    task: optional(labelSpec),
    classes: list(int({ min: 0, max: 9 }), { minItems: 2, maxItems: 2, unique: true, default: [0, 6] }),
    spurions: list(spurion, { minItems: 1 }),
    spurion_coupling: num({ min: 0, max: 1, default: 0 }),
    image_size: { ...dims, defaultValue: () => [28, 28] },
    splits: obj<SplitSizes>({
      train: int({ min: 1, default: 8000 }),
      validation: int({ min: 1, default: 1000 }),
      test_inverted: int({ min: 1, default: 1000 }),
      test_balanced: int({ min: 1, default: 1000 }),
    }),
    transforms: obj<TransformConfig>({
      normalize: bool({ default: true }),
      hflip: bool({ default: false }),
      rotate_deg: num({ min: 0, max: 180, default: 0 }),
      crop_padding: int({ min: 0, default: 0 }),
      intensity_jitter: num({ min: 0, max: 1, default: 0 }),
    }),
    on_unreadable: oneOf(["skip", "fail"] as const, { default: "skip" }),
    missing_labels: oneOf(["drop", "fail", "negative"] as const, { default: "drop" }),
    uncertain_labels: oneOf(["drop", "zeros", "ones"] as const, { default: "drop" }),
    chexpert: obj<ChexpertConfig>({ frontal_only: bool({ default: true }) }),
    mri,
  },
  {
    refine: (v, given, path, ctx) => {
      for (const key of ["chexpert", "mri"] as const)
        if (given.has(key) && v.source !== key)
          ctx.warn([...path, key], `only used by source "${key}"; ignored for "${v.source}"`);
      if (v.source === "chexpert") {
        checkChexpert(v, path, ctx);
        // CheXpert's reading of a blank cell is "not mentioned = negative".
        if (!given.has("missing_labels")) v.missing_labels = "negative";
      }
      if (v.source === "mri") checkMri(v, path, ctx);
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

/** false, or the path of a .safetensors file with encoder weights. */
const pretrained: Schema<false | string> = {
  expected: "false or the path of a .safetensors file with encoder weights",
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

const model = obj<ModelConfig>({
  encoder: oneOf(ENCODERS, { default: "small-cnn" }),
  feature_dim: int({ min: 1, max: 4096, default: 32 }),
  in_channels: int({ min: 1, max: 16, default: 1 }),
  pretrained,
  dropout: num({ min: 0, exclusiveMax: 1, default: 0 }),
});

const PUBLISHED_HIDDEN = 400;
const PUBLISHED_LAYERS = 3;

const estimator = obj<EstimatorConfig>(
  {
    critic: oneOf(CRITICS, { default: "joint" }),
    hidden: int({ min: 1, max: 8192, default: 64 }),
    layers: int({ min: 1, max: 16, default: 3 }),
    negatives: int({ min: 0, default: 0 }),
    ema_rate: num({ exclusiveMin: 0, max: 1, default: 0.9 }),
    conditional_negatives: bool({ default: false }),
    score_bound: oneOf(["tanh", "cosine", "none"] as const, { default: "tanh" }),
    temperature: num({ exclusiveMin: 0, default: 5 }),
    batch_norm: bool({ default: true }),
    lr: num({ exclusiveMin: 0, default: 1e-4 }),
    objective: oneOf(["dv", "jsd"] as const, { default: "dv" }),
  },
  {
    refine: (v, given, path, ctx) => {
      if (v.critic === "published") {
        // The published critic is one fixed architecture; silently changing it would make
        // "published" results incomparable with the paper.
        for (const [key, want] of [
          ["hidden", PUBLISHED_HIDDEN],
          ["layers", PUBLISHED_LAYERS],
          ["negatives", 0],
        ] as const) {
          if (given.has(key) && v[key] !== want) {
            ctx.error(
              [...path, key],
              `the published critic is fixed at ${PUBLISHED_LAYERS} x ${PUBLISHED_HIDDEN} with all B*B pairs; got ${v[key]}. Use critic "joint" to change it`,
            );
          }
        }
        v.hidden = PUBLISHED_HIDDEN;
        v.layers = PUBLISHED_LAYERS;
        v.negatives = 0;
        if (!given.has("batch_norm")) v.batch_norm = true;
      }
      if (v.critic === "separable" && v.score_bound === "none") {
        ctx.warn(
          [...path, "score_bound"],
          'unbounded separable scores diverged to NaN in the prototype (shared/METHOD.md); consider "tanh" or "cosine"',
        );
      }
      return v;
    },
  },
);

const method = obj<MethodConfig>(
  {
    name: oneOf(METHODS, { default: "mimmx" }),
    lambda: num({ min: 0, default: 1 }),
    n_fe: int({ min: 1, default: 1 }),
    n_mi: int({ min: 0, default: 5 }),
    critic_data: oneOf(["fresh", "reuse"] as const, { default: "reuse" }),
    estimator,
    pairs: oneOf(["all", "chain"] as const, { default: "all" }),
    adaptive_scaling: bool({ default: true }),
    gradnorm: obj({
      enabled: bool({ default: true }),
      alpha: num({ min: 0, default: 1.5 }),
      lr: num({ exclusiveMin: 0, default: 0.025 }),
    }),
    attention: obj({
      enabled: bool({ default: true }),
      tau: num({ exclusiveMin: 0, default: 1 }),
      floor: num({ min: 0, max: 1, default: 0.1 }),
      ema: num({ min: 0, exclusiveMax: 1, default: 0.9 }),
    }),
    mi_warmup: int({ min: 0, default: 0 }),
    lambda_ramp: int({ min: 0, default: 0 }),
    penalise: oneOf(["all", "y"] as const, { default: "all" }),
    spurion_view: oneOf(["part", "probs"] as const, { default: "part" }),
    mi_distribution: oneOf(["train", "balanced"] as const, { default: "train" }),
    adversarial: obj({ lambda: num({ min: 0, default: 1 }) }),
    groupdro: obj({ eta: num({ exclusiveMin: 0, default: 0.01 }) }),
    spurion: optional(str()),
  },
  {
    refine: (v, given, path, ctx) => {
      // Keys that only one family of methods reads: warn (not fail) when set for another, so a
      // config can be copied between methods, but nobody believes a setting is in effect when it is not.
      const usedBy: Record<string, MethodName[]> = {
        lambda: ["mimm", "mimmx"],
        n_fe: ["mimm", "mimmx"],
        n_mi: ["mimm", "mimmx"],
        critic_data: ["mimm", "mimmx"],
        estimator: ["mimm", "mimmx"],
        pairs: ["mimmx"],
        adaptive_scaling: ["mimm", "mimmx"],
        gradnorm: ["mimmx"],
        attention: ["mimmx"],
        mi_warmup: ["mimmx"],
        lambda_ramp: ["mimmx"],
        penalise: ["mimmx"],
        spurion_view: ["mimmx"],
        mi_distribution: ["mimmx"],
        adversarial: ["adversarial"],
        groupdro: ["groupdro"],
        spurion: ["mimm"],
      };
      for (const [key, methods] of Object.entries(usedBy)) {
        if (given.has(key) && !methods.includes(v.name)) {
          ctx.warn([...path, key], `ignored by method "${v.name}" (used by ${methods.join(", ")})`);
        }
      }
      return v;
    },
  },
);

const train = obj<TrainConfig>(
  {
    epochs: int({ min: 1, default: 10 }),
    batch_size: int({ min: 2, default: 128 }),
    lr: num({ exclusiveMin: 0, default: 1e-3 }),
    weight_decay: num({ min: 0, default: 0 }),
    optimizer: oneOf(["adam", "adamw", "sgd"] as const, { default: "adam" }),
    momentum: num({ min: 0, exclusiveMax: 1, default: 0.9 }),
    nesterov: bool({ default: false }),
    scheduler: oneOf(["none", "step", "cosine"] as const, { default: "none" }),
    step_size: int({ min: 1, default: 10 }),
    gamma: num({ exclusiveMin: 0, max: 1, default: 0.1 }),
    min_lr: num({ min: 0, default: 0 }),
    early_stopping: obj(
      { patience: int({ min: 0, default: 0 }), min_delta: num({ min: 0, default: 0 }) },
      { fromScalar: (v) => ({ patience: v }) },
    ),
    select_by: oneOf(
      ["last", "val_loss", "val_accuracy", "val_balanced_accuracy", "val_worst_group"] as const,
      { default: "last" },
    ),
    device: oneOf(["cpu", "cuda"] as const, { default: "cpu" }),
    threads: int({ min: 0, default: 0 }),
    grad_clip: num({ min: 0, default: 0 }),
    log_every: int({ min: 1, default: 50 }),
  },
  {
    refine: (v, given, path, ctx) => {
      // PyTorch's AdamW decays by 1e-2 unless told otherwise; Adam and SGD by 0.
      if (v.optimizer === "adamw" && !given.has("weight_decay")) v.weight_decay = 0.01;
      const usedBy: [keyof TrainConfig, boolean, string][] = [
        ["momentum", v.optimizer === "sgd", 'optimizer "sgd"'],
        ["nesterov", v.optimizer === "sgd", 'optimizer "sgd"'],
        ["step_size", v.scheduler === "step", 'scheduler "step"'],
        ["gamma", v.scheduler === "step", 'scheduler "step"'],
        ["min_lr", v.scheduler === "cosine", 'scheduler "cosine"'],
      ];
      for (const [key, used, by] of usedBy)
        if (given.has(key) && !used) ctx.warn([...path, key], `ignored: only used with ${by}`);
      if (v.optimizer === "sgd" && v.nesterov && v.momentum === 0)
        ctx.error([...path, "nesterov"], "Nesterov momentum needs momentum > 0");
      if (v.scheduler === "cosine" && v.min_lr > v.lr)
        ctx.warn([...path, "min_lr"], `min_lr ${v.min_lr} is above lr ${v.lr}: the schedule raises the rate`);
      return v;
    },
  },
);

const evalSplit = oneOf(SPLIT_NAMES, { default: "test_balanced" });

const evalConfig = obj<EvalConfig>({
  splits: list(oneOf(SPLIT_NAMES), { minItems: 1, unique: true, default: [...SPLIT_NAMES] }),
  bootstrap: int({ min: 0, default: 1000 }),
  min_group_size: int({ min: 1, default: 10 }),
  probes: obj(
    {
      enabled: bool({ default: true }),
      split: evalSplit,
      folds: int({ min: 0, default: 0 }),
      l2: num({ min: 0, default: 1e-3 }),
      max_iter: int({ min: 1, default: 300 }),
    },
    {
      refine: (v, _g, path, ctx) => {
        if (v.folds === 1)
          ctx.error(
            [...path, "folds"],
            "expected 0 (fit on one half, score on the other) or k >= 2 folds, got 1",
          );
        return v;
      },
    },
  ),
  tsne: obj({
    enabled: bool({ default: true }),
    split: evalSplit,
    perplexity: num({ min: 2, max: 100, default: 30 }),
    iterations: int({ min: 50, default: 1000 }),
    max_points: int({ min: 10, max: 5000, default: 1000 }),
  }),
  mi_audit: obj({
    enabled: bool({ default: true }),
    split: evalSplit,
    critic: oneOf(CRITICS, { default: "joint" }),
    hidden: int({ min: 1, default: 128 }),
    layers: int({ min: 1, default: 3 }),
    steps: int({ min: 1, default: 2000 }),
    lr: num({ exclusiveMin: 0, default: 1e-3 }),
    batch_size: int({ min: 2, default: 256 }),
  }),
});

export const runConfigSchema = obj<RunConfig>(
  {
    name: str({
      pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      patternText: "a run name of letters, digits, '.', '_' or '-'",
    }),
    seed: int({ min: 0, max: 2 ** 32 - 1, default: 0 }),
    output_dir: str({ default: "" }),
    data,
    model,
    method,
    train,
    eval: evalConfig,
  },
  {
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

// ---------------------------------------------------------------------------------------------
// Loading

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface ParseOptions {
  /** Called once per warning (default: collected only). */
  onWarning?: (message: string) => void;
}

export interface LoadedConfig {
  config: RunConfig;
  /** Human-readable warnings: "path (line n): message". */
  warnings: string[];
}

/**
 * Parses and validates YAML text. Throws ConfigError naming the source, line and key path of
 * every problem.
 */
export function parseConfigWithWarnings(text: string, sourceName = "config"): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `${sourceName}: invalid YAML:\n${doc.errors.map((e) => `  - ${e.message.split("\n")[0]}`).join("\n")}`,
    );
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (raw !== null && raw !== undefined && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new ConfigError(`${sourceName}: the top level must be a mapping of keys (name, data, model, ...)`);
  }
  const locate = (path: Path) => lineOf(doc, lineCounter, path);
  try {
    const { value, warnings } = validate(runConfigSchema, raw ?? {}, sourceName, locate);
    return { config: value, warnings: warnings.map((w) => formatIssue(w, locate)) };
  } catch (e) {
    if (e instanceof ValidationError) throw new ConfigError(e.message, e.issues);
    throw e;
  }
}

export function parseConfig(text: string, sourceName = "config", options: ParseOptions = {}): RunConfig {
  const { config, warnings } = parseConfigWithWarnings(text, sourceName);
  for (const w of warnings) options.onWarning?.(`${sourceName}: ${w}`);
  return config;
}

export async function loadConfig(path: string, options: ParseOptions = {}): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  return parseConfig(text, path, options);
}

/** Deep partial, for building configs in code. */
export type DeepPartial<T> = T extends (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/**
 * Fills every default into a partial configuration (e.g. built in code or from JSON) and validates
 * it; throws ConfigError like parseConfig.
 */
export function resolveDefaults(
  partial: DeepPartial<RunConfig> | Record<string, unknown>,
  sourceName = "config",
  options: ParseOptions = {},
): RunConfig {
  try {
    const { value, warnings } = validate(runConfigSchema, structuredClone(partial), sourceName);
    for (const w of warnings) options.onWarning?.(`${sourceName}: ${formatIssue(w)}`);
    return value;
  } catch (e) {
    if (e instanceof ValidationError) throw new ConfigError(e.message, e.issues);
    throw e;
  }
}

function formatIssue(i: Issue, locate?: (p: Path) => string | undefined): string {
  const where = locate?.(i.path);
  return `${formatPath(i.path)}${where ? ` (${where})` : ""}: ${i.message}`;
}

/** "line N" of the deepest node on `path` that exists in the document (a missing key points at its parent). */
function lineOf(doc: Document, lc: LineCounter, path: Path): string | undefined {
  let node: unknown = doc.contents;
  let found: unknown = node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return (k && typeof k === "object" && "value" in k ? k.value : k) === key;
      });
      if (!pair) break;
      // Point at the key itself for scalars: "hidden: wide" reads better at the key's line.
      found = pair.key ?? pair.value;
      node = pair.value;
      if (node && typeof node === "object" && "items" in node) found = pair.key ?? node;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      if (!node) break;
      found = node;
    } else break;
  }
  const range = (found as { range?: [number, number, number] } | null)?.range;
  if (!range) return undefined;
  return `line ${lc.linePos(range[0]).line}`;
}

/** A commented example configuration, valid as written. */
export const EXAMPLE_CONFIG = `# mimmx run configuration (YAML). Absent keys take their defaults (src/cli/config.ts).
name: fashion-demo
seed: 0
data:
  source: fashion-confounded
  classes: [0, 6]            # T-shirt/top vs shirt
  spurions:
    - { name: marker, kind: patch, ratio: 0.95 }
    - { name: contrast, kind: contrast, ratio: 0.95 }
  splits: { train: 8000, validation: 1000, test_inverted: 1000, test_balanced: 1000 }
  transforms: { hflip: false, rotate_deg: 0, crop_padding: 0, intensity_jitter: 0 }   # training only
model:
  encoder: small-cnn
  feature_dim: 32            # k per part: f_y, f_marker, f_contrast
  dropout: 0                 # dropout on the features before the heads (training only)
method:
  name: mimmx
  lambda: 1.0
  n_fe: 1
  n_mi: 5
  estimator: { critic: joint, hidden: 64, layers: 3, negatives: 0, ema_rate: 0.9, score_bound: tanh }
  pairs: all
  adaptive_scaling: true
  gradnorm: { enabled: true, alpha: 1.5, lr: 0.025 }
  attention: { enabled: true, tau: 1.0, floor: 0.1 }
train:
  epochs: 10
  batch_size: 128
  lr: 0.001
  optimizer: adam            # adam | adamw | sgd (with momentum, nesterov); critics keep their own Adam
  scheduler: none            # none | step (step_size, gamma) | cosine (min_lr), stepped once per epoch
  grad_clip: 0               # > 0: clip the global gradient norm of the model's parameters
eval:
  probes: { enabled: true, split: test_balanced }
  tsne: { enabled: true, max_points: 1000 }
  mi_audit: { enabled: true, steps: 2000 }
`;

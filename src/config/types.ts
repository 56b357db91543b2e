// The run configuration's TypeScript types. What each key means and its default are in the schema
// (src/config/sections/*.ts), which generates docs/config.md; the comments here say only what the
// type alone cannot.

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

export const METHODS = [
  "erm",
  "mtl",
  "mimm",
  "mimmx",
  "adversarial",
  "groupdro",
  "subsample",
  "reweight",
  "dfr",
  "jtt",
  "oracle",
] as const;
export type MethodName = (typeof METHODS)[number];

export const CRITICS = ["joint", "separable", "split", "published"] as const;
export type CriticKind = (typeof CRITICS)[number];
/** The method's estimators: the critics, and "kernel" (no critic: src/mi/kernel-dependence.ts). */
export const ESTIMATOR_KINDS = [...CRITICS, "kernel"] as const;
export type EstimatorKind = (typeof ESTIMATOR_KINDS)[number];

export const SPLIT_NAMES = ["validation", "test_inverted", "test_balanced"] as const;
export type EvalSplit = (typeof SPLIT_NAMES)[number];

/** How a metadata column becomes a binary label. */
export interface LabelSpec {
  /** Column in the CSV. */
  column: string;
  /**
   * Values that map to class 1 (as text). Without `negative`, every other value is class 0, except
   * values that look like slips (a positive value in another case, a number among words, "?"),
   * which are errors.
   */
  positive?: string[];
  /** With positive: the values of class 0; then any value in neither list is an error. */
  negative?: string[];
  /** A value map {cell text: class id} (ids 0, 1, ..., K-1); any other value is an error. */
  values?: Record<string, number>;
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
  negative?: string[];
  values?: Record<string, number>;
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

/**
 * The dataset's own split column (src/run/natural.ts): which of its values are training,
 * validation and test rows. Every value of the column must be listed in one of the three.
 */
export interface SplitColumnConfig {
  column: string;
  train: string[];
  validation: string[];
  /** Rows the induced-shift tests are drawn from; none = those tests are skipped. */
  test: string[];
  /**
   * true: train and validation are sampled from their rows to data.splits at the spurion ratios;
   * false: every usable row of them is used as it is (the natural distribution).
   */
  confound: boolean;
}

/**
 * An external test cohort, evaluated as it comes (no resampling): rows of another CSV, or the rows
 * of the data's own table whose `column` holds one of `values` (those rows leave the pool).
 */
export interface ExternalTestConfig {
  name: string;
  /** Another table of the same layout (relative to `root`). */
  csv?: string;
  /** Folder of that table and its images; default data.root. */
  root?: string;
  /** Rows of the data's own table(s) with one of these values in `column` (mri: also "cohort"). */
  column?: string;
  values?: string[];
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
  /** on_unreadable skip: the largest fraction of any split that may be skipped; past it the run stops. */
  max_skipped: number;
  /** Rows with no primary label (spurion labels: drop, or fail with "fail"). */
  missing_labels: "drop" | "fail" | "negative";
  /** Label cells that mean "no value" (compared after trimming); they follow missing_labels. */
  missing_values: string[];
  /** Compare label values (positive, negative, values, missing_values) ignoring case. */
  case_insensitive: boolean;
  /** CheXpert's -1 (uncertain): drop, or map to 0 (U-zeros) or 1 (U-ones). */
  uncertain_labels: "drop" | "zeros" | "ones";
  chexpert: ChexpertConfig;
  mri: MriConfig;
  /** NIfTI: reorder/flip voxel axes to RAS+ from the affine. */
  reorient: boolean;
  /** NIfTI 3-D: resample (trilinear) to this voxel spacing [dz, dy, dx] in mm first; unset = keep. */
  spacing?: number[];
  /** DICOM VOI: none (physical values, HU for CT), the file's window / VOI LUT, or a fixed window. */
  window: "none" | "file" | "fixed";
  /** window: fixed: its centre and width, in modality units (e.g. HU). */
  window_center?: number;
  window_width?: number;
  /** Field delimiter of the tables: auto = tab for .tsv, else sniffed from the header. */
  delimiter: "auto" | "," | "tab" | ";" | "|";
  /** Worker threads that decode and prepare file-backed images; 0 = the cores / LOCAL_WORLD_SIZE. */
  workers: number;
  /** Batches of images prepared ahead of the one being collected. */
  prefetch: number;
  /**
   * On-disk cache of prepared images (src/data/prepared-cache.ts): true = $MIMMX_CACHE_DIR, else
   * ROOT/.cache/mimmx; a folder (relative to root); false = off.
   */
  cache: boolean | string;
  /** The dataset's own train / validation / test column; unset = one pool, split by the protocol. */
  split_column?: SplitColumnConfig;
  /** Test cohorts evaluated as they come (natural shift), beside the induced-shift tests. */
  external_tests: ExternalTestConfig[];
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
  critic: EstimatorKind;
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
  /** Critic learning rate (its own Adam). */
  lr: number;
  /** What critics ascend and the encoder descends: "dv" (MINE, published) or "jsd" (bounded gradients). */
  objective: "dv" | "jsd";
  /** kernel: multipliers of the median-heuristic RBF bandwidth. */
  bandwidths: number[];
  /** kernel: the pairs whose median squared distance sets the RBF bandwidth. */
  bandwidth_pairs: "batch" | "class";
  /** kernel: also a linear kernel on the standardised features (averaged with the RBF one). */
  linear: boolean;
}

export interface MethodConfig {
  name: MethodName;
  /** The preset whose values filled the keys the user left out ("none": the schema's defaults). */
  preset: string;
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
  /** Where s's gradient norms are taken: every encoder parameter, or the last shared layer. */
  scaling_scope: "encoder" | "lastLayer";
  /** Where the spurion parts' gradients go, and where the MI gradient goes (lastLayer: W only). */
  spurion_grad: "trunk" | "lastLayer";
  mi_grad: "trunk" | "lastLayer";
  /** mi: whether GradNorm also weights the MI term. */
  gradnorm: { enabled: boolean; alpha: number; lr: number; mi: boolean };
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
  spurion_view: "part" | "probs" | "labels";
  /**
   * The distribution the MI terms refer to: the training data ("train", published) or each batch
   * reweighted so every (y, z_i) group weighs the same, as in the balanced test ("balanced").
   */
  mi_distribution: "train" | "balanced";
  /** The loss on y: cross-entropy, or GroupDRO's (eta: method.groupdro.eta, groups: method.groups). */
  y_loss: "ce" | "groupdro" | "reweight";
  /**
   * reweight and mimmx's y_loss "reweight": draw rows by weight ("sampler") or weight their losses;
   * groupdro: group-balanced or shuffled batches.
   */
  balance_by: "sampler" | "loss";
  adversarial: { lambda: number };
  groupdro: { eta: number };
  /**
   * Groups of the group-robust peers (groupdro, subsample, reweight, dfr): "joint" = every
   * (y, z_1..z_N) cell, "pairs" = the (y, z_i) families (src/methods/groups.ts).
   */
  groups: "joint" | "pairs";
  /** Balancing (subsample, reweight, dfr): a cell with fewer rows counts as this many. */
  group_min_count: number;
  /** DFR: held-out fraction of validation, balanced subsets averaged, the L1 C grid. */
  dfr: { holdout: number; subsamples: number; c_grid: number[]; features: "embedding" | "last_layer" };
  /** JTT: epochs of the identification ERM (T) and the error set's loss weight (lambda_up). */
  jtt: { first_epochs: number; upweight: number };
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
  early_stopping: { patience: number };
  /** Checkpoint kept at the end. The validation split is confounded like training data, so
   * selecting on its accuracy favours shortcut models; "last" is the neutral default. */
  select_by: "last" | "val_loss" | "val_accuracy" | "val_balanced_accuracy" | "val_worst_group";
  /** Where the model, batches, critics and every tensor of training and evaluation live: cpu, cuda
   * or cuda:N. A CUDA device is refused at the start of a run where libtorch has no CUDA. */
  device: "cpu" | "cuda" | `cuda:${number}`;
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

/** Deep partial, for building configs in code. */
export type DeepPartial<T> = T extends (infer U)[]
  ? DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

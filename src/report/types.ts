// The report's input: one JSON-serialisable document describing a run and every method trained in
// it. Training code fills it (or writes it as report.json); the HTML and Markdown renderers only
// read it, so a report can be re-rendered from the JSON without re-running anything.
//
// Fractions are in [0, 1] everywhere (the renderers format them as percentages). Anything optional
// may be left out; the renderers skip sections whose data is absent.

export interface ReportData {
  /** Bump when the shape changes incompatibly. */
  schemaVersion: 1;
  runName: string;
  /** ISO 8601 date-time of the run. */
  date: string;
  /** The run configuration as written (YAML text), shown verbatim. */
  configYaml?: string;
  /** Free text under the title, e.g. the data set and spurions in one sentence. */
  description?: string;
  /** Names of the primary task and the spurions, in feature-part order (f_y, f_z1, ...). */
  tasks: {
    primary: string;
    spurions: string[];
    /** Number of classes of the primary task (default 2); sets the chance level. */
    primaryClasses?: number;
  };
  /** Split names; `inDistribution` and `inverted` drive the headline. */
  splits: {
    /** Split drawn like training data, usually "validation". */
    inDistribution: string;
    /** Split where every spurion-label co-occurrence is reversed. */
    inverted: string;
    /** Split with every (y, z_i) combination in equal share. */
    balanced?: string;
    /** Display order of all splits (defaults to the three above). */
    order?: string[];
    /**
     * External test cohorts (natural shift), evaluated as they come; their metric rows carry their
     * names as the split. `from` says where the rows came from (a CSV, or a column value).
     */
    external?: { name: string; from: string }[];
  };
  dataset?: DatasetSummary;
  methods: MethodReport[];
  /** Extra remarks shown at the end of the headline section. */
  notes?: string[];
  /** Thresholds for the headline verdicts; defaults in headline.ts. */
  verdictCriteria?: Partial<VerdictCriteria>;
}

export interface DatasetSummary {
  name?: string;
  /** One table per grouping, e.g. (y, sex) counts per split. */
  groupCounts: GroupCountTable[];
  /** Images per split the run used (after unreadable ones were left out). */
  sizes?: Record<string, number>;
  /** Unreadable images left out, with the CSV line each was listed on. */
  skipped?: { split: string; csv: string; line: number; path: string; reason: string }[];
}

export interface GroupCountTable {
  /** e.g. "Primary label x sex". */
  title: string;
  /** Row labels, e.g. ["y=0, sex=F", "y=0, sex=M", ...]. */
  rows: string[];
  /** Column labels: split names. */
  columns: string[];
  /** counts[row][column]. */
  counts: number[][];
}

export interface MethodReport {
  /** Display name, e.g. "ERM", "MIMM-X (joint critic)". */
  name: string;
  /** Method key from the config: erm | mtl | mimm | mimmx | adversarial | groupdro | oracle. */
  method: string;
  /** One line on what this method is or how it was configured. */
  description?: string;
  /** Set when training stopped abnormally (e.g. "NaN in MI term at step 812"). */
  failure?: string;
  curves?: CurveSet[];
  metrics: MetricRow[];
  probes?: ProbeEntry[];
  /** Probes on each external test (by test name), where every spurion has a value there. */
  externalProbes?: Record<string, ProbeEntry[]>;
  miAudit?: MiAuditEntry[];
  tsne?: TsnePanel[];
  /** Seconds of training, for the cost column. */
  trainSeconds?: number;
}

/** A set of series sharing an x axis, drawn as one chart. */
export interface CurveSet {
  /** e.g. "Losses", "MI estimates per pair", "GradNorm weights", "Confounder attention". */
  title: string;
  /** "epoch" or "step": what x counts. */
  x: "epoch" | "step";
  yLabel?: string;
  /** Draw y on a log scale (positive values only). */
  logY?: boolean;
  series: Series[];
}

export interface Series {
  name: string;
  /** x positions; defaults to 1..n (epochs) or 0..n-1 (steps). */
  x?: number[];
  /** null marks a gap (e.g. a metric evaluated only every few steps, or a NaN). */
  y: (number | null)[];
}

export interface Interval {
  low: number;
  high: number;
  level?: number;
}

export interface MetricRow {
  /** Task name: the primary task or a spurion. */
  task: string;
  split: string;
  accuracy: number;
  accuracyCi?: Interval;
  balancedAccuracy?: number;
  balancedAccuracyCi?: Interval;
  auc?: number;
  aucCi?: Interval;
  /** Worst (y, z_i) group accuracy, over every spurion. */
  worstGroupAccuracy?: number;
  /** Which group was worst, e.g. "y=1, sex=0". */
  worstGroup?: string;
  n?: number;
}

/** Structurally compatible with `ProbeRow` from src/eval/probe.ts. */
export interface ProbeEntry {
  /** Feature part, e.g. "f_y". */
  source: string;
  /** Label probed, e.g. "sex". */
  target: string;
  /** "switched" should be at chance, "own" should be high. */
  kind?: "own" | "switched";
  accuracy: number;
  accuracyCi?: Interval;
  balancedAccuracy?: number;
  chance: { majority: number; uniform: number };
  nTest?: number;
}

export interface MiAuditEntry {
  /** e.g. "f_y ; f_sex". */
  pair: string;
  /** Estimated mutual information in nats. */
  estimate: number;
  ci?: Interval;
  /** Which estimator was used, e.g. "joint 3x128, 2000 steps". */
  estimator?: string;
}

export interface TsnePanel {
  /** Which features were embedded, e.g. "f_y". */
  features: string;
  /** Point coordinates (same length). */
  x: number[];
  y: number[];
  /** One colouring per label, e.g. by y, by sex, by site. */
  colourings: TsneColouring[];
}

export interface TsneColouring {
  /** Label name, e.g. "sex". */
  by: string;
  /** Class index per point. */
  labels: number[];
  /** Display names per class index, e.g. ["female", "male"]. */
  classNames?: string[];
  /** k-NN label agreement in the embedding (see knnLabelAgreement), with its chance level. */
  knnAgreement?: number;
  knnChance?: number;
}

export interface VerdictCriteria {
  /** Largest in-distribution minus inverted accuracy gap that still counts as "removed". */
  maxGap: number;
  /** A switched probe counts as "near chance" when its accuracy is within this of chance. */
  probeMargin: number;
  /** Inverted accuracy must exceed chance by this to rule out a collapsed model. */
  minAboveChance: number;
}

// CheXpert (Irvin et al. 2019) in its published CSV layout:
//   Path, Sex, Age, Frontal/Lateral, AP/PA, No Finding, Enlarged Cardiomediastinum, Cardiomegaly,
//   Lung Opacity, Lung Lesion, Edema, Consolidation, Pneumonia, Atelectasis, Pneumothorax,
//   Pleural Effusion, Pleural Other, Fracture, Support Devices
// Observation cells are 1 (positive), 0 (negative), -1 (uncertain) or blank (not mentioned).
// `Path` is relative to the folder that contains "CheXpert-v1.0[-small]/", which is `root` here.
//
// Policies:
// - uncertainty (-1): "zeros" (U-Zeros), "ones" (U-Ones) or "ignore" (label -1 = masked; the loss
//   must skip it, and the confounded-split builder never uses such rows).
// - blank: a MissingPolicy; default {fill: 0}, the usual reading "not mentioned = negative".
// - Sex: Female = 0, Male = 1 ("Unknown" is missing). AP/PA: AP = 0, PA = 1 (LL and RL, the lateral
//   views' codes, are missing). Age: binned by `ageBins` (default [40, 60, 80] -> 4 groups). These
//   use `spurionMissing`.
// Any other value (besides `missingValues`, default the empty cell, NA, N/A, n/a, nan) is an error
// naming the column, the value, its count and its lines: a copy written with other codes must say so.
import { join } from "node:path";
import type { PipelineSpec } from "../pipeline.js";
import { Table } from "../table/csv.js";
import type { TransformSpec } from "../transforms/compose.js";
import { DEFAULT_MISSING_VALUES, type LabelSpec, type MissingPolicy } from "./labels.js";
import { buildFromTable, type SourceResult } from "./manifest.js";

export const CHEXPERT_OBSERVATIONS = [
  "No Finding",
  "Enlarged Cardiomediastinum",
  "Cardiomegaly",
  "Lung Opacity",
  "Lung Lesion",
  "Edema",
  "Consolidation",
  "Pneumonia",
  "Atelectasis",
  "Pneumothorax",
  "Pleural Effusion",
  "Pleural Other",
  "Fracture",
  "Support Devices",
] as const;

export const CHEXPERT_COLUMNS = ["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", ...CHEXPERT_OBSERVATIONS];

/** A spurion from metadata: "Sex", "age" (binned Age), "AP/PA", or any observation column. */
export type ChexpertSpurion = "Sex" | "age" | "AP/PA" | (typeof CHEXPERT_OBSERVATIONS)[number];

export interface ChexpertOptions {
  root: string;
  /** CSV path; relative paths are resolved against root. Default "CheXpert-v1.0-small/train.csv". */
  csv?: string | Table;
  /** Primary task: an observation column. */
  primary: (typeof CHEXPERT_OBSERVATIONS)[number];
  spurions?: ChexpertSpurion[];
  uncertainty?: "zeros" | "ones" | "ignore";
  blank?: MissingPolicy;
  /** Missing spurion values (Sex "Unknown", lateral views without AP/PA, blank Age). Default "skip". */
  spurionMissing?: MissingPolicy;
  frontalOnly?: boolean;
  ageBins?: number[];
  /** Side of the square network input. Default 224. */
  size?: number;
  /** Replaces the default preprocessing (gray -> pad to square -> resize -> [0,1] -> CLAHE). */
  transforms?: TransformSpec[];
  onError?: "skip" | "fatal";
  checkFiles?: boolean;
  /** Cells that count as missing in every label column (default DEFAULT_MISSING_VALUES). */
  missingValues?: readonly string[];
  /** Compare label values ignoring case ("male" = "Male"). */
  caseInsensitive?: boolean;
}

const OBSERVATION_FIX =
  "CheXpert observations are 1, 0, -1 (uncertain) or blank (1.0, 0.0, -1.0 in some releases); add other placeholders for a missing value to data.missing_values";

function observationSpec(
  column: string,
  name: string,
  uncertainty: "zeros" | "ones" | "ignore",
  missing: MissingPolicy,
  reading: Pick<LabelSpec, "missingValues" | "caseInsensitive">,
): LabelSpec {
  const u = uncertainty === "zeros" ? 0 : uncertainty === "ones" ? 1 : -1;
  // CheXpert writes 1.0 / 0.0 / -1.0 in some releases and 1 / 0 / -1 in others.
  const map = { "1": 1, "1.0": 1, "0": 0, "0.0": 0, "-1": u, "-1.0": u };
  return {
    column,
    name,
    map,
    missing,
    classNames: ["negative", "positive"],
    fix: OBSERVATION_FIX,
    ...reading,
  };
}

export function chexpertTransforms(size: number): TransformSpec[] {
  return [
    { type: "channels", channels: 1 },
    { type: "padToSquare" },
    { type: "resize", size: [size, size] },
    { type: "minMax" },
    { type: "clahe", clipLimit: 2, tiles: [8, 8] },
  ];
}

export function chexpert(o: ChexpertOptions): SourceResult {
  const table =
    o.csv instanceof Table
      ? o.csv
      : Table.read(
          o.csv
            ? o.csv.startsWith("/")
              ? o.csv
              : join(o.root, o.csv)
            : join(o.root, "CheXpert-v1.0-small/train.csv"),
        );
  for (const c of ["Path", "Frontal/Lateral", o.primary]) table.columnIndex(c);
  const filtered: Record<string, number> = {};
  let rows = table.rows.map((_, i) => i);
  if (o.frontalOnly ?? true) {
    const fl = table.columnIndex("Frontal/Lateral");
    const before = rows.length;
    rows = rows.filter((r) => table.rows[r][fl].trim() === "Frontal");
    filtered.lateral = before - rows.length;
  }
  const uncertainty = o.uncertainty ?? "zeros";
  const blank = o.blank ?? { fill: 0 };
  const sm = o.spurionMissing ?? "skip";
  const missingValues = o.missingValues ?? DEFAULT_MISSING_VALUES;
  const reading = { missingValues, caseInsensitive: o.caseInsensitive };
  const fix = (coding: string) =>
    `${coding}; add other placeholders for a missing value to data.missing_values`;
  const labels: LabelSpec[] = [observationSpec(o.primary, o.primary, uncertainty, blank, reading)];
  for (const s of o.spurions ?? []) {
    if (s === "Sex")
      labels.push({
        column: "Sex",
        name: "Sex",
        map: { Female: 0, Male: 1 },
        missing: sm,
        ...reading,
        missingValues: [...missingValues, "Unknown"],
        fix: fix("CheXpert's Sex is Female, Male or Unknown (missing)"),
      });
    else if (s === "age")
      labels.push({
        column: "Age",
        name: "age",
        bins: o.ageBins ?? [40, 60, 80],
        missing: sm,
        ...reading,
        fix: fix("CheXpert's Age is a number"),
      });
    else if (s === "AP/PA")
      labels.push({
        column: "AP/PA",
        name: "AP/PA",
        map: { AP: 0, PA: 1 },
        missing: sm,
        ...reading,
        missingValues: [...missingValues, "LL", "RL"],
        fix: fix("CheXpert's AP/PA is AP or PA for frontal views (LL, RL: lateral, missing)"),
      });
    else labels.push(observationSpec(s, s, uncertainty, sm, reading));
  }
  const size = o.size ?? 224;
  const pipeline: PipelineSpec = {
    transforms: o.transforms ?? chexpertTransforms(size),
    onError: o.onError ?? "skip",
  };
  return buildFromTable(
    table,
    rows,
    {
      root: o.root,
      pathColumn: "Path",
      labels,
      pipeline,
      itemShape: [1, size, size],
      name: "chexpert",
      checkFiles: o.checkFiles,
    },
    filtered,
  );
}

// Where everything of a run lives. One folder per run; one sub-folder per method.
import { join } from "node:path";

export const RUN_FILES = {
  config: "config.yaml",
  run: "run.json",
  splitsJson: "splits.json",
  splitsMd: "splits.md",
  summary: "summary.json",
  /** the images left out as unreadable: split, csv, line, path, reason */
  skipped: "skipped.csv",
} as const;

export function methodDir(runDir: string, key: string): string {
  return join(runDir, "methods", key);
}

export const METHOD_FILES = {
  last: "last.safetensors",
  best: "best.safetensors",
  /** the model after a post-training stage (DFR's refitted last layer); evaluated when present */
  final: "final.safetensors",
  metrics: "metrics.jsonl",
  eval: "eval.json",
  audit: "audit.json",
  train: "train.json",
} as const;

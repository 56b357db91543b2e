// config -> data -> method(s) -> train -> evaluate -> audit -> report, into one run folder:
//
//   <run>/config.yaml  resolved configuration       <run>/run.json      the methods of the run
//   <run>/splits.json  group counts (+ tasks)       <run>/splits.md     the same as Markdown tables
//   <run>/methods/<key>/{last,best}.safetensors, metrics.jsonl, train.json, eval.json, audit.json
//   <run>/summary.json, report.html, report.md, report.json
//
// A comparison run trains several methods on the same data and writes ONE report with them side by
// side. Each step's output is a file, so eval / audit / report can be redone from the folder alone.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { type MethodName, parseConfig, type RunConfig } from "../config/index.js";
import { countsToMarkdown, type TaskInfo } from "../data/index.js";
import { afterEvaluation, isWriterRank } from "../dist/run.js";
import { loadCheckpoint } from "../io/checkpoint.js";
import type { Method } from "../methods/method.js";
import { writeReport } from "../report/write.js";
import { manualSeed } from "../tensor/creation.js";
import { checkDeviceName, cudaDeviceCount, cudaIsAvailable, setNumThreads } from "../tensor/runtime.js";
import type { ProgressMode } from "../util/progress.js";
import { oneClassWarning } from "./collapse.js";
import { type PreparedData, type PrepareOptions, prepareData } from "./data.js";
import {
  auditMethod,
  evaluateMethod,
  type MethodAudit,
  type MethodEvaluation,
  splitFor,
} from "./evaluate.js";
import { METHOD_FILES, methodDir, RUN_FILES } from "./layout.js";
import { buildMethod, initEncoderFrom, METHOD_LABELS } from "./method.js";
import { stagePeer } from "./peers.js";
import { buildReport, buildSummary, type DataRecord, type MethodRecord } from "./report-data.js";
import { checkResume, describeChanges } from "./resume.js";
import { skippedCsv } from "./skipped.js";
import { trainMethod } from "./train-method.js";

export interface RunOptions {
  /** default: config.output_dir */
  outDir?: string;
  /** continue from each method's last checkpoint; methods already finished are not retrained */
  resume?: boolean;
  quiet?: boolean;
  signal?: AbortSignal;
  /** methods to compare (default: the config's method) */
  methods?: MethodName[];
  /** stop every method after this many steps (tests) */
  maxSteps?: number;
  /** with resume: continue even though the config differs from the run's (the old one is kept) */
  force?: boolean;
  /** where messages go (default stderr) */
  log?: (message: string) => void;
  /**
   * A compared method's own resolved configuration, where its defaults differ from the run's (the
   * method, model and train sections: MIMM-X's default has its own k and checkpoint rule). Its data,
   * eval, seed and output sections must equal the run's, so the methods still see the same data and
   * are judged alike. Written to methods/<key>/config.yaml; without one a method uses the run config.
   */
  methodConfigs?: Partial<Record<MethodName, RunConfig>>;
}

export interface RunResult {
  status: "completed" | "aborted";
  dir: string;
  summaryPath?: string;
  reportHtml?: string;
  reportMd?: string;
  summary?: ReturnType<typeof buildSummary>;
}

interface RunRecord {
  name: string;
  methods: { key: string; method: MethodName; label: string }[];
  created: string;
}

function progressMode(quiet: boolean | undefined): ProgressMode {
  return quiet ? "quiet" : "auto";
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as T) : undefined;
}

/** The sections a method's own config may change; the rest must be the run's (see methodConfigs). */
const METHOD_SECTIONS = new Set(["method", "model", "train"]);

/** The configuration `name` trains under: its own (checked against the run's) or the run's. */
function configOfMethod(config: RunConfig, name: MethodName, own?: RunConfig): RunConfig {
  if (!own) return config;
  if (own.method.name !== name)
    throw new Error(`internal: the config given for method ${name} is method ${own.method.name}'s`);
  for (const key of Object.keys(config) as (keyof RunConfig)[])
    if (!METHOD_SECTIONS.has(key) && JSON.stringify(own[key]) !== JSON.stringify(config[key]))
      throw new Error(
        `${name}: its own config differs from the run's in "${key}"; compared methods share data, eval and seed`,
      );
  return own;
}

function methodsOf(config: RunConfig, names?: MethodName[]): RunRecord["methods"] {
  const list = names && names.length > 0 ? names : [config.method.name];
  return [...new Set(list)].map((m) => ({ key: m, method: m, label: METHOD_LABELS[m] }));
}

export function dataRecord(data: PreparedData): DataRecord {
  return {
    tasks: data.tasks,
    counts: data.counts,
    description: data.description,
    skipped: data.skipped,
    external: data.external.map((e) => ({ name: e.dataset.name, from: e.from, size: e.dataset.length })),
  };
}

/**
 * Builds the data of a config with a progress line (data prep can take minutes for file sources).
 * Skipped images are always reported, quiet or not: a run must never lose data out of sight.
 */
export async function loadData(
  config: RunConfig,
  quiet?: boolean,
  log = defaultLog,
  options: PrepareOptions = {},
): Promise<PreparedData> {
  const t0 = performance.now();
  if (!quiet) log(`data: building ${config.data.source} splits ...`);
  const data = await prepareData(
    config,
    {
      log: (m) => {
        if (!quiet || m.includes("unreadable")) log(m);
      },
      step: (split, done, total) => {
        if (!quiet && done === total) log(`data: ${split}: ${total} images decoded`);
      },
    },
    options,
  );
  if (!quiet) {
    const sizes = [
      ...Object.entries(data.splits).map(([k, v]) => `${k} ${v?.length}`),
      ...data.external.map((e) => `${e.dataset.name} ${e.dataset.length} (external)`),
    ];
    log(`data: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${sizes.join(", ")})`);
  }
  return data;
}

function defaultLog(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** A method of the run with the weights of its checkpoint (best when the config selects one). */
export function loadTrainedMethod(
  config: RunConfig,
  tasks: TaskInfo[],
  runDir: string,
  key: string,
  method: MethodName,
): Method {
  manualSeed(config.seed);
  const m = buildMethod(config, tasks, method);
  const dir = methodDir(runDir, key);
  const best = join(dir, METHOD_FILES.best);
  const final = join(dir, METHOD_FILES.final); // after a post-training stage (DFR)
  const path = existsSync(final)
    ? final
    : config.train.select_by !== "last" && existsSync(best)
      ? best
      : join(dir, METHOD_FILES.last);
  if (!existsSync(path)) throw new Error(`${key}: no checkpoint at ${path} (train the run first)`);
  const state = loadCheckpoint(path, { model: m.stateModule });
  m.setState((state.method ?? {}) as Record<string, unknown>);
  return m;
}

/**
 * train.device: "cpu" always; "cuda" or "cuda:N" where the libtorch this process loaded has CUDA
 * and sees that device. Refused before anything is written, saying why.
 */
export function checkDevice(
  config: RunConfig,
  hasCuda: () => boolean = cudaIsAvailable,
  deviceCount: () => number = cudaDeviceCount,
): void {
  checkDeviceName(config.train.device, "train.device", "Set train.device: cpu", hasCuda, deviceCount);
}

export async function runExperiment(config: RunConfig, o: RunOptions = {}): Promise<RunResult> {
  checkDevice(config);
  const dir = o.outDir ?? config.output_dir;
  const log = o.log ?? defaultLog;
  const mode = progressMode(o.quiet);
  if (config.train.threads > 0) setNumThreads(config.train.threads);
  // Under a distributed launch only rank 0 writes and reports; the other ranks train their share.
  const writer = isWriterRank();
  if (o.resume) {
    const changes = checkResume(dir, config, o.force ?? false);
    if (changes.length > 0 && writer)
      log(
        `--force: resuming under a changed config (${describeChanges(changes)}); the previous one is kept beside config.yaml`,
      );
  }
  mkdirSync(dir, { recursive: true });
  const configYaml = stringify(config);
  if (writer) writeFileSync(join(dir, RUN_FILES.config), configYaml);
  const previousRecord = o.resume ? readJson<RunRecord>(join(dir, RUN_FILES.run)) : undefined;
  const record: RunRecord = {
    name: config.name,
    methods: methodsOf(config, o.methods),
    created: previousRecord?.created ?? new Date().toISOString(),
  };
  if (writer) writeJson(join(dir, RUN_FILES.run), record);

  // Every data problem (labels, split and oracle feasibility, unreadable images) stops the run
  // here, before any method trains.
  const data = await loadData(config, o.quiet || !writer, log, {
    oracle: record.methods.some((m) => m.method === "oracle"),
  });
  if (writer) {
    writeFileSync(join(dir, RUN_FILES.skipped), skippedCsv(data.skipped));
    writeJson(join(dir, RUN_FILES.splitsJson), dataRecord(data));
    writeFileSync(join(dir, RUN_FILES.splitsMd), data.counts.map(countsToMarkdown).join("\n"));
  }

  // Every method is built (and its encoder initialised) before the first one trains, so a
  // problem with any of them (a pretrained file, a split smaller than a batch) stops the run here.
  const prepared = record.methods.map(({ key, method: name, label }) => {
    const mconfig = configOfMethod(config, name, o.methodConfigs?.[name]);
    if (mconfig !== config) {
      const mdir = methodDir(dir, key);
      if (o.resume && existsSync(join(mdir, RUN_FILES.config))) checkResume(mdir, mconfig, o.force ?? false);
      if (writer) {
        mkdirSync(mdir, { recursive: true });
        writeFileSync(join(mdir, RUN_FILES.config), stringify(mconfig));
      }
    }
    manualSeed(config.seed);
    const method = buildMethod(mconfig, data.tasks, name);
    if (config.model.pretrained) {
      const prefix = initEncoderFrom(method, config.model.pretrained);
      if (!o.quiet)
        log(`${label}: encoder initialised from ${config.model.pretrained}${prefix ? ` (${prefix}*)` : ""}`);
    }
    const trainSet = name === "oracle" ? data.splits.train_oracle : data.splits.train;
    // prepareData builds train_oracle whenever oracle is among the methods, or stops the run.
    if (!trainSet) throw new Error(`internal: no ${name === "oracle" ? "train_oracle" : "train"} split`);
    if (trainSet.length < mconfig.train.batch_size)
      throw new Error(
        `${label}: the training split ${trainSet.name} holds ${trainSet.length} images, fewer than one batch (train.batch_size ${mconfig.train.batch_size}); nothing was trained`,
      );
    return { key, name, label, method, trainSet, mconfig };
  });
  const results: MethodRecord[] = [];
  for (const { key, name, label, method, trainSet, mconfig } of prepared) {
    const mdir = methodDir(dir, key);
    mkdirSync(mdir, { recursive: true });
    const trainPath = join(mdir, METHOD_FILES.train);
    if (!o.quiet)
      log(
        `${label}: training on ${trainSet.name} (${trainSet.length} images, ${mconfig.train.epochs} epochs)`,
      );
    // Peers with more than one stage (subsample, reweight, jtt, dfr: src/run/peers.ts).
    const stage = await stagePeer({
      config: mconfig,
      method,
      tasks: data.tasks,
      trainSet,
      validation: data.splits.validation,
      dir: mdir,
      label: key,
      resume: o.resume,
      signal: o.signal,
      progressMode: mode,
      maxSteps: o.maxSteps,
      log: (m) => {
        if (!o.quiet) log(m);
      },
    });
    if (stage.status === "aborted") {
      log(`${label}: interrupted in its first stage; continue with --resume.`);
      return { status: "aborted", dir };
    }
    const result = await trainMethod({
      config: mconfig,
      method,
      trainSet: stage.trainSet,
      validation: stage.validation,
      sampleWeights: stage.sampleWeights,
      dir: mdir,
      label: key,
      resume: o.resume,
      signal: o.signal,
      progressMode: mode,
      maxSteps: o.maxSteps,
    });
    const train = {
      status: result.status,
      epochs: result.epochs,
      globalStep: result.globalStep,
      best: result.best,
      nonFiniteTerm: result.nonFiniteTerm,
      // Summed over every session of the run by the training loop (it is kept in the checkpoint).
      seconds: result.seconds,
      ...stage.record,
    };
    if (!writer) {
      if (result.status === "aborted") return { status: "aborted", dir };
      afterEvaluation(); // rank 0 evaluates, audits and writes this method meanwhile
      continue;
    }
    writeJson(trainPath, train);
    if (result.status === "aborted") {
      log(
        `${label}: interrupted at step ${result.globalStep}; checkpoint saved in ${mdir}. Continue with --resume.`,
      );
      return { status: "aborted", dir };
    }
    if (result.status === "non-finite")
      log(`${label}: stopped: NaN/Inf in ${result.nonFiniteTerm}; evaluating the last good weights`);
    const trained =
      mconfig.train.select_by !== "last" && result.bestCheckpoint
        ? loadTrainedMethod(mconfig, data.tasks, dir, key, name)
        : method;
    if (stage.finish) {
      const tFinish = performance.now();
      Object.assign(train, stage.finish(trained));
      train.seconds = result.seconds + (performance.now() - tFinish) / 1000;
      writeJson(trainPath, train);
    }
    // DFR's head was fitted on part of validation: its reported validation numbers are the other part's.
    const evalData =
      stage.validation === data.splits.validation
        ? data
        : { ...data, splits: { ...data.splits, validation: stage.validation } };
    const { evaluation, audit } = evaluateAndAudit(trained, evalData, mconfig, mdir, key, mode);
    const collapsed = oneClassWarning(evaluation, label);
    if (collapsed) {
      // Said even when quiet, and kept with the method's training record.
      log(`warning: ${collapsed}`);
      Object.assign(train, { warnings: [collapsed] });
      writeJson(trainPath, train);
    }
    afterEvaluation();
    results.push({
      key,
      method: name,
      label,
      train,
      evaluation,
      audit,
      metricsPath: join(mdir, METHOD_FILES.metrics),
    });
  }
  if (!writer) return { status: "completed", dir };
  return finishReport(config, configYaml, dir, dataRecord(data), results);
}

function evaluateAndAudit(
  method: Method,
  data: PreparedData,
  config: RunConfig,
  mdir: string,
  label: string,
  mode: ProgressMode,
): { evaluation: MethodEvaluation; audit?: MethodAudit } {
  const { evaluation, outputs, auditSplit } = evaluateMethod(method, data, config, {
    label,
    progressMode: mode,
  });
  writeJson(join(mdir, METHOD_FILES.eval), evaluation);
  let audit: MethodAudit | undefined;
  const out = outputs.get(auditSplit);
  if (config.eval.mi_audit.enabled && method.tasks.length > 1 && out) {
    audit = auditMethod(method, out, config, {
      label,
      progressMode: mode,
      labels: splitFor(data, auditSplit).labels,
      split: auditSplit,
    });
    writeJson(join(mdir, METHOD_FILES.audit), audit);
  }
  return { evaluation, audit };
}

async function finishReport(
  config: RunConfig,
  configYaml: string,
  dir: string,
  data: DataRecord,
  results: MethodRecord[],
): Promise<RunResult> {
  const report = buildReport(config, configYaml, data, results);
  const written = await writeReport(dir, report);
  const summary = buildSummary(report, results, {
    config: RUN_FILES.config,
    report: { html: "report.html", markdown: "report.md" },
  });
  const summaryPath = join(dir, RUN_FILES.summary);
  writeJson(summaryPath, summary);
  return {
    status: "completed",
    dir,
    summaryPath,
    reportHtml: written.html,
    reportMd: written.markdown,
    summary,
  };
}

// ---------------------------------------------------------------------------------------------
// Working on an existing run folder (mimmx eval / audit / report / export)

export interface LoadedRun {
  dir: string;
  config: RunConfig;
  configYaml: string;
  record: RunRecord;
}

/** The configuration a method of a run trained under: methods/<key>/config.yaml, or the run's. */
export function methodConfigFromRun(run: LoadedRun, key: string): RunConfig {
  const path = join(methodDir(run.dir, key), RUN_FILES.config);
  return existsSync(path) ? parseConfig(readFileSync(path, "utf8"), path) : run.config;
}

export function openRun(dir: string): LoadedRun {
  const configPath = join(dir, RUN_FILES.config);
  if (!existsSync(configPath)) throw new Error(`${dir} is not a run folder (no ${RUN_FILES.config})`);
  const configYaml = readFileSync(configPath, "utf8");
  const config = parseConfig(configYaml, configPath);
  const record = readJson<RunRecord>(join(dir, RUN_FILES.run)) ?? {
    name: config.name,
    methods: methodsOf(config),
    created: "",
  };
  return { dir, config, configYaml, record };
}

function recordsOf(run: LoadedRun): MethodRecord[] {
  return run.record.methods.map(({ key, method, label }) => {
    const mdir = methodDir(run.dir, key);
    return {
      key,
      method,
      label,
      train: readJson(join(mdir, METHOD_FILES.train)),
      evaluation: readJson(join(mdir, METHOD_FILES.eval)),
      audit: readJson(join(mdir, METHOD_FILES.audit)),
      metricsPath: join(mdir, METHOD_FILES.metrics),
    };
  });
}

/** Re-evaluates (and with `audit`, re-audits) every method of a run from its checkpoints. */
export async function reevaluateRun(
  dir: string,
  o: { quiet?: boolean; evaluate?: boolean; audit?: boolean; log?: (m: string) => void } = {},
): Promise<RunResult> {
  const run = openRun(dir);
  const log = o.log ?? defaultLog;
  const mode = progressMode(o.quiet);
  const data = await loadData(run.config, o.quiet, log);
  const records = recordsOf(run);
  for (const r of records) {
    const mconfig = methodConfigFromRun(run, r.key);
    const method = loadTrainedMethod(mconfig, data.tasks, dir, r.key, r.method as MethodName);
    const mdir = methodDir(dir, r.key);
    const { evaluation, outputs, auditSplit } = evaluateMethod(method, data, mconfig, {
      label: r.key,
      progressMode: mode,
    });
    if (o.evaluate !== false) {
      r.evaluation = evaluation;
      writeJson(join(mdir, METHOD_FILES.eval), evaluation);
    }
    const out = outputs.get(auditSplit);
    if (o.audit && out && method.tasks.length > 1) {
      r.audit = auditMethod(method, out, mconfig, {
        label: r.key,
        progressMode: mode,
        labels: splitFor(data, auditSplit).labels,
        split: auditSplit,
      });
      writeJson(join(mdir, METHOD_FILES.audit), r.audit);
    }
  }
  return finishReport(run.config, run.configYaml, dir, dataRecordFromRun(run) ?? dataRecord(data), records);
}

export function dataRecordFromRun(run: LoadedRun): DataRecord | undefined {
  return readJson<DataRecord>(join(run.dir, RUN_FILES.splitsJson));
}

/** Re-renders report and summary from the files of a run (no model, no data). */
export async function reportRun(dir: string): Promise<RunResult> {
  const run = openRun(dir);
  const data = dataRecordFromRun(run);
  if (!data) throw new Error(`${dir}: no ${RUN_FILES.splitsJson}; run \`mimmx eval --run ${dir}\` first`);
  return finishReport(run.config, run.configYaml, dir, data, recordsOf(run));
}

// Progress reporting for long runs. On a terminal: one line on stderr, redrawn in place, with a bar,
// rate and ETA. Redirected to a file or CI log: a plain line every few seconds, because carriage
// returns turn a log into one unreadable line and a line per step floods it. Quiet: nothing.

export type ProgressMode = "auto" | "tty" | "plain" | "quiet";

/** The part of a stream we use; process.stderr satisfies it. */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type ProgressInfo = Record<string, string | number | null | undefined>;

export interface ProgressOptions {
  /** Total units of work; absent = unknown (no bar or ETA, only count and rate). */
  total?: number;
  /** Printed first, e.g. "epoch 3/10". */
  label?: string;
  /** Unit name for counts and rate (default "step"). */
  unit?: string;
  stream?: ProgressStream;
  /** auto (default): tty when the stream is a terminal, else plain. */
  mode?: ProgressMode;
  /** Plain mode: at most one line per this many ms (default 5000). */
  plainIntervalMs?: number;
  /** TTY mode: at most one redraw per this many ms (default 100). */
  ttyIntervalMs?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** 75 s -> "1:15", 3725 s -> "1:02:05". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

function formatInfo(info: ProgressInfo | undefined): string {
  if (!info) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(info)) {
    if (v === undefined || v === null) continue;
    const text =
      typeof v === "number"
        ? Number.isInteger(v)
          ? String(v)
          : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3
            ? v.toExponential(2)
            : v.toPrecision(4)
        : v;
    parts.push(`${k}=${text}`);
  }
  return parts.join(" ");
}

function plural(unit: string): string {
  return /(s|x|ch|sh)$/.test(unit) ? `${unit}es` : `${unit}s`;
}

function formatRate(rate: number, unit: string): string {
  if (!(rate > 0)) return `– ${unit}/s`;
  // Slow work reads better as seconds per unit (a published MI step takes ~14 s).
  return rate >= 1 ? `${rate.toFixed(rate >= 100 ? 0 : 1)} ${unit}/s` : `${(1 / rate).toFixed(1)} s/${unit}`;
}

export class Progress {
  private readonly total: number | undefined;
  private readonly label: string;
  private readonly unit: string;
  private readonly stream: ProgressStream;
  private readonly mode: Exclude<ProgressMode, "auto">;
  private readonly now: () => number;
  private readonly plainInterval: number;
  private readonly ttyInterval: number;
  private readonly start: number;
  private done = 0;
  private info: ProgressInfo | undefined;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lineShown = false;
  private finished = false;
  /** Recent (time, done) samples: the rate follows the current speed, not the run's average. */
  private samples: [number, number][] = [];

  constructor(options: ProgressOptions = {}) {
    this.total = options.total;
    this.label = options.label ?? "";
    this.unit = options.unit ?? "step";
    this.stream = options.stream ?? process.stderr;
    const mode = options.mode ?? "auto";
    this.mode = mode === "auto" ? (this.stream.isTTY ? "tty" : "plain") : mode;
    this.now = options.now ?? (() => performance.now());
    this.plainInterval = options.plainIntervalMs ?? 5000;
    this.ttyInterval = options.ttyIntervalMs ?? 100;
    this.start = this.now();
    this.samples.push([this.start, 0]);
  }

  /** Units done per second over the last ~30 s (whole-run average before that). */
  rate(): number {
    const t = this.now();
    const first = this.samples[0];
    const dt = (t - first[0]) / 1000;
    return dt > 0 ? (this.done - first[1]) / dt : 0;
  }

  /** Seconds left at the current rate; undefined without a total or a rate. */
  eta(): number | undefined {
    const r = this.rate();
    if (this.total === undefined || !(r > 0)) return undefined;
    return Math.max(0, this.total - this.done) / r;
  }

  /** Sets the absolute count of units done. */
  update(done: number, info?: ProgressInfo): void {
    if (this.finished) return;
    this.done = done;
    if (info) this.info = info;
    const t = this.now();
    this.samples.push([t, done]);
    while (this.samples.length > 2 && t - this.samples[1][0] > 30_000) this.samples.shift();
    if (this.samples.length > 64) this.samples.splice(1, this.samples.length - 64);
    this.maybeDraw(t);
  }

  tick(n = 1, info?: ProgressInfo): void {
    this.update(this.done + n, info);
  }

  /** Prints a message line without breaking the progress line (TTY: above it). */
  log(message: string): void {
    if (this.mode === "quiet") return;
    if (this.mode === "tty" && this.lineShown) {
      this.stream.write(`\r\x1b[K${message}\n`);
      this.draw(this.now());
    } else {
      this.stream.write(`${message}\n`);
    }
  }

  /** Final line with the total time and mean rate; later updates are ignored. */
  finish(info?: ProgressInfo): void {
    if (this.finished) return;
    if (info) this.info = info;
    this.finished = true;
    if (this.mode === "quiet") return;
    const elapsed = (this.now() - this.start) / 1000;
    const mean = elapsed > 0 ? this.done / elapsed : 0;
    const count = this.total !== undefined ? `${this.done}/${this.total}` : `${this.done}`;
    const text = [
      this.label,
      `${count} ${plural(this.unit)} in ${formatDuration(elapsed)}`,
      `(${formatRate(mean, this.unit)})`,
      formatInfo(this.info),
    ]
      .filter(Boolean)
      .join(" ");
    this.stream.write(this.mode === "tty" ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.lineShown = false;
  }

  private maybeDraw(t: number): void {
    if (this.mode === "quiet") return;
    const interval = this.mode === "tty" ? this.ttyInterval : this.plainInterval;
    const complete = this.total !== undefined && this.done >= this.total;
    // Plain logs: the first update, then every interval; TTY: throttled redraws.
    if (t - this.lastDraw >= interval || (complete && this.mode === "tty")) this.draw(t);
  }

  /** The status text without bar: "label 45% 450/1000 steps 12.3 step/s ETA 0:45 loss=0.1". */
  statusText(): string {
    const pct = this.total ? `${Math.floor((100 * this.done) / this.total)}%` : "";
    const count =
      this.total !== undefined ? `${this.done}/${this.total}` : `${this.done} ${plural(this.unit)}`;
    const eta = this.eta();
    return [
      this.label,
      pct,
      count,
      formatRate(this.rate(), this.unit),
      eta !== undefined ? `ETA ${formatDuration(eta)}` : "",
      formatInfo(this.info),
    ]
      .filter(Boolean)
      .join(" ");
  }

  private draw(t: number): void {
    this.lastDraw = t;
    if (this.mode === "plain") {
      this.stream.write(`${this.statusText()}\n`);
      return;
    }
    const cols = this.stream.columns ?? 100;
    let line = this.statusText();
    if (this.total) {
      const width = Math.max(10, Math.min(30, cols - line.length - 4));
      const filled = Math.round((width * Math.min(this.done, this.total)) / this.total);
      const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
      line = this.label ? line.replace(this.label, `${this.label} ${bar}`) : `${bar} ${line}`;
    }
    // Never wrap: a wrapped line cannot be redrawn with \r.
    if (line.length > cols - 1) line = `${line.slice(0, cols - 2)}…`;
    this.stream.write(`\r\x1b[K${line}`);
    this.lineShown = true;
  }
}

// Minimal inline-SVG charts for the HTML report. No dependencies and no scripts: the report must
// open offline, years later, in any browser, and print. Every chart is a string of SVG markup with
// a viewBox, so it scales with the page. All text passes through escapeXml.

export const PALETTE = [
  // Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#B8A000",
];
/** Dash patterns used once the palette repeats, so series 9+ stay distinguishable. */
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];

const FONT =
  "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif\"";

export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );
}

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

function dash(i: number): string {
  const d = DASHES[Math.floor(i / PALETTE.length) % DASHES.length];
  return d ? ` stroke-dasharray="${d}"` : "";
}

/** Rounds to 2 decimals: enough for screen pixels, keeps the markup small. */
function r2(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** "Nice" tick values (steps of 1, 2 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  // Round the raw step to the nearest of 1, 2, 5, 10 on a log scale (thresholds at the geometric
  // midpoints), so the tick count stays close to `count` instead of halving at f just above 2.
  const step = (f >= Math.sqrt(50) ? 10 : f >= Math.sqrt(10) ? 5 : f >= Math.sqrt(2) ? 2 : 1) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number.parseFloat(v.toPrecision(12)));
  }
  return ticks;
}

export function formatTick(v: number, ticks: number[], percent = false): string {
  if (percent) {
    const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) * 100 : 10;
    return `${(v * 100).toFixed(step < 1 ? 1 : 0)}%`;
  }
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0);
  // With a single tick there is no step to size the decimals; show up to 3 significant digits.
  if (ticks.length < 2) return Number.parseFloat(v.toPrecision(3)).toString();
  const step = Math.abs(ticks[1] - ticks[0]);
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

/** Rough text width in px for the system sans-serif at `size` px (layout only, not exact). */
function textWidth(s: string, size: number): number {
  return s.length * size * 0.56;
}

export interface LegendItem {
  name: string;
  colour: string;
  dash?: string;
  /** Draw a dot instead of a line sample. */
  dot?: boolean;
}

/** Lays out legend items in rows that fit `width`; returns markup and the height used. */
function legend(items: LegendItem[], x0: number, y0: number, width: number): { svg: string; height: number } {
  let x = x0;
  let y = y0;
  const parts: string[] = [];
  for (const it of items) {
    const label = it.name.length > 40 ? `${it.name.slice(0, 39)}…` : it.name;
    const w = 22 + textWidth(label, 11) + 14;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += 16;
    }
    const sample = it.dot
      ? `<circle cx="${r2(x + 7)}" cy="${r2(y - 4)}" r="4" fill="${it.colour}"/>`
      : `<line x1="${r2(x)}" y1="${r2(y - 4)}" x2="${r2(x + 16)}" y2="${r2(y - 4)}" stroke="${it.colour}" stroke-width="2.5"${it.dash ? ` stroke-dasharray="${it.dash}"` : ""}/>`;
    parts.push(
      `${sample}<text x="${r2(x + 22)}" y="${r2(y)}" font-size="11" fill="#333">${escapeXml(label)}</text>`,
    );
    x += w;
  }
  return { svg: `<g class="legend">${parts.join("")}</g>`, height: items.length ? y - y0 + 16 : 0 };
}

function open(width: number, height: number, title?: string, ariaLabel?: string): string {
  const label = ariaLabel ?? title ?? "chart";
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(label)}" ${FONT}>${title ? `<title>${escapeXml(title)}</title>` : ""}`;
}

function titleText(title: string | undefined, width: number): string {
  return title
    ? `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="600" fill="#222">${escapeXml(title)}</text>`
    : "";
}

// ---------------------------------------------------------------------------------------------
// Line chart

export interface LineSeries {
  name: string;
  x?: number[];
  y: (number | null)[];
}

export interface LineChartOptions {
  series: LineSeries[];
  title?: string;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis; non-positive values become gaps. */
  logY?: boolean;
  /** Fixed y range; default: the data range, padded. */
  yDomain?: [number, number];
  /** Format y ticks as percentages (values are fractions). */
  percent?: boolean;
  /** x positions when a series has none: first x (default 1, i.e. epochs). */
  xStart?: number;
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 300;
  const ml = 58;
  const mr = 16;
  const xStart = o.xStart ?? 1;
  const series = o.series.map((s) => ({
    name: s.name,
    pts: s.y.map(
      (v, i) =>
        [s.x?.[i] ?? xStart + i, v === null || !Number.isFinite(v) || (o.logY && v <= 0) ? null : v] as [
          number,
          number | null,
        ],
    ),
  }));
  const leg = legend(
    series.map((s, i) => ({
      name: s.name,
      colour: colour(i),
      dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
    })),
    ml,
    o.title ? 36 : 14,
    width - ml - mr,
  );
  const mt = (o.title ? 28 : 6) + leg.height + 6;
  const mb = o.xLabel ? 44 : 28;
  const pw = width - ml - mr;
  const ph = height - mt - mb;

  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series)
    for (const [x, y] of s.pts)
      if (y !== null) {
        xs.push(x);
        ys.push(o.logY ? Math.log10(y) : y);
      }
  let svg = open(width, height, o.title) + titleText(o.title, width) + leg.svg;
  if (xs.length === 0) {
    svg += `<text x="${width / 2}" y="${mt + ph / 2}" text-anchor="middle" font-size="12" fill="#777">no data</text></svg>`;
    return svg;
  }
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x0 === x1) {
    x0 -= 1;
    x1 += 1;
  }
  let y0: number;
  let y1: number;
  if (o.yDomain) {
    [y0, y1] = o.logY ? [Math.log10(o.yDomain[0]), Math.log10(o.yDomain[1])] : o.yDomain;
  } else {
    y0 = Math.min(...ys);
    y1 = Math.max(...ys);
    const pad = y0 === y1 ? Math.max(Math.abs(y0) * 0.1, 0.5) : (y1 - y0) * 0.06;
    y0 -= pad;
    y1 += pad;
  }
  const sx = (x: number) => ml + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => mt + ph - ((y - y0) / (y1 - y0)) * ph;

  // Grid and axes.
  const parts: string[] = [];
  const yTicks = o.logY ? logTicks(y0, y1) : niceTicks(y0, y1, Math.max(2, Math.round(ph / 50)));
  for (const t of yTicks) {
    const py = sy(t);
    if (py < mt - 0.5 || py > mt + ph + 0.5) continue;
    const label = o.logY ? formatLog(t) : formatTick(t, yTicks, o.percent);
    parts.push(`<line x1="${ml}" y1="${r2(py)}" x2="${ml + pw}" y2="${r2(py)}" stroke="#e6e6e6"/>`);
    parts.push(
      `<text x="${ml - 6}" y="${r2(py + 4)}" text-anchor="end" font-size="10.5" fill="#555">${escapeXml(label)}</text>`,
    );
  }
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.round(pw / 80)));
  for (const t of xTicks) {
    const px = sx(t);
    parts.push(`<line x1="${r2(px)}" y1="${mt + ph}" x2="${r2(px)}" y2="${mt + ph + 4}" stroke="#888"/>`);
    parts.push(
      `<text x="${r2(px)}" y="${mt + ph + 16}" text-anchor="middle" font-size="10.5" fill="#555">${escapeXml(formatTick(t, xTicks))}</text>`,
    );
  }
  parts.push(`<line x1="${ml}" y1="${mt + ph}" x2="${ml + pw}" y2="${mt + ph}" stroke="#888"/>`);
  parts.push(`<line x1="${ml}" y1="${mt}" x2="${ml}" y2="${mt + ph}" stroke="#888"/>`);
  if (o.xLabel)
    parts.push(
      `<text x="${ml + pw / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#333">${escapeXml(o.xLabel)}</text>`,
    );
  if (o.yLabel) {
    parts.push(
      `<text transform="translate(13 ${mt + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">${escapeXml(o.yLabel)}</text>`,
    );
  }

  // Series: one path per run of non-null points; isolated points get a dot so they stay visible.
  // Ids share one namespace across all inline SVGs of a page; deriving the id from the rectangle
  // keeps output deterministic, and two charts sharing an id then share an identical clip anyway.
  const clip = `clip-${r2(ml)}-${r2(mt)}-${r2(pw)}-${r2(ph)}`.replace(/\./g, "_");
  parts.push(
    `<clipPath id="${clip}"><rect x="${ml}" y="${mt}" width="${pw}" height="${ph}"/></clipPath><g clip-path="url(#${clip})">`,
  );
  series.forEach((s, i) => {
    const c = colour(i);
    let d = "";
    let run = 0;
    const pts = s.pts;
    const dots = pts.filter(([, y]) => y !== null).length <= 30;
    pts.forEach(([x, y], k) => {
      if (y === null) {
        run = 0;
        return;
      }
      const py = sy(o.logY ? Math.log10(y) : y);
      d += `${run === 0 ? "M" : "L"}${r2(sx(x))} ${r2(py)}`;
      run++;
      const prevNull = k === 0 || pts[k - 1][1] === null;
      const nextNull = k === pts.length - 1 || pts[k + 1][1] === null;
      if (dots || (prevNull && nextNull))
        parts.push(`<circle cx="${r2(sx(x))}" cy="${r2(py)}" r="2.4" fill="${c}"/>`);
    });
    if (d)
      parts.push(
        `<path d="${d}" fill="none" stroke="${c}" stroke-width="1.8" stroke-linejoin="round"${dash(i)}/>`,
      );
  });
  parts.push("</g>");
  return `${svg}${parts.join("")}</svg>`;
}

function logTicks(y0: number, y1: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(y0); e <= Math.floor(y1); e++) out.push(e);
  // Less than a decade: fall back to linear ticks on the exponent.
  return out.length >= 2 ? out : niceTicks(y0, y1, 4);
}

function formatLog(e: number): string {
  const v = 10 ** e;
  return Number.isInteger(e) ? (Math.abs(e) <= 3 ? `${v}` : `1e${e}`) : v.toPrecision(2);
}

// ---------------------------------------------------------------------------------------------
// Grouped bar chart

export interface BarSeries {
  name: string;
  values: (number | null)[];
  /** Optional interval per bar, drawn as a whisker. */
  errors?: ({ low: number; high: number } | null | undefined)[];
}

export interface BarChartOptions {
  /** Category labels along x (e.g. split names); each holds one bar per series (method). */
  categories: string[];
  series: BarSeries[];
  title?: string;
  width?: number;
  height?: number;
  yLabel?: string;
  yDomain?: [number, number];
  percent?: boolean;
  /** Horizontal reference lines, e.g. chance level. */
  references?: { value: number; label: string }[];
  /** Print the value above each bar (default true when there are at most 16 bars). */
  valueLabels?: boolean;
}

export function groupedBarChart(o: BarChartOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 300;
  const ml = 52;
  const mr = 16;
  const leg = legend(
    o.series.map((s, i) => ({ name: s.name, colour: colour(i), dot: true })),
    ml,
    o.title ? 36 : 14,
    width - ml - mr,
  );
  const mt = (o.title ? 28 : 6) + leg.height + 10;
  const mb = 34;
  const pw = width - ml - mr;
  const ph = height - mt - mb;
  const all = o.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const [y0, y1] = o.yDomain ?? [Math.min(0, ...all), Math.max(1e-9, ...all) * 1.08];
  const sy = (v: number) => mt + ph - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0)) * ph;
  const nCat = Math.max(1, o.categories.length);
  const nSer = Math.max(1, o.series.length);
  const band = pw / nCat;
  const barW = Math.min(38, (band * 0.8) / nSer);
  const showValues = o.valueLabels ?? nCat * nSer <= 16;

  const parts: string[] = [open(width, height, o.title), titleText(o.title, width), leg.svg];
  // Percentages stop at 100% even when the domain leaves headroom for value labels.
  const ticks = niceTicks(y0, o.percent ? Math.min(y1, 1) : y1, Math.max(2, Math.round(ph / 45)));
  for (const t of ticks) {
    const py = sy(t);
    parts.push(`<line x1="${ml}" y1="${r2(py)}" x2="${ml + pw}" y2="${r2(py)}" stroke="#e6e6e6"/>`);
    parts.push(
      `<text x="${ml - 6}" y="${r2(py + 4)}" text-anchor="end" font-size="10.5" fill="#555">${escapeXml(formatTick(t, ticks, o.percent))}</text>`,
    );
  }
  o.categories.forEach((cat, ci) => {
    const cx = ml + band * ci + band / 2;
    const groupW = barW * nSer;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      const x = cx - groupW / 2 + si * barW;
      if (v === null || v === undefined || !Number.isFinite(v)) {
        parts.push(
          `<text x="${r2(x + barW / 2)}" y="${r2(mt + ph - 4)}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`,
        );
        return;
      }
      const top = sy(v);
      const base = sy(Math.max(y0, 0));
      parts.push(
        `<rect x="${r2(x + 1)}" y="${r2(Math.min(top, base))}" width="${r2(barW - 2)}" height="${r2(Math.abs(base - top))}" fill="${colour(si)}" rx="1.5"><title>${escapeXml(`${s.name}, ${cat}: ${o.percent ? `${(v * 100).toFixed(1)}%` : v.toPrecision(3)}`)}</title></rect>`,
      );
      const e = s.errors?.[ci];
      if (e && Number.isFinite(e.low) && Number.isFinite(e.high)) {
        const xm = x + barW / 2;
        parts.push(
          `<path d="M${r2(xm)} ${r2(sy(e.low))}V${r2(sy(e.high))}M${r2(xm - 3)} ${r2(sy(e.low))}h6M${r2(xm - 3)} ${r2(sy(e.high))}h6" stroke="#222" stroke-width="1"/>`,
        );
      }
      if (showValues) {
        const label = o.percent ? `${(v * 100).toFixed(0)}%` : v.toPrecision(2);
        const ly = Math.min(top, e ? sy(e.high) : top) - 3;
        parts.push(
          `<text x="${r2(x + barW / 2)}" y="${r2(Math.max(mt + 8, ly))}" text-anchor="middle" font-size="9.5" fill="#333">${escapeXml(label)}</text>`,
        );
      }
    });
    parts.push(
      `<text x="${r2(cx)}" y="${mt + ph + 16}" text-anchor="middle" font-size="11" fill="#333">${escapeXml(cat)}</text>`,
    );
  });
  for (const ref of o.references ?? []) {
    const py = sy(ref.value);
    parts.push(
      `<line x1="${ml}" y1="${r2(py)}" x2="${ml + pw}" y2="${r2(py)}" stroke="#666" stroke-dasharray="4 3"/>`,
    );
    // White halo keeps the label readable where it crosses a bar.
    parts.push(
      `<text x="${ml + pw - 2}" y="${r2(py - 4)}" text-anchor="end" font-size="10" fill="#444" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(ref.label)}</text>`,
    );
  }
  parts.push(
    `<line x1="${ml}" y1="${r2(sy(Math.max(y0, 0)))}" x2="${ml + pw}" y2="${r2(sy(Math.max(y0, 0)))}" stroke="#888"/>`,
  );
  if (o.yLabel) {
    parts.push(
      `<text transform="translate(13 ${mt + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">${escapeXml(o.yLabel)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}

// ---------------------------------------------------------------------------------------------
// Scatter plot

export interface ScatterOptions {
  x: number[];
  y: number[];
  /** Category index per point (colour). */
  labels: number[];
  classNames?: string[];
  title?: string;
  /** Second title line in grey, e.g. a cluster score. */
  subtitle?: string;
  width?: number;
  height?: number;
  radius?: number;
}

export function scatterPlot(o: ScatterOptions): string {
  const width = o.width ?? 320;
  const height = o.height ?? 320;
  const n = Math.min(o.x.length, o.y.length, o.labels.length);
  const classes = [...new Set(o.labels.slice(0, n))].sort((a, b) => a - b);
  const leg = legend(
    classes.map((c) => ({ name: o.classNames?.[c] ?? String(c), colour: colour(c), dot: true })),
    10,
    (o.title ? 36 : 14) + (o.subtitle ? 14 : 0),
    width - 20,
  );
  const mt = (o.title ? 28 : 6) + (o.subtitle ? 14 : 0) + leg.height + 4;
  const m = 10;
  const pw = width - 2 * m;
  const ph = height - mt - m;
  const parts: string[] = [open(width, height, o.title), titleText(o.title, width)];
  if (o.subtitle)
    parts.push(
      `<text x="${width / 2}" y="31" text-anchor="middle" font-size="10.5" fill="#666">${escapeXml(o.subtitle)}</text>`,
    );
  parts.push(leg.svg);
  parts.push(`<rect x="${m}" y="${mt}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ddd"/>`);
  if (n > 0) {
    let x0 = Number.POSITIVE_INFINITY;
    let x1 = Number.NEGATIVE_INFINITY;
    let y0 = Number.POSITIVE_INFINITY;
    let y1 = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, o.x[i]);
      x1 = Math.max(x1, o.x[i]);
      y0 = Math.min(y0, o.y[i]);
      y1 = Math.max(y1, o.y[i]);
    }
    // Equal scale on both axes: t-SNE distances are isotropic, stretching one axis misleads.
    const span = Math.max(x1 - x0, y1 - y0, 1e-9) * 1.06;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const s = Math.min(pw, ph) / span;
    const ox = m + pw / 2;
    const oy = mt + ph / 2;
    const r = o.radius ?? (n > 600 ? 1.8 : 2.6);
    // Draw points in a fixed interleaved order (by index), not grouped by class, so the last
    // class drawn does not hide the others where they overlap.
    for (let i = 0; i < n; i++) {
      const px = ox + (o.x[i] - cx) * s;
      const py = oy - (o.y[i] - cy) * s;
      parts.push(
        `<circle cx="${r2(px)}" cy="${r2(py)}" r="${r}" fill="${colour(o.labels[i])}" fill-opacity="0.75"/>`,
      );
    }
  }
  parts.push("</svg>");
  return parts.join("");
}

// ---------------------------------------------------------------------------------------------
// Heat colours and heat maps

/**
 * Background colour for a value in [min, max] on a white-to-blue ramp (light enough that black
 * text stays readable at the top end).
 */
export function heatColour(value: number, min: number, max: number): string {
  if (!Number.isFinite(value)) return "#ffffff";
  const t = max > min ? Math.min(1, Math.max(0, (value - min) / (max - min))) : 0;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 120)}, ${mix(255, 170)}, ${mix(255, 220)})`;
}

/**
 * Diverging colour for a signed deviation (e.g. probe accuracy minus chance): white at 0, red for
 * positive (leakage), never more saturated than a readable pastel.
 */
export function deviationColour(deviation: number, scale: number): string {
  if (!Number.isFinite(deviation)) return "#ffffff";
  const t = Math.min(1, Math.max(0, deviation / scale));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 240)}, ${mix(255, 150)}, ${mix(255, 140)})`;
}

export interface HeatmapOptions {
  rows: string[];
  columns: string[];
  /** values[row][column]. */
  values: number[][];
  title?: string;
  format?: (v: number) => string;
  cell?: number;
}

/** A small annotated heat map (e.g. a confusion matrix). */
export function heatmap(o: HeatmapOptions): string {
  const cell = o.cell ?? 44;
  const labelW = Math.max(40, ...o.rows.map((r) => textWidth(r, 11) + 10));
  const top = (o.title ? 28 : 6) + 18;
  const width = labelW + cell * o.columns.length + 8;
  const height = top + cell * o.rows.length + 6;
  const flat = o.values.flat().filter(Number.isFinite);
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  const fmt = o.format ?? ((v: number) => String(v));
  const parts: string[] = [open(width, height, o.title), titleText(o.title, width)];
  o.columns.forEach((c, j) => {
    parts.push(
      `<text x="${r2(labelW + cell * j + cell / 2)}" y="${top - 6}" text-anchor="middle" font-size="11" fill="#333">${escapeXml(c)}</text>`,
    );
  });
  o.rows.forEach((rname, i) => {
    parts.push(
      `<text x="${r2(labelW - 6)}" y="${r2(top + cell * i + cell / 2 + 4)}" text-anchor="end" font-size="11" fill="#333">${escapeXml(rname)}</text>`,
    );
    o.columns.forEach((_, j) => {
      const v = o.values[i]?.[j] ?? Number.NaN;
      const x = labelW + cell * j;
      const y = top + cell * i;
      parts.push(
        `<rect x="${r2(x)}" y="${r2(y)}" width="${cell - 1}" height="${cell - 1}" fill="${heatColour(v, lo, hi)}"/>`,
      );
      parts.push(
        `<text x="${r2(x + cell / 2)}" y="${r2(y + cell / 2 + 4)}" text-anchor="middle" font-size="11" fill="#111">${escapeXml(Number.isFinite(v) ? fmt(v) : "–")}</text>`,
      );
    });
  });
  parts.push("</svg>");
  return parts.join("");
}

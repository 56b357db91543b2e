// A realistic synthetic ReportData for the renderer tests: ERM (shortcut), MTL, MIMM-X (shortcut
// mostly removed) and the oracle, with curves, probes, MI audit, t-SNE and group counts.

import { tsne } from "../../src/eval/tsne.js";
import { tsnePanel } from "../../src/report/from-eval.js";
import type { CurveSet, MethodReport, MetricRow, ProbeEntry, ReportData } from "../../src/report/types.js";
import { Rng } from "../../src/util/random.js";

const SPLITS = ["validation", "test_inverted", "test_balanced"];

function metrics(acc: Record<string, number[]>): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const [task, values] of Object.entries(acc)) {
    values.forEach((a, i) => {
      const n = 2000;
      const half = 1.96 * Math.sqrt((a * (1 - a)) / n);
      rows.push({
        task,
        split: SPLITS[i],
        accuracy: a,
        accuracyCi: { low: Math.max(0, a - half), high: Math.min(1, a + half) },
        balancedAccuracy: a - 0.005,
        balancedAccuracyCi: { low: Math.max(0, a - 0.035), high: Math.min(1, a + 0.015) },
        auc: Math.min(0.999, a + 0.04),
        worstGroupAccuracy: Math.max(0, a - 0.2),
        worstGroup: "y=1, marker=0",
        n,
      });
    });
  }
  return rows;
}

function probes(leak: number[]): ProbeEntry[] {
  const names: [string, string, "own" | "switched"][] = [
    ["f_y", "marker", "switched"],
    ["f_y", "contrast", "switched"],
    ["f_marker", "y", "switched"],
    ["f_contrast", "y", "switched"],
    ["f_marker", "contrast", "switched"],
    ["f_contrast", "marker", "switched"],
    ["f_y", "y", "own"],
  ];
  return names.map(([source, target, kind], i) => {
    const a = leak[i];
    return {
      source,
      target,
      kind,
      accuracy: a,
      accuracyCi: { low: a - 0.03, high: a + 0.03 },
      chance: { majority: 0.5, uniform: 0.5 },
      nTest: 1000,
    };
  });
}

function curves(seed: number, mi: boolean, diverge = false): CurveSet[] {
  const rng = new Rng(seed);
  const steps = 120;
  const loss = (start: number, rate: number) =>
    Array.from({ length: steps }, (_, t) => start * Math.exp(-rate * t) + 0.05 + rng.next() * 0.03);
  const out: CurveSet[] = [
    {
      title: "Losses",
      x: "step",
      yLabel: "cross-entropy",
      series: [
        { name: "CE y", y: loss(0.7, 0.04) },
        { name: "CE marker", y: loss(0.7, 0.06) },
        { name: "CE contrast", y: loss(0.7, 0.05) },
      ],
    },
  ];
  if (mi) {
    const miSeries = (start: number) =>
      Array.from({ length: steps }, (_, t) =>
        diverge && t > 90 ? null : Math.max(0, start * Math.exp(-0.03 * t) + (rng.next() - 0.5) * 0.04),
      );
    out.push({
      title: "MI estimate per pair",
      x: "step",
      yLabel: "nats",
      series: [
        { name: "f_y ; f_marker", y: miSeries(0.6) },
        { name: "f_y ; f_contrast", y: miSeries(0.4) },
        { name: "f_marker ; f_contrast", y: miSeries(0.2) },
      ],
    });
    out.push({
      title: "GradNorm weights",
      x: "epoch",
      series: [
        { name: "w CE y", y: [1, 1.1, 1.2, 1.25, 1.3, 1.3] },
        { name: "w CE marker", y: [1, 0.95, 0.9, 0.88, 0.86, 0.85] },
        { name: "w CE contrast", y: [1, 0.97, 0.93, 0.92, 0.9, 0.9] },
        { name: "w MI", y: [1, 0.98, 0.97, 0.95, 0.94, 0.95] },
      ],
    });
    out.push({
      title: "Confounder attention",
      x: "epoch",
      series: [
        { name: "a marker <strong>", y: [1, 1.2, 1.3, 1.25, 1.2, 1.15] },
        { name: "a contrast & co", y: [1, 0.8, 0.7, 0.75, 0.8, 0.85] },
      ],
    });
  }
  return out;
}

/** Features where y always clusters and z clusters only when `leak` is set. */
function tsneOf(seed: number, leak: boolean) {
  const rng = new Rng(seed);
  const n = 240;
  const d = 6;
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  const z = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    z[i] = rng.int(2);
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal();
    x[i * d] += y[i] * 6;
    if (leak) x[i * d + 1] += z[i] * 6;
  }
  const r = tsne(x, d, { seed, iterations: 250, perplexity: 20 });
  return tsnePanel("f_y", r, [
    { by: "y", labels: y, classNames: ["T-shirt", "Shirt"] },
    { by: "marker", labels: z, classNames: ["no marker", "marker"] },
  ]);
}

export function syntheticReport(): ReportData {
  const erm: MethodReport = {
    name: "ERM",
    method: "erm",
    description: "primary head only",
    metrics: metrics({ y: [0.98, 0.03, 0.5] }),
    probes: probes([0.96, 0.91, 0.6, 0.55, 0.52, 0.5, 0.99]),
    miAudit: [
      {
        pair: "f_y ; f_marker",
        estimate: 0.61,
        ci: { low: 0.55, high: 0.67 },
        estimator: "joint 3x128, 2000 steps",
      },
      { pair: "f_y ; f_contrast", estimate: 0.42 },
    ],
    tsne: [tsneOf(1, true)],
    curves: curves(1, false),
    trainSeconds: 184,
  };
  const mtl: MethodReport = {
    name: "MTL",
    method: "mtl",
    metrics: metrics({ y: [0.97, 0.39, 0.77], marker: [0.99, 0.99, 0.99], contrast: [0.97, 0.96, 0.97] }),
    probes: probes([0.69, 0.68, 0.7, 0.6, 0.61, 0.58, 0.99]),
    curves: curves(2, false),
    trainSeconds: 201,
  };
  const mimmx: MethodReport = {
    name: "MIMM-X",
    method: "mimmx",
    description: "joint critic 3x64, λ = 2, GradNorm + attention",
    metrics: metrics({ y: [0.85, 0.8, 0.83], marker: [0.99, 0.98, 0.99], contrast: [0.96, 0.95, 0.96] }),
    probes: probes([0.51, 0.52, 0.5, 0.49, 0.53, 0.5, 0.97]),
    miAudit: [
      { pair: "f_y ; f_marker", estimate: 0.02, ci: { low: 0.0, high: 0.05 } },
      { pair: "f_y ; f_contrast", estimate: 0.01 },
      { pair: "f_marker ; f_contrast", estimate: 0.03 },
    ],
    tsne: [tsneOf(2, false)],
    curves: curves(3, true, true),
    trainSeconds: 1530,
  };
  const oracle: MethodReport = {
    name: "Oracle",
    method: "oracle",
    metrics: metrics({ y: [0.88, 0.87, 0.87] }),
    trainSeconds: 170,
  };
  return {
    schemaVersion: 1,
    runName: "fashion-confounded <demo> & friends",
    date: "2026-11-26T10:15:00.000Z",
    description:
      "Fashion-MNIST T-shirt vs shirt, two synthetic spurions (corner marker, contrast shift) at ratio 0.95.",
    configYaml:
      'name: demo\nseed: 0\ndata:\n  source: fashion-confounded\n  spurions:\n    - {name: marker, kind: patch, ratio: 0.95}\n    - {name: contrast, kind: contrast, ratio: 0.95}\nmethod:\n  name: mimmx\n  lambda: 2\n# <script>alert("x")</script>\n',
    tasks: { primary: "y", spurions: ["marker", "contrast"] },
    splits: { inDistribution: "validation", inverted: "test_inverted", balanced: "test_balanced" },
    dataset: {
      name: "Fashion-MNIST, confounded",
      groupCounts: [
        {
          title: "y × marker",
          rows: ["y=0, marker=0", "y=0, marker=1", "y=1, marker=0", "y=1, marker=1"],
          columns: ["train", "validation", "test_inverted", "test_balanced"],
          counts: [
            [4750, 950, 50, 500],
            [250, 50, 950, 500],
            [250, 50, 950, 500],
            [4750, 950, 50, 500],
          ],
        },
      ],
    },
    methods: [erm, mtl, mimmx, oracle],
    notes: ["Synthetic numbers for the renderer test."],
  };
}

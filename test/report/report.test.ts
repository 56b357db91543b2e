import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeHeadline, humanSplit } from "../../src/report/headline.js";
import { renderHtml } from "../../src/report/html.js";
import { mdCell, renderMarkdown } from "../../src/report/markdown.js";
import { escapeXml, groupedBarChart, lineChart, niceTicks, scatterPlot } from "../../src/report/svg.js";
import type { MethodReport, ReportData } from "../../src/report/types.js";
import { syntheticReport } from "./synthetic.js";

function minimal(methods: MethodReport[]): ReportData {
  return {
    schemaVersion: 1,
    runName: "t",
    date: "2026-01-01T00:00:00Z",
    tasks: { primary: "y", spurions: ["z"] },
    splits: { inDistribution: "validation", inverted: "test_inverted" },
    methods,
  };
}

const acc = (v: number, i: number) => [
  { task: "y", split: "validation", accuracy: v },
  { task: "y", split: "test_inverted", accuracy: i },
];
const probe = (a: number) => [
  { source: "f_y", target: "z", accuracy: a, chance: { majority: 0.5, uniform: 0.5 } },
];

describe("headline", () => {
  it("states the numbers in words, as in METHOD.md", () => {
    const h = computeHeadline(
      minimal([
        { name: "ERM", method: "erm", metrics: acc(0.98, 0.03) },
        { name: "MIMM-X", method: "mimmx", metrics: acc(0.85, 0.8), probes: probe(0.52) },
      ]),
    );
    assert.equal(h.summary, "ERM: 98% validation, 3% inverted test; MIMM-X: 85% / 80%.");
    assert.deepEqual(
      h.methods.map((m) => m.verdict),
      ["not removed", "removed"],
    );
  });
  it("distinguishes partly removed, collapsed, failed and the oracle", () => {
    const h = computeHeadline(
      minimal([
        { name: "leaky", method: "mimmx", metrics: acc(0.85, 0.8), probes: probe(0.7) },
        { name: "gap", method: "mimmx", metrics: acc(0.9, 0.65) },
        { name: "collapsed", method: "mimmx", metrics: acc(0.5, 0.5), probes: probe(0.5) },
        { name: "nan", method: "mimmx", metrics: acc(0.5, 0.5), failure: "NaN in MI term" },
        { name: "oracle", method: "oracle", metrics: acc(0.88, 0.87) },
      ]),
    );
    assert.deepEqual(
      h.methods.map((m) => m.verdict),
      ["partly removed", "partly removed", "collapsed", "failed", "reference"],
    );
    assert.match(h.methods[0].reason, /f_y→z 70%/);
    assert.match(h.methods[1].reason, /gap of 25 pp/);
    assert.ok(h.sentences.some((s) => /oracle reaches 87%/.test(s) && /leaky, reaches 80%/.test(s)));
  });
  it("respects custom criteria", () => {
    const d = minimal([{ name: "m", method: "mimmx", metrics: acc(0.9, 0.65) }]);
    d.verdictCriteria = { maxGap: 0.3 };
    assert.equal(computeHeadline(d).methods[0].verdict, "removed");
  });
  it("humanises split names", () => {
    assert.equal(humanSplit("test_inverted"), "inverted test");
    assert.equal(humanSplit("validation"), "validation");
  });
});

describe("svg helpers", () => {
  it("escapes markup in any text", () => {
    assert.equal(escapeXml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    const svg = lineChart({ title: "<b>", series: [{ name: "a & b", y: [1, 2, null, 3] }] });
    assert.ok(svg.includes("&lt;b&gt;") && svg.includes("a &amp; b"));
    assert.ok(!svg.includes("<b>"));
  });
  it("nice ticks cover the range with round steps", () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(3, 97, 4), [20, 40, 60, 80]);
  });
  it("breaks lines at null values and handles empty data", () => {
    const svg = lineChart({ series: [{ name: "s", y: [1, 2, null, 3, 4] }] });
    assert.equal((svg.match(/M/g) ?? []).length, 2);
    assert.match(lineChart({ series: [{ name: "s", y: [null] }] }), /no data/);
  });
  it("bar and scatter charts draw one mark per value", () => {
    const bars = groupedBarChart({
      categories: ["a", "b"],
      series: [
        { name: "m1", values: [0.5, 0.7] },
        { name: "m2", values: [0.2, null] },
      ],
      percent: true,
    });
    assert.equal((bars.match(/<rect /g) ?? []).length, 3);
    assert.match(bars, /n\/a/);
    const sc = scatterPlot({ x: [0, 1, 2], y: [0, 1, 0], labels: [0, 1, 1], classNames: ["F", "M"] });
    assert.equal((sc.match(/<circle /g) ?? []).length, 3 + 2); // points + legend dots
  });
});

describe("renderers", () => {
  const data = syntheticReport();
  it("HTML is self-contained, escapes text and has every section", () => {
    const html = renderHtml(data);
    for (const id of ["headline", "primary", "metrics", "probes", "mi", "tsne", "curves", "data", "config"]) {
      assert.match(html, new RegExp(`<section id="${id}"`), id);
    }
    assert.match(html, /fashion-confounded &lt;demo&gt; &amp; friends/);
    assert.doesNotMatch(html, /<script|<link|@import|url\(http/i);
    assert.match(html, /Shortcut NOT removed/);
    assert.match(html, /a marker &lt;strong&gt;/);
  });
  it("omits sections without data", () => {
    const html = renderHtml(minimal([{ name: "ERM", method: "erm", metrics: acc(0.9, 0.1) }]));
    assert.doesNotMatch(html, /<section id="probes"|<section id="tsne"|<section id="config"/);
  });
  it("Markdown has the headline and tables, with cells escaped", () => {
    const md = renderMarkdown(data);
    assert.match(
      md,
      /\*\*ERM: 98% validation, 3% inverted test; MTL: 97% \/ 39%; MIMM-X: 85% \/ 80%; Oracle: 88% \/ 87%\.\*\*/,
    );
    assert.match(md, /\| ERM \| 98\.0% \[97\.4, 98\.6\] \| 3\.0% \[2\.3, 3\.7\]/);
    assert.match(md, /\| f_y → marker \| 50\.0% \| 96\.0%/);
    assert.equal(mdCell("a|b*c"), "a\\|b\\*c");
    assert.equal(mdCell("f_y _x_"), "f_y \\_x\\_");
    // Every table row has as many cells as its header.
    const lines = md.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (/^\|:?---/.test(lines[i])) {
        const cells = (s: string) => s.replace(/\\\|/g, "").split("|").length;
        for (let j = i + 1; j < lines.length && lines[j].startsWith("|"); j++)
          assert.equal(cells(lines[j]), cells(lines[i - 1]), lines[j]);
      }
    }
  });
  it("survives a JSON round trip unchanged", () => {
    const back = JSON.parse(JSON.stringify(data)) as ReportData;
    assert.equal(renderHtml(back), renderHtml(data));
  });
});

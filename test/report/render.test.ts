// Renders a synthetic report and screenshots it with headless Chromium: the HTML must parse and
// paint (a broken style or SVG shows up as a blank or tiny page), at the requested size, offline.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import pngjs from "pngjs";
import { writeReport } from "../../src/report/write.js";
import { syntheticReport } from "./synthetic.js";

const CHROMIUM = "/usr/bin/chromium";
const WIDTH = 1280;
const HEIGHT = 2000;

describe("HTML report in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "mimmx-report-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("renders to a non-blank screenshot of the requested size", async (t) => {
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} not installed (apt-get install -y chromium)`);
      return;
    }
    const paths = await writeReport(dir, syntheticReport());
    const html = readFileSync(paths.html, "utf8");
    // Self-contained: no network references, no scripts (the config's <script> must be escaped).
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /(src|href)="https?:/i);
    assert.match(html, /&lt;script&gt;/);

    const profile = mkdtempSync(join(tmpdir(), "mimmx-chromium-"));
    const shot = join(dir, "screenshot.png");
    const res = spawnSync(
      CHROMIUM,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        `--user-data-dir=${profile}`,
        `--screenshot=${shot}`,
        `--window-size=${WIDTH},${HEIGHT}`,
        pathToFileURL(paths.html).href,
      ],
      { encoding: "utf8", timeout: 45_000 },
    );
    rmSync(profile, { recursive: true, force: true });
    assert.ok(existsSync(shot), `no screenshot; chromium exit ${res.status}: ${res.stderr?.slice(-800)}`);
    assert.ok(statSync(shot).size > 20_000, `screenshot only ${statSync(shot).size} bytes`);

    // pngjs decodes to RGBA whatever the file's colour type.
    const png = pngjs.PNG.sync.read(readFileSync(shot));
    assert.equal(png.width, WIDTH);
    assert.equal(png.height, HEIGHT);
    // Not blank: luminance varies, and a real share of pixels is neither white nor background.
    let sum = 0;
    let sumSq = 0;
    let inked = 0;
    const n = png.width * png.height;
    for (let p = 0; p < n; p++) {
      const o = p * 4;
      const l = (png.data[o] + png.data[o + 1] + png.data[o + 2]) / 3;
      sum += l;
      sumSq += l * l;
      if (l < 200) inked++;
    }
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    assert.ok(variance > 100, `luminance variance ${variance.toFixed(1)}`);
    assert.ok(inked / n > 0.01 && inked / n < 0.6, `inked share ${(inked / n).toFixed(3)}`);
    if (process.env.MIMMX_KEEP_SCREENSHOT) {
      const { copyFileSync } = await import("node:fs");
      copyFileSync(shot, process.env.MIMMX_KEEP_SCREENSHOT);
    }
  });
});

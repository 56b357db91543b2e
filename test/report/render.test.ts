// Renders a synthetic report and screenshots it with headless Chromium: the HTML must parse and
// paint (a broken style or SVG shows up as a blank or tiny page), at the requested size, offline.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { inflateSync } from "node:zlib";
import { writeReport } from "../../src/report/write.js";
import { syntheticReport } from "./synthetic.js";

const CHROMIUM = "/usr/bin/chromium";
const WIDTH = 1280;
const HEIGHT = 2000;

interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

/** Decodes an 8-bit non-interlaced grey/RGB/RGBA PNG (what Chromium writes) into raw pixels. */
export function decodePng(buf: Buffer): DecodedPng {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  assert.deepEqual([...buf.subarray(0, 8)], sig, "PNG signature");
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString("latin1", pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      const colourType = body[9];
      assert.equal(depth, 8, "bit depth");
      assert.equal(body[12], 0, "non-interlaced");
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colourType];
      assert.ok(channels, `colour type ${colourType}`);
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let r = 0; r < height; r++) {
    const filter = raw[r * (stride + 1)];
    const line = raw.subarray(r * (stride + 1) + 1, (r + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? pixels[r * stride + i - channels] : 0;
      const b = r > 0 ? pixels[(r - 1) * stride + i] : 0;
      const c = r > 0 && i >= channels ? pixels[(r - 1) * stride + i - channels] : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[r * stride + i] = (line[i] + pred) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

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

    const png = decodePng(readFileSync(shot));
    assert.equal(png.width, WIDTH);
    assert.equal(png.height, HEIGHT);
    // Not blank: luminance varies, and a real share of pixels is neither white nor background.
    let sum = 0;
    let sumSq = 0;
    let inked = 0;
    const n = png.width * png.height;
    for (let p = 0; p < n; p++) {
      const o = p * png.channels;
      const l =
        png.channels >= 3 ? (png.pixels[o] + png.pixels[o + 1] + png.pixels[o + 2]) / 3 : png.pixels[o];
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

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { run } from "../../src/cli/main.js";
import { pngGray } from "../data/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "mimmx-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in-process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  process.stderr.write = ((s: string) => {
    err.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await run(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

const GOOD = `name: inspect
data:
  source: fashion-confounded
  spurions:
    - { name: marker, kind: patch, ratio: 0.8 }
  splits: { train: 200, validation: 50, test_inverted: 50, test_balanced: 40 }
`;

describe("mimmx CLI", () => {
  it("lists the run commands", async () => {
    const r = await cli("--help");
    assert.equal(r.code, 0);
    for (const c of ["demo", "train", "eval", "audit", "report", "export", "data"])
      assert.match(r.out, new RegExp(`\\b${c}\\b`));
  });

  for (const c of ["demo", "train", "eval", "audit", "report", "export", "data"]) {
    it(`${c} --help prints usage and exits 0`, async () => {
      const r = await cli(c, "--help");
      assert.equal(r.code, 0);
      assert.match(r.out, /^usage: mimmx /);
      assert.match(r.out, /--/);
    });
  }

  it("data inspect prints the group counts without training", async () => {
    const path = join(dir, "good.yaml");
    writeFileSync(path, GOOD);
    const r = await cli("data", "inspect", "--config", path, "--quiet");
    assert.equal(r.code, 0, r.err);
    for (const s of ["train", "validation", "test_inverted", "test_balanced"])
      assert.match(r.out, new RegExp(`### ${s} \\(n = `));
    assert.match(r.out, /### train \(n = 200\)/);
    assert.match(r.out, /y x marker/);
    const j = await cli("data", "inspect", "--config", path, "--quiet", "--json");
    const counts = JSON.parse(j.out).counts as { split: string; spurions: { pairedFraction: number }[] }[];
    const train = counts.find((c) => c.split === "train");
    assert.ok(train && Math.abs(train.spurions[0].pairedFraction - 0.8) < 0.02);
  });

  it("data inspect lists the unreadable images it left out, in Markdown and in --json", async () => {
    // 40 PNGs, every 4th an empty file; half a split may be skipped.
    const lines = ["file,Diagnosis"];
    for (let i = 0; i < 40; i++) {
      const px = new Array(64).fill(0).map((_, p) => (p * 3 + i) % 256);
      writeFileSync(join(dir, `i${i}.png`), i % 4 === 0 ? Buffer.alloc(0) : pngGray(8, 8, px));
      lines.push(`i${i}.png,${i % 2 ? "disease" : "healthy"}`);
    }
    writeFileSync(join(dir, "manifest.csv"), lines.join("\n"));
    const path = join(dir, "skip.yaml");
    writeFileSync(
      path,
      `name: skip
data:
  source: manifest
  root: ${dir}
  csv: manifest.csv
  task: { column: Diagnosis, positive: [disease], negative: [healthy] }
  spurions: [{ name: marker, kind: patch, ratio: 0.8 }]
  image_size: [28, 28]
  max_skipped: 0.5
  cache: false
  splits: { train: 10, validation: 8, test_inverted: 8, test_balanced: 8 }
`,
    );
    const j = await cli("data", "inspect", "--config", path, "--quiet", "--json");
    assert.equal(j.code, 0, j.err);
    const out = JSON.parse(j.out) as {
      counts: { split: string; size: number }[];
      skipped: {
        count: number;
        files: { split: string; csv: string; line: number; path: string; reason: string }[];
      };
    };
    assert.ok(out.skipped.count > 0);
    assert.equal(out.skipped.files.length, out.skipped.count);
    for (const f of out.skipped.files) {
      // The manifest lists image i on line i + 2; every skipped one is an empty file (i % 4 = 0).
      const i = Number(/i(\d+)\.png$/.exec(f.path)?.[1]);
      assert.equal(f.line, i + 2, f.path);
      assert.equal(i % 4, 0, f.path);
      assert.equal(f.csv, join(dir, "manifest.csv"));
      assert.match(f.reason, /empty/);
    }
    // The counts are of what is left.
    const planned: Record<string, number> = { train: 10, validation: 8, test_inverted: 8, test_balanced: 8 };
    for (const c of out.counts)
      assert.equal(
        c.size,
        planned[c.split] - out.skipped.files.filter((f) => f.split === c.split).length,
        c.split,
      );
    const md = await cli("data", "inspect", "--config", path, "--quiet");
    assert.match(md.out, new RegExp(`## Skipped \\(${out.skipped.count} unreadable images left out\\)`));
    assert.ok(md.out.includes(`(${join(dir, "manifest.csv")}:${out.skipped.files[0].line})`));
  });

  it("a config error exits 2 and names the key path", async () => {
    const path = join(dir, "bad.yaml");
    writeFileSync(path, `${GOOD}train:\n  epochs: -3\n`);
    const r = await cli("train", "--config", path);
    assert.equal(r.code, 2);
    assert.match(r.err, /train\.epochs/);
    const d = await cli("data", "inspect", "--config", path);
    assert.equal(d.code, 2);
  });

  it("usage mistakes exit 2", async () => {
    assert.equal((await cli("train")).code, 2);
    assert.equal((await cli("train", "--config", "x.yaml", "--compare", "magic")).code, 2);
    assert.equal((await cli("eval")).code, 2);
    assert.equal((await cli("export", "--run", dir)).code, 2);
    assert.equal((await cli("data", "look")).code, 2);
  });

  it("train --resume on a folder that does not exist exits 1 and says so; --help lists --force", async () => {
    const path = join(dir, "good.yaml");
    writeFileSync(path, GOOD);
    const missing = join(dir, "no-such-run");
    const r = await cli("train", "--config", path, "--resume", "--out", missing, "--quiet");
    assert.equal(r.code, 1);
    assert.match(r.err, /--resume: .*no-such-run does not exist, so there is nothing to resume/);
    assert.match((await cli("train", "--help")).out, /--force/);
  });
});

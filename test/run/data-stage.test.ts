// The data stage of a run on generated manifest cohorts: unreadable images (truncated PNG and JPEG,
// pydicom's MR_truncated.dcm, an empty and a missing file) are counted against data.max_skipped,
// named with their CSV lines in skipped.csv, the report and summary.json; a bad label, an oracle the
// pool cannot supply or too many unreadable files stop the run before anything trains; select_by
// works with a task that is not named "y".
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type DeepPartial, type RunConfig, resolveDefaults } from "../../src/config/index.js";
import { prepareData } from "../../src/run/data.js";
import { runExperiment } from "../../src/run/index.js";
import { Rng } from "../../src/util/random.js";
import { jpegGray, pngGray, tempDir, writeFile } from "../data/helpers.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const MR_TRUNCATED = "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_truncated.dcm";

interface Cohort {
  root: string;
  /** CSV line -> file name of every unreadable image */
  bad: Map<number, string>;
}

/**
 * 400 rows: Diagnosis (disease / healthy) and scanner (A / B) agreeing in `agreement` of the rows;
 * every `badEvery`-th row's image is unreadable, in five ways in turn.
 */
function cohort(agreement: number, badEvery = 0): Cohort {
  const root = tempDir("mimmx-stage-");
  dirs.push(root);
  const rng = new Rng(3);
  const lines = ["file,Diagnosis,scanner"];
  const bad = new Map<number, string>();
  const good = pngGray(
    28,
    28,
    new Array(784).fill(0).map((_, p) => (p * 7) % 256),
  );
  const jpeg = jpegGray(28, 28, (x, y) => 40 + 5 * x + y);
  for (let i = 0; i < 400; i++) {
    const y = i % 2;
    const scanner = rng.next() < agreement ? (y ? "B" : "A") : y ? "A" : "B";
    const kind = badEvery > 0 && i % badEvery === 0 ? (i / badEvery) % 5 : -1;
    const file = `img${i}.${kind === 1 ? "jpg" : kind === 2 ? "dcm" : "png"}`;
    if (kind >= 0) {
      if (kind === 0) writeFile(root, file, good.subarray(0, 60));
      else if (kind === 1) writeFile(root, file, jpeg.subarray(0, jpeg.length >> 1));
      else if (kind === 2) copyFileSync(MR_TRUNCATED, join(root, file));
      else if (kind === 3) writeFile(root, file, Buffer.alloc(0));
      // kind 4: listed but never written
      bad.set(i + 2, file);
    } else {
      // The image shows the diagnosis, so a model can learn it.
      writeFile(
        root,
        file,
        pngGray(
          28,
          28,
          new Array(784).fill(0).map((_, p) => (y && p < 392 ? 200 : 30) + (p % 13)),
        ),
      );
    }
    lines.push(`${file},${y ? "disease" : "healthy"},${scanner}`);
  }
  writeFile(root, "manifest.csv", lines.join("\n"));
  return { root, bad };
}

function config(
  c: Cohort,
  data: DeepPartial<RunConfig["data"]> = {},
  rest: DeepPartial<RunConfig> = {},
): RunConfig {
  return resolveDefaults(
    {
      name: "stage",
      seed: 1,
      data: {
        source: "manifest",
        root: c.root,
        csv: "manifest.csv",
        task: { column: "Diagnosis", positive: ["disease"], negative: ["healthy"] },
        spurions: [{ name: "scanner", kind: "metadata", column: "scanner", positive: ["B"], ratio: 0.9 }],
        image_size: [28, 28],
        splits: { train: 100, validation: 20, test_inverted: 8, test_balanced: 8 },
        ...data,
      },
      model: { feature_dim: 4 },
      train: { epochs: 1, batch_size: 20 },
      eval: {
        bootstrap: 0,
        probes: { enabled: false },
        tsne: { enabled: false },
        mi_audit: { enabled: false },
      },
      ...rest,
    } as DeepPartial<RunConfig>,
    "test",
  );
}
const quiet = { quiet: true, log: () => {} };

describe("the data stage finds every problem before training", () => {
  it("unreadable images within max_skipped: named by CSV line in skipped.csv, report and summary; sizes used", async () => {
    const c = cohort(0.6, 10);
    const cfg = config(
      c,
      {
        max_skipped: 0.5,
        splits: { train: 100, validation: 40, test_inverted: 40, test_balanced: 40 },
        spurions: [{ name: "scanner", kind: "metadata", column: "scanner", positive: ["B"], ratio: 0.7 }],
      },
      {
        train: { epochs: 2, batch_size: 20, select_by: "val_worst_group" },
      } as DeepPartial<RunConfig>,
    );
    const out = join(c.root, "run");
    const r = await runExperiment(cfg, { ...quiet, outDir: out, methods: ["erm", "oracle"] });
    assert.equal(r.status, "completed");
    // skipped.csv: every unreadable image a split selected, with the line the manifest lists it on.
    const rows = readFileSync(join(out, "skipped.csv"), "utf8").trim().split("\n");
    assert.equal(rows[0], "split,csv,line,path,reason");
    const entries = rows.slice(1).map((l) => {
      const [split, csv, line, path] = l.split(",");
      return { split, csv, line: Number(line), path };
    });
    assert.ok(entries.length > 0);
    const kinds = new Set<string>();
    for (const e of entries) {
      assert.equal(e.csv, join(c.root, "manifest.csv"));
      assert.equal(e.path, join(c.root, c.bad.get(e.line) as string), `line ${e.line}`);
      kinds.add(e.path.slice(-3));
    }
    assert.ok(kinds.has("dcm") && kinds.has("jpg") && kinds.has("png"), [...kinds].join());
    // splits.json and summary.json: the sizes actually used = planned - skipped.
    const planned: Record<string, number> = {
      train: 100,
      validation: 40,
      test_inverted: 40,
      test_balanced: 40,
    };
    const splits = JSON.parse(readFileSync(join(out, "splits.json"), "utf8"));
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    for (const [split, n] of Object.entries(planned)) {
      const lost = entries.filter((e) => e.split === split).length;
      const counts = splits.counts.find((x: { split: string }) => x.split === split);
      assert.equal(counts.size, n - lost, split);
      assert.equal(
        counts.yTotals.reduce((a: number, b: number) => a + b, 0),
        n - lost,
        split,
      );
      assert.equal(summary.data.sizes[split], n - lost, split);
    }
    assert.equal(summary.data.skipped.count, entries.length);
    assert.equal(summary.data.skipped.files[0].line, entries[0].line);
    const md = readFileSync(join(out, "report.md"), "utf8");
    assert.match(md, new RegExp(`## Data: ${entries.length} unreadable images left out`));
    assert.ok(md.includes(`manifest.csv:${entries[0].line}`));
    // select_by val_worst_group with a task named Diagnosis: a best checkpoint was kept.
    assert.ok(existsSync(join(out, "methods", "erm", "best.safetensors")));
    const metrics = readFileSync(join(out, "methods", "erm", "metrics.jsonl"), "utf8");
    assert.match(metrics, /"val\/worst_group\/Diagnosis":/);
    assert.match(metrics, /"val\/loss\/Diagnosis":/);
    // The oracle trained on the uncorrelated split the manifest pool supplied.
    assert.equal(summary.methods[1].train.status, "completed");
  });

  it("past max_skipped (default 1% of a split) the run stops before training, naming the files", async () => {
    const c = cohort(0.6, 10);
    const out = join(c.root, "run");
    await assert.rejects(runExperiment(config(c), { ...quiet, outDir: out }), (e: Error) => {
      assert.match(
        e.message,
        /^data: split (test_balanced|test_inverted): \d+ unreadable images?, [\d.]+% of its 8; data\.max_skipped 0\.01 allows 0\. Nothing was trained:/,
      );
      const [, line, path] = /manifest\.csv:(\d+): (\S+): /.exec(e.message) ?? [];
      assert.equal(path, join(c.root, c.bad.get(Number(line)) as string));
      return true;
    });
    assert.ok(!existsSync(join(out, "methods")), "a method was trained");
  });

  it("on_unreadable fail names the CSV line of every unreadable image of the split", async () => {
    const c = cohort(0.6, 10);
    await assert.rejects(prepareData(config(c, { on_unreadable: "fail" })), (e: Error) => {
      assert.match(e.message, /\(data\.on_unreadable: fail\)/);
      assert.ok(!/item \d+/.test(e.message), e.message);
      const lines = [...e.message.matchAll(/manifest\.csv:(\d+): (\S+): (.+)/g)];
      assert.ok(lines.length > 0);
      for (const [, line, path, reason] of lines) {
        assert.equal(path, join(c.root, c.bad.get(Number(line)) as string));
        assert.ok(reason.length > 0);
      }
      return true;
    });
  });

  it("an oracle the pool cannot supply, or a label slip, stops the run before any method trains", async () => {
    // scanner agrees with the diagnosis in 90% of the rows: too few disagreeing rows for an
    // uncorrelated training split of 100 (25 per group), though enough for the protocol's splits.
    const c = cohort(0.9);
    const out = join(c.root, "run");
    await assert.rejects(
      runExperiment(config(c), { ...quiet, outDir: out, methods: ["erm", "oracle"] }),
      (e: Error) => {
        assert.match(
          e.message,
          /^method "oracle" needs an uncorrelated training split \(train_oracle: 100 rows/,
        );
        assert.match(e.message, /split 'train_oracle'/);
        return true;
      },
    );
    assert.ok(!existsSync(join(out, "methods")), "a method was trained");
    // Where the pool can supply it, train_oracle has every (Diagnosis, scanner) group in equal share.
    const feasible = await prepareData(config(cohort(0.6)), undefined, { oracle: true });
    const oracle = feasible.splits.train_oracle;
    assert.ok(oracle);
    const groups = [0, 0, 0, 0];
    for (let i = 0; i < oracle.length; i++)
      groups[2 * oracle.labels.Diagnosis[i] + oracle.labels.scanner[i]]++;
    assert.deepEqual(groups, [25, 25, 25, 25]);
    // Without the oracle the same data is fine (the protocol's splits are feasible).
    const data = await prepareData(config(c));
    assert.equal(data.splits.train.length, 100);
    assert.equal(data.splits.train_oracle, undefined);
    // A third of the positives written "Disease": an error naming it, its count and lines.
    const slip = cohort(0.6);
    const csv = readFileSync(join(slip.root, "manifest.csv"), "utf8").split("\n");
    const edited = csv.map((l, i) => (i > 0 && i % 6 === 2 ? l.replace(",disease,", ",Disease,") : l));
    writeFile(slip.root, "manifest.csv", edited.join("\n"));
    const slipped = edited.flatMap((l, i) => (l.includes(",Disease,") ? [i + 1] : []));
    const slipOut = join(slip.root, "run");
    await assert.rejects(
      runExperiment(config(slip, { task: { column: "Diagnosis", positive: ["disease"] } }), {
        ...quiet,
        outDir: slipOut,
      }),
      new RegExp(
        `column 'Diagnosis': a value is neither mapped to a class nor missing: 'Disease' \\(${slipped.length} rows; lines ${slipped.slice(0, 5).join(", ")}, \\.\\.\\.\\) differs from the positive value 'disease' only in case`,
      ),
    );
    assert.ok(!existsSync(join(slipOut, "methods")));
    // case_insensitive reads them as positives.
    const ok = await prepareData(
      config(slip, { case_insensitive: true, task: { column: "Diagnosis", positive: ["disease"] } }),
    );
    assert.equal(ok.splits.train.length, 100);
  });

  it("a missing model.pretrained file stops a comparison before any method trains", async () => {
    const c = cohort(0.6);
    const out = join(c.root, "run");
    const cfg = config(c, {}, {
      model: { feature_dim: 4, pretrained: join(c.root, "none.safetensors") },
    } as DeepPartial<RunConfig>);
    await assert.rejects(
      runExperiment(cfg, { ...quiet, outDir: out, methods: ["erm", "mimmx"] }),
      /model\.pretrained: no such file: .*none\.safetensors/,
    );
    assert.ok(!existsSync(join(out, "methods")), "a method was trained");
  });

  it("missing_labels fail and negative are honoured by the manifest; text without a mapping is explained", async () => {
    const c = cohort(0.6);
    const csv = readFileSync(join(c.root, "manifest.csv"), "utf8").split("\n");
    // Rows 2 and 3 (lines 3 and 4) lose their diagnosis.
    writeFile(
      c.root,
      "manifest.csv",
      csv.map((l, i) => (i === 2 || i === 3 ? l.replace(/,(disease|healthy),/, ",NA,") : l)).join("\n"),
    );
    await assert.rejects(
      prepareData(config(c, { missing_labels: "fail" })),
      /column 'Diagnosis': 2 rows have no label \('NA' x2; lines 3, 4\) and the missing-label policy is fail/,
    );
    const usable = async (policy: "negative" | "drop") => {
      const said: string[] = [];
      await prepareData(config(c, { missing_labels: policy }), { log: (m) => said.push(m) });
      return said.find((m) => m.includes("rows usable"));
    };
    assert.equal(await usable("negative"), "data: 400 of 400 rows usable");
    assert.equal(await usable("drop"), "data: 398 of 400 rows usable");
    await assert.rejects(
      prepareData(config(c, { task: { column: "Diagnosis" } })),
      /'disease' \(\d+ rows; lines .*\) is not a class id .*give data\.task\.positive .* or data\.task\.values/,
    );
  });
});

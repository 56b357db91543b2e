// Config keys of the CheXpert and brain-MRI sources: defaults, and errors that name the key path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig, parseConfigWithWarnings } from "../../src/config/index.js";
import { configErrorOf } from "../helpers/config.js";

const errorOf = configErrorOf;

const CX = (extra = "", task = "Pleural Effusion", spurion = "{ name: sex, kind: metadata, column: Sex }") =>
  `name: cx
data:
  source: chexpert
  root: /data
  task: ${task}
  spurions:
    - ${spurion}
${extra}model: { encoder: resnet18 }
`;

const MRI = (
  task = "{ column: age, threshold: 60 }",
  spurions = "[{ name: sex, kind: metadata, column: sex }]",
  extra = "",
) =>
  `name: mri
data:
  source: mri
  root: /data
  task: ${task}
  spurions: ${spurions}
${extra}model: { encoder: cnn3d }
`;

describe("source chexpert", () => {
  it("defaults: frontal views, blank = negative, 224x224", () => {
    const c = parseConfig(CX());
    assert.equal(c.data.chexpert.frontal_only, true);
    assert.equal(c.data.missing_labels, "negative");
    assert.deepEqual(c.data.image_size, [224, 224]);
    const d = parseConfig(CX("  missing_labels: drop\n  chexpert: { frontal_only: false }\n"));
    assert.equal(d.data.missing_labels, "drop");
    assert.equal(d.data.chexpert.frontal_only, false);
  });

  it("an unknown observation or column names the key path and suggests", () => {
    assert.match(
      errorOf(CX("", "Pleural Efusion")),
      /data\.task\.column \(line 5\): "Pleural Efusion" is not a CheXpert observation; did you mean "Pleural Effusion"\?/,
    );
    assert.match(
      errorOf(CX("", "Pleural Effusion", "{ name: sex, kind: metadata, column: sex }")),
      /data\.spurions\[0\]\.column.*"sex" is not a CheXpert column; did you mean "Sex"\?/,
    );
    assert.match(
      errorOf(CX("", "{ column: Edema, threshold: 1 }")),
      /data\.task\.threshold.*uncertain_labels/,
    );
    assert.match(
      errorOf(CX("", "Edema", "{ name: sex, kind: metadata, column: Sex, positive: [Female] }")),
      /data\.spurions\[0\]\.positive.*Female 0 \/ Male 1/,
    );
    // Restating the source's own coding is fine.
    parseConfig(CX("", "Edema", "{ name: sex, kind: metadata, column: Sex, positive: [Male] }"));
    assert.match(
      errorOf(CX("", "Edema", "{ name: view, kind: metadata, column: AP/PA, threshold: 3 }")),
      /data\.spurions\[0\]\.threshold.*only the Age column/,
    );
    assert.match(errorOf(CX("  image_size: [224, 200]\n")), /data\.image_size.*square/);
    assert.match(
      errorOf(CX().replace("model: { encoder: resnet18 }", "model: { encoder: resnet18, in_channels: 3 }")),
      /model\.in_channels.*1-channel/,
    );
  });

  it("the mri section is ignored, with a warning, for chexpert", () => {
    const { warnings } = parseConfigWithWarnings(CX("  mri: { slice_axis: 1 }\n"), "t.yaml");
    assert.ok(warnings.some((w) => w.startsWith("data.mri") && w.includes('only used by source "mri"')));
  });
});

describe("source mri", () => {
  it("defaults and cohorts", () => {
    const c = parseConfig(MRI(undefined, undefined, "  csv: subjects.csv\n"));
    assert.deepEqual(c.data.image_size, [96, 96, 96]);
    assert.equal(c.data.mri.path_column, "path");
    assert.equal(c.data.mri.resize, "resample");
    assert.deepEqual(c.data.mri.slices, [0.5]);
    const two = parseConfig(
      MRI(
        "sex",
        "[{ name: cohort, kind: metadata, column: cohort }]",
        "  mri:\n    cohorts:\n      - { name: a, csv: a.csv }\n      - { name: b, csv: b.csv, path_column: file }\n",
      ),
    );
    assert.equal(two.data.mri.cohorts[1].path_column, "file");
  });

  it("labels must be the source's (age, sex, site, cohort); errors name the key path", () => {
    assert.match(
      errorOf(MRI("{ column: Age }", undefined, "  csv: s.csv\n")),
      /data\.task\.column.*"Age" is not a label of source "mri"; did you mean "age"\?/,
    );
    assert.match(
      errorOf(MRI(undefined, "[{ name: s, kind: metadata, column: sex, threshold: 1 }]", "  csv: s.csv\n")),
      /data\.spurions\[0\]\.threshold.*only "age" is binned/,
    );
    assert.match(errorOf(MRI()), /data\.csv.*required for source "mri" without data\.mri\.cohorts/);
    assert.match(
      errorOf(MRI(undefined, "[{ name: c, kind: metadata, column: cohort }]", "  csv: s.csv\n")),
      /data\.mri\.cohorts.*at least two cohorts/,
    );
    assert.match(
      errorOf(MRI("sex", "[{ name: s, kind: metadata, column: sex }]", "  csv: s.csv\n")),
      /label "sex" is used twice/,
    );
    assert.match(
      errorOf(
        MRI(
          undefined,
          undefined,
          "  mri:\n    cohorts:\n      - { name: a, csv: a.csv }\n      - { name: a, csv: b.csv }\n",
        ),
      ),
      /data\.mri\.cohorts\[1\]\.name.*duplicate cohort "a"/,
    );
    assert.match(
      errorOf(MRI(undefined, "[{ name: blob, kind: blob }]", "  csv: s.csv\n")),
      /data\.spurions\[0\]\.kind.*cannot be drawn into volumes/,
    );
    assert.match(
      errorOf(MRI(undefined, undefined, "  csv: s.csv\n  image_size: [8, 8, 8]\n")),
      /cnn3d.*at least 16/,
    );
  });
});

// The config keys of label mapping and skipping: defaults, and errors that name the key path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import { configErrorOf } from "../helpers/config.js";

const MANIFEST = (
  task: string,
  extra = "",
  spurion = "{ name: site, kind: metadata, column: site, positive: [a] }",
) =>
  `name: m
data:
  source: manifest
  root: /data
  csv: manifest.csv
  task: ${task}
  spurions:
    - ${spurion}
${extra}`;

describe("label and skipping keys", () => {
  it("defaults: missing_values, case-sensitive, max_skipped 1%", () => {
    const c = parseConfig(MANIFEST("{ column: dx, positive: [disease] }"));
    assert.deepEqual(c.data.missing_values, ["", "NA", "N/A", "n/a", "nan"]);
    assert.equal(c.data.case_insensitive, false);
    assert.equal(c.data.max_skipped, 0.01);
    const d = parseConfig(
      MANIFEST(
        "{ column: dx, values: { healthy: 0, mild: 1, severe: 2 } }",
        '  missing_values: ["", "?"]\n  case_insensitive: true\n  max_skipped: 0.05\n',
      ),
    );
    assert.deepEqual(d.data.task?.values, { healthy: 0, mild: 1, severe: 2 });
    assert.deepEqual(d.data.missing_values, ["", "?"]);
    assert.equal(d.data.case_insensitive, true);
    assert.equal(d.data.max_skipped, 0.05);
  });

  it("mapping errors name the key", () => {
    assert.match(
      configErrorOf(MANIFEST("{ column: dx, negative: [healthy] }")),
      /data\.task\.negative.*needs positive/,
    );
    assert.match(
      configErrorOf(MANIFEST("{ column: dx, positive: [a, b], negative: [b] }")),
      /data\.task\.negative.*"b" is also a positive value/,
    );
    assert.match(
      configErrorOf(MANIFEST("{ column: dx, values: { a: 0, b: 2 } }")),
      /data\.task\.values.*no value maps to 1/,
    );
    assert.match(
      configErrorOf(MANIFEST("{ column: dx, values: { a: 0, b: -1 } }")),
      /data\.task\.values\.b.*class id/,
    );
    assert.match(
      configErrorOf(MANIFEST("{ column: dx, values: { a: 0 } }")),
      /data\.task\.values.*at least two/,
    );
    assert.match(
      configErrorOf(MANIFEST("{ column: dx, positive: [a], values: { a: 1, b: 0 } }")),
      /data\.task\.values.*stands alone/,
    );
    assert.match(
      configErrorOf(
        MANIFEST(
          "{ column: dx, positive: [d] }",
          "",
          "{ name: site, kind: metadata, column: site, negative: [x] }",
        ),
      ),
      /data\.spurions\[0\]\.negative.*needs positive/,
    );
    assert.match(
      configErrorOf(MANIFEST("{ column: dx, positive: [d] }", "  max_skipped: 2\n")),
      /data\.max_skipped/,
    );
  });

  it("sources that code their labels themselves refuse negative and values", () => {
    const cx = `name: cx
data:
  source: chexpert
  root: /data
  task: { column: Pleural Effusion, values: { "0": 0, "1": 1 } }
  spurions:
    - { name: sex, kind: metadata, column: Sex, values: { Female: 0, Male: 1 } }
`;
    const e = configErrorOf(cx);
    assert.match(e, /data\.task\.values.*CheXpert observations are 1 \/ 0/);
    assert.match(e, /data\.spurions\[0\]\.values/);
    const mri = `name: mri
data:
  source: mri
  root: /data
  csv: subjects.csv
  task: { column: sex, values: { F: 0, M: 1 } }
  spurions: [{ name: age, kind: metadata, column: age, threshold: 60 }]
model: { encoder: cnn3d }
`;
    assert.match(configErrorOf(mri), /data\.task\.values.*source "mri" codes its labels itself/);
  });
});

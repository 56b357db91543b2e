// Settings the schema accepts but `mimmx train` does not apply yet must say so, not pass silently.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfigWithWarnings } from "../../src/cli/config.js";

const DATA =
  "data:\n  source: fashion-confounded\n  spurions:\n    - { name: marker, kind: patch, ratio: 0.9 }\n";

test("a scheduler or augmentation that is not applied yet gives a warning naming the key", () => {
  const text = `name: t\ntrain:\n  scheduler: cosine\n${DATA}  transforms:\n    hflip: true\n`;
  const { warnings } = parseConfigWithWarnings(text, "t.yaml");
  assert.ok(
    warnings.some((w) => w.includes("train.scheduler") && w.includes("not applied")),
    warnings.join("\n"),
  );
  assert.ok(
    warnings.some((w) => w.includes("data.transforms.hflip")),
    warnings.join("\n"),
  );
});

test("the defaults give no such warning", () => {
  const { warnings } = parseConfigWithWarnings(`name: t\n${DATA}`, "t.yaml");
  assert.deepEqual(
    warnings.filter((w) => w.includes("not applied")),
    [],
  );
});

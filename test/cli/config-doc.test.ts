// The key reference and the example config are generated from the schema: the committed files
// must be current, the example must parse cleanly, and every schema node must say what it means.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { configReference, exampleConfig, schemaNodes } from "../../src/config/doc.js";
import { parseConfigWithWarnings } from "../../src/config/index.js";

const regenerate = "run `npx tsc -p tsconfig.json && node scripts/make-config-docs.js`";

describe("generated configuration docs", () => {
  it("docs/config.md is up to date", () => {
    assert.ok(
      readFileSync("docs/config.md", "utf8") === configReference(),
      `docs/config.md is stale: ${regenerate}`,
    );
  });
  it("configs/example.yaml is up to date and parses without warnings", () => {
    const text = readFileSync("configs/example.yaml", "utf8");
    assert.ok(text === exampleConfig(), `configs/example.yaml is stale: ${regenerate}`);
    const { config, warnings } = parseConfigWithWarnings(text, "configs/example.yaml");
    assert.deepEqual(warnings, []);
    assert.equal(config.data.spurions.length, 2);
  });
  it("every schema node has a description, and the reference lists every key", () => {
    const nodes = schemaNodes();
    assert.ok(nodes.length > 100, `only ${nodes.length} nodes`);
    const missing = nodes.filter((n) => !n.schema.description).map((n) => n.path || "(top level)");
    assert.deepEqual(missing, []);
    const ref = configReference();
    for (const n of nodes) if (n.path.includes(".")) assert.ok(ref.includes(`\`${n.path}\``), n.path);
  });
});

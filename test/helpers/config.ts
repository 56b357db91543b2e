// The message of the ConfigError a config text raises (fails the test when it parses cleanly).
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/index.js";

export function configErrorOf(text: string): string {
  try {
    parseConfig(text, "t.yaml");
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail("no error");
}

// The test helpers' MIMM-X and MIMM switches must be the run configuration's schema defaults (the
// method layer has none of its own): a config that sets nothing but `preset: none` (no MIMM-X
// default preset), built into a method, gives the same values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/index.js";
import type { TaskInfo } from "../../src/data/types.js";
import type { Mimmx } from "../../src/methods/mimmx.js";
import { buildMethod } from "../../src/run/method.js";
import * as torch from "../../src/tensor/index.js";
import { mimmOptions, mimmxOptions } from "./helpers.js";

torch.setNumThreads(1);

const CONFIG = `name: defaults
data:
  source: fashion-confounded
  spurions:
    - {name: z0, kind: patch, ratio: 0.9}
    - {name: z1, kind: patch, ratio: 0.9}
method: {preset: none}
`;
const TASKS: TaskInfo[] = [
  { name: "y", role: "primary", numClasses: 2 },
  { name: "z0", role: "spurion", numClasses: 2 },
  { name: "z1", role: "spurion", numClasses: 2 },
];

/** The switches a method was built with (its config without the common part). */
function switchesOf(name: "mimmx" | "mimm"): Record<string, unknown> {
  const config = parseConfig(CONFIG);
  config.method.name = name;
  const m = buildMethod(config, TASKS) as Mimmx;
  return { ...m.cfg } as Record<string, unknown>;
}

describe("test helpers hold the run configuration's defaults", () => {
  it("mimmxOptions()", () => {
    const built = switchesOf("mimmx");
    for (const [key, value] of Object.entries(mimmxOptions())) assert.deepEqual(built[key], value, key);
  });
  it("mimmOptions()", () => {
    const built = switchesOf("mimm");
    for (const [key, value] of Object.entries(mimmOptions())) assert.deepEqual(built[key], value, key);
  });
});

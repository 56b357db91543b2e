// CPU lists in the kernel's notation and the cores a one-machine launch gives each rank.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { allowedCpus, coreShares, formatCpuList, parseCpuList } from "../../src/util/cpu-list.js";

describe("cpu lists", () => {
  test("parse and format the kernel's notation, both ways", () => {
    assert.deepEqual(parseCpuList("0-3,8"), [0, 1, 2, 3, 8]);
    assert.deepEqual(parseCpuList("5"), [5]);
    assert.deepEqual(parseCpuList("3,1-2,2"), [1, 2, 3]); // sorted, each CPU once
    assert.equal(formatCpuList([8, 0, 1, 2, 3]), "0-3,8");
    assert.equal(formatCpuList([1, 3, 5, 6]), "1,3,5-6");
    for (const text of ["0", "0-1", "0-3,8,10-11"]) assert.equal(formatCpuList(parseCpuList(text)), text);
  });
  test("a malformed list is refused naming the text and the bad part", () => {
    assert.throws(() => parseCpuList("0-x", "MIMMX_CPU_AFFINITY"), /MIMMX_CPU_AFFINITY "0-x": "0-x" is not/);
    assert.throws(() => parseCpuList("3-1"), /"3-1" is not a CPU number or range/);
    assert.throws(() => parseCpuList("1,,2"), /"" is not a CPU number or range/);
    assert.throws(() => parseCpuList("1024"), /"1024" is not/);
  });
  test("each rank gets its own run of cores; none when they do not fit", () => {
    assert.deepEqual(coreShares([0, 1], 2, 1), ["0", "1"]);
    assert.deepEqual(coreShares([0, 1, 2, 3, 8, 9], 3, 2), ["0-1", "2-3", "8-9"]);
    assert.deepEqual(coreShares([0, 1, 2, 3], 2, 1), ["0", "1"]);
    assert.equal(coreShares([0, 1], 2, 2), null);
    assert.equal(coreShares([0, 1], 3, 1), null);
  });
  test("this process's CPUs are read from its affinity mask", () => {
    const cpus = allowedCpus();
    assert.ok(cpus.length >= 1);
    assert.deepEqual(
      cpus,
      [...cpus].sort((a, b) => a - b),
    );
  });
});

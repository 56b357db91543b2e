import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, Progress } from "../../src/util/progress.js";

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 120, write: (s: string) => chunks.push(s) } };
}

describe("progress", () => {
  it("formats durations", () => {
    assert.equal(formatDuration(75), "1:15");
    assert.equal(formatDuration(3725), "1:02:05");
    assert.equal(formatDuration(Number.NaN), "?");
  });
  it("TTY: redraws one line with bar, rate and ETA, throttled", () => {
    let t = 0;
    const { chunks, stream } = fakeStream(true);
    const p = new Progress({ total: 100, label: "epoch 1/3", stream, now: () => t });
    for (let i = 1; i <= 50; i++) {
      t += 20; // 50 steps/s, 20 ms apart: only every 5th update may redraw (100 ms throttle)
      p.tick(1, { loss: 0.123456 });
    }
    assert.ok(chunks.length >= 9 && chunks.length <= 11, `${chunks.length} redraws`);
    const last = chunks.at(-1)!;
    assert.ok(last.startsWith("\r\x1b[K"));
    assert.ok(!last.includes("\n"));
    assert.match(last.slice(4), /^epoch 1\/3 \[#+\.+\] 4\d% 4\d\/100 50\.0 step\/s ETA 0:01 loss=0\.1235$/);
    p.log("checkpoint saved");
    assert.equal(chunks.at(-2), "\r\x1b[Kcheckpoint saved\n");
    p.finish();
    assert.match(chunks.at(-1)!, /epoch 1\/3 50\/100 steps in 0:01 \(50\.0 step\/s\)/);
    assert.ok(chunks.at(-1)!.endsWith("\n"));
  });
  it("plain: one line per interval, no carriage returns", () => {
    let t = 0;
    const { chunks, stream } = fakeStream(false);
    const p = new Progress({ total: 1000, stream, now: () => t, plainIntervalMs: 5000 });
    for (let i = 0; i < 1000; i++) {
      t += 50; // 20 steps/s for 50 s
      p.tick();
    }
    p.finish();
    assert.ok(chunks.length >= 10 && chunks.length <= 12, `${chunks.length} lines`);
    assert.ok(chunks.every((c) => !c.includes("\r") && c.endsWith("\n")));
    assert.match(chunks[5], /% \d+\/1000 20\.0 step\/s ETA/);
  });
  it("slow steps show seconds per step; unknown totals show no ETA", () => {
    let t = 0;
    const { chunks, stream } = fakeStream(false);
    const p = new Progress({ stream, now: () => t, plainIntervalMs: 0, unit: "batch" });
    t = 14_000;
    p.tick();
    assert.match(chunks[0], /1 batches 14\.0 s\/batch/);
    assert.doesNotMatch(chunks[0], /ETA/);
  });
  it("quiet prints nothing", () => {
    const { chunks, stream } = fakeStream(true);
    const p = new Progress({ total: 10, stream, mode: "quiet" });
    p.tick(5);
    p.log("x");
    p.finish();
    assert.equal(chunks.length, 0);
  });
});

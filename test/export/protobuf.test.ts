// The protobuf writer against hand-encoded bytes from the protobuf wire-format spec.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtoWriter } from "../../src/export/protobuf.js";

const bytes = (w: ProtoWriter) => [...w.finish()];

describe("ProtoWriter", () => {
  it("encodes varint fields", () => {
    assert.deepEqual(bytes(new ProtoWriter().varint(1, 150)), [0x08, 0x96, 0x01]);
    assert.deepEqual(bytes(new ProtoWriter().varint(2, 0)), [0x10, 0x00]);
    assert.deepEqual(bytes(new ProtoWriter().varint(1, true)), [0x08, 0x01]);
    // 2^35 and a bigint beyond 2^53
    assert.deepEqual(bytes(new ProtoWriter().varint(1, 2 ** 35)), [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert.deepEqual(bytes(new ProtoWriter().varint(1, 1n << 63n)), [0x08, ...new Array(9).fill(0x80), 0x01]);
  });
  it("encodes negative int64 as ten bytes of two's complement", () => {
    assert.deepEqual(bytes(new ProtoWriter().varint(1, -1)), [0x08, ...new Array(9).fill(0xff), 0x01]);
    assert.deepEqual(bytes(new ProtoWriter().varint(1, -2)), [0x08, 0xfe, ...new Array(8).fill(0xff), 0x01]);
  });
  it("encodes strings, sub-messages and large field numbers", () => {
    assert.deepEqual(
      bytes(new ProtoWriter().string(2, "testing")),
      [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67],
    );
    assert.deepEqual(
      bytes(new ProtoWriter().message(3, (m) => m.varint(1, 150))),
      [0x1a, 0x03, 0x08, 0x96, 0x01],
    );
    assert.deepEqual(bytes(new ProtoWriter().varint(20, 7)), [0xa0, 0x01, 0x07]);
  });
  it("encodes floats and packed repeated fields", () => {
    assert.deepEqual(bytes(new ProtoWriter().float(2, 1)), [0x15, 0x00, 0x00, 0x80, 0x3f]);
    assert.deepEqual(
      bytes(new ProtoWriter().packedVarints(4, [3, 270, 86942])),
      [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05],
    );
    assert.deepEqual(
      bytes(new ProtoWriter().packedFloats(7, [1, -2])),
      [0x3a, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0],
    );
    assert.deepEqual(bytes(new ProtoWriter().packedVarints(4, [])), []);
  });
  it("grows past its initial buffer", () => {
    const w = new ProtoWriter();
    const big = new Uint8Array(10_000).fill(7);
    w.bytes(1, big);
    const out = w.finish();
    assert.equal(out.length, 1 + 2 + 10_000);
    assert.deepEqual([...out.slice(0, 3)], [0x0a, 0x90, 0x4e]);
  });
  it("rejects non-integers and bad field numbers", () => {
    assert.throws(() => new ProtoWriter().varint(1, 1.5), /not a safe integer/);
    assert.throws(() => new ProtoWriter().varint(0, 1), /bad field number/);
  });
});

// Tensor creation, dtypes and data out: JS arrays and TypedArrays to tensors and back, factories,
// seeded randomness, conversions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as torch from "../../src/tensor/index.js";

describe("tensor() and data out", () => {
  it("nested arrays give shape and float32 by default; booleans give bool", () => {
    const t = torch.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, "float32");
    assert.equal(t.ndim, 2);
    assert.equal(t.numel(), 6);
    assert.deepEqual(t.size(), [2, 3]);
    assert.equal(t.size(-1), 3);
    assert.deepEqual(t.toArray(), [1, 2, 3, 4, 5, 6]);
    const b = torch.tensor([true, false]);
    assert.equal(b.dtype, "bool");
    assert.deepEqual(b.toArray(), [1, 0]);
    const s = torch.tensor(2.5);
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 2.5);
  });
  it("round-trips every dtype through TypedArrays", () => {
    const cases: [torch.DType, number[]][] = [
      ["float32", [0.5, -1.25, 3e10]],
      ["float64", [0.1, -1e-300, 1e300]],
      ["int64", [-(2 ** 40), 0, 2 ** 40]],
      ["int32", [-(2 ** 31), 0, 2 ** 31 - 1]],
      ["uint8", [0, 128, 255]],
      ["bool", [1, 0, 1]],
    ];
    for (const [dtype, data] of cases) {
      const t = torch.tensor(data, { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), dtype === "float32" ? Array.from(Float32Array.from(data)) : data, dtype);
      const again = torch.tensor(t.dataSync(), { dtype, shape: t.shape });
      assert.deepEqual(again.toArray(), t.toArray(), `${dtype} via dataSync`);
    }
    assert.ok(torch.tensor([1], { dtype: "int64" }).dataSync() instanceof BigInt64Array);
    assert.ok(torch.tensor([1], { dtype: "float64" }).dataSync() instanceof Float64Array);
  });
  it("bool tensors hold only 0/1, whatever numbers they were made from", () => {
    // A bool made from 2 or 255 must read back as 1 (true) and count as 1 in sums.
    const b = torch.tensor([2, 0, 255], { dtype: "bool" });
    assert.deepEqual(b.toArray(), [1, 0, 1]);
    assert.equal(b.sum().item(), 2);
    const fromBytes = torch.tensor(new Uint8Array([3, 0, 1]), { dtype: "bool" });
    assert.deepEqual(fromBytes.toArray(), [1, 0, 1]);
    assert.equal(fromBytes.sum().item(), 2);
  });
  it("TypedArray subarrays copy from their own offset; data is copied, not aliased", () => {
    const buf = new Float32Array([9, 1, 2, 3, 9]);
    const t = torch.tensor(buf.subarray(1, 4));
    assert.deepEqual(t.toArray(), [1, 2, 3]);
    buf[1] = 100;
    assert.deepEqual(t.toArray(), [1, 2, 3]);
    const out = t.dataSync() as Float32Array;
    out[0] = -5;
    assert.deepEqual(t.toArray(), [1, 2, 3]);
  });
  it("factories: zeros/ones/full/eye/arange/linspace and *Like", () => {
    assert.deepEqual(torch.zeros([2]).toArray(), [0, 0]);
    assert.deepEqual(torch.ones([1, 2], { dtype: "int32" }).toArray(), [1, 1]);
    assert.deepEqual(torch.full([3], 1.5, { dtype: "float64" }).toArray(), [1.5, 1.5, 1.5]);
    assert.deepEqual(torch.eye(2, 3).toArray(), [1, 0, 0, 0, 1, 0]);
    const r = torch.arange(5);
    assert.equal(r.dtype, "int64");
    assert.deepEqual(r.toArray(), [0, 1, 2, 3, 4]);
    assert.deepEqual(torch.arange(1, 2, 0.25, { dtype: "float32" }).toArray(), [1, 1.25, 1.5, 1.75]);
    assert.deepEqual(torch.linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
    const like = torch.fullLike(torch.zeros([2, 2], { dtype: "float64" }), 3);
    assert.equal(like.dtype, "float64");
    assert.deepEqual(like.toArray(), [3, 3, 3, 3]);
    assert.deepEqual(torch.onesLike(like).toArray(), [1, 1, 1, 1]);
    assert.deepEqual(torch.zerosLike(like).shape, [2, 2]);
  });
  it("manualSeed makes randn/rand/randint/randperm reproducible; statistics are sane", () => {
    torch.manualSeed(123);
    const a = torch.randn([1000]).toArray();
    const p = torch.randperm(10).toArray();
    torch.manualSeed(123);
    assert.deepEqual(torch.randn([1000]).toArray(), a);
    assert.deepEqual(torch.randperm(10).toArray(), p);
    assert.deepEqual(
      [...p].sort((x, y) => x - y),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    assert.ok(Math.abs(mean) < 0.1 && Math.abs(sd - 1) < 0.1, `randn mean ${mean} sd ${sd}`);
    const r = torch.rand([500]).toArray();
    assert.ok(r.every((v) => v >= 0 && v < 1));
    const ri = torch.randint(3, 6, [200]).toArray();
    assert.ok(ri.every((v) => v >= 3 && v < 6 && Number.isInteger(v)));
    assert.deepEqual(new Set(ri).size, 3);
  });
  it("conversions: to(dtype), float/double/long/bool, clone is a copy, detach drops grad", () => {
    const t = torch.tensor([1.7, -2.2, 0]);
    assert.deepEqual(t.long().toArray(), [1, -2, 0]);
    assert.deepEqual(t.bool().toArray(), [1, 1, 0]);
    assert.equal(t.double().dtype, "float64");
    assert.equal(t.to({ dtype: "int32" }).dtype, "int32");
    assert.equal(t.cpu().device, "cpu");
    const c = t.clone();
    c.add_(1);
    assert.deepEqual(t.toArray(), Array.from(Float32Array.from([1.7, -2.2, 0])));
    const g = torch.ones([2], { requiresGrad: true });
    assert.equal(g.requiresGrad, true);
    assert.equal(g.isLeaf, true);
    const d = g.mul(2).detach();
    assert.equal(d.requiresGrad, false);
    assert.match(String(torch.tensor([1, 2])), /shape=\[2\].*float32.*\[1,2\]/);
  });
  it("in-place ops mutate, out-of-place ops do not", () => {
    const x = torch.tensor([1, 2, 3]);
    const y = x.mul(2);
    assert.deepEqual(x.toArray(), [1, 2, 3]);
    x.mul_(2)
      .add_(1)
      .add_(torch.tensor([1, 1, 1]), 2);
    assert.deepEqual(x.toArray(), [5, 7, 9]);
    x.addcmul_(y, y, 0.5).clamp_(0, 20);
    assert.deepEqual(x.toArray(), [7, 15, 20]);
    x.zero_().fill_(4).sqrt_();
    assert.deepEqual(x.toArray(), [2, 2, 2]);
    x.copy_(torch.tensor([3, 2, 1]));
    assert.deepEqual(x.toArray(), [3, 2, 1]);
  });
  it("comparisons and logic give bool tensors", () => {
    const a = torch.tensor([1, 2, 3]);
    assert.deepEqual(a.gt(1.5).toArray(), [0, 1, 1]);
    assert.equal(a.gt(1.5).dtype, "bool");
    assert.deepEqual(a.eq(torch.tensor([1, 0, 3])).toArray(), [1, 0, 1]);
    assert.deepEqual(a.le(2).logicalAnd(a.ge(2)).toArray(), [0, 1, 0]);
    assert.deepEqual(a.lt(2).logicalOr(a.gt(2)).logicalNot().toArray(), [0, 1, 0]);
    assert.deepEqual(torch.tensor([0, Number.NaN]).isnan().toArray(), [0, 1]);
    assert.deepEqual(torch.tensor([1, Number.POSITIVE_INFINITY]).isfinite().toArray(), [1, 0]);
    assert.equal(a.allclose(a.add(1e-7)), true);
    assert.equal(a.allclose(a.add(1e-3)), false);
    assert.deepEqual(a.argmax().item(), 2);
    assert.deepEqual(
      torch
        .tensor([
          [1, 5],
          [7, 0],
        ])
        .argmin(1)
        .toArray(),
      [0, 1],
    );
    assert.deepEqual(torch.tensor([3, 1, 2]).argsort().toArray(), [1, 2, 0]);
    assert.deepEqual(torch.tensor([0, 2, 0, 1]).nonzero().toArray(), [1, 3]);
    assert.equal(torch.tensor([true, false]).any().item(), 1);
    assert.equal(torch.tensor([true, false]).all().item(), 0);
  });
});

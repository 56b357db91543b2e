// Forward semantics of Tensor methods whose values are easy to state exactly (the golden and gradcheck
// suites cover the numerics): shapes, indexing, splitting, sorting, reductions with keepdim.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as torch from "../../src/tensor/index.js";

const t23 = () =>
  torch.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const long = (d: number[], shape?: number[]) => torch.tensor(d, { dtype: "int64", shape });

describe("shape ops", () => {
  it("reshape/view/permute/transpose/flatten/squeeze/unsqueeze/expand/repeat", () => {
    assert.deepEqual(t23().reshape([3, 2]).toArray(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(t23().reshape(-1, 2).shape, [3, 2]);
    assert.deepEqual(t23().t().toArray(), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(t23().transpose(0, 1).contiguous().view(6).toArray(), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(torch.zeros([2, 3, 4]).permute(2, 0, 1).shape, [4, 2, 3]);
    assert.deepEqual(torch.zeros([2, 3, 4]).flatten(1).shape, [2, 12]);
    assert.deepEqual(torch.zeros([1, 3, 1]).squeeze().shape, [3]);
    assert.deepEqual(torch.zeros([1, 3, 1]).squeeze(0).shape, [3, 1]);
    assert.deepEqual(torch.zeros([3]).unsqueeze(-1).shape, [3, 1]);
    assert.deepEqual(
      torch
        .tensor([[1], [2]])
        .expand(2, 3)
        .toArray(),
      [1, 1, 1, 2, 2, 2],
    );
    assert.deepEqual(torch.tensor([1, 2]).repeat(2).toArray(), [1, 2, 1, 2]);
    assert.deepEqual(torch.tensor([1, 2]).repeatInterleave(2).toArray(), [1, 1, 2, 2]);
  });
  it("slice/narrow/select/indexSelect/gather/scatter/masks", () => {
    const x = torch.tensor([0, 1, 2, 3, 4, 5]);
    assert.deepEqual(x.slice(0, 1, 5, 2).toArray(), [1, 3]);
    assert.deepEqual(x.slice(0, -2).toArray(), [4, 5]);
    assert.deepEqual(x.slice(0, undefined, -4).toArray(), [0, 1]);
    assert.deepEqual(x.narrow(0, 2, 3).toArray(), [2, 3, 4]);
    assert.deepEqual(t23().select(1, -1).toArray(), [3, 6]);
    assert.deepEqual(
      t23()
        .indexSelect(1, long([2, 0]))
        .toArray(),
      [3, 1, 6, 4],
    );
    assert.deepEqual(
      t23()
        .gather(1, long([2, 2, 0, 1], [2, 2]))
        .toArray(),
      [3, 3, 4, 5],
    );
    assert.deepEqual(
      torch
        .zeros([2, 3])
        .scatter(1, long([1, 2], [2, 1]), torch.ones([2, 1]))
        .toArray(),
      [0, 1, 0, 0, 0, 1],
    );
    assert.deepEqual(
      torch
        .zeros([3])
        .scatterAdd(0, long([0, 0, 2]), torch.ones([3]))
        .toArray(),
      [2, 0, 1],
    );
    const m = torch.tensor([true, false, true, false, false, true], { shape: [2, 3] });
    assert.deepEqual(t23().maskedSelect(m).toArray(), [1, 3, 6]);
    assert.deepEqual(t23().maskedFill(m, 0).toArray(), [0, 2, 0, 4, 5, 0]);
    assert.deepEqual(torch.where(m, t23(), -1).toArray(), [1, -1, 3, -1, -1, 6]);
  });
  it("split/chunk/unbind/cat/stack/diag/tril/flip/roll/pad/oneHot", () => {
    const parts = torch.arange(5).split(2);
    assert.deepEqual(
      parts.map((p) => p.toArray()),
      [[0, 1], [2, 3], [4]],
    );
    assert.deepEqual(
      torch
        .arange(5)
        .split([1, 4])
        .map((p) => p.shape[0]),
      [1, 4],
    );
    assert.deepEqual(
      torch
        .arange(6)
        .chunk(3)
        .map((p) => p.toArray()),
      [
        [0, 1],
        [2, 3],
        [4, 5],
      ],
    );
    assert.deepEqual(
      t23()
        .unbind(1)
        .map((p) => p.toArray()),
      [
        [1, 4],
        [2, 5],
        [3, 6],
      ],
    );
    assert.deepEqual(torch.cat([t23(), t23()], 1).shape, [2, 6]);
    assert.deepEqual(torch.stack([torch.ones([2]), torch.zeros([2])], 1).toArray(), [1, 0, 1, 0]);
    assert.deepEqual(torch.tensor([1, 2]).diag().toArray(), [1, 0, 0, 2]);
    assert.deepEqual(torch.ones([2, 2]).tril().toArray(), [1, 0, 1, 1]);
    assert.deepEqual(torch.ones([2, 2]).triu(1).toArray(), [0, 1, 0, 0]);
    assert.deepEqual(t23().diagonal().toArray(), [1, 5]);
    assert.deepEqual(t23().flip([1]).toArray(), [3, 2, 1, 6, 5, 4]);
    assert.deepEqual(t23().roll([1], [1]).toArray(), [3, 1, 2, 6, 4, 5]);
  });
});

describe("reductions and sorting", () => {
  it("sum/mean/prod/max/min with dims and keepdim", () => {
    assert.equal(t23().sum().item(), 21);
    assert.deepEqual(t23().sum(0).toArray(), [5, 7, 9]);
    assert.deepEqual(t23().sum([0, 1], true).shape, [1, 1]);
    assert.deepEqual(t23().mean(1).toArray(), [2, 5]);
    assert.deepEqual(t23().prod(1).toArray(), [6, 120]);
    assert.equal(t23().max().item(), 6);
    assert.deepEqual(t23().min(1, true).toArray(), [1, 4]);
    const [v, i] = torch
      .tensor([
        [3, 9, 1],
        [7, 2, 8],
      ])
      .maxDim(1);
    assert.deepEqual([v.toArray(), i.toArray(), i.dtype], [[9, 8], [1, 2], "int64"]);
    const [mv, mi] = torch
      .tensor([
        [3, 9, 1],
        [7, 2, 8],
      ])
      .minDim(0);
    assert.deepEqual(
      [mv.toArray(), mi.toArray()],
      [
        [3, 2, 1],
        [0, 1, 0],
      ],
    );
    assert.deepEqual(torch.tensor([1, 2, 3, 4]).cumsum(0).toArray(), [1, 3, 6, 10]);
    assert.equal(torch.tensor([3, 4]).norm().item(), 5);
    assert.equal(torch.tensor([1, 2, 3, 4]).var().item(), Math.fround(5 / 3));
    assert.equal(torch.tensor([1, 2, 3, 4], { dtype: "float64" }).var(undefined, false).item(), 1.25);
    assert.equal(torch.tensor([1, 3], { dtype: "float64" }).std(0).item(), Math.SQRT2);
  });
  it("sort/argsort/topk", () => {
    const [v, i] = torch.tensor([3, 1, 2]).sort();
    assert.deepEqual(
      [v.toArray(), i.toArray()],
      [
        [1, 2, 3],
        [1, 2, 0],
      ],
    );
    assert.deepEqual(torch.tensor([3, 1, 2]).sort(0, true)[0].toArray(), [3, 2, 1]);
    assert.deepEqual(torch.tensor([3, 1, 2]).argsort(-1, true).toArray(), [0, 2, 1]);
    const [tv, ti] = torch.tensor([5, 1, 4, 9]).topk(2);
    assert.deepEqual(
      [tv.toArray(), ti.toArray()],
      [
        [9, 5],
        [3, 0],
      ],
    );
    assert.deepEqual(torch.tensor([5, 1, 4, 9]).topk(2, -1, false)[0].toArray(), [1, 4]);
  });
  it("matmul family and free functions", () => {
    assert.deepEqual(
      t23()
        .matmul(torch.ones([3, 1]))
        .toArray(),
      [6, 15],
    );
    assert.deepEqual(torch.outer(torch.tensor([1, 2]), torch.tensor([3, 4])).toArray(), [3, 4, 6, 8]);
    assert.deepEqual(
      torch
        .cdist(
          torch.tensor([[0, 0]]),
          torch.tensor([
            [3, 4],
            [0, 1],
          ]),
        )
        .toArray(),
      [5, 1],
    );
    assert.deepEqual(torch.powScalar(2, torch.tensor([0, 3])).toArray(), [1, 8]);
    assert.deepEqual(torch.maximum(torch.tensor([1, 5]), torch.tensor([3, 2])).toArray(), [3, 5]);
    assert.deepEqual(torch.tensor([5, -5]).remainder(3).toArray(), [2, 1]);
    assert.deepEqual(torch.tensor([1, 2]).rsub(10).toArray(), [9, 8]);
  });
});

// Deterministic freeing: torch.tidy frees temporaries, keeps what it returns and what keep() marks;
// nested scopes hand their results to the enclosing scope. liveTensorCount() is the native handle count.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nn from "../../src/nn/index.js";
import type { Tensor } from "../../src/tensor/index.js";
import * as torch from "../../src/tensor/index.js";

const live = () => torch.liveTensorCount();

describe("tidy", () => {
  it("frees 100 temporaries and keeps the returned tensor", () => {
    const before = live();
    const out = torch.tidy(() => {
      let acc = torch.zeros([4]);
      for (let i = 0; i < 100; i++) acc = acc.add(torch.ones([4]));
      assert.ok(live() >= before + 100, `inside the scope ${live() - before} handles are alive`);
      return acc;
    });
    assert.equal(live(), before + 1);
    assert.deepEqual(out.toArray(), [100, 100, 100, 100]);
    out.dispose();
    assert.equal(live(), before);
  });
  it("returns tensors inside arrays, Maps and plain objects", () => {
    const before = live();
    const r = torch.tidy(() => {
      const a = torch.ones([2]);
      torch.zeros([3]); // garbage
      return { list: [a, torch.full([1], 7)], map: new Map([["k", torch.ones([1])]]), n: 3 };
    });
    assert.equal(live(), before + 3);
    assert.equal(r.list[1].item(), 7);
    assert.equal(r.map.get("k")!.item(), 1);
    for (const t of [...r.list, r.map.get("k")!]) t.dispose();
    assert.equal(live(), before);
  });
  it("nested scopes: the inner result moves to the outer scope and is freed there", () => {
    const before = live();
    let inner: Tensor | null = null;
    const outer = torch.tidy(() => {
      inner = torch.tidy(() => torch.ones([2]).mul(3));
      assert.equal(torch.scopeDepth(), 1);
      assert.equal(inner.isDisposed, false);
      return inner.add(1);
    });
    assert.equal(torch.scopeDepth(), 0);
    assert.equal(inner!.isDisposed, true, "the inner result, not returned by the outer scope, is freed");
    assert.deepEqual(outer.toArray(), [4, 4]);
    outer.dispose();
    assert.equal(live(), before);
  });
  it("keep() exempts a tensor from every scope", () => {
    const before = live();
    let kept: Tensor | null = null;
    torch.tidy(() => {
      torch.tidy(() => {
        kept = torch.ones([5]).keep();
        torch.ones([5]);
      });
    });
    assert.equal(kept!.isDisposed, false);
    assert.equal(live(), before + 1);
    kept!.dispose();
    assert.equal(live(), before);
  });
  it("frees temporaries when fn throws, and the error propagates", () => {
    const before = live();
    assert.throws(
      () =>
        torch.tidy(() => {
          for (let i = 0; i < 10; i++) torch.ones([3]);
          torch.ones([2]).matmul(torch.ones([3])); // throws
        }),
      /dot|matmul|inconsistent/,
    );
    assert.equal(live(), before);
    assert.equal(torch.scopeDepth(), 0);
  });
  it("tidy rejects an async function; tidyAsync frees after the await", async () => {
    assert.throws(() => torch.tidy((async () => 1) as unknown as () => number), /tidyAsync/);
    const before = live();
    const r = await torch.tidyAsync(async () => {
      const a = torch.ones([2]);
      await new Promise((res) => setTimeout(res, 1));
      torch.zeros([9]);
      return a.mul(2);
    });
    assert.equal(live(), before + 1);
    assert.deepEqual(r.toArray(), [2, 2]);
    r.dispose();
  });
  it("a training step inside tidy leaves only parameters, grads and optimizer state alive", async () => {
    const { Adam } = await import("../../src/optim/index.js");
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const x = torch.randn([5, 4]);
    const y = torch.tensor([0, 1, 1, 0, 1], { dtype: "int64" });
    const step = () =>
      torch.tidy(() => {
        opt.zeroGrad();
        const loss = nn.F.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss.item();
      });
    step();
    const after1 = live();
    for (let i = 0; i < 5; i++) step();
    assert.equal(live(), after1, "no handle leaks per training step");
  });
  it("freeing a handle never corrupts shared storage (a view stays valid)", () => {
    const base = torch.tensor([1, 2, 3, 4]);
    const view = base.reshape(2, 2);
    base.dispose();
    assert.deepEqual(view.toArray(), [1, 2, 3, 4]);
    view.dispose();
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { knnLabelAgreement, tsne } from "../../src/eval/tsne.js";
import { Rng } from "../../src/util/random.js";

function clusters(perCluster: number, centres: number, dim: number, spread: number, seed: number) {
  const rng = new Rng(seed);
  const n = perCluster * centres;
  const x = new Float64Array(n * dim);
  const labels = new Int32Array(n);
  const mu = Array.from({ length: centres }, () => Array.from({ length: dim }, () => rng.normal() * 10));
  for (let i = 0; i < n; i++) {
    // Interleave clusters so row order carries no label information.
    const c = i % centres;
    labels[i] = c;
    for (let j = 0; j < dim; j++) x[i * dim + j] = mu[c][j] + rng.normal() * spread;
  }
  return { x, labels };
}

describe("t-SNE", () => {
  it("separates well-separated Gaussian clusters", () => {
    const { x, labels } = clusters(60, 3, 10, 1, 1);
    const r = tsne(x, 10, { seed: 1, iterations: 400, perplexity: 20 });
    assert.equal(r.embedding.length, 360);
    assert.ok(knnLabelAgreement(r.embedding, 2, labels, 5) > 0.95);
    assert.ok(Number.isFinite(r.klDivergence) && r.klDivergence > 0);
  });
  it("shows no clusters for a label independent of the data", () => {
    const { x } = clusters(60, 3, 10, 1, 2);
    const rng = new Rng(5);
    const random = Int32Array.from({ length: 180 }, () => rng.int(2));
    const r = tsne(x, 10, { seed: 1, iterations: 300 });
    // Chance agreement for two balanced classes is 0.5.
    assert.ok(Math.abs(knnLabelAgreement(r.embedding, 2, random, 5) - 0.5) < 0.12);
  });
  it("is deterministic given a seed, and the seed matters", () => {
    const { x } = clusters(20, 2, 5, 1, 3);
    const a = tsne(x, 5, { seed: 4, iterations: 150 });
    const b = tsne(x, 5, { seed: 4, iterations: 150 });
    const c = tsne(x, 5, { seed: 5, iterations: 150 });
    assert.deepEqual(a.embedding, b.embedding);
    assert.notDeepEqual(a.embedding, c.embedding);
  });
  it("subsamples large inputs with the seed", () => {
    const { x } = clusters(50, 2, 3, 1, 4);
    const r = tsne(x, 3, { seed: 2, iterations: 50, maxPoints: 40 });
    assert.equal(r.indices.length, 40);
    assert.equal(r.embedding.length, 80);
    for (let i = 1; i < 40; i++) assert.ok(r.indices[i] > r.indices[i - 1]);
    assert.deepEqual(r.indices, tsne(x, 3, { seed: 2, iterations: 50, maxPoints: 40 }).indices);
  });
});

// Speed of the t-SNE used by the evaluation (src/eval/tsne.ts): seconds to embed 1000 points of four
// 16-d Gaussian clusters, 300 iterations (the default 1000 takes ~3.3x as long). This replaced a
// wall-clock assertion in test/eval/tsne.test.ts; measured then: under 6 s on the 2-core machine.
//
//   node dist/bench/tsne.js
import { tsne } from "../src/eval/tsne.js";
import { Rng } from "../src/util/random.js";

export function benchTsne(
  points = 1000,
  iterations = 300,
): { points: number; iterations: number; seconds: number } {
  const dim = 16;
  const rng = new Rng(6);
  const centres = Array.from({ length: 4 }, () => Array.from({ length: dim }, () => rng.normal() * 10));
  const x = new Float64Array(points * dim);
  for (let i = 0; i < points; i++)
    for (let j = 0; j < dim; j++) x[i * dim + j] = centres[i % 4][j] + rng.normal();
  const t0 = performance.now();
  tsne(x, dim, { seed: 0, iterations });
  return { points, iterations, seconds: (performance.now() - t0) / 1000 };
}

if (process.argv[1]?.endsWith("tsne.js")) console.log(JSON.stringify(benchTsne()));

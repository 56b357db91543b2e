// Importance weights that let an MI term be estimated under the balanced distribution instead of
// the training distribution (MIMM-X switch miDistribution: "balanced", our design).
//
// Why: in training data y and z_i are correlated (ratio 0.9), so even features that read y only
// share I(y; z_i) ~ 0.37 nats with z_i. Minimising the training-distribution MI therefore pushes
// f_y past the shape-only solution towards features that *anti*-use z_i to cancel that correlation
// (measured: validation accuracy falls below the inverted test's). Reweighting each batch so that the
// labels of a pair's tasks are independent and uniform - the distribution of the balanced test -
// removes the y-z correlation from the estimate: a shape-only f_y has zero MI there, and any use of
// z_i, positive or negative, shows up as dependence.
//
// Weights per pair: w_b = 1 / n_g(b), where g(b) is sample b's combination of the pair's task labels
// and n_g its count in the batch; every group present then carries equal total weight.
import type { PartPair } from "../mi/pair-sets.js";
import { tensor } from "../tensor/creation.js";
import type { Device, Tensor } from "../tensor/tensor.js";

/**
 * Log importance weights [P, B]: for each pair, -log(count of the sample's label group), the group
 * being the labels of the tasks whose parts the pair reads (part i = task i). labels: one array of
 * class indices per task, each of length B.
 */
export function balancedLogWeights(pairs: PartPair[], labels: ArrayLike<number>[], device: Device): Tensor {
  const b = labels[0].length;
  const out = new Float32Array(pairs.length * b);
  pairs.forEach((p, pi) => {
    const tasks = [...p.a, ...p.c];
    const keys: string[] = new Array(b);
    const counts = new Map<string, number>();
    for (let i = 0; i < b; i++) {
      const key = tasks.map((t) => labels[t][i]).join(",");
      keys[i] = key;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (let i = 0; i < b; i++) out[pi * b + i] = -Math.log(counts.get(keys[i])!);
  });
  return tensor(out, { shape: [pairs.length, b], device });
}

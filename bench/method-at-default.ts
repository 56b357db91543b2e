// A method as a run configuration with nothing but `method: { name }` builds it (for MIMM-X: the
// default the benchmark suite chose), on the small CNN of the fashion-confounded source with
// `spurions` binary patch spurions z0..z{N-1}. The benches that time "the default" build it here.
import { type MethodName, resolveDefaults } from "../src/config/index.js";
import type { TaskInfo } from "../src/data/index.js";
import type { Method } from "../src/methods/index.js";
import { buildMethod } from "../src/run/method.js";
import * as torch from "../src/tensor/index.js";
import type { Device } from "../src/tensor/tensor.js";

/** y and N binary spurions z0..z{N-1}. */
export function tasksWith(spurions: number): { name: string; numClasses: number }[] {
  return [
    { name: "y", numClasses: 2 },
    ...Array.from({ length: spurions }, (_, i) => ({ name: `z${i}`, numClasses: 2 })),
  ];
}

/**
 * featureDim: model.feature_dim when given (MTL at MIMM-X's width), else the config's default;
 * device: train.device (default cpu).
 */
export function methodAtItsDefault(
  name: MethodName,
  spurions: number,
  featureDim?: number,
  device: Device = "cpu",
): { method: Method; featureDim: number } {
  const config = resolveDefaults(
    {
      name: `bench-${name}-default`,
      data: {
        source: "fashion-confounded",
        spurions: Array.from({ length: spurions }, (_, i) => ({ name: `z${i}`, kind: "patch" as const })),
      },
      method: { name },
      train: { device },
      ...(featureDim === undefined ? {} : { model: { feature_dim: featureDim } }),
    },
    `bench ${name}`,
  );
  const tasks: TaskInfo[] = tasksWith(spurions).map((t, i) => ({
    ...t,
    role: i === 0 ? "primary" : "spurion",
  }));
  torch.manualSeed(0);
  return { method: buildMethod(config, tasks, name), featureDim: config.model.feature_dim };
}

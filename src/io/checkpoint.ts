// A training checkpoint in one .safetensors file: model tensors under "model.", optimizer state under
// "optim.<name>.", and everything else (epoch, step, RNG seed, metrics, optimizer hyper-parameters) as
// JSON in the metadata, so Python tools can open the weights directly.
import type { Module } from "../nn/module.js";
import type { Optimizer, OptimizerStateDict } from "../optim/optimizer.js";
import type { Tensor } from "../tensor/tensor.js";
import { loadSafetensors, saveSafetensors } from "./safetensors.js";

export interface CheckpointParts {
  model: Module;
  optimizers?: Record<string, Optimizer>;
  /** any JSON-serialisable training state (epoch, step, best metric, scheduler state...) */
  state?: Record<string, unknown>;
}

export function saveCheckpoint(path: string, parts: CheckpointParts): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of parts.model.stateDict()) tensors.set(`model.${k}`, v);
  const optimMeta: Record<string, Omit<OptimizerStateDict, "tensors">> = {};
  for (const [name, opt] of Object.entries(parts.optimizers ?? {})) {
    const sd = opt.stateDict();
    for (const [k, v] of sd.tensors) tensors.set(`optim.${name}.${k}`, v);
    optimMeta[name] = { groups: sd.groups, state: sd.state };
  }
  saveSafetensors(path, tensors, {
    format: "mimmx-checkpoint-1",
    state: JSON.stringify(parts.state ?? {}),
    optimizers: JSON.stringify(optimMeta),
  });
}

/** Loads a checkpoint into the given model and optimizers and returns the saved training state. */
export function loadCheckpoint(path: string, parts: CheckpointParts): Record<string, unknown> {
  const { tensors, metadata } = loadSafetensors(path);
  const model = new Map<string, Tensor>();
  for (const [k, v] of tensors) if (k.startsWith("model.")) model.set(k.slice(6), v);
  parts.model.loadStateDict(model);
  const optimMeta = JSON.parse(metadata.optimizers ?? "{}") as Record<
    string,
    Omit<OptimizerStateDict, "tensors">
  >;
  for (const [name, opt] of Object.entries(parts.optimizers ?? {})) {
    const meta = optimMeta[name];
    if (!meta)
      throw new Error(
        `${path}: no state for optimizer "${name}" (saved: ${Object.keys(optimMeta).join(", ") || "none"})`,
      );
    const prefix = `optim.${name}.`;
    const own = new Map<string, Tensor>();
    for (const [k, v] of tensors) if (k.startsWith(prefix)) own.set(k.slice(prefix.length), v);
    opt.loadStateDict({ ...meta, tensors: own });
  }
  for (const t of tensors.values()) t.dispose();
  return JSON.parse(metadata.state ?? "{}");
}

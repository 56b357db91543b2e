// Schema of the `train` section: the optimiser, schedule, checkpoint selection and the loop.
import { bool, int, num, obj, oneOf, type Schema, str } from "../schema.js";
import type { TrainConfig } from "../types.js";

export const SELECT_BY = [
  "last",
  "val_loss",
  "val_accuracy",
  "val_balanced_accuracy",
  "val_worst_group",
] as const;

export const trainSchema = obj<TrainConfig>(
  {
    epochs: int({ min: 1, default: 10, description: "Passes over the training split." }),
    batch_size: int({ min: 2, default: 128, description: "Images per batch (encoder and critic batches)." }),
    lr: num({ exclusiveMin: 0, default: 1e-3, description: "Learning rate of the model optimiser." }),
    weight_decay: num({
      min: 0,
      default: 0,
      description: "Weight decay of the model optimiser (default 0.01 with optimizer adamw, as in PyTorch).",
    }),
    optimizer: oneOf(["adam", "adamw", "sgd"] as const, {
      default: "adam",
      description: "The model optimiser (critics keep their own Adam).",
    }),
    momentum: num({ min: 0, exclusiveMax: 1, default: 0.9, description: "SGD momentum." }),
    nesterov: bool({ default: false, description: "SGD Nesterov momentum." }),
    scheduler: oneOf(["none", "step", "cosine"] as const, {
      default: "none",
      description:
        "Stepped once per epoch: StepLR (step_size, gamma) or CosineAnnealingLR (T_max = epochs, min_lr).",
    }),
    step_size: int({ min: 1, default: 10, description: "step scheduler: epochs between decays." }),
    gamma: num({ exclusiveMin: 0, max: 1, default: 0.1, description: "step scheduler: the decay factor." }),
    min_lr: num({ min: 0, default: 0, description: "cosine scheduler: the final learning rate (eta_min)." }),
    early_stopping: obj(
      {
        patience: int({
          min: 0,
          default: 0,
          description:
            "Epochs without improvement of the selection metric before stopping (0 = never stop early).",
        }),
      },
      {
        fromScalar: (v) => ({ patience: v }),
        description: "Early stopping; a number alone means { patience }.",
      },
    ),
    select_by: oneOf(SELECT_BY, {
      default: "last",
      description:
        'The checkpoint kept at the end. The validation split is confounded like training data, so selecting on its accuracy favours shortcut models; "last" is the neutral default.',
    }),
    device: str({
      default: "cpu",
      pattern: /^(cpu|cuda(:[0-9]+)?)$/,
      patternText: '"cpu", "cuda" or "cuda:N"',
      description:
        "Where the model, batches, critics and every tensor of training and evaluation live: cpu, cuda or cuda:N. A CUDA device is refused at the start of a run where libtorch has no CUDA, and cuda:N where N is not below the device count.",
    }) as Schema<TrainConfig["device"]>,
    threads: int({ min: 0, default: 0, description: "Intra-op threads; 0 = all cores." }),
    grad_clip: num({
      min: 0,
      default: 0,
      description: "Clip the global gradient norm of the model optimiser's parameters to this (0 = off).",
    }),
    log_every: int({ min: 1, default: 50, description: "Log every this many steps." }),
  },
  {
    description: "The model optimiser, learning-rate schedule, checkpoint selection and training loop.",
    refine: (v, given, path, ctx) => {
      // PyTorch's AdamW decays by 1e-2 unless told otherwise; Adam and SGD by 0.
      if (v.optimizer === "adamw" && !given.has("weight_decay")) v.weight_decay = 0.01;
      const usedBy: [keyof TrainConfig, boolean, string][] = [
        ["momentum", v.optimizer === "sgd", 'optimizer "sgd"'],
        ["nesterov", v.optimizer === "sgd", 'optimizer "sgd"'],
        ["step_size", v.scheduler === "step", 'scheduler "step"'],
        ["gamma", v.scheduler === "step", 'scheduler "step"'],
        ["min_lr", v.scheduler === "cosine", 'scheduler "cosine"'],
      ];
      for (const [key, used, by] of usedBy)
        if (given.has(key) && !used) ctx.warn([...path, key], `ignored: only used with ${by}`);
      if (v.optimizer === "sgd" && v.nesterov && v.momentum === 0)
        ctx.error([...path, "nesterov"], "Nesterov momentum needs momentum > 0");
      if (v.scheduler === "cosine" && v.min_lr > v.lr)
        ctx.warn([...path, "min_lr"], `min_lr ${v.min_lr} is above lr ${v.lr}: the schedule raises the rate`);
      return v;
    },
  },
);

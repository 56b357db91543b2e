// Schema of the `eval` section: the test splits, bootstrap CIs, probes, t-SNE and the MI audit.
import { bool, int, list, num, obj, oneOf } from "../schema.js";
import { CRITICS, type EvalConfig, SPLIT_NAMES } from "../types.js";

const evalSplit = (what: string) =>
  oneOf(SPLIT_NAMES, { default: "test_balanced", description: `The split the ${what} runs on.` });

export const evalSchema = obj<EvalConfig>(
  {
    splits: list(oneOf(SPLIT_NAMES, { description: "A split to evaluate." }), {
      minItems: 1,
      unique: true,
      default: [...SPLIT_NAMES],
      description: "The splits every method is evaluated on.",
    }),
    bootstrap: int({
      min: 0,
      default: 1000,
      description: "Bootstrap resamples for the confidence intervals (0 = none).",
    }),
    min_group_size: int({
      min: 1,
      default: 10,
      description: "Groups (y, z) smaller than this are not eligible as the worst group.",
    }),
    probes: obj(
      {
        enabled: bool({
          default: true,
          description: "Fit linear probes f_y -> z_i (how much of each spurion f_y still holds).",
        }),
        split: evalSplit("probes"),
        folds: int({
          min: 0,
          default: 0,
          description: "0: fit on one half, score on the other; k >= 2: k-fold cross-validation.",
        }),
        l2: num({ min: 0, default: 1e-3, description: "L2 penalty of the logistic probes." }),
        max_iter: int({ min: 1, default: 300, description: "Optimiser iterations per probe." }),
      },
      {
        description: "Linear probes from each feature part to every label.",
        refine: (v, _g, path, ctx) => {
          if (v.folds === 1)
            ctx.error(
              [...path, "folds"],
              "expected 0 (fit on one half, score on the other) or k >= 2 folds, got 1",
            );
          return v;
        },
      },
    ),
    tsne: obj(
      {
        enabled: bool({ default: true, description: "Embed f_y in 2-D for the report." }),
        split: evalSplit("t-SNE"),
        perplexity: num({ min: 2, max: 100, default: 30, description: "t-SNE perplexity." }),
        iterations: int({ min: 50, default: 1000, description: "t-SNE gradient steps." }),
        max_points: int({
          min: 10,
          max: 5000,
          default: 1000,
          description: "Points embedded (a stratified sample).",
        }),
      },
      { description: "t-SNE of the primary feature part." },
    ),
    mi_audit: obj(
      {
        enabled: bool({
          default: true,
          description: "Estimate I(f_y; z_i) after training with a fresh critic.",
        }),
        split: evalSplit("MI audit"),
        critic: oneOf(CRITICS, { default: "joint", description: "The audit critic's kind." }),
        hidden: int({ min: 1, default: 128, description: "Hidden units per audit critic layer." }),
        layers: int({ min: 1, default: 3, description: "Hidden layers of the audit critic." }),
        steps: int({ min: 1, default: 2000, description: "Training steps of the audit critic." }),
        lr: num({ exclusiveMin: 0, default: 1e-3, description: "Learning rate of the audit critic." }),
        batch_size: int({ min: 2, default: 256, description: "Batch size of the audit critic." }),
      },
      {
        description: "A post-hoc MI estimate between f_y and each spurion label, by an independent critic.",
        refine: (v, given, path, ctx) => {
          // The published critic has a fixed size; a separable one has a single hidden layer.
          const ignored =
            v.critic === "published" ? ["hidden", "layers"] : v.critic === "separable" ? ["layers"] : [];
          for (const key of ignored)
            if (given.has(key)) ctx.warn([...path, key], `ignored by the ${v.critic} audit critic`);
          return v;
        },
      },
    ),
  },
  { description: "What is measured after training: splits, CIs, probes, t-SNE and the MI audit." },
);

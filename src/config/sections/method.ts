// Schema of the `method` section: which method trains, and MIMM-X's (and MIMM's) MI penalty, critics
// and switches. Keys map one to one onto the method's options (src/run/method.ts).
import { DEFAULT_PRESET, PRESETS } from "../presets.js";
import { bool, int, list, num, obj, oneOf, optional, type Schema, str } from "../schema.js";
import {
  ESTIMATOR_KINDS,
  type EstimatorConfig,
  METHODS,
  type MethodConfig,
  type MethodName,
} from "../types.js";

const PUBLISHED_HIDDEN = 400;
const PUBLISHED_LAYERS = 3;

export const estimatorSchema = obj<EstimatorConfig>(
  {
    critic: oneOf(ESTIMATOR_KINDS, {
      default: "joint",
      description:
        'joint: an MLP (BatchNorm + ReLU) on the pair [a; c]; "split" is the same function computed as W_a a + W_c c (the form used for joint too); separable: T = g(a).h(c); published: the paper\'s 3 x 400 joint critic on all pairs; kernel: no critic, the kernel dependence of f_y on each spurion label within each class of y (needs spurion_view "labels").',
    }),
    hidden: int({
      min: 1,
      max: 8192,
      default: 64,
      description:
        "Hidden units per critic layer (published: 400); separable: the width of g and h, whose embeddings have hidden / 2 values.",
    }),
    layers: int({
      min: 1,
      max: 16,
      default: 3,
      description: "Hidden layers of a joint critic (published: 3); separable critics have one.",
    }),
    negatives: int({
      min: 0,
      default: 0,
      description:
        "Joint critics: sampled negatives per row; 0 = all B - 1 off-diagonal pairs (separable critics always use all).",
    }),
    ema_rate: num({
      exclusiveMin: 0,
      max: 1,
      default: 0.9,
      description: "Rate r of the bias-correction EMA of the DV gradient: EMA = r * new + (1 - r) * EMA.",
    }),
    conditional_negatives: bool({
      default: false,
      description: "Pair (i, j) only where y_i = y_j: estimates I(f_y; f_z | y).",
    }),
    score_bound: oneOf(["tanh", "cosine", "none"] as const, {
      default: "tanh",
      description:
        "Bound on critic scores. tanh: temperature * tanh(score / temperature) (joint and separable); cosine: temperature * cosine of the two embeddings (separable only); none: unbounded (joint only; the published critic is unbounded).",
    }),
    temperature: num({
      exclusiveMin: 0,
      default: 5,
      description: "Scale of bounded scores: the tanh amplitude, or the factor on the cosine.",
    }),
    lr: num({ exclusiveMin: 0, default: 1e-4, description: "Critic learning rate (the critics' own Adam)." }),
    bandwidths: list(
      num({ exclusiveMin: 0, description: "A multiplier of the median-heuristic bandwidth." }),
      {
        minItems: 1,
        default: [0.5, 1, 2],
        description:
          "kernel: the RBF kernel is the mean of exp(-d^2 / (2 m h)) over these multipliers m of h, the batch's median squared distance.",
      },
    ),
    bandwidth_pairs: oneOf(["batch", "class"] as const, {
      default: "batch",
      description:
        'kernel: the pairs whose median squared distance is h: every pair of the batch ("batch") or only pairs of the same class of y ("class"). D compares rows within a class only, so "class" keeps the kernel at their scale however far apart f_y puts the classes.',
    }),
    linear: bool({
      default: false,
      description:
        "kernel: also a linear kernel on the batch-standardised features (averaged with the RBF one): it scores the class-conditional mean shifts a linear probe reads, which the RBF kernel sees only weakly in many dimensions.",
    }),
    objective: oneOf(["dv", "jsd"] as const, {
      default: "dv",
      description:
        'What critics ascend and the encoder descends: "dv" (MINE\'s corrected Donsker-Varadhan bound, published) or "jsd" (Jensen-Shannon bound, bounded gradients); the reported estimate is always DV.',
    }),
  },
  {
    description: "The MI estimator of every pair: its critic, negatives, bias correction and learning rate.",
    refine: (v, given, path, ctx) => {
      if (v.critic === "published") {
        // The published critic is one fixed architecture; silently changing it would make
        // "published" results incomparable with the paper.
        for (const [key, want] of [
          ["hidden", PUBLISHED_HIDDEN],
          ["layers", PUBLISHED_LAYERS],
          ["negatives", 0],
        ] as const) {
          if (given.has(key) && v[key] !== want) {
            ctx.error(
              [...path, key],
              `the published critic is fixed at ${PUBLISHED_LAYERS} x ${PUBLISHED_HIDDEN} with all B*B pairs; got ${v[key]}. Use critic "joint" to change it`,
            );
          }
        }
        if (given.has("score_bound") && v.score_bound !== "none")
          ctx.error(
            [...path, "score_bound"],
            `the published critic is unbounded; got "${v.score_bound}". Use critic "joint" for bounded scores`,
          );
        v.hidden = PUBLISHED_HIDDEN;
        v.layers = PUBLISHED_LAYERS;
        v.negatives = 0;
        v.score_bound = "none";
      }
      const joint = v.critic !== "separable";
      if (joint && v.score_bound === "cosine")
        ctx.error(
          [...path, "score_bound"],
          `"cosine" bounds separable critics (the cosine of their two embeddings); a ${v.critic} critic takes "tanh" or "none"`,
        );
      if (!joint && v.score_bound === "none")
        ctx.error(
          [...path, "score_bound"],
          'separable critics are always bounded ("cosine" or "tanh"): unbounded separable scores diverged to NaN in the prototype (shared/METHOD.md)',
        );
      if (!joint) {
        for (const key of ["layers", "negatives"] as const)
          if (given.has(key))
            ctx.warn([...path, key], "ignored by separable critics (one hidden layer, all negatives)");
      }
      if (v.score_bound === "none" && given.has("temperature"))
        ctx.warn([...path, "temperature"], "ignored: scores are unbounded (score_bound none)");
      return v;
    },
  },
);

/** A preset's name or "none", checked against PRESETS when parsed (tests may register their own). */
function presetName(o: { description: string }): Schema<string> {
  const names = () => [...Object.keys(PRESETS), "none"];
  return {
    ...oneOf(names(), { default: "none", description: o.description }),
    parse: (v, path, ctx) => oneOf(names()).parse(v, path, ctx),
  };
}

const gradScope = (what: string, lastLayer: string) =>
  oneOf(["trunk", "lastLayer"] as const, {
    default: "trunk",
    description: `Where ${what} go: "trunk" through the whole encoder; "lastLayer" onto the last shared layer W only, so ${lastLayer}. lastLayer needs scaling_scope lastLayer.`,
  });

export const methodSchema = obj<MethodConfig>(
  {
    name: oneOf(METHODS, {
      default: "mimmx",
      description:
        "erm, mtl (every label, no penalty), mimm (one spurion), mimmx, adversarial (gradient reversal), groupdro, or oracle (ERM on uncorrelated data).",
    }),
    preset: presetName({
      description: `A named bundle of defaults for method, model and train keys, applied under the keys the config gives (those always win). "none": the schema's defaults. Default per method: ${Object.entries(
        DEFAULT_PRESET,
      )
        .map(([m, p]) => `${m} ${p}`)
        .join(", ")}; none for the others.`,
    }),
    lambda: num({ min: 0, default: 1, description: "Weight lambda of the MI penalty (mimm, mimmx)." }),
    n_fe: int({ min: 1, default: 1, description: "N_FE: encoder/head batches per round (critics frozen)." }),
    n_mi: int({ min: 0, default: 5, description: "N_MI: critic batches per round (features detached)." }),
    critic_data: oneOf(["fresh", "reuse"] as const, {
      default: "reuse",
      description:
        'Where critic batches come from: "fresh" (published: their own batches through a no-grad encoder pass) or "reuse" (the detached features of the encoder batch just seen; cheaper, weaker critic).',
    }),
    estimator: estimatorSchema,
    pairs: oneOf(["all", "chain"] as const, {
      default: "all",
      description: "all: every pair (f_y, f_zi) and (f_zi, f_zj); chain: N estimators along the chain.",
    }),
    adaptive_scaling: bool({
      default: true,
      description: "MINE adaptive scaling of the MI gradient: s = min(|g_class|, |g_MI|) / |g_MI|.",
    }),
    scaling_scope: oneOf(["encoder", "lastLayer"] as const, {
      default: "lastLayer",
      description:
        'Where s\'s gradient norms are taken: "encoder" = every encoder parameter (exact; one extra backward through the encoder), "lastLayer" = the last shared layer only (nearly free).',
    }),
    spurion_grad: gradScope(
      "the spurion parts' gradients (CE_zi and the MI gradient on f_zi)",
      "the z-heads shape f_zi = W_zi h but never train the trunk h to represent the spurions",
    ),
    mi_grad: gradScope(
      "the MI gradients",
      "the penalty can rotate f_y away from the spurions but cannot collapse the trunk",
    ),
    gradnorm: obj(
      {
        enabled: bool({ default: true, description: "Balance the loss terms' weights w_k by GradNorm." }),
        alpha: num({ min: 0, default: 1.5, description: "GradNorm's asymmetry alpha." }),
        lr: num({ exclusiveMin: 0, default: 0.025, description: "Learning rate of the weights w_k." }),
        mi: bool({
          default: true,
          description:
            "GradNorm also weights the MI term; false: it balances the CE terms only and w_MI stays 1, so lambda keeps its meaning (GradNorm otherwise shrinks w_MI ~ 1/lambda).",
        }),
      },
      { description: "GradNorm loss weighting (mimmx)." },
    ),
    attention: obj(
      {
        enabled: bool({
          default: true,
          description:
            "Confounder attention: weight each spurion's pairs by its share of the MI (two or more spurions).",
        }),
        tau: num({
          exclusiveMin: 0,
          default: 1,
          description: "Softmax temperature of the attention weights.",
        }),
        floor: num({ min: 0, max: 1, default: 0.1, description: "The smallest weight a spurion keeps." }),
        ema: num({
          min: 0,
          exclusiveMax: 1,
          default: 0.9,
          description: "EMA rate of the MI estimates the weights follow.",
        }),
      },
      { description: "Confounder attention over the spurions (mimmx)." },
    ),
    mi_warmup: int({
      min: 0,
      default: 0,
      description: "Encoder steps at the start without the MI penalty while the critics learn.",
    }),
    lambda_ramp: int({
      min: 0,
      default: 0,
      description: "After the warm-up, lambda rises linearly from 0 over this many encoder steps.",
    }),
    penalise: oneOf(["all", "y"] as const, {
      default: "all",
      description: '"all" pairs of the pair set, or only the pairs with f_y ("y").',
    }),
    spurion_view: oneOf(["part", "probs", "labels"] as const, {
      default: "part",
      description:
        'What the critics see of each spurion: its part f_zi ("part", published), its head\'s detached class probabilities ("probs"), or its ground-truth label, one-hot ("labels"); y-z_i pairs only for probs and labels.',
    }),
    mi_distribution: oneOf(["train", "balanced"] as const, {
      default: "train",
      description:
        'The distribution the MI terms refer to: the training data ("train", published) or each batch reweighted so every (y, z_i) group weighs the same, as in the balanced test ("balanced").',
    }),
    y_loss: oneOf(["ce", "groupdro", "reweight"] as const, {
      default: "ce",
      description:
        'The loss on y: cross-entropy ("ce", published), GroupDRO\'s weighted group losses ("groupdro": step size method.groupdro.eta, groups method.groups) or the group-balanced reweighted cross-entropy of method reweight ("reweight": groups method.groups, floor method.group_min_count).',
    }),
    balance_by: oneOf(["sampler", "loss"] as const, {
      default: "sampler",
      description:
        'How the group-balancing weights of reweight (and mimmx\'s y_loss "reweight") are applied: "sampler" draws each epoch\'s training rows with replacement, with probability proportional to the weight (torch\'s WeightedRandomSampler, as Idrissi et al.\'s code), and trains on plain cross-entropy; "loss" keeps the shuffled rows and weights each row\'s cross-entropy. groupdro: "sampler" draws its batches the same way (Sagawa et al.\'s --reweight_groups), "loss" shuffles and leaves the balancing to its group weights.',
    }),
    adversarial: obj(
      { lambda: num({ min: 0, default: 1, description: "Gradient-reversal strength." }) },
      { description: "Options of method adversarial." },
    ),
    groupdro: obj(
      { eta: num({ exclusiveMin: 0, default: 0.01, description: "Step size of the group weights." }) },
      { description: "Options of method groupdro." },
    ),
    groups: oneOf(["joint", "pairs"] as const, {
      default: "pairs",
      description:
        'Groups of the group-robust peers (groupdro, subsample, reweight, dfr): "joint" = every (y, z_1..z_N) cell, "pairs" = the (y, z_i) families, which stay populated at many spurions (src/methods/groups.ts).',
    }),
    group_min_count: int({
      min: 1,
      default: 10,
      description:
        "Balancing (subsample, reweight, dfr): a group with fewer training rows counts as this many.",
    }),
    dfr: obj(
      {
        holdout: num({
          exclusiveMin: 0,
          exclusiveMax: 1,
          default: 0.5,
          description: "Share of the validation split the last layer is refitted on; the rest selects.",
        }),
        subsamples: int({
          min: 1,
          default: 10,
          description: "Group-balanced subsets whose fits are averaged.",
        }),
        c_grid: list(num({ exclusiveMin: 0, description: "An inverse L1 strength." }), {
          minItems: 1,
          default: [1, 0.7, 0.3, 0.1, 0.07, 0.03, 0.01],
          description:
            "Inverse L1 strengths tried; the one with the best selection worst-group accuracy is kept.",
        }),
        features: oneOf(["embedding", "last_layer"] as const, {
          default: "embedding",
          description:
            "What the classifier is refitted on: the encoder's embedding, the input of its last shared layer (\"embedding\", the paper's; that layer's f_y rows and the y head are rewritten to compute the fit), or f_y, the input of the y head's last layer (\"last_layer\").",
        }),
      },
      { description: "Options of method dfr (Kirichenko et al. 2022)." },
    ),
    jtt: obj(
      {
        first_epochs: int({ min: 1, default: 1, description: "Epochs of the identification ERM (T)." }),
        upweight: num({ min: 1, default: 50, description: "Loss weight of the error set (lambda_up)." }),
      },
      { description: "Options of method jtt (Liu et al. 2021)." },
    ),
    spurion: optional(str({ description: "mimm: the one spurion it debiases (default: the first)." })),
  },
  {
    description: "The training method and its options.",
    refine: (v, given, path, ctx) => {
      // Keys that only one family of methods reads: warn (not fail) when set for another, so a
      // config can be copied between methods, but nobody believes a setting is in effect when it is not.
      const mi: MethodName[] = ["mimm", "mimmx"];
      const usedBy: Record<string, MethodName[]> = {
        lambda: mi,
        n_fe: mi,
        n_mi: mi,
        critic_data: mi,
        estimator: mi,
        pairs: ["mimmx"],
        adaptive_scaling: mi,
        scaling_scope: mi,
        spurion_grad: mi,
        mi_grad: mi,
        gradnorm: ["mimmx"],
        attention: ["mimmx"],
        mi_warmup: ["mimmx"],
        lambda_ramp: ["mimmx"],
        penalise: ["mimmx"],
        spurion_view: ["mimmx"],
        mi_distribution: ["mimmx"],
        y_loss: ["mimmx"],
        balance_by: ["reweight", "groupdro", "mimmx"],
        adversarial: ["adversarial"],
        groupdro: ["groupdro"],
        groups: ["groupdro", "subsample", "reweight", "dfr", "mimmx"],
        group_min_count: ["subsample", "reweight", "dfr", "groupdro", "mimmx"],
        dfr: ["dfr"],
        jtt: ["jtt"],
        spurion: ["mimm"],
      };
      for (const [key, methods] of Object.entries(usedBy)) {
        if (given.has(key) && !methods.includes(v.name)) {
          ctx.warn([...path, key], `ignored by method "${v.name}" (used by ${methods.join(", ")})`);
        }
      }
      if (v.estimator.critic === "kernel") {
        if (v.spurion_view !== "labels")
          ctx.error(
            [...path, "spurion_view"],
            `the kernel estimator scores f_y against the spurion labels: set spurion_view: labels (got "${v.spurion_view}")`,
          );
        if (v.mi_distribution !== "train")
          ctx.error(
            [...path, "mi_distribution"],
            'the kernel estimator balances the (y, z_i) groups itself: mi_distribution "balanced" does not apply',
          );
      }
      if (v.name === "mimm" && (v.spurion_view === "labels" || v.estimator.critic === "kernel"))
        ctx.error(
          [...path, "estimator", "critic"],
          "mimm reads the parts; the labels view and kernel estimator are mimmx's",
        );
      for (const key of ["spurion_grad", "mi_grad"] as const)
        if (v[key] === "lastLayer" && v.scaling_scope !== "lastLayer")
          ctx.error(
            [...path, key],
            `"lastLayer" routes gradients onto the last shared layer, which needs scaling_scope "lastLayer" (got "${v.scaling_scope}")`,
          );
      if (!given.has("preset")) v.preset = DEFAULT_PRESET[v.name] ?? "none";
      return v;
    },
  },
);

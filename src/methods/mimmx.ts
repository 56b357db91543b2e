// MIMM-X: mutual-information minimisation between f_y and every spurion part f_zi (and between the
// spurion parts), METHOD.md. The encoder + heads minimise
//     L = sum_k w_k CE_k + lambda * s * sum_p a_p I_p
// (w_MI, GradNorm's weight of the MI term, multiplies lambda s where GradNorm weighs that term)
// while one critic per pair maximises its DV bound. The two alternate: encoder batches with critics
// frozen, then critic batches on detached features, each side with its own Adam.
//
// Switches (all logged every step): adaptive MI scaling s, GradNorm weights w_k, confounder attention
// a_p, pair set (all / chain), conditional negatives, the estimator, and where critic batches come from:
//   "reuse": every update() is one encoder batch; after each N_FE of them the critics take
//       N_MI steps on the detached features of the batch just seen (fresh negative samples each
//       step). No extra encoder passes, which is what keeps a MIMM-X step near an MTL step.
//   "fresh" (published): update() calls cycle through N_FE encoder batches and N_MI critic batches,
//       the critic batches getting their features from a no-grad encoder pass.
//
// The encoder step is composed of the pieces in ./mimmx/, one per part of the objective:
//   classification.ts  sum_k w_k CE_k and its gradient on f, W and the heads (one autograd pass);
//   mi-gradient.ts     sum_p a_p Ĩ_p and its gradient on f and W (critics frozen, EMA held);
//   scale.ts           s, on W ("lastLayer") or on every encoder parameter ("encoder");
//   gradnorm-inputs.ts what GradNorm observes (per-term norms on W, loss values);
//   assemble.ts        grad L_class + lambda w_MI s grad L_MI, routed into trunk or last layer.
// Heads and critics are each differentiated once: the heads read disjoint parts of f, so the one
// class pass gives every CE term's gradient on W (row block k belongs to part k alone), and a single
// f.backward finishes the encoder.

import { globalCriticInputs } from "../dist/global-batch.js";
import { allReduceMeanInPlace } from "../dist/process-group.js";
import type { EstimatorConfig, EstimatorPreset } from "../mi/estimator.js";
import { assertAllFinite } from "../mi/guard.js";
import { KernelPairEstimators } from "../mi/kernel-pairs.js";
import {
  buildPairEstimators,
  type PairEstimatorSet,
  type StackedInputs,
  StackedPairEstimators,
} from "../mi/pair-estimators.js";
import { miPairs, type PartPair } from "../mi/pair-sets.js";
import { oneHot } from "../nn/functional.js";
import { Adam } from "../optim/index.js";
import { noGrad } from "../tensor/autograd.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import { ConfounderAttention } from "./attention.js";
import { type Batch, taskLabels } from "./batch.js";
import { setRequiresGrad } from "./grad-utils.js";
import { type GradNormState, GradNormWeights } from "./gradnorm.js";
import { GroupDroLoss } from "./group-dro-loss.js";
import type { TaskLabels } from "./groups.js";
import { BaseMethod, ce } from "./method.js";
import { assembleHeads, assembleOnParameters, assembleThroughFeatures } from "./mimmx/assemble.js";
import { checkMimmxConfig, type MimmxConfig } from "./mimmx/config.js";
import { gradNormObservation } from "./mimmx/gradnorm-inputs.js";
import { type EncoderStepPieces, STEP_PIECES } from "./mimmx/pieces.js";
import { encoderGradients } from "./mimmx/scale.js";
import { balancedLogWeights } from "./pair-weights.js";
import { GroupReweightLoss } from "./reweight-loss.js";

export type { MimmxConfig } from "./mimmx/config.js";

export class Mimmx extends BaseMethod {
  readonly name: string = "mimmx";
  /** the heads' and the last shared layer's gradients are assembled by hand (mimmx/assemble.ts) */
  readonly writesGradients = true;
  readonly pairs: PartPair[];
  readonly estimators: PairEstimatorSet | null;
  readonly gradNorm: GradNormWeights | null;
  readonly attention: ConfounderAttention | null;
  /** update() calls so far (drives the fresh-mode cycle) */
  updates = 0;
  /** encoder updates so far */
  encoderSteps = 0;
  private readonly pieces: EncoderStepPieces;
  /**
   * The loss on y: GroupDRO's objective (yLoss "groupdro"), the group-balanced reweighted CE
   * ("reweight", fitted on the training labels by fitGroups before training), else null: plain CE.
   */
  readonly yObjective: GroupDroLoss | GroupReweightLoss | null;

  /**
   * `pieces`: replaces pieces of the encoder step (tests only: e.g. a sign-flipped MI gradient, to
   * show that the tests catch it).
   */
  constructor(
    readonly cfg: MimmxConfig,
    pieces: Partial<EncoderStepPieces> = {},
  ) {
    checkMimmxConfig(cfg);
    super(cfg);
    this.pieces = { ...STEP_PIECES, ...pieces };
    this.yObjective =
      cfg.yLoss.kind === "groupdro"
        ? new GroupDroLoss(
            cfg.tasks,
            { eta: cfg.yLoss.eta, groups: cfg.yLoss.groups },
            this.device,
            this.name,
          )
        : cfg.yLoss.kind === "reweight"
          ? new GroupReweightLoss(
              cfg.tasks.map((t) => t.numClasses),
              { scheme: cfg.yLoss.groups, minCount: cfg.yLoss.minCount },
              this.name,
              cfg.yLoss.by,
            )
          : null;
    const names = cfg.tasks.map((t) => t.name);
    const allPairs = miPairs(cfg.tasks.length, cfg.pairs, names);
    // Views other than the parts are of the spurion alone: only the y-z_i pairs are penalised.
    const spurionOnlyView = cfg.spurionView !== "part";
    this.pairs = cfg.penalise === "y" || spurionOnlyView ? allPairs.filter((p) => p.a.includes(0)) : allPairs;
    // Width of what the critics see of each part: f_y always; spurions as parts, probabilities or labels.
    const widths = spurionOnlyView
      ? cfg.tasks.map((t, i) => (i === 0 ? cfg.partSize : t.numClasses))
      : cfg.partSize;
    const est = cfg.estimator;
    this.estimators =
      this.pairs.length === 0
        ? null
        : typeof est === "object" && est.critic === "kernel"
          ? new KernelPairEstimators(
              this.pairs,
              cfg.tasks.map((t) => t.numClasses),
              est,
            )
          : buildPairEstimators(this.pairs, widths, est as EstimatorConfig | EstimatorPreset, {
              conditional: cfg.conditional,
              objective: cfg.objective,
            });
    this.optimizers.model = this.modelOptimizer();
    this.estimators?.module.to(this.device);
    const criticParams = this.estimators?.module.parameters() ?? [];
    if (this.estimators && criticParams.length > 0) {
      this.stateModule.add("critics", this.estimators.module);
      this.optimizers.critics = new Adam(criticParams, { lr: cfg.criticLr });
    }
    const ceNames = names.map((n) => `ce/${n}`);
    if (cfg.gradNorm) {
      const terms = this.hasMi && cfg.gradNormMi ? [...ceNames, "mi"] : ceNames;
      this.gradNorm = new GradNormWeights(
        terms,
        terms.map((t) => t !== "mi"),
        { alpha: cfg.gradNormAlpha, lr: cfg.gradNormLr },
      );
    } else this.gradNorm = null;
    const numSpurions = cfg.tasks.length - 1;
    this.attention =
      cfg.attention && numSpurions > 1 && this.pairs.some((p) => p.spurion !== null)
        ? new ConfounderAttention(numSpurions, {
            tau: cfg.attentionTau,
            floor: cfg.attentionFloor,
            ema: cfg.attentionEma,
          })
        : null;
  }

  get hasMi(): boolean {
    return this.estimators !== null && this.cfg.lambda > 0;
  }

  /** Whether the estimator has critics to train (the kernel estimator has none). */
  get hasCritics(): boolean {
    return this.optimizers.critics !== undefined;
  }

  update(batch: Batch): Record<string, number> {
    const { nFE, nMI } = this.cfg;
    if (this.cfg.criticData === "fresh") {
      const phase = this.updates % (nFE + nMI);
      this.updates++;
      if (phase < nFE || !this.hasMi || !this.hasCritics) return tidy(() => this.encoderStep(batch).logs);
      return tidy(() => {
        const f = noGrad(() => {
          this.model.train();
          return this.model.forward(batch.x);
        });
        return this.criticStep(f, batch);
      });
    }
    this.updates++;
    return tidy(() => {
      const { logs, features } = this.encoderStep(batch);
      if (this.hasMi && this.hasCritics && this.encoderSteps % nFE === 0) {
        // The N_MI critic steps see the same features: their inputs are built once.
        const inputs = this.criticInputs(features, batch);
        const sums: Record<string, number> = {};
        for (let i = 0; i < nMI; i++) {
          for (const [key, v] of Object.entries(this.criticStepOn(inputs)))
            sums[key] = (sums[key] ?? 0) + v / nMI;
        }
        Object.assign(logs, sums);
      }
      return logs;
    });
  }

  /**
   * One encoder + heads update with the critics frozen. Returns logs and the detached features.
   * `optimizerStep` false stops before the optimiser step (tests, diagnostics): every encoder and
   * head parameter's .grad then holds the step's gradient, and GradNorm has seen the step.
   */
  encoderStep(batch: Batch, optimizerStep = true): { logs: Record<string, number>; features: Tensor } {
    const criticParams = this.estimators?.module.parameters() ?? [];
    setRequiresGrad(criticParams, false);
    try {
      return tidy(() => {
        const out = this.encoderBackward(batch);
        if (optimizerStep) {
          this.optimizers.model.step();
          this.encoderSteps++;
        }
        return out;
      });
    } finally {
      setRequiresGrad(criticParams, true);
    }
  }

  /** lambda at this encoder step: 0 during the warm-up, then a linear ramp to cfg.lambda. */
  currentLambda(): number {
    const { lambda, miWarmup, lambdaRamp } = this.cfg;
    const t = this.encoderSteps - miWarmup;
    if (t < 0) return 0;
    return lambdaRamp > 0 ? lambda * Math.min(1, (t + 1) / lambdaRamp) : lambda;
  }

  /**
   * The gradient of L = sum_k w_k CE_k + lambda * w_MI * s * sum_p a_p Ĩ_p (METHOD.md) in .grad of
   * every encoder and head parameter, w_MI being GradNorm's weight of the MI term (1 without it);
   * then GradNorm's update of w from this step.
   */
  private encoderBackward(batch: Batch): { logs: Record<string, number>; features: Tensor } {
    const P = this.pieces;
    const cfg = this.cfg;
    const lambda = this.currentLambda();
    const numTasks = this.tasks.length;
    this.model.train();
    this.optimizers.model.zeroGrad();
    const f = this.model.forward(batch.x);
    const parts = this.model.split(f);
    const logits = this.model.logits(parts);
    const labels = taskLabels(batch);
    const logs: Record<string, number> = {};

    // CE_k, one per task (on y: GroupDRO's weighted group losses when yLoss says so).
    const ceTerms = logits.map((l, i) =>
      i === 0 && this.yObjective ? this.yObjective.loss(l, batch).loss : ce(l, labels[i]),
    );
    const ceValues = ceTerms.map((t) => t.item());
    ceValues.forEach((v, i) => {
      logs[`ce/${this.tasks[i].name}`] = v;
    });
    assertAllFinite(logs);

    // sum_p a_p Ĩ_p (null without an MI term).
    const miLoss = this.hasMi ? this.miLoss(parts, logits, batch, logs) : null;

    // w_k: GradNorm's weights (all 1 without it); w_MI = 1 where GradNorm leaves the MI term alone.
    const gnMi = this.gradNorm?.names.includes("mi") ?? false;
    const w = this.gradNorm?.w ?? new Array(numTasks).fill(1);
    const wMi = miLoss ? (gnMi ? w[numTasks] : 1) : 0;
    logs.lambda = lambda;

    // Gradients of both halves on f, W (and the heads, class half only).
    const W = this.model.encoder.lastSharedWeight();
    const headParams = this.model.heads.parameters();
    const cls = P.classificationGradients(P.weightedClassLoss(ceTerms, w), f, W, headParams);
    const mi = miLoss ? P.miGradients(miLoss, f, W) : { f: null, W: null };
    const adaptive = cfg.adaptiveScaling && miLoss !== null;
    // Under DDP: both W-gradients become the global batch's, so s and GradNorm's norms are the
    // one-process ones on every rank (what reaches W.grad is averaged again, which keeps it).
    // Without either reader, W.grad is averaged with the other gradients and this collective
    // would change nothing (MIMM-X's default: no adaptive scaling, no GradNorm).
    if (this.gradNorm || (adaptive && cfg.scalingScope !== "encoder")) allReduceMeanInPlace([cls.W, mi.W]);

    // s, then grad L_class + lambda w_MI s grad L_MI into the parameters.
    let s = 1;
    if (adaptive && cfg.scalingScope === "encoder") {
      const encoderParams = this.model.encoder.parameters();
      const g = encoderGradients(f, encoderParams, cls, mi);
      allReduceMeanInPlace([...g.cls, ...g.mi]); // the global batch's gradients, as for W below
      s = P.encoderScale(g);
      assembleOnParameters(encoderParams, g, lambda * wMi * s);
    } else {
      if (adaptive) s = P.lastLayerScale(cls, mi);
      const routes = { spurionGrad: cfg.spurionGrad, miGrad: cfg.miGrad };
      const layout = { partSize: cfg.partSize, numParts: numTasks };
      assembleThroughFeatures(f, W, cls, mi, lambda * wMi * s, routes, layout);
    }
    assembleHeads(headParams, cls);
    if (miLoss) logs.scale = s;

    if (this.gradNorm) {
      const obs = gradNormObservation(
        cls.W!,
        w,
        cfg.partSize,
        ceValues,
        miLoss && gnMi ? { gradW: mi.W, lambda, s, value: logs.mi_loss } : null,
      );
      this.gradNorm.names.forEach((n, i) => {
        logs[`w/${n}`] = w[i];
      });
      this.gradNorm.update(obs.norms, obs.values);
    }
    logs.loss =
      ceValues.reduce((acc, v, i) => acc + w[i] * v, 0) + (miLoss ? lambda * wMi * s * logs.mi_loss : 0);
    return { logs, features: f.detach() };
  }

  /**
   * sum_p a_p Ĩ_p on this batch: every pair's surrogate (the estimators fold the batch into their
   * EMAs and throw NonFiniteError naming the pair on NaN/Inf), the attention weights a_p after
   * observing this batch's leakage estimates. Logs the estimates, a and the value.
   */
  private miLoss(parts: Tensor[], logits: Tensor[], batch: Batch, logs: Record<string, number>): Tensor {
    const est = this.estimators!;
    est.module.train();
    // The critics score the global batch (every rank's rows; the inputs themselves in one process).
    const g = globalCriticInputs(this.criticViews(parts, logits, batch), batch);
    const { surrogates, estimates } = est.terms(g.views, g.batch.y, this.pairWeights(g.batch));
    this.pairs.forEach((p, i) => {
      logs[`mi/${p.name}`] = estimates[i];
    });
    if (this.attention) this.attention.observe(this.spurionEstimates(estimates));
    const att = this.attention?.weights() ?? null;
    att?.forEach((a, i) => {
      logs[`att/${this.tasks[i + 1].name}`] = a;
    });
    const pairWeights = this.pairs.map((p) => (att && p.spurion !== null ? att[p.spurion] : 1));
    const miLoss = this.pieces.miPenalty(surrogates, pairWeights);
    logs.mi_loss = miLoss.item();
    assertAllFinite({ mi_loss: logs.mi_loss });
    return miLoss;
  }

  /** Per-pair log importance weights of the batch (miDistribution "balanced"), else undefined. */
  private pairWeights(batch: Batch): Tensor | undefined {
    if (this.cfg.miDistribution !== "balanced") return undefined;
    const labels = taskLabels(batch).map((t) => t.dataSync() as ArrayLike<number>);
    return balancedLogWeights(this.pairs, labels, this.device);
  }

  /**
   * What the critics see of each part: the parts themselves, or (spurionView "probs") f_y and the
   * spurion heads' detached class probabilities. `logits`: the heads' outputs when already computed.
   */
  private criticViews(parts: Tensor[], logits?: Tensor[], batch?: Batch): Tensor[] {
    if (this.cfg.spurionView === "part") return parts;
    if (this.cfg.spurionView === "labels") {
      if (!batch) throw new Error("Mimmx: the labels view needs the batch's spurion labels");
      return parts.map((p, i) => (i === 0 ? p : labelView(batch.z[i - 1], this.tasks[i].numClasses)));
    }
    return parts.map((p, i) => {
      if (i === 0) return p;
      return noGrad(() => (logits ? logits[i] : this.model.heads.head(i, p)).softmax(1));
    });
  }

  /** The leakage estimate of each spurion from this step's pair estimates (null where not measured). */
  private spurionEstimates(estimates: number[]): (number | null)[] {
    const out: (number | null)[] = new Array(this.tasks.length - 1).fill(null);
    this.pairs.forEach((p, i) => {
      if (p.spurion !== null) out[p.spurion] = estimates[i];
    });
    return out;
  }

  /** One critic update: every critic ascends its corrected DV surrogate on detached features. */
  criticStep(features: Tensor, batch: Batch): Record<string, number> {
    return tidy(() => this.criticStepOn(this.criticInputs(features, batch)));
  }

  /** What every critic step on these features needs, built once (views, stacked inputs, weights). */
  private criticInputs(features: Tensor, batch: Batch): CriticInputs {
    const est = this.estimators!;
    const g = globalCriticInputs(
      this.criticViews(this.model.split(features.detach()), undefined, batch),
      batch,
    );
    return {
      views: g.views,
      stacked: est instanceof StackedPairEstimators ? est.stackInputs(g.views) : null,
      condition: g.batch.y,
      logWeights: this.pairWeights(g.batch),
    };
  }

  /**
   * One critic update on prepared inputs. Stacked critics take the fused native step (forward,
   * surrogate and backward in one call) where available, else the TS path; then the critic Adam.
   */
  private criticStepOn(inputs: CriticInputs): Record<string, number> {
    return tidy(() => {
      const est = this.estimators!;
      est.module.train();
      const opt = this.optimizers.critics;
      opt.zeroGrad();
      const { stacked, condition, logWeights } = inputs;
      const fusable = stacked !== null && est instanceof StackedPairEstimators;
      let estimates = fusable ? est.fusedCriticBackward(stacked, condition, logWeights) : null;
      if (!estimates) {
        // The TS path (the reference): the same scores and surrogates through autograd.
        const terms = fusable
          ? est.stackedTerms(stacked, condition, logWeights)
          : est.terms(inputs.views, condition, logWeights);
        estimates = terms.estimates;
        terms.surrogates.sum().neg().backward();
      }
      const logs: Record<string, number> = {};
      this.pairs.forEach((p, i) => {
        logs[`critic_mi/${p.name}`] = estimates[i];
      });
      opt.step();
      return logs;
    });
  }

  /**
   * Estimates of every pair on given features, without training anything (audits, eval). The
   * labels view needs the spurion labels: pass the whole batch.
   */
  estimatePairs(features: Tensor, y?: Tensor, batch?: Batch): Record<string, number> {
    if (!this.estimators) return {};
    const values = noGrad(() =>
      this.estimators!.estimates(
        this.criticViews(this.model.split(features.detach()), undefined, batch),
        y ?? batch?.y,
      ),
    );
    return Object.fromEntries(this.pairs.map((p, i) => [p.name, values[i]]));
  }

  /**
   * With yLoss "reweight": fixes the y loss's group weights from the whole training split's labels
   * (task order [y, z_1..z_N]); the run calls it before training, as for method reweight.
   */
  fitGroups(labels: TaskLabels): void {
    if (this.yObjective instanceof GroupReweightLoss) this.yObjective.fit(labels);
  }

  override getState(): Record<string, unknown> {
    return {
      updates: this.updates,
      encoderSteps: this.encoderSteps,
      ema: this.estimators?.emaState() ?? [],
      gradNorm: this.gradNorm?.getState() ?? null,
      attention: this.attention?.getState() ?? null,
      yLossQ: this.yObjective instanceof GroupDroLoss ? this.yObjective.q : null,
    };
  }
  override setState(state: Record<string, unknown>): void {
    this.updates = (state.updates as number) ?? 0;
    this.encoderSteps = (state.encoderSteps as number) ?? 0;
    this.estimators?.setEmaState((state.ema as (number | null)[]) ?? []);
    if (this.gradNorm && state.gradNorm) this.gradNorm.setState(state.gradNorm as GradNormState);
    if (this.yObjective instanceof GroupDroLoss && state.yLossQ) this.yObjective.setState(state.yLossQ);
    if (this.attention && state.attention)
      this.attention.setState(state.attention as { u: (number | null)[] });
  }
}

/** One-hot float view [B, C] of labels; an unknown label (-1) is an all-zero row. */
function labelView(z: Tensor, numClasses: number): Tensor {
  return oneHot(z.clamp(0), numClasses).float().mul(z.ge(0).float().unsqueeze(1));
}

/** The inputs of the critic steps on one batch of detached features (see Mimmx.criticInputs). */
interface CriticInputs {
  views: Tensor[];
  stacked: StackedInputs | null;
  condition: Tensor;
  logWeights: Tensor | undefined;
}

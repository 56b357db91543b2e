// MIMM-X: mutual-information minimisation between f_y and every spurion part f_zi (and between the
// spurion parts), METHOD.md. The encoder + heads minimise
//     L = sum_k w_k CE_k + lambda * s * sum_p a_p I_p
// while one critic per pair maximises its DV bound. The two alternate: encoder batches with critics
// frozen, then critic batches on detached features, each side with its own Adam.
//
// Switches (all logged every step): adaptive MI scaling s, GradNorm weights w_k, confounder attention
// a_p, pair set (all / chain), conditional negatives, the estimator, and where critic batches come from:
//   "reuse" (default): every update() is one encoder batch; after each N_FE of them the critics take
//       N_MI steps on the detached features of the batch just seen (fresh negative samples each
//       step). No extra encoder passes, which is what keeps a MIMM-X step near an MTL step.
//   "fresh" (published): update() calls cycle through N_FE encoder batches and N_MI critic batches,
//       the critic batches getting their features from a no-grad encoder pass.
//
// Gradient bookkeeping (why the step stays cheap): the heads read disjoint parts of f and the critics
// are frozen, so one pass of autograd.grad over the CE terms to [f, W, heads] gives every CE term's
// gradient on W (row block k of W belongs to part k alone, hence GradNorm's n_k), another over the MI
// term gives the MI gradient on f and W; s follows from the norms on W, and a single
// f.backward(g_class + lambda w_MI s g_MI) finishes the encoder. Heads and critics are each
// differentiated once.
import type { CriticObjective, EstimatorConfig, EstimatorPreset } from "../mi/estimator.js";
import { assertAllFinite } from "../mi/guard.js";
import {
  buildPairEstimators,
  type PairEstimatorSet,
  type StackedInputs,
  StackedPairEstimators,
} from "../mi/pair-estimators.js";
import { miPairs, type PairSet, type PartPair } from "../mi/pair-sets.js";
import { Adam } from "../optim/index.js";
import { grad, noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import { ConfounderAttention } from "./attention.js";
import { type Batch, taskLabels } from "./batch.js";
import { globalNorm, setRequiresGrad } from "./grad-utils.js";
import { type GradNormState, GradNormWeights } from "./gradnorm.js";
import { BaseMethod, type CommonConfig, ce } from "./method.js";
import { balancedLogWeights } from "./pair-weights.js";

export interface MimmxConfig extends CommonConfig {
  /** weight of the MI penalty (default 1) */
  lambda?: number;
  /** estimator preset or full config (default: DEFAULT_ESTIMATOR) */
  estimator?: EstimatorConfig | EstimatorPreset;
  /** "all" pairs (y-z_i and z_i-z_j) or the "chain" (default "all") */
  pairs?: PairSet;
  /** negatives only among samples with the same y: estimates I(f_y; f_z | y) (default false) */
  conditional?: boolean;
  /** encoder batches per cycle (default 1) */
  nFE?: number;
  /** critic batches per cycle (default 5) */
  nMI?: number;
  criticData?: "reuse" | "fresh";
  /** critic Adam lr (default 1e-3) */
  criticLr?: number;
  /** s = min(||g_class||, ||g_MI||) / ||g_MI|| (default true) */
  adaptiveScaling?: boolean;
  /**
   * where s's gradients are taken: "encoder" = every encoder parameter (exact, one extra backward
   * through the encoder), "lastLayer" = the last shared layer only (default, nearly free)
   */
  scalingScope?: "encoder" | "lastLayer";
  /** GradNorm loss weights (default true) */
  gradNorm?: boolean;
  gradNormAlpha?: number;
  gradNormLr?: number;
  /** Confounder Attention Weighter (default true) */
  attention?: boolean;
  attentionTau?: number;
  attentionFloor?: number;
  attentionEma?: number;
  /**
   * whether GradNorm also weights the MI term (default true). false: GradNorm balances the CE terms
   * only and the MI term keeps w_MI = 1, so lambda keeps its meaning (GradNorm otherwise shrinks
   * w_MI ~ 1/lambda).
   */
  gradNormMi?: boolean;
  /** encoder steps at the start without the MI penalty while the critics train (default 0) */
  miWarmup?: number;
  /** after the warm-up, lambda rises linearly from 0 over this many encoder steps (default 0) */
  lambdaRamp?: number;
  /**
   * which pairs are penalised: "all" pairs of the pair set (default) or only those with f_y ("y"):
   * y-z_i pairs, no z_i-z_j pairs.
   */
  penalise?: "all" | "y";
  /**
   * where the spurion parts' gradients (CE_zi and the MI gradient on f_zi) go: "trunk" (default)
   * through the whole encoder; "lastLayer": only into the last shared layer's rows of f_zi, so the
   * z-heads shape f_zi = W_zi h but never train the shared trunk h to represent the spurions.
   */
  spurionGrad?: "trunk" | "lastLayer";
  /**
   * where the MI gradient goes: "trunk" (default) through the whole encoder; "lastLayer": only onto
   * the last shared layer W, so the penalty can rotate f_y away from the spurions but cannot collapse
   * the trunk. Both spurionGrad and miGrad apply with scalingScope "lastLayer" only.
   */
  miGrad?: "trunk" | "lastLayer";
  /**
   * what the critics see of each spurion (our design): "part" (default, METHOD.md) the part f_zi
   * itself; "probs": its head's class probabilities softmax(h_zi(f_zi)), detached. A part is a
   * projection of the shared trunk and carries much besides z_i, so I(f_y; f_zi) is dominated by
   * that shared nuisance; the head's output keeps what f_zi says about z_i only, so the penalty
   * estimates I(f_y; z_i as the model sees it) and all of it lands on f_y. Only the y-z_i pairs are
   * penalised in this view (z_i-z_j would compare two detached views).
   */
  spurionView?: "part" | "probs";
  /** what critics ascend and the encoder descends: "dv" (published) or "jsd" (see CriticObjective) */
  objective?: CriticObjective;
  /**
   * the distribution the MI terms refer to: "train" (default, METHOD.md) or "balanced" (our design):
   * every batch reweighted so that the labels of each pair's tasks are independent and uniform, as
   * in the balanced test (see pair-weights.ts). Needs the stacked (joint, split-first-layer) critics.
   */
  miDistribution?: "train" | "balanced";
}

export class Mimmx extends BaseMethod {
  readonly name: string = "mimmx";
  readonly pairs: PartPair[];
  readonly estimators: PairEstimatorSet | null;
  readonly gradNorm: GradNormWeights | null;
  readonly attention: ConfounderAttention | null;
  /** update() calls so far (drives the fresh-mode cycle) */
  updates = 0;
  /** encoder updates so far */
  encoderSteps = 0;

  constructor(readonly cfg: MimmxConfig) {
    super(cfg);
    const names = cfg.tasks.map((t) => t.name);
    const allPairs = miPairs(cfg.tasks.length, cfg.pairs ?? "all", names);
    const probsView = (cfg.spurionView ?? "part") === "probs";
    this.pairs =
      (cfg.penalise ?? "all") === "y" || probsView ? allPairs.filter((p) => p.a.includes(0)) : allPairs;
    // Width of what the critics see of each part: f_y always; spurions as parts or as probabilities.
    const widths = probsView
      ? cfg.tasks.map((t, i) => (i === 0 ? cfg.partSize : t.numClasses))
      : cfg.partSize;
    this.estimators =
      this.pairs.length > 0
        ? buildPairEstimators(this.pairs, widths, cfg.estimator, {
            conditional: cfg.conditional,
            objective: cfg.objective,
          })
        : null;
    this.optimizers.model = this.modelOptimizer();
    if (this.estimators) {
      this.stateModule.add("critics", this.estimators.module);
      this.optimizers.critics = new Adam(this.estimators.module.parameters(), { lr: cfg.criticLr ?? 1e-3 });
    }
    const ceNames = names.map((n) => `ce/${n}`);
    const terms = this.hasMi && (cfg.gradNormMi ?? true) ? [...ceNames, "mi"] : ceNames;
    this.gradNorm =
      (cfg.gradNorm ?? true)
        ? new GradNormWeights(
            terms,
            terms.map((t) => t !== "mi"),
            { alpha: cfg.gradNormAlpha, lr: cfg.gradNormLr },
          )
        : null;
    const numSpurions = cfg.tasks.length - 1;
    this.attention =
      (cfg.attention ?? true) && numSpurions > 1 && this.pairs.some((p) => p.spurion !== null)
        ? new ConfounderAttention(numSpurions, {
            tau: cfg.attentionTau,
            floor: cfg.attentionFloor,
            ema: cfg.attentionEma,
          })
        : null;
  }

  get hasMi(): boolean {
    return this.estimators !== null && (this.cfg.lambda ?? 1) > 0;
  }

  update(batch: Batch): Record<string, number> {
    const nFE = this.cfg.nFE ?? 1;
    const nMI = this.cfg.nMI ?? 5;
    if ((this.cfg.criticData ?? "reuse") === "fresh") {
      const phase = this.updates % (nFE + nMI);
      this.updates++;
      if (phase < nFE || !this.hasMi) return tidy(() => this.encoderStep(batch).logs);
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
      if (this.hasMi && this.encoderSteps % nFE === 0) {
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

  /** One encoder + heads update with the critics frozen. Returns logs and the detached features. */
  encoderStep(batch: Batch): { logs: Record<string, number>; features: Tensor } {
    const criticParams = this.estimators?.module.parameters() ?? [];
    setRequiresGrad(criticParams, false);
    try {
      return tidy(() => this.encoderStepInner(batch));
    } finally {
      setRequiresGrad(criticParams, true);
    }
  }

  /** lambda at this encoder step: 0 during the warm-up, then a linear ramp to cfg.lambda. */
  currentLambda(): number {
    const lambda = this.cfg.lambda ?? 1;
    const warm = this.cfg.miWarmup ?? 0;
    const ramp = this.cfg.lambdaRamp ?? 0;
    const t = this.encoderSteps - warm;
    if (t < 0) return 0;
    return ramp > 0 ? lambda * Math.min(1, (t + 1) / ramp) : lambda;
  }

  private encoderStepInner(batch: Batch): { logs: Record<string, number>; features: Tensor } {
    const lambda = this.currentLambda();
    const numTasks = this.tasks.length;
    const k = this.cfg.partSize;
    this.model.train();
    const opt = this.optimizers.model;
    opt.zeroGrad();
    const f = this.model.forward(batch.x);
    const parts = this.model.split(f);
    const logits = this.model.logits(parts);
    const labels = taskLabels(batch);
    const ceTerms = logits.map((l, i) => ce(l, labels[i]));
    const logs: Record<string, number> = {};
    const ceValues = ceTerms.map((t) => t.item());
    ceValues.forEach((v, i) => {
      logs[`ce/${this.tasks[i].name}`] = v;
    });
    assertAllFinite(logs);

    // MI terms; the estimators throw NonFiniteError naming the pair on NaN/Inf.
    let miLoss: Tensor | null = null;
    if (this.hasMi) {
      this.estimators!.module.train();
      const { surrogates, estimates } = this.estimators!.terms(
        this.criticViews(parts, logits),
        batch.y,
        this.pairWeights(batch),
      );
      this.pairs.forEach((p, i) => {
        logs[`mi/${p.name}`] = estimates[i];
      });
      if (this.attention) this.attention.observe(this.spurionEstimates(estimates));
      const att = this.attention?.weights() ?? null;
      att?.forEach((a, i) => {
        logs[`att/${this.tasks[i + 1].name}`] = a;
      });
      const pairWeights = this.pairs.map((p) => (att && p.spurion !== null ? att[p.spurion] : 1));
      miLoss = surrogates.mul(tensor(pairWeights)).sum();
      logs.mi_loss = miLoss.item();
      assertAllFinite({ mi_loss: logs.mi_loss });
    }

    const gnMi = this.gradNorm?.names.includes("mi") ?? false;
    const w = this.gradNorm?.w ?? new Array(numTasks).fill(1);
    const classLoss = ceTerms.map((t, i) => (w[i] === 1 ? t : t.mul(w[i]))).reduce((x, y) => x.add(y));
    const miWeight = miLoss ? (gnMi ? w[numTasks] : 1) : 0;
    logs.lambda = lambda;

    const W = this.model.encoder.lastSharedWeight();
    const headParams = this.model.heads.parameters();
    // Class gradients on f, W and the heads in one pass (the encoder below f is not touched yet).
    const [gfClass, gwClass, ...gHeads] = grad(classLoss, [f, W, ...headParams], {
      retainGraph: true,
      allowUnused: true,
    });
    const [gfMi, gwMi] = miLoss
      ? grad(miLoss, [f, W], { retainGraph: true, allowUnused: true })
      : [null, null];

    let s = 1;
    const scope = this.cfg.scalingScope ?? "lastLayer";
    const adaptive = (this.cfg.adaptiveScaling ?? true) && miLoss !== null;
    const encoderParams = this.model.encoder.parameters();
    if (adaptive && scope === "lastLayer") s = scaleFrom(globalNorm([gwClass]), globalNorm([gwMi]));
    if (adaptive && scope === "encoder") {
      // Exact: class and MI gradients on every encoder parameter (two passes through the encoder).
      const gc = grad(f, encoderParams, { gradOutputs: [gfClass!], retainGraph: true, allowUnused: true });
      const gm = grad(f, encoderParams, {
        gradOutputs: [gfMi ?? gfClass!.mul(0)],
        retainGraph: false,
        allowUnused: true,
      });
      s = scaleFrom(globalNorm(gc), globalNorm(gm));
      const coef = lambda * miWeight * s;
      encoderParams.forEach((p, i) => {
        const a = gc[i];
        const b = gm[i];
        p.grad = a && b ? a.add(b.mul(coef)) : (a ?? (b ? b.mul(coef) : null));
      });
    } else {
      const coef = lambda * miWeight * s;
      const spurionLast = (this.cfg.spurionGrad ?? "trunk") === "lastLayer";
      const miLast = (this.cfg.miGrad ?? "trunk") === "lastLayer";
      let gf = gfMi && !miLast ? gfClass!.add(gfMi.mul(coef)) : gfClass!;
      // Gradients that skip the trunk go straight onto W's rows.
      let gwExtra: Tensor | null = null;
      if (spurionLast) {
        // Only f_y's gradient enters the trunk; the spurion rows of W get their own gradient directly.
        const D = numTasks * k;
        const rowMask = (keepY: boolean) => Array.from({ length: D }, (_, j) => (j < k === keepY ? 1 : 0));
        gf = gf.mul(tensor(rowMask(true), { shape: [1, D] }));
        const gw = gwMi && !miLast ? gwClass!.add(gwMi.mul(coef)) : gwClass!;
        gwExtra = gw.mul(tensor(rowMask(false), { shape: [D, 1] }));
      }
      if (miLast && gwMi) gwExtra = gwExtra ? gwExtra.add(gwMi.mul(coef)) : gwMi.mul(coef);
      f.backward(gf);
      if (gwExtra) W.grad = W.grad ? W.grad.add(gwExtra) : gwExtra;
    }
    headParams.forEach((p, i) => {
      p.grad = gHeads[i];
    });
    if (miLoss) logs.scale = s;

    if (this.gradNorm) {
      // Row block i of W feeds part i only, so the block of grad_W(sum_k w_k CE_k) is w_i grad_W CE_i.
      const norms = this.tasks.map((_, i) => globalNorm([gwClass!.narrow(0, i * k, k)]) / w[i]);
      const values = [...ceValues];
      if (miLoss && gnMi) {
        norms.push(lambda * s * globalNorm([gwMi]));
        values.push(logs.mi_loss);
      }
      this.gradNorm.names.forEach((n, i) => {
        logs[`w/${n}`] = w[i];
      });
      this.gradNorm.update(norms, values);
    }
    opt.step();
    this.encoderSteps++;
    logs.loss =
      ceValues.reduce((acc, v, i) => acc + w[i] * v, 0) + (miLoss ? lambda * miWeight * s * logs.mi_loss : 0);
    return { logs, features: f.detach() };
  }

  /** Per-pair log importance weights of the batch (miDistribution "balanced"), else undefined. */
  private pairWeights(batch: Batch): Tensor | undefined {
    if ((this.cfg.miDistribution ?? "train") !== "balanced") return undefined;
    const labels = taskLabels(batch).map((t) => t.dataSync() as ArrayLike<number>);
    return balancedLogWeights(this.pairs, labels);
  }

  /**
   * What the critics see of each part: the parts themselves, or (spurionView "probs") f_y and the
   * spurion heads' detached class probabilities. `logits`: the heads' outputs when already computed.
   */
  private criticViews(parts: Tensor[], logits?: Tensor[]): Tensor[] {
    if ((this.cfg.spurionView ?? "part") === "part") return parts;
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
    const views = this.criticViews(this.model.split(features.detach()));
    return {
      views,
      stacked: est instanceof StackedPairEstimators ? est.stackInputs(views) : null,
      condition: batch.y,
      logWeights: this.pairWeights(batch),
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

  /** DV estimates of every pair on given features, without training anything (audits, eval). */
  estimatePairs(features: Tensor, y?: Tensor): Record<string, number> {
    if (!this.estimators) return {};
    const values = noGrad(() =>
      this.estimators!.estimates(this.criticViews(this.model.split(features.detach())), y),
    );
    return Object.fromEntries(this.pairs.map((p, i) => [p.name, values[i]]));
  }

  override getState(): Record<string, unknown> {
    return {
      updates: this.updates,
      encoderSteps: this.encoderSteps,
      ema: this.estimators?.emaState() ?? [],
      gradNorm: this.gradNorm?.getState() ?? null,
      attention: this.attention?.getState() ?? null,
    };
  }
  override setState(state: Record<string, unknown>): void {
    this.updates = (state.updates as number) ?? 0;
    this.encoderSteps = (state.encoderSteps as number) ?? 0;
    this.estimators?.setEmaState((state.ema as (number | null)[]) ?? []);
    if (this.gradNorm && state.gradNorm) this.gradNorm.setState(state.gradNorm as GradNormState);
    if (this.attention && state.attention)
      this.attention.setState(state.attention as { u: (number | null)[] });
  }
}

/** The inputs of the critic steps on one batch of detached features (see Mimmx.criticInputs). */
interface CriticInputs {
  views: Tensor[];
  stacked: StackedInputs | null;
  condition: Tensor;
  logWeights: Tensor | undefined;
}

/** s = min(||g_class||, ||g_MI||) / ||g_MI||: MI gradients never outweigh the class gradients. */
function scaleFrom(classNorm: number, miNorm: number): number {
  return miNorm > 0 ? Math.min(classNorm, miNorm) / miNorm : 1;
}

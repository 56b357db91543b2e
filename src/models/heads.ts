// One classification head per task, each reading only its own feature part: h_y(f_y), h_zi(f_zi).
import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/tensor.js";

/** A task the model predicts: the primary task first, then the spurions in part order. */
export interface TaskSpec {
  name: string;
  numClasses: number;
}

export interface HeadConfig {
  /** hidden width of a one-hidden-layer MLP head; 0 (default) = a single Linear */
  hidden?: number;
  /**
   * Dropout probability on each head's input part (the feature vector), in training mode only
   * (inverted dropout: kept values are scaled by 1/(1-p); eval mode passes features through).
   * Default 0.
   */
  dropout?: number;
}

/** Linear (or small MLP) from a part of width partSize to numClasses logits. */
export function makeHead(partSize: number, numClasses: number, cfg: HeadConfig = {}): nn.Module {
  if (!(numClasses >= 2)) throw new Error(`makeHead: a head needs at least 2 classes, got ${numClasses}`);
  const hidden = cfg.hidden ?? 0;
  return hidden > 0
    ? new nn.Sequential(new nn.Linear(partSize, hidden), new nn.ReLU(), new nn.Linear(hidden, numClasses))
    : new nn.Linear(partSize, numClasses);
}

export class Heads extends nn.Module {
  readonly items: nn.Module[];
  /** dropout probability on a head's input in training mode */
  readonly dropout: number;
  constructor(
    readonly tasks: TaskSpec[],
    partSize: number,
    cfg: HeadConfig = {},
  ) {
    super();
    this.dropout = cfg.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1))
      throw new Error(`Heads: dropout must be in [0, 1), got ${this.dropout}`);
    this.items = tasks.map((t, i) => this.registerModule(String(i), makeHead(partSize, t.numClasses, cfg)));
  }
  /** Logits of task i from its part (dropped out first in training mode). */
  head(i: number, part: Tensor): Tensor {
    const x = this.training && this.dropout > 0 ? nn.F.dropout(part, this.dropout, true) : part;
    return this.items[i].forward(x);
  }
  forward(): Tensor {
    throw new Error("Heads has no single forward: call head(i, part)");
  }
}

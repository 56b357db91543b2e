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
  constructor(
    readonly tasks: TaskSpec[],
    partSize: number,
    cfg: HeadConfig = {},
  ) {
    super();
    this.items = tasks.map((t, i) => this.registerModule(String(i), makeHead(partSize, t.numClasses, cfg)));
  }
  /** Logits of task i from its part. */
  head(i: number, part: Tensor): Tensor {
    return this.items[i].forward(part);
  }
  forward(): Tensor {
    throw new Error("Heads has no single forward: call head(i, part)");
  }
}

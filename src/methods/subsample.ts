// Group-balanced subsampling (Idrissi et al. 2022, "Simple data balancing achieves competitive
// worst-group-accuracy", SUBG): drop majority-group examples once, seeded, so every group has the
// size of the smallest one, then train ERM on that fixed subset for the whole run. Groups, empty and
// tiny cells: ./groups.ts (balancedSubset). The run stage (src/run/peers.ts) calls selectRows on the
// training labels and trains on those rows; the update is ERM's.

import { Erm } from "./erm.js";
import { balancedSubset, type GroupOptions, type TaskLabels } from "./groups.js";
import type { CommonConfig } from "./method.js";

export interface SubsampleConfig extends CommonConfig, Partial<GroupOptions> {}

export class Subsample extends Erm {
  override readonly name: string = "subsample";
  constructor(readonly cfg: SubsampleConfig) {
    super(cfg);
  }
  /** The rows of the training split to keep (sorted), from its labels [y, z_1..z_N] and the run seed. */
  selectRows(labels: TaskLabels, seed: number): Int32Array {
    return balancedSubset(
      labels,
      this.tasks.map((t) => t.numClasses),
      { scheme: this.cfg.scheme ?? "pairs", minCount: this.cfg.minCount },
      seed,
    );
  }
}

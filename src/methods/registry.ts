// Methods by name (DomainBed-style): `createMethod({ method: "mimmx", tasks, encoder, partSize, ... })`.
// The oracle is not a method: it is ERM ("erm") on a training set without the y-z correlation.
import { Adversarial, type AdversarialConfig } from "./adversarial.js";
import { Erm } from "./erm.js";
import { GroupDro, type GroupDroConfig } from "./groupdro.js";
import type { CommonConfig, Method } from "./method.js";
import { Mimm, type MimmConfig } from "./mimm.js";
import { Mimmx, type MimmxConfig } from "./mimmx.js";
import { Mtl } from "./mtl.js";

export type MethodConfig =
  | ({ method: "erm" } & CommonConfig)
  | ({ method: "mtl" } & CommonConfig)
  | ({ method: "mimm" } & MimmConfig)
  | ({ method: "mimmx" } & MimmxConfig)
  | ({ method: "adversarial" } & AdversarialConfig)
  | ({ method: "groupdro" } & GroupDroConfig);

export type MethodName = MethodConfig["method"];

export const METHOD_NAMES: MethodName[] = ["erm", "mtl", "mimm", "mimmx", "adversarial", "groupdro"];

/** Builds a method; call torch.manualSeed(seed) first for reproducible initial weights. */
export function createMethod(cfg: MethodConfig): Method {
  switch (cfg.method) {
    case "erm":
      return new Erm(cfg);
    case "mtl":
      return new Mtl(cfg);
    case "mimm":
      return new Mimm(cfg);
    case "mimmx":
      return new Mimmx(cfg);
    case "adversarial":
      return new Adversarial(cfg);
    case "groupdro":
      return new GroupDro(cfg);
    default:
      throw new Error(
        `unknown method "${(cfg as { method: string }).method}" (known: ${METHOD_NAMES.join(", ")})`,
      );
  }
}

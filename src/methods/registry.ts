// Methods by name (DomainBed-style): `createMethod({ method: "mimmx", tasks, encoder, partSize, ... })`.
// The oracle is not a method: it is ERM ("erm") on a training set without the y-z correlation.
import { Adversarial, type AdversarialConfig } from "./adversarial.js";
import { Dfr, type DfrConfig } from "./dfr.js";
import { Erm } from "./erm.js";
import { GroupDro, type GroupDroConfig } from "./groupdro.js";
import { Jtt, type JttConfig } from "./jtt.js";
import type { CommonConfig, Method } from "./method.js";
import { Mimm, type MimmConfig } from "./mimm.js";
import { Mimmx, type MimmxConfig } from "./mimmx.js";
import { Mtl } from "./mtl.js";
import { Reweight, type ReweightConfig } from "./reweight.js";
import { Subsample, type SubsampleConfig } from "./subsample.js";

export type MethodConfig =
  | ({ method: "erm" } & CommonConfig)
  | ({ method: "mtl" } & CommonConfig)
  | ({ method: "mimm" } & MimmConfig)
  | ({ method: "mimmx" } & MimmxConfig)
  | ({ method: "adversarial" } & AdversarialConfig)
  | ({ method: "groupdro" } & GroupDroConfig)
  | ({ method: "subsample" } & SubsampleConfig)
  | ({ method: "reweight" } & ReweightConfig)
  | ({ method: "dfr" } & DfrConfig)
  | ({ method: "jtt" } & JttConfig);

export type MethodName = MethodConfig["method"];

export const METHOD_NAMES: MethodName[] = [
  "erm",
  "mtl",
  "mimm",
  "mimmx",
  "adversarial",
  "groupdro",
  "subsample",
  "reweight",
  "dfr",
  "jtt",
];

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
    case "subsample":
      return new Subsample(cfg);
    case "reweight":
      return new Reweight(cfg);
    case "dfr":
      return new Dfr(cfg);
    case "jtt":
      return new Jtt(cfg);
    default:
      throw new Error(
        `unknown method "${(cfg as { method: string }).method}" (known: ${METHOD_NAMES.join(", ")})`,
      );
  }
}

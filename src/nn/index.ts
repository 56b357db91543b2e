// torch.nn for mimmx: modules, layers, initialisers and the functional API (as F).
export * as F from "./functional.js";
export * as init from "./init.js";
export * from "./layers.js";
export { Module, ModuleList, Sequential, type StateDict } from "./module.js";

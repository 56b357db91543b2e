// Module: the base of every layer and model, as PyTorch's nn.Module. It owns parameters (trainable
// tensors), buffers (state such as BatchNorm running statistics) and child modules, all registered by
// name so that state dicts and checkpoints use PyTorch's dotted keys ("encoder.conv1.weight").
import { noGrad } from "../tensor/autograd.js";
import type { Device, Tensor } from "../tensor/tensor.js";

export type StateDict = Map<string, Tensor>;

export abstract class Module {
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _modules = new Map<string, Module>();

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Registers a trainable tensor; it is kept out of every tidy scope and made to require grad. */
  protected registerParameter(name: string, value: Tensor | null): Tensor {
    if (value) value.keep().requiresGrad_(true);
    this._parameters.set(name, value);
    return value as Tensor;
  }
  protected registerBuffer(name: string, value: Tensor | null): Tensor {
    value?.keep();
    this._buffers.set(name, value);
    return value as Tensor;
  }
  protected registerModule<M extends Module>(name: string, module: M): M {
    this._modules.set(name, module);
    return module;
  }
  /** Replaces a registered parameter or buffer's tensor (loading, moving to a device). */
  protected replaceTensor(name: string, value: Tensor): void {
    if (this._parameters.has(name)) this._parameters.set(name, value.keep());
    else if (this._buffers.has(name)) this._buffers.set(name, value.keep());
    else throw new Error(`${this.constructor.name}: no parameter or buffer named ${name}`);
    // The field holding it is the camelCase of the registered name (running_mean -> runningMean).
    const field = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (field in this) (this as unknown as Record<string, Tensor>)[field] = value;
  }

  *namedChildren(): Generator<[string, Module]> {
    yield* this._modules.entries();
  }
  *namedModules(prefix = ""): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this._modules) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }
  *namedParameters(prefix = ""): Generator<[string, Tensor]> {
    for (const [name, p] of this._parameters) if (p) yield [prefix ? `${prefix}.${name}` : name, p];
    for (const [name, m] of this._modules) yield* m.namedParameters(prefix ? `${prefix}.${name}` : name);
  }
  *namedBuffers(prefix = ""): Generator<[string, Tensor]> {
    for (const [name, b] of this._buffers) if (b) yield [prefix ? `${prefix}.${name}` : name, b];
    for (const [name, m] of this._modules) yield* m.namedBuffers(prefix ? `${prefix}.${name}` : name);
  }
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }
  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, b]) => b);
  }
  /** Number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Clears every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by dotted name; the tensors share storage with the module's. */
  stateDict(): StateDict {
    // PyTorch's order: each module's own parameters, then its buffers, then its children, depth first.
    const sd: StateDict = new Map();
    for (const [prefix, m] of this.namedModules()) {
      const key = (name: string) => (prefix ? `${prefix}.${name}` : name);
      for (const [name, p] of m._parameters) if (p) sd.set(key(name), p);
      for (const [name, b] of m._buffers) if (b) sd.set(key(name), b);
    }
    return sd;
  }

  /**
   * Copies values into the module's tensors. strict: the key sets must match exactly. A shape or dtype
   * mismatch is an error naming the key and both shapes.
   */
  loadStateDict(
    sd: StateDict | Record<string, Tensor>,
    strict = true,
  ): { missing: string[]; unexpected: string[] } {
    const source = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !source.has(k));
    const unexpected = [...source.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      throw new Error(
        `loadStateDict: keys do not match (missing: ${missing.join(", ") || "none"}; unexpected: ${unexpected.join(", ") || "none"})`,
      );
    }
    noGrad(() => {
      for (const [k, target] of own) {
        const src = source.get(k);
        if (!src) continue;
        const a = target.shape;
        const b = src.shape;
        if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
          throw new Error(
            `loadStateDict: ${k} has shape [${a.join(", ")}] in the module but [${b.join(", ")}] in the state dict`,
          );
        }
        const converted =
          src.dtype === target.dtype && src.device === target.device
            ? src
            : src.to({ dtype: target.dtype as never, device: target.device as Device });
        target.copy_(converted);
        if (converted !== src) converted.dispose();
      }
    });
    return { missing, unexpected };
  }

  /** Moves every parameter and buffer to a device (a new tensor each; gradients are dropped). */
  to(device: Device): this {
    for (const [, m] of this.namedModules()) {
      for (const [name, p] of m._parameters) {
        if (!p || p.device === device) continue;
        const moved = noGrad(() => p.to(device));
        moved.requiresGrad_(true);
        m.replaceTensor(name, moved);
      }
      for (const [name, b] of m._buffers) {
        if (!b || b.device === device) continue;
        m.replaceTensor(name, b.to(device));
      }
    }
    return this;
  }
}

/** Applies its children in order. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => {
      this.registerModule(String(i), l);
    });
  }
  forward(x: Tensor): Tensor {
    for (const l of this.layers) x = l.forward(x);
    return x;
  }
}

/** A list of modules registered under "0", "1", ... (PyTorch's ModuleList); it has no forward. */
export class ModuleList extends Module {
  readonly items: Module[] = [];
  constructor(modules: Module[] = []) {
    super();
    for (const m of modules) this.append(m);
  }
  append(m: Module): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  forward(): Tensor {
    throw new Error("ModuleList has no forward: call its items");
  }
}

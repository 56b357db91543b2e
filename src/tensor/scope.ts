// Deterministic freeing of tensors. Every Tensor registers with the innermost open scope; when the
// scope closes, the tensors it owns are freed except the ones the scope returns (those move to the
// enclosing scope) and the ones marked with keep(). Outside any scope, tensors are freed by the GC.
//
//   const loss = tidy(() => model.forward(x).sub(y).square().mean());   // temporaries freed here
//
// A scope frees handles, not storage: a tensor another handle still references (a parameter, a view
// held elsewhere) stays alive. So freeing too eagerly never corrupts data; it can only make a later
// use of that very handle raise "tensor was freed".

/** What a scope needs to know of a tensor. */
export interface Scoped {
  dispose(): void;
  /** @internal the scope that owns this tensor, or null once kept or outside any scope */
  _scope: Set<Scoped> | null;
}

const stack: Set<Scoped>[] = [];

/** Registers a freshly made tensor with the innermost scope. */
export function track(t: Scoped): void {
  const top = stack[stack.length - 1];
  if (top) {
    top.add(t);
    t._scope = top;
  }
}

/** Removes a tensor from its scope, so no scope frees it (a parameter, optimiser state, a cache). */
export function untrack(t: Scoped): void {
  if (t._scope) {
    t._scope.delete(t);
    t._scope = null;
  }
}

function isScoped(v: unknown): v is Scoped {
  return typeof v === "object" && v !== null && "_scope" in v && typeof (v as Scoped).dispose === "function";
}

/** Finds every tensor inside a returned value: a tensor, arrays, Maps and plain objects of them. */
function collect(value: unknown, out: Set<Scoped>, seen: Set<unknown>): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  seen.add(value);
  if (isScoped(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, seen);
  }
}

function close(scope: Set<Scoped>, result: unknown): void {
  const survivors = new Set<Scoped>();
  collect(result, survivors, new Set());
  const parent = stack[stack.length - 1] ?? null;
  for (const t of scope) {
    if (survivors.has(t)) {
      t._scope = parent;
      parent?.add(t);
    } else {
      t._scope = null;
      t.dispose();
    }
  }
  scope.clear();
}

/** Runs fn in a scope; tensors made inside and not returned are freed when it returns or throws. */
export function tidy<T>(fn: () => T): T {
  if (fn.constructor.name === "AsyncFunction") {
    throw new Error("tidy(fn): fn must be synchronous; use tidyAsync for async work");
  }
  const scope = new Set<Scoped>();
  stack.push(scope);
  let result: T | undefined;
  try {
    result = fn();
    return result;
  } finally {
    stack.pop();
    close(scope, result);
  }
}

/**
 * The async form of tidy. Only one async scope may be open at a time per event loop turn chain:
 * tensors made by unrelated concurrent work would be attributed to it. mimmx's training loop awaits
 * one step at a time, which keeps this sound.
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new Set<Scoped>();
  stack.push(scope);
  let result: T | undefined;
  try {
    result = await fn();
    return result;
  } finally {
    const at = stack.lastIndexOf(scope);
    if (at >= 0) stack.splice(at, 1);
    close(scope, result);
  }
}

/** How many scopes are open (for tests). */
export function scopeDepth(): number {
  return stack.length;
}

// NaN/Inf guard: a non-finite loss must stop training before any optimiser step uses it, and say
// which term went bad (METHOD.md: an unbounded critic drives the DV estimate to Inf, then NaN).

export class NonFiniteError extends Error {
  constructor(
    /** the loss term that was not finite, e.g. "mi[y;z0]" or "ce[y]" */
    readonly term: string,
    readonly value: number,
  ) {
    super(`non-finite value in loss term "${term}": ${value}`);
    this.name = "NonFiniteError";
  }
}

export function assertFinite(term: string, value: number): number {
  if (!Number.isFinite(value)) throw new NonFiniteError(term, value);
  return value;
}

/** Checks every named loss at once, so the error names the first bad term. */
export function assertAllFinite(losses: Record<string, number>): void {
  for (const [term, v] of Object.entries(losses)) assertFinite(term, v);
}

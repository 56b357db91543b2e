// Numeric assertions shared by the tensor-engine tests.
import assert from "node:assert/strict";
import type { Tensor } from "../../src/tensor/index.js";

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** |a - b| <= atol + rtol * |b| element-wise; the message names the worst element and its index. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  { rtol = 1e-5, atol = 1e-5 }: Tolerance = {},
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} values, expected ${expected.length}`,
  );
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol}; ` +
        `${expected.length} values)`,
    );
  }
}

/** Shape equality plus assertAllClose on the values. */
export function assertTensorClose(
  actual: Tensor,
  expected: { shape: number[]; data: ArrayLike<number> | (number | boolean)[] },
  what: string,
  tol: Tolerance = {},
): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const want = Array.from(expected.data as ArrayLike<number | boolean>, Number);
  assertAllClose(actual.toArray(), want, what, tol);
}

/** Runs fn, expecting an Error whose message contains every fragment (strings, or regexps). */
export function assertThrowsWith(fn: () => unknown, fragments: (string | RegExp)[], what = "call"): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `${what}: expected an error, none was thrown`);
  assert.ok(err instanceof Error, `${what}: expected an Error, got ${String(err)}`);
  for (const f of fragments) {
    const ok = typeof f === "string" ? err.message.includes(f) : f.test(err.message);
    assert.ok(ok, `${what}: message ${JSON.stringify(err.message)} lacks ${String(f)}`);
  }
  return err;
}

// The project's one source of seeded randomness on the JS side (data sampling and augmentation,
// shuffle order, bootstrap, probe splits, t-SNE init). Reproducibility is the point: the same seed
// gives the same numbers on every machine and in worker threads, so nothing uses Math.random.
// The generator is xoshiro128** (32-bit state words, fast in JS integer arithmetic), seeded through
// splitmix32 so that nearby seeds (0, 1, 2, ...) give unrelated streams.

/** Mixes any number of integers into one 32-bit seed (splitmix-style avalanche). */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9 | 0;
  for (const p of parts) {
    // Fold large/negative/fractional numbers into 32 bits deterministically.
    const lo = Math.floor(p) | 0;
    const hi = Math.floor(p / 4294967296) | 0;
    h = Math.imul(h ^ lo, 0x85ebca6b);
    h = (h ^ (h >>> 13)) | 0;
    h = Math.imul(h ^ hi, 0xc2b2ae35);
    h = (h ^ (h >>> 16)) | 0;
  }
  return h >>> 0;
}

/** Hashes a string to 32 bits (FNV-1a), so names like a split name can seed sub-streams. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    // splitmix32 expands one seed into four well-mixed state words; an all-zero state would
    // make xoshiro emit zeros forever, and splitmix never produces four zeros in a row.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution (enough for resampling and init). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). Rejection sampling avoids the modulo bias of `x % n`. */
  int(n: number): number {
    if (!(n >= 1) || n > 4294967296) throw new RangeError(`Rng.int: n must be in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal (Marsaglia polar method; the second value is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * m;
    return u * m;
  }

  /** Fisher-Yates shuffle in place; returns the same array for chaining. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A permutation of 0..n-1 drawn from the seed. */
export function permutation(n: number, seed: number): Int32Array {
  return new Rng(seed).permutation(n);
}

/** A permutation of 0..n-1 that depends only on (seed, epoch): resuming at epoch e reproduces it. */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, hashSeed(seed, epoch, 0x5eed));
}

/**
 * n row indices drawn with replacement, row i with probability weights[i] / sum(weights) (torch's
 * WeightedRandomSampler(weights, n, replacement=True)); rows of weight 0 are never drawn.
 */
export function weightedDraw(weights: ArrayLike<number>, n: number, seed: number): Int32Array {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!(w >= 0 && Number.isFinite(w)))
      throw new Error(`weightedDraw: weight ${i} is ${w}; weights must be finite and >= 0`);
    total += w;
    cumulative[i] = total;
  }
  if (!(total > 0)) throw new Error(`weightedDraw: the ${weights.length} weights sum to ${total}`);
  const rng = new Rng(seed);
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    // The first row whose cumulative weight exceeds u (binary search); u < total, so one exists.
    const u = rng.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    out[k] = lo;
  }
  return out;
}

// Small seeded PRNG for the data layer. Reproducibility matters more than statistical quality here:
// the same seed must give the same split, the same augmentation and the same shuffle order on every
// machine and in worker threads, so we avoid Math.random entirely.

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

/** mulberry32: 32-bit state, period 2^32, fast and good enough for sampling and augmentation. */
export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/** A permutation of 0..n-1 that depends only on (seed, epoch): resuming at epoch e reproduces it. */
export function epochPermutation(n: number, seed: number, epoch: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  new Rng(hashSeed(seed, epoch, 0x5eed)).shuffle(p);
  return p;
}

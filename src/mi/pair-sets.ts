// Which feature parts get an MI estimator (METHOD.md, "Model"): with parts 0 = f_y, 1..N = f_z:
// "all": (y, z_i) for every i and (z_i, z_j) for i < j; "chain": (f_0; f_1..N), (f_1; f_2..N), ...
// (N estimators, the second argument a concatenation of parts).

export type PairSet = "all" | "chain";

export interface PartPair {
  /** e.g. "y;z0", "z0;z1", "p0;p1..2" */
  name: string;
  /** part indices of the first argument (one part) */
  a: number[];
  /** part indices of the second argument (one or several parts, concatenated) */
  c: number[];
  /** spurion index i when this is the (f_y, f_zi) pair (the attention weighter scales those) */
  spurion: number | null;
}

const defaultName = (p: number) => (p === 0 ? "y" : `z${p - 1}`);

/** The estimator pairs over numParts parts; names (default y, z0, z1, ..) label them in logs. */
export function miPairs(numParts: number, set: PairSet, names?: string[]): PartPair[] {
  const partName = (p: number) => names?.[p] ?? defaultName(p);
  const pairs: PartPair[] = [];
  if (set === "all") {
    for (let i = 0; i < numParts; i++) {
      for (let j = i + 1; j < numParts; j++) {
        pairs.push({
          name: `${partName(i)};${partName(j)}`,
          a: [i],
          c: [j],
          spurion: i === 0 ? j - 1 : null,
        });
      }
    }
  } else {
    for (let i = 0; i + 1 < numParts; i++) {
      const rest = Array.from({ length: numParts - i - 1 }, (_, t) => i + 1 + t);
      pairs.push({
        name: `${partName(i)};${rest.map(partName).join(",")}`,
        a: [i],
        c: rest,
        spurion: numParts === 2 && i === 0 ? 0 : null,
      });
    }
  }
  return pairs;
}

// The one summary statistic the side-by-side benches report over their rounds.

/** The middle value (the mean of the two middle ones for an even count). */
export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Group-count tables for a split: y x z_i for each spurion and the joint y x z_1 x .. x z_N.
// Plain JSON so a run can save them next to its metrics; `countsToMarkdown` renders them for reports.

export interface SpurionCounts {
  name: string;
  /** table[y][z] = number of rows. */
  table: number[][];
  /** Fraction of rows whose z equals the value paired with their y (the achieved confounding ratio). */
  pairedFraction: number;
}

export interface JointCount {
  y: number;
  z: number[];
  count: number;
}

export interface SplitCounts {
  split: string;
  size: number;
  primary: string;
  yTotals: number[];
  spurions: SpurionCounts[];
  joint: JointCount[];
}

export interface CountInput {
  split: string;
  primary: string;
  y: ArrayLike<number>;
  numClasses: number;
  spurions: { name: string; values: ArrayLike<number>; numClasses: number; pairing: readonly number[] }[];
}

export function computeCounts(inp: CountInput): SplitCounts {
  const n = inp.y.length;
  const yTotals = new Array<number>(inp.numClasses).fill(0);
  for (let r = 0; r < n; r++) if (inp.y[r] >= 0) yTotals[inp.y[r]]++;
  const spurions = inp.spurions.map((s) => {
    const table = Array.from({ length: inp.numClasses }, () => new Array<number>(s.numClasses).fill(0));
    let paired = 0;
    let known = 0;
    for (let r = 0; r < n; r++) {
      const y = inp.y[r];
      const z = s.values[r];
      if (y < 0 || z < 0) continue;
      table[y][z]++;
      known++;
      if (s.pairing[y] === z) paired++;
    }
    return { name: s.name, table, pairedFraction: known > 0 ? paired / known : 0 };
  });
  const jointMap = new Map<string, JointCount>();
  for (let r = 0; r < n; r++) {
    const z = inp.spurions.map((s) => s.values[r]);
    const key = `${inp.y[r]}|${z.join(",")}`;
    const e = jointMap.get(key);
    if (e) e.count++;
    else jointMap.set(key, { y: inp.y[r], z, count: 1 });
  }
  const joint = [...jointMap.values()].sort((a, b) => {
    if (a.y !== b.y) return a.y - b.y;
    for (let i = 0; i < a.z.length; i++) if (a.z[i] !== b.z[i]) return a.z[i] - b.z[i];
    return 0;
  });
  return { split: inp.split, size: n, primary: inp.primary, yTotals, spurions, joint };
}

/** Markdown: one y x z_i table per spurion and the joint table. */
export function countsToMarkdown(c: SplitCounts): string {
  const lines: string[] = [`### ${c.split} (n = ${c.size})`, ""];
  for (const s of c.spurions) {
    const kz = s.table[0]?.length ?? 0;
    lines.push(`${c.primary} x ${s.name} (P(z = paired(y)) = ${s.pairedFraction.toFixed(3)})`, "");
    lines.push(
      `| ${c.primary} \\ ${s.name} | ${Array.from({ length: kz }, (_, z) => `${z}`).join(" | ")} | total |`,
    );
    lines.push(`|---|${"---|".repeat(kz)}---|`);
    s.table.forEach((row, y) => {
      lines.push(`| ${y} | ${row.join(" | ")} | ${row.reduce((a, b) => a + b, 0)} |`);
    });
    lines.push("");
  }
  const names = c.spurions.map((s) => s.name);
  lines.push(`joint ${[c.primary, ...names].join(" x ")}`, "");
  lines.push(`| ${[c.primary, ...names].join(" | ")} | count |`);
  lines.push(`|${"---|".repeat(names.length + 2)}`);
  for (const j of c.joint) lines.push(`| ${[j.y, ...j.z].join(" | ")} | ${j.count} |`);
  lines.push("");
  return lines.join("\n");
}

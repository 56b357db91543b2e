// The configuration rules of source "mri" (brain-mri.ts): the labels a task or a metadata spurion
// may name, how the source codes them, and the cohorts. Called by the data section's schema
// (src/config/sections/data.ts); imports only the schema primitives, so there is no import cycle.
import type { Context, Path } from "../../config/schema.js";
import { suggest } from "../../config/schema.js";
import { type DataConfig, MRI_LABELS } from "../../config/types.js";

export function checkMriConfig(v: DataConfig, path: Path, ctx: Context): void {
  const known = MRI_LABELS as readonly string[];
  const label = (column: string, at: Path) => {
    if (!known.includes(column)) {
      const hint = suggest(column, MRI_LABELS);
      ctx.error(
        [...at, "column"],
        `${JSON.stringify(column)} is not a label of source "mri"${hint ? `; did you mean ${hint}?` : ""} Expected one of ${MRI_LABELS.map((l) => JSON.stringify(l)).join(", ")} (the CSV columns they come from are set in data.mri)`,
      );
    }
  };
  const ages = new Set<number | undefined>();
  const check = (
    l: { column?: string; positive?: string[]; negative?: string[]; values?: unknown; threshold?: number },
    at: Path,
  ) => {
    if (!l.column) return;
    label(l.column, at);
    for (const key of ["negative", "values"] as const)
      if (l[key] !== undefined)
        ctx.error(
          [...at, key],
          'source "mri" codes its labels itself (sex: F/Female/0 -> 0, M/Male/1 -> 1 in any case; age by threshold; sites and cohorts by name): remove it',
        );
    const coded = ["M", "Male", "male", "1"];
    if (l.positive && (l.column !== "sex" || !l.positive.every((p) => coded.includes(p))))
      ctx.error(
        [...at, "positive"],
        `source "mri" codes its labels itself (sex: F/Female/0 -> 0, M/Male/1 -> 1; age by threshold; sites and cohorts by name); positive ${JSON.stringify(l.positive)} does not match that: remove it`,
      );
    if (l.threshold !== undefined && l.column !== "age")
      ctx.error([...at, "threshold"], `only "age" is binned by a threshold, not "${l.column}"`);
    if (l.column === "age") ages.add(l.threshold);
  };
  if (v.task) check(v.task, [...path, "task"]);
  v.spurions.forEach((sp, i) => {
    if (sp.kind === "metadata") check(sp, [...path, "spurions", i]);
  });
  if (ages.size > 1)
    ctx.error([...path, "task"], "age is binned once for a run: use the same threshold everywhere");
  const used = [v.task?.column, ...v.spurions.map((sp) => (sp.kind === "metadata" ? sp.column : undefined))];
  const dup = used.find((c, i) => c !== undefined && used.indexOf(c) !== i);
  if (dup) ctx.error([...path, "spurions"], `label "${dup}" is used twice (task and spurions must differ)`);
  const m = v.mri;
  if (m.cohorts.length === 0 && !v.csv)
    ctx.error(
      [...path, "csv"],
      'required for source "mri" without data.mri.cohorts: the metadata CSV (one row per volume)',
    );
  if (m.cohorts.length > 0 && v.csv)
    ctx.warn([...path, "csv"], "ignored: data.mri.cohorts name their own CSVs");
  const names = new Set<string>();
  m.cohorts.forEach((c, i) => {
    if (names.has(c.name)) ctx.error([...path, "mri", "cohorts", i, "name"], `duplicate cohort "${c.name}"`);
    names.add(c.name);
  });
  if (used.includes("cohort") && Math.max(1, m.cohorts.length) < 2)
    ctx.error(
      [...path, "mri", "cohorts"],
      'the "cohort" label needs at least two cohorts in data.mri.cohorts',
    );
}

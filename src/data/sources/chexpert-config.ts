// The configuration rules of source "chexpert" (chexpert.ts): which columns a task or a metadata
// spurion may name and how the source codes them. Called by the data section's schema
// (src/config/sections/data.ts); imports only the schema primitives, so there is no import cycle.
import type { Context, Path } from "../../config/schema.js";
import { suggest } from "../../config/schema.js";
import type { DataConfig } from "../../config/types.js";
import { CHEXPERT_OBSERVATIONS } from "./chexpert.js";

/** Columns source "chexpert" can read a metadata spurion from. */
const CHEXPERT_SPURION_COLUMNS = ["Sex", "Age", "AP/PA", ...CHEXPERT_OBSERVATIONS];

export function checkChexpertConfig(v: DataConfig, path: Path, ctx: Context): void {
  const task = v.task;
  if (task) {
    if (!(CHEXPERT_OBSERVATIONS as readonly string[]).includes(task.column)) {
      const hint = suggest(task.column, CHEXPERT_OBSERVATIONS);
      ctx.error(
        [...path, "task", "column"],
        `${JSON.stringify(task.column)} is not a CheXpert observation${hint ? `; did you mean ${hint}?` : ""} Expected one of ${CHEXPERT_OBSERVATIONS.map((o) => JSON.stringify(o)).join(", ")}`,
      );
    }
    for (const key of ["positive", "negative", "values", "threshold"] as const)
      if (task[key] !== undefined)
        ctx.error(
          [...path, "task", key],
          "CheXpert observations are 1 / 0 / -1 (uncertain) / blank cells; use uncertain_labels and missing_labels instead",
        );
  }
  const ages = new Set<number | undefined>();
  v.spurions.forEach((sp, i) => {
    if (sp.kind !== "metadata" || !sp.column) return;
    const at = [...path, "spurions", i];
    if (!CHEXPERT_SPURION_COLUMNS.includes(sp.column)) {
      const hint = suggest(sp.column, CHEXPERT_SPURION_COLUMNS);
      ctx.error(
        [...at, "column"],
        `${JSON.stringify(sp.column)} is not a CheXpert column${hint ? `; did you mean ${hint}?` : ""} Expected Sex, Age, AP/PA or an observation`,
      );
    }
    // The source codes its columns itself; `positive` may restate that coding, not change it.
    const coded: string[] = sp.column === "Sex" ? ["Male"] : sp.column === "AP/PA" ? ["PA"] : ["1", "1.0"];
    if (sp.positive && (sp.column === "Age" || !sp.positive.every((p) => coded.includes(p))))
      ctx.error(
        [...at, "positive"],
        `the CheXpert source codes its columns itself (Sex: Female 0 / Male 1, AP/PA: AP 0 / PA 1, observations 1 / 0, Age by threshold); positive ${JSON.stringify(sp.positive)} does not match that: remove it`,
      );
    for (const key of ["negative", "values"] as const)
      if (sp[key] !== undefined)
        ctx.error(
          [...at, key],
          "the CheXpert source codes its columns itself (Sex, AP/PA, observations, Age): remove it",
        );
    if (sp.threshold !== undefined && sp.column !== "Age")
      ctx.error([...at, "threshold"], `only the Age column is binned by a threshold, not ${sp.column}`);
    if (sp.column === "Age") ages.add(sp.threshold);
  });
  if (ages.size > 1)
    ctx.error([...path, "spurions"], "every Age spurion of a CheXpert run must use the same threshold");
  if (v.image_size.length === 2 && v.image_size[0] !== v.image_size[1])
    ctx.error(
      [...path, "image_size"],
      `source "chexpert" pads X-rays to a square; give a square size, got [${v.image_size.join(", ")}]`,
    );
}

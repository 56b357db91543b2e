// A model that predicts one class everywhere is reported, not passed off by its 50% accuracy.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ONE_CLASS_SHARE, oneClassWarning } from "../../src/run/collapse.js";
import type { MethodEvaluation } from "../../src/run/evaluate.js";

/** An evaluation whose validation split has this confusion matrix (rows = true class) for y. */
function evaluationWith(confusion: number[], split = "validation"): MethodEvaluation {
  const n = confusion.reduce((a, b) => a + b, 0);
  const task = { n, numClasses: 2, accuracy: (confusion[0] + confusion[3]) / n, confusion };
  return {
    tasks: ["y", "marker"],
    splits: [{ split, n, tasks: { y: task } }],
  } as unknown as MethodEvaluation;
}

test("one predicted class on validation is a warning naming the class, the count and the split", () => {
  const w = oneClassWarning(evaluationWith([500, 0, 500, 0]), "mimmx");
  assert.match(
    w ?? "",
    /^mimmx: predicts class 0 of y for 1000 of the 1000 images of validation \(100\.0%\): y was not learnt/,
  );
  // DFR reports on the selection part of validation.
  assert.match(
    oneClassWarning(evaluationWith([0, 250, 0, 250], "validation (selection part)"), "dfr") ?? "",
    /class 1 of y/,
  );
});

test("a model that predicts both classes, even badly, is not flagged", () => {
  assert.equal(oneClassWarning(evaluationWith([400, 100, 300, 200]), "erm"), undefined);
  // Just under the threshold: 98.9% in one class.
  const n = 1000;
  const minority = Math.ceil(n * (1 - ONE_CLASS_SHARE)) + 1;
  assert.equal(oneClassWarning(evaluationWith([500, 0, 500 - minority, minority]), "erm"), undefined);
  assert.equal(
    oneClassWarning(evaluationWith([500, 0, 500, 0], "test_inverted"), "erm"),
    undefined,
    "no validation split",
  );
});

// `mimmx export --run DIR --onnx [out.onnx]`: a trained method of a run as an ONNX model.
import { join } from "node:path";
import type { MethodName } from "../../config/index.js";
import { dataRecordFromRun, loadTrainedMethod, methodConfigFromRun, openRun } from "../../run/index.js";
import { parseArgs, UsageError } from "../args.js";
import { HELP, wantsHelp } from "./common.js";

const SPEC = {
  run: { type: "string", help: "run folder" },
  onnx: { type: "boolean", default: false, help: "write ONNX (the only format so far); the path may follow" },
  method: { type: "string", help: "which method of a comparison run (default: the first)" },
  opset: { type: "number", default: 17, help: "ONNX opset" },
  help: HELP,
} as const;

export async function exportCommand(argv: string[]): Promise<number> {
  if (
    wantsHelp(
      argv,
      "export --run DIR --onnx [out.onnx]",
      "Exports a trained model (encoder + heads) for inference elsewhere.",
      SPEC,
    )
  )
    return 0;
  const { options, positionals } = parseArgs(argv, SPEC, "export");
  if (!options.run) throw new UsageError("export: --run <dir> is required");
  if (!options.onnx) throw new UsageError("export: name a format: --onnx [out.onnx]");
  const run = openRun(options.run as string);
  const data = dataRecordFromRun(run);
  if (!data) throw new UsageError(`export: ${run.dir} has no splits.json (not a finished run)`);
  const entry = options.method
    ? run.record.methods.find((m) => m.key === options.method)
    : run.record.methods[0];
  if (!entry)
    throw new UsageError(
      `export: no method "${options.method}" in this run (it has: ${run.record.methods.map((m) => m.key).join(", ")})`,
    );
  const config = methodConfigFromRun(run, entry.key);
  const method = loadTrainedMethod(config, data.tasks, run.dir, entry.key, entry.method as MethodName);
  const out = positionals[0] ?? join(run.dir, `${entry.key}.onnx`);
  // Imported on demand: the exporter is large and only this command needs it.
  const { exportOnnx } = await import("../../export/index.js");
  const inputShape = [config.model.in_channels, ...config.data.image_size];
  const r = await exportOnnx(method.model, out, { inputShape, opset: options.opset as number });
  console.log(
    `wrote ${r.path} (${r.bytes} bytes; input "${r.inputName}" [N, ${inputShape.join(", ")}]; outputs ${r.outputs.join(", ")})`,
  );
  const { verifyOnnx } = await import("../../export/verify.js");
  const check = await verifyOnnx(method.model, r.path, inputShape);
  console.log(
    check.verified
      ? `verified in onnxruntime: every output within ${check.tolerance} (relative) of mimmx's on a batch of ${check.batch}`
      : `not verified: ${check.reason}`,
  );
  return 0;
}

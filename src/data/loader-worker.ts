// Worker side of the loader: owns a fixed share of the items (index mod numWorkers), decodes and
// preprocesses them and keeps its own preprocessed cache, so from epoch 2 on nothing is decoded
// again and nothing large crosses the thread boundary except the finished items.
import { parentPort, workerData } from "node:worker_threads";
import { type FileDataset, ItemProcessor, type ItemResult, type ProcessorOptions } from "./pipeline.js";

interface Init {
  dataset: Pick<FileDataset, "items" | "itemShape" | "pipeline">;
  seed: number;
  options: ProcessorOptions;
}
export interface WorkerRequest {
  id: number;
  epoch: number;
  indices: number[];
}
export interface WorkerResponse {
  id: number;
  results: ItemResult[];
}

const init = workerData as Init;
const proc = new ItemProcessor(init.dataset, init.seed, init.options);
parentPort!.on("message", async (req: WorkerRequest) => {
  // Several items at a time: their decodes overlap on libuv's thread pool.
  const results = await proc.processMany(req.indices, req.epoch);
  const transfer = results.flatMap((r) => ("data" in r ? [r.data.buffer as ArrayBuffer] : []));
  parentPort!.postMessage({ id: req.id, results } satisfies WorkerResponse, transfer);
});

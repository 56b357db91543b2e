// Which device and which c10d backend a rank of a distributed run uses (torchrun's convention):
// `train.device: cuda` means this rank's own GPU, cuda:LOCAL_RANK, and CUDA runs communicate over
// NCCL where the addon has it (Gloo otherwise: it also reduces CUDA tensors, only slower). A
// pinned "cuda:N" would put every rank of the machine on one GPU, which NCCL refuses, so it is an
// error that says what to write instead.
import type { Device } from "../tensor/tensor.js";
import type { Backend } from "./process-group.js";

/** The device this rank trains on, from the config's train.device and the rank's LOCAL_RANK. */
export function rankDevice(device: Device, localRank: number, worldSize: number): Device {
  if (worldSize <= 1 || device === "cpu") return device;
  if (device === "cuda") return `cuda:${localRank}`;
  throw new Error(
    `train.device: "${device}" pins every rank of a ${worldSize}-process run to one GPU; write train.device: cuda and each rank takes cuda:LOCAL_RANK (restrict the GPUs with CUDA_VISIBLE_DEVICES)`,
  );
}

/** The backend for a run on `device`: NCCL for CUDA where available, Gloo otherwise. */
export function backendFor(device: string, available: readonly Backend[]): Backend {
  return device.startsWith("cuda") && available.includes("nccl") ? "nccl" : "gloo";
}

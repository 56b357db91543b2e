// Where new tensors are placed, and a test-only recorder of those placements.
//
// Every tensor the TS creation API (creation.ts) makes, and every `Tensor.to` that names a device,
// passes its requested device through `place`. Normally that is the identity. Under
// `recordDevices` each request (or the absence of one) is logged with the caller's source line, so a
// test can assert that a training step builds every tensor on the configured device rather than on
// a literal or libtorch's default. With `simulate: "cuda:7"` every requested device is served by the
// CPU while the request is still logged, and tensors report "cuda:7" as their device (code that
// follows its input's device, as PyTorch code does, then asks for "cuda:7" too), except a tensor
// created with no device or on another one, which reports where libtorch would have put it ("cpu"
// for no device; Module.to then moves it): a CPU-only machine can tell a configured device from a
// defaulted or literal one.
import type { Device } from "./tensor.js";

export interface PlacementRecord {
  /** the creation function or "to" */
  op: string;
  /** the device the caller asked for; undefined when it passed none (libtorch's default, the CPU) */
  device: string | undefined;
  /** the first stack frame outside the tensor layer: where the request came from */
  site: string;
}

interface Recorder {
  records: PlacementRecord[];
  simulate: Device | undefined;
}

let recorder: Recorder | null = null;
// Set by a request for a device other than the simulated one (none: "cpu") under a simulating
// recorder, claimed by the next Tensor built (the creation call's result: nothing else constructs
// a Tensor in between).
let pendingElsewhere: Device | null = null;
const elsewhere = new WeakMap<object, Device>();

const DEVICE_PATTERN = /^(cpu|cuda(:[0-9]+)?)$/;

function callSite(): string {
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  const outside = frames.find((f) => !/[/\\]tensor[/\\](placement|creation|tensor)\.[jt]s/.test(f));
  return (outside ?? frames[frames.length - 1] ?? "").trim();
}

/** The device to hand libtorch for a request; logs the request while a recorder is active. */
export function place(op: string, device: Device | undefined): Device | undefined {
  if (recorder === null) return device;
  recorder.records.push({ op, device, site: callSite() });
  if (recorder.simulate === undefined) return device;
  if (device !== undefined && !DEVICE_PATTERN.test(device)) {
    throw new Error(`${op}: device must be cpu, cuda or cuda:N, got "${device}"`);
  }
  if (device !== recorder.simulate) pendingElsewhere = device ?? "cpu";
  return device === undefined ? undefined : "cpu";
}

/** Called by every new Tensor: remembers one placed off the simulated device. */
export function notePlaced(t: object): void {
  if (pendingElsewhere === null) return;
  elsewhere.set(t, pendingElsewhere);
  pendingElsewhere = null;
}

/** The device a tensor reports while a simulating recorder is active (else undefined). */
export function simulatedDeviceOf(t: object): Device | undefined {
  if (recorder?.simulate === undefined) return undefined;
  return elsewhere.get(t) ?? recorder.simulate;
}

/**
 * Runs fn and returns what it returned with every placement request made meanwhile (test-only).
 * With `simulate`, every requested device is served by the CPU and every tensor reports `simulate`
 * as its device. Not re-entrant; fn must be synchronous.
 */
export function recordDevices<T>(
  fn: () => T,
  opts: { simulate?: Device } = {},
): { result: T; records: PlacementRecord[] } {
  if (recorder !== null) throw new Error("recordDevices: already recording (calls do not nest)");
  if (opts.simulate !== undefined && !DEVICE_PATTERN.test(opts.simulate)) {
    throw new Error(`recordDevices: simulate must be cpu, cuda or cuda:N, got "${opts.simulate}"`);
  }
  const active: Recorder = { records: [], simulate: opts.simulate };
  recorder = active;
  try {
    return { result: fn(), records: active.records };
  } finally {
    recorder = null;
    pendingElsewhere = null;
  }
}

/** Placement requests logged so far by the active recorder (for marking phases inside fn). */
export function recordedPlacements(): readonly PlacementRecord[] {
  return recorder?.records ?? [];
}

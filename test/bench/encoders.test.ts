// `mimmx bench encoders` at a tiny size: the real resnet18, densenet121 and cnn3d on 32x32 images
// and 16^3 volumes agree with PyTorch's (torchvision's, with our weights) and the JSON line has its
// fields; a wrong weight mapping is caught (a swapped pair of same-shape tensors by the output check,
// a misordered or missing entry by the shape and count check, naming the tensor); the pairing rules
// of bench/encoder_state.py on their own.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  agreement,
  benchEncoders,
  checkAndExport,
  encodersExitCode,
  makeCase,
  TorchSide,
} from "../../bench/encoders.js";
import { benchPython } from "../../bench/python.js";
import { loadSafetensors, saveSafetensors } from "../../src/io/safetensors.js";
import type { Tensor } from "../../src/tensor/index.js";
import { cudaIsAvailable } from "../../src/tensor/runtime.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const BIN = join(ROOT, "bin", "mimmx.js");
const tmp = mkdtempSync(join(tmpdir(), "mimmx-bench-encoders-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const PYTHON = benchPython();
// find_spec locates the modules without importing torch (seconds on a busy machine).
const hasPython = existsSync(PYTHON);
const hasTorch =
  hasPython &&
  spawnSync(PYTHON, [
    "-c",
    "import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in ('torch', 'torchvision')) else 1)",
  ]).status === 0;
const NO_TORCH = hasTorch ? false : `${PYTHON} with torch and torchvision is not available`;
const TINY = { size: 32, batch: 4, size3d: 16, batch3d: 2 };
const torchHasCuda =
  hasTorch &&
  spawnSync(PYTHON, ["-c", "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"]).status ===
    0;
const CUDA_SKIP =
  cudaIsAvailable() && torchHasCuda ? false : "needs CUDA in the addon's libtorch and in the bench's Python";

describe("bench encoders --device", () => {
  it("a device this libtorch lacks, or no device at all, is refused before anything runs", {
    skip: cudaIsAvailable() && "CUDA is here",
  }, () => {
    const cuda = runTiny(["--device", "cuda", "--no-torch"]);
    assert.equal(cuda.status, 2, cuda.stderr);
    assert.match(
      cuda.stderr,
      /bench encoders --device: "cuda" is not available: the libtorch this process loaded \(.+\) was built without CUDA.*Use --device cpu/,
    );
    const bad = runTiny(["--device", "gpu", "--no-torch"]);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /bench encoders --device: "gpu" is not a device \(cpu, cuda or cuda:N\)/);
  });
});

/** `mimmx bench encoders` at the tiny sizes, one round of one step, 1 thread. */
function runTiny(extra: string[] = []) {
  const args = ["--size", "32", "--batch", "4", "--size3d", "16", "--batch3d", "2"];
  return spawnSync(
    process.execPath,
    [
      BIN,
      "bench",
      "encoders",
      "--json",
      ...args,
      "--rounds",
      "1",
      "--steps",
      "1",
      "--warmup",
      "0",
      "--threads",
      "1",
      ...extra,
    ],
    { env: { ...process.env, MIMMX_THREADS: "1" }, encoding: "utf8", timeout: 300_000 },
  );
}

/** Both sides agree on every encoder, and the figures are consistent. */
function assertAgreesAndTimed(r: ReturnType<typeof runTiny>, device: string): void {
  assert.equal(r.status, 0, `bench encoders failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
  assert.equal(out.bench, "encoders");
  assert.equal(out.device, device);
  assert.equal(out.threads, 1);
  const entries = out.encoders as Record<string, unknown>[];
  assert.deepEqual(
    entries.map((e) => [e.name, e.input]),
    [
      ["resnet18", [4, 1, 32, 32]],
      ["densenet121", [4, 1, 32, 32]],
      ["cnn3d", [2, 1, 16, 16, 16]],
    ],
  );
  for (const e of entries) {
    const what = String(e.name);
    assert.equal(e.agree, true, `${what} disagrees: ${JSON.stringify(e)}`);
    assert.ok((e.rel_diff as number) <= 1e-3, `${what} rel_diff ${e.rel_diff}`);
    assert.ok((e.max_abs_diff as number) >= 0, `${what} max_abs_diff ${e.max_abs_diff}`);
    assert.ok((e.loss_after_step_rel_diff as number) <= 1e-3, `${what} loss after a step`);
    for (const k of ["step_seconds", "torch_step_seconds", "images_per_second", "ratio_vs_torch"])
      assert.ok((e[k] as number) > 0 && Number.isFinite(e[k] as number), `${what} ${k} = ${e[k]}`);
    const ratio = (e.torch_step_seconds as number) / (e.step_seconds as number);
    assert.ok(Math.abs((e.ratio_vs_torch as number) - ratio) < 1e-12, `${what} ratio is torch/ours`);
    const batch = (e.input as number[])[0];
    assert.ok(Math.abs((e.images_per_second as number) - batch / (e.step_seconds as number)) < 1e-9);
  }
}

describe("bench encoders against PyTorch", { skip: NO_TORCH }, () => {
  it("the command agrees with PyTorch on all three encoders and prints the JSON fields", () => {
    assertAgreesAndTimed(runTiny(), "cpu");
  });

  // Runs where the addon's libtorch and the bench's Python (MIMMX_BENCH_PYTHON) both have CUDA.
  it("on CUDA both sides train on the GPU and agree", { skip: CUDA_SKIP }, () => {
    assertAgreesAndTimed(runTiny(["--device", "cuda"]), "cuda");
  });

  describe("a wrong weight mapping", () => {
    let side: TorchSide;
    const good = join(tmp, "resnet18.safetensors");
    let ours: ReturnType<typeof checkAndExport>;
    before(async () => {
      side = await TorchSide.start(1);
      ours = checkAndExport(makeCase("resnet18", TINY), good);
    });
    after(() => side?.close());

    /** A copy of the good file, changed by `edit` (tensors and metadata). */
    function variant(
      name: string,
      edit: (tensors: Map<string, Tensor>, meta: Record<string, string>) => void,
    ): string {
      const { tensors, metadata } = loadSafetensors(good);
      edit(tensors, metadata);
      const path = join(tmp, `${name}.safetensors`);
      saveSafetensors(path, tensors, metadata);
      return path;
    }

    it("the right mapping agrees", async () => {
      const a = agreement(ours, await side.load(good), 1e-3);
      assert.equal(a.agree, true, JSON.stringify(a));
    });

    it("two same-shape weights swapped pass the shape check but fail the output check", async () => {
      const path = variant("swapped-values", (t) => {
        const a = t.get("state.stages.0.conv1.weight")!;
        const b = t.get("state.stages.0.conv2.weight")!;
        assert.deepEqual(a.shape, b.shape, "the swapped pair has one shape");
        t.set("state.stages.0.conv1.weight", b);
        t.set("state.stages.0.conv2.weight", a);
      });
      const a = agreement(ours, await side.load(path), 1e-3);
      assert.equal(a.agree, false, `a swapped pair still agrees: ${JSON.stringify(a)}`);
      assert.ok(a.rel_diff > 1e-2, `rel_diff ${a.rel_diff}`);
    });

    it("two entries out of order fail the shape check, naming both tensors", async () => {
      const path = variant("misordered", (_, meta) => {
        const order = JSON.parse(meta.state_order) as string[];
        assert.deepEqual(order.slice(0, 2), ["stem.0.weight", "stem.1.weight"]);
        [order[0], order[1]] = [order[1], order[0]];
        meta.state_order = JSON.stringify(order);
      });
      await assert.rejects(
        side.load(path),
        /state entry 0: ours stem\.1\.weight has shape \[64\] but PyTorch's conv1\.weight has shape \[64, 1, 7, 7\]/,
      );
    });

    it("a missing entry fails the count check, naming the first one unpaired", async () => {
      const path = variant("missing", (_, meta) => {
        const order = JSON.parse(meta.state_order) as string[];
        assert.equal(order.at(-1), "out.bias");
        meta.state_order = JSON.stringify(order.slice(0, -1));
      });
      await assert.rejects(
        side.load(path),
        /in ours, .* in PyTorch's; the first unpaired is PyTorch's fc\.bias/,
      );
      // The process keeps serving after a failed load.
      assert.equal(agreement(ours, await side.load(good), 1e-3).agree, true);
    });
  });
});

describe("agreement and the exit status", () => {
  const ours = { losses: [2, 1.5] as [number, number], stateOrder: [] };
  const theirs = (diff: number, loss2: number) => ({
    max_abs_diff: diff,
    max_abs: 4,
    losses: [2, loss2] as [number, number],
    entries: 1,
  });
  it("relative to the largest output, and the loss after one step counts too", () => {
    assert.equal(agreement(ours, theirs(0.004, 1.5), 1e-3).agree, true);
    assert.equal(agreement(ours, theirs(0.0041, 1.5), 1e-3).agree, false);
    assert.equal(agreement(ours, theirs(0, 1.5 * (1 + 2e-3)), 1e-3).agree, false);
    assert.equal(agreement(ours, theirs(Number.NaN, 1.5), 1e-3).agree, false, "NaN never agrees");
    assert.equal(agreement(ours, { ...theirs(0, 1.5), max_abs: 0 }, 1e-3).agree, false, "0/0 never agrees");
  });
  it("exits 1 when an encoder disagreed, 0 when all agreed or nothing was compared", () => {
    assert.equal(encodersExitCode({ encoders: [{ agree: true }, { agree: false }] }), 1);
    assert.equal(encodersExitCode({ encoders: [{ agree: true }, { agree: null }] }), 0);
  });
  it("--no-torch times ours alone and leaves the PyTorch fields null", async () => {
    const r = await benchEncoders({
      ...TINY,
      encoders: ["cnn3d"],
      rounds: 1,
      steps: 1,
      warmup: 0,
      threads: 1,
      tolerance: 1e-3,
      noTorch: true,
    });
    const [e] = r.encoders as Record<string, unknown>[];
    assert.equal(e.agree, null);
    assert.equal(e.torch_step_seconds, null);
    assert.equal(e.ratio_vs_torch, null);
    assert.ok((e.step_seconds as number) > 0);
    assert.equal(encodersExitCode(r), 0);
  });
});

describe("bench/encoder_state.py pairing", { skip: hasPython ? false : `${PYTHON} is not available` }, () => {
  // Standard library only: no torch import.
  function pair(
    ours: [string, number[]][],
    theirs: [string, number[]][],
  ): { pairs?: string[][]; error?: string } {
    const script = `
import json, sys
sys.path.insert(0, sys.argv[1])
from encoder_state import pair_by_order, MappingError
a = json.loads(sys.argv[2])
try:
    print(json.dumps({"pairs": pair_by_order(a["ours"], a["theirs"])}))
except MappingError as e:
    print(json.dumps({"error": str(e)}))
`;
    const r = spawnSync(PYTHON, ["-c", script, join(ROOT, "bench"), JSON.stringify({ ours, theirs })], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  it("pairs by position and skips num_batches_tracked on either side", () => {
    const r = pair(
      [
        ["stem.0.weight", [8, 1, 3, 3]],
        ["stem.1.weight", [8]],
        ["stem.1.num_batches_tracked", []],
        ["out.weight", [4, 8]],
      ],
      [
        ["conv1.weight", [8, 1, 3, 3]],
        ["bn1.weight", [8]],
        ["fc.weight", [4, 8]],
      ],
    );
    assert.deepEqual(r.pairs, [
      ["stem.0.weight", "conv1.weight"],
      ["stem.1.weight", "bn1.weight"],
      ["out.weight", "fc.weight"],
    ]);
  });

  it("a shape mismatch names the first pair at fault, before any count mismatch", () => {
    const r = pair(
      [
        ["a", [2]],
        ["b", [3]],
        ["c", [4]],
      ],
      [
        ["x", [2]],
        ["y", [4]],
      ],
    );
    assert.equal(r.error, "state entry 1: ours b has shape [3] but PyTorch's y has shape [4]");
  });

  it("an extra entry of ours is named", () => {
    const r = pair(
      [
        ["a", [2]],
        ["b", [3]],
      ],
      [["x", [2]]],
    );
    assert.equal(r.error, "2 state entries in ours, 1 in PyTorch's; the first unpaired is ours b");
  });
});

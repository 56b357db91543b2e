// native/find-libtorch.cjs: the C++ ABI flag the addon is compiled with must be libtorch's own.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const SCRIPT = join(process.cwd(), "native", "find-libtorch.cjs");

/** A folder shaped like an unpacked libtorch zip, with TorchConfig.cmake recording `flags`. */
function fakeLibtorch(flags: string | null): string {
  const root = mkdtempSync(join(tmpdir(), "mimmx-libtorch-"));
  mkdirSync(join(root, "include", "ATen"), { recursive: true });
  mkdirSync(join(root, "lib"));
  writeFileSync(join(root, "include", "ATen", "ATen.h"), "");
  writeFileSync(join(root, "lib", "libtorch_cpu.so"), "");
  if (flags !== null) {
    mkdirSync(join(root, "share", "cmake", "Torch"), { recursive: true });
    writeFileSync(
      join(root, "share", "cmake", "Torch", "TorchConfig.cmake"),
      `set(TORCH_CXX_FLAGS "${flags}")\n`,
    );
  }
  return root;
}

function abiDefine(libtorch: string): string {
  return execFileSync(process.execPath, [SCRIPT, "abi-define"], {
    encoding: "utf8",
    env: { ...process.env, LIBTORCH: libtorch },
  }).trim();
}

describe("find-libtorch: the C++ ABI flag", () => {
  it("reads a libtorch folder's TorchConfig.cmake (pre-cxx11 and cxx11 builds)", () => {
    for (const [flags, want] of [
      ["-D_GLIBCXX_USE_CXX11_ABI=0", "_GLIBCXX_USE_CXX11_ABI=0"],
      ["-D_GLIBCXX_USE_CXX11_ABI=1", "_GLIBCXX_USE_CXX11_ABI=1"],
      [null, "_GLIBCXX_USE_CXX11_ABI=1"],
    ] as const) {
      const root = fakeLibtorch(flags);
      try {
        assert.equal(abiDefine(root), want, `TorchConfig flags ${flags}`);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
  });

  it("binding.gyp compiles with the flag it prints", () => {
    const gyp = execFileSync("python3", [
      "-c",
      "import ast,json; print(json.dumps(ast.literal_eval(open('binding.gyp').read())['targets'][0]['defines']))",
    ]);
    assert.ok(
      (JSON.parse(String(gyp)) as string[]).includes("<!@(node native/find-libtorch.cjs abi-define)"),
    );
  });
});

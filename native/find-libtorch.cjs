#!/usr/bin/env node
// Finds a libtorch to build and link against, in the order DEVELOPERS.md fixes:
//   1. $LIBTORCH, a libtorch folder (include/ and lib/ inside);
//   2. a Python torch installation (CUDA included, where it has it);
//   3. the system's (Debian libtorch-dev).
// Nothing is downloaded. Prints one field for binding.gyp: `include`, `libdir` or `libs`.
// Used as: node native/find-libtorch.cjs include|libdir|libs|abi-define|dist-defines|dist-include|cuda|describe
//
// The addon must be compiled with the C++ ABI flag libtorch was built with (_GLIBCXX_USE_CXX11_ABI:
// pip wheels before 2.7 and the "pre-cxx11" libtorch zips use 0, Debian and the cxx11 zips 1), or
// every call passing a std::string across (op names, error messages, devices) fails to link or
// crashes. `abi-define` prints the flag found: torch._C._GLIBCXX_USE_CXX11_ABI for a Python torch,
// the TORCH_CXX_FLAGS recorded in a libtorch folder's TorchConfig.cmake, the compiler's default
// (1) for the system's.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");

function hasLib(dir, name) {
  return fs.existsSync(path.join(dir, `lib${name}.so`));
}

function fromFolder(root, how) {
  const inc = path.join(root, "include");
  const lib = path.join(root, "lib");
  if (!fs.existsSync(path.join(inc, "ATen", "ATen.h")) || !hasLib(lib, "torch_cpu")) return null;
  return { how, include: [inc, path.join(inc, "torch", "csrc", "api", "include")], libdir: lib, abi: folderAbi(root) };
}

// A libtorch folder records its flags for CMake users: set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=N").
function folderAbi(root) {
  const config = path.join(root, "share", "cmake", "Torch", "TorchConfig.cmake");
  if (!fs.existsSync(config)) return null;
  const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(fs.readFileSync(config, "utf8"));
  return m ? Number(m[1]) : null;
}

function fromPython() {
  for (const py of [process.env.PYTHON, "python3", "/usr/bin/python3"].filter(Boolean)) {
    try {
      const out = execFileSync(
        py,
        [
          "-c",
          "import json, torch, torch.utils.cpp_extension as c; print(json.dumps([c.include_paths(), c.library_paths(), int(torch._C._GLIBCXX_USE_CXX11_ABI)]))",
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      );
      const line = out.trim().split("\n").pop();
      const [include, libs, abi] = JSON.parse(line);
      const libdir = libs.find((d) => hasLib(d, "torch_cpu"));
      if (libdir && include.some((d) => fs.existsSync(path.join(d, "ATen", "ATen.h")))) {
        return { how: `python torch (${py})`, include: include.filter((d) => fs.existsSync(d)), libdir, abi };
      }
    } catch {
      // this interpreter has no torch: try the next place
    }
  }
  return null;
}

function fromSystem() {
  const libdirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"];
  const libdir = libdirs.find((d) => hasLib(d, "torch_cpu"));
  if (!libdir || !fs.existsSync("/usr/include/ATen/ATen.h")) return null;
  return {
    how: "system (libtorch-dev)",
    include: ["/usr/include", "/usr/include/torch/csrc/api/include"],
    libdir,
    abi: null,
  };
}

function find() {
  if (process.env.LIBTORCH) {
    const found = fromFolder(process.env.LIBTORCH, `LIBTORCH=${process.env.LIBTORCH}`);
    if (!found) {
      throw new Error(
        `LIBTORCH=${process.env.LIBTORCH} is not a libtorch folder (expected include/ATen/ATen.h and lib/libtorch_cpu.so)`,
      );
    }
    return found;
  }
  const found = fromPython() ?? fromSystem();
  if (!found) {
    throw new Error(
      "mimmx: no libtorch found. Install one of: Debian's `apt-get install libtorch-dev libopenblas0-pthread`, " +
        "a Python torch (`python3 -c 'import torch'` must work), or set LIBTORCH to an unpacked libtorch folder.",
    );
  }
  return found;
}

// c10d's Gloo headers include gloo's own (Debian: libgloo-dev; pip torch: torch/include/gloo).
function hasGloo(t) {
  return [...t.include, "/usr/include", "/usr/local/include"].some((d) =>
    fs.existsSync(path.join(d, "gloo", "algorithm.h")),
  );
}

// nccl.h for ProcessGroupNCCL: next to libtorch's headers, a CUDA install, or pip's nvidia-nccl.
function ncclInclude(t) {
  const candidates = [...t.include, "/usr/include", "/usr/local/cuda/include"];
  const site = path.resolve(t.libdir, "..", "..");
  candidates.push(path.join(site, "nvidia", "nccl", "include"));
  return candidates.find((d) => fs.existsSync(path.join(d, "nccl.h"))) ?? null;
}

// Which c10d process groups native/src/dist.cc compiles: Gloo where its headers are, NCCL where
// the libtorch has CUDA and c10d's NCCL header and nccl.h are there; none -> the collectives throw.
function distDefines(t, cuda) {
  const c10d = t.include.find((d) => fs.existsSync(path.join(d, "torch", "csrc", "distributed", "c10d")));
  if (!c10d || !hasGloo(t)) return ["MIMMX_NO_C10D"];
  const defs = ["USE_C10D_GLOO"];
  const ncclHeader = path.join(c10d, "torch", "csrc", "distributed", "c10d", "ProcessGroupNCCL.hpp");
  if (cuda && fs.existsSync(ncclHeader) && ncclInclude(t)) defs.push("USE_C10D_NCCL");
  return defs;
}

try {
  const t = find();
  const cuda = hasLib(t.libdir, "torch_cuda");
  const field = process.argv[2];
  if (field === "include") console.log(t.include.join(" "));
  else if (field === "libdir") console.log(t.libdir);
  else if (field === "libs") {
    const libs = ["-ltorch", "-ltorch_cpu", "-lc10"];
    // --no-as-needed keeps libtorch_cuda linked although no symbol of it is used directly:
    // loading it is what registers the CUDA kernels.
    if (cuda) libs.push("-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed");
    console.log(libs.join(" "));
  } else if (field === "abi-define") console.log(`_GLIBCXX_USE_CXX11_ABI=${t.abi ?? 1}`);
  else if (field === "dist-defines") console.log(distDefines(t, cuda).join(" "));
  else if (field === "dist-include") console.log(ncclInclude(t) ?? "");
  else if (field === "cuda") console.log(cuda ? "1" : "0");
  else
    console.log(
      `libtorch: ${t.how}; include ${t.include.join(", ")}; lib ${t.libdir}; cuda ${cuda}; cxx11 abi ${t.abi ?? "1 (compiler default)"}`,
    );
} catch (e) {
  console.error(e.message);
  process.exit(1);
}

#!/usr/bin/env bash
# Installs everything mimmx needs on a Debian machine, idempotently: system packages (libtorch,
# OpenBLAS, the built-in data set, PyTorch for golden values and side-by-side benchmarks, test data),
# the npm packages, the native addon, and the TypeScript build. Safe to run again: each step is
# skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# libopenblas0-pthread: without it Debian's libtorch falls back to the reference BLAS (~10x slower).
# python3-torch: PyTorch golden values and side-by-side benchmarks (python3-torchvision: the
# encoders bench's resnet18 and densenet121). python3-pydicom/-nibabel: real
# DICOM and NIfTI files for loader tests. chromium: renders the HTML report in a test.
APT_PACKAGES=(libtorch-dev libopenblas0-pthread libgloo-dev dataset-fashion-mnist python3-torch python3-torchvision python3-pydicom python3-nibabel)
if [ "${MIMMX_WITH_CHROMIUM:-1}" = "1" ]; then APT_PACKAGES+=(chromium); fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages; `npm ci` also builds the addon through the package's install script.
# onnxruntime-node (optional: `mimmx export` checks its ONNX files with it) would download CUDA
# binaries from GitHub in its postinstall; its install script reads this variable and skips that
# (the CPU binaries ship in the npm package). Set here, not in .npmrc, where npm warns about
# unknown keys on every command.
stamp=node_modules/.mimmx-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages and building the native addon"
  ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-fund --no-audit --loglevel=error
  cp package-lock.json "$stamp"
fi

# Rebuild the addons (libtorch's mimmx_native and the image kernels' mimmx_image) when one is missing
# or a native source is newer than it.
rebuild=
for addon in build/Release/mimmx_native.node build/Release/mimmx_image.node; do
  if [ ! -f "$addon" ] || [ -n "$(find native binding.gyp -newer "$addon" -type f 2>/dev/null | head -1)" ]; then
    rebuild=1
  fi
done
if [ -n "$rebuild" ]; then
  echo "setup: building the native addons"
  npx --no-install node-gyp rebuild --jobs=max --loglevel=error >/dev/null
fi

# TypeScript build (incremental: tsc is quick when nothing changed).
npx --no-install tsc -p tsconfig.json

#!/usr/bin/env bash
# Installs everything Pith needs on a fresh Debian 12 machine, idempotently and
# quietly when already done: Debian packages (LLVM/MLIR 22, libonnx, protobuf,
# the ONNX backend test data, ccache, ninja), a git-ignored Python virtual
# environment in .venv with scripts/requirements.txt, then configures and builds
# the project into build/ with ninja and ccache.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DEBIAN_PACKAGES=(
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  cmake ninja-build ccache g++ libgtest-dev python3-venv python3-dev libdnnl-dev libomp-22-dev
  # Eigen: the eigensolver behind shared-basis factorization (lib/Compression).
  libeigen3-dev
  # COIN-OR CBC: the integer program behind pith-remat's solver=ilp (lib/Training).
  coinor-libcbc-dev
  # The model corpus: data to train and evaluate on, and the system python's
  # torch that the training and export scripts use (bench/corpus).
  dataset-fashion-mnist fortunes bible-kjv-text python3-torch python3-torchvision
  # Renders the HTML reports in tests.
  chromium
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python virtual environment; reinstalled only when requirements change.
VENV="$ROOT/.venv"
STAMP="$VENV/.requirements.sha256"
want="$(cat scripts/requirements.txt scripts/requirements-nodeps.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating Python virtual environment in .venv"
  python3 -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages from scripts/requirements.txt"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r scripts/requirements.txt
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps \
    -r scripts/requirements-nodeps.txt
  echo "$want" > "$STAMP"
fi

# ccache keys on paths relative to the checkout, so that fresh clones (CI)
# reuse what earlier builds compiled.
export CCACHE_BASEDIR="$ROOT"

# Configure once, then build incrementally.
BUILD="$ROOT/build"
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DPython3_EXECUTABLE="$VENV/bin/python" >/dev/null
fi
if ! cmake --build "$BUILD" -- -j"$(nproc)" > "$BUILD/build.log" 2>&1; then
  tail -40 "$BUILD/build.log" >&2
  echo "setup: build failed (full log: build/build.log)" >&2
  exit 1
fi

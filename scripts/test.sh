#!/usr/bin/env bash
# Installs and builds Pith (scripts/setup.sh), then runs every test suite:
# lit + FileCheck, GoogleTest (ctest), pytest, the ONNX conformance round
# trip over Debian's libonnx-testdata, the same models compiled and run on
# the CPU against their expected outputs and compiled for the NVIDIA GPU
# (compile only: no GPU needed), and `pip install .` of the Python package
# from a fresh clone into a fresh virtual environment. Ends
# with each runner's summary line; exits non-zero if any suite failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh || exit 1

LOGS="$ROOT/build/test-logs"
mkdir -p "$LOGS"
failed=()

run_suite() {  # name, command...
  local name="$1"; shift
  echo "==> $name"
  if ! "$@" 2>&1 | tee "$LOGS/$name.log"; then
    failed+=("$name")
  fi
}

# Regenerating the dialect from the pinned onnx package must reproduce the
# committed files.
run_suite generated .venv/bin/python scripts/gen_onnx_dialect.py --check
run_suite lit /usr/lib/llvm-22/bin/lit -sv build/test
run_suite ctest ctest --test-dir build --output-on-failure
run_suite pytest .venv/bin/python -m pytest test/python -q -p no:cacheprovider
run_suite conformance .venv/bin/python test/conformance/roundtrip.py
run_suite conformance-text .venv/bin/python test/conformance/roundtrip.py --via-text
run_suite codegen .venv/bin/python test/conformance/run_models.py
if [ -e build/lib/libpith_cuda_runtime.so ]; then
  run_suite gpu-compile .venv/bin/python test/conformance/gpu_models.py --compile-only
else
  echo "gpu-compile: skipped: Pith was built without the CUDA toolkit" | tee "$LOGS/gpu-compile.log"
fi
run_suite python-package bash scripts/test_python_package.sh

echo
echo "==> summary"
grep -hE "^(Total Discovered Tests|  Passed|  Failed|  Unexpectedly)" "$LOGS/lit.log" | sed 's/^ */lit: /'
grep -hE "tests passed|tests failed" "$LOGS/ctest.log" | sed 's/^/ctest: /'
grep -hE "(passed|failed|error).* in [0-9.]+s" "$LOGS/pytest.log" | tail -1 | sed 's/^=* */pytest: /; s/ =*$//'
grep -hE "^conformance:" "$LOGS/conformance.log" | sed 's/^conformance:/conformance (via MLIR bytecode):/'
grep -hE "^conformance:" "$LOGS/conformance-text.log" | sed 's/^conformance:/conformance (via MLIR text):/'
grep -hE "^codegen:" "$LOGS/codegen.log"
grep -hE "^gpu-compile:" "$LOGS/gpu-compile.log"
grep -hE "^python-package: (passed|installed|pip install . failed)" "$LOGS/python-package.log"
if ((${#failed[@]})); then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
echo "all suites passed"

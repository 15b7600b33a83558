#!/usr/bin/env bash
# Compiles and runs one ONNX backend node test with `pith run` and compares
# with its expected outputs (rtol 1e-3, atol 1e-7). Usage: check_node_test.sh test_relu
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$ROOT/.venv/bin/python" "$ROOT/test/conformance/run_models.py" --filter "node/$1" --exact --verbose

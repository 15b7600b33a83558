#!/usr/bin/env bash
# Installs and builds Pith, then runs the main job on the default model
# (examples/tiny_cnn.onnx): import it into MLIR, show what it contains, export
# it back to ONNX and check onnxruntime gives identical outputs for both;
# then compile it for the CPU, run it, and compare with onnxruntime.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh

MODEL="${1:-examples/tiny_cnn.onnx}"
OUT="build/demo"
mkdir -p "$OUT"
name="$(basename "$MODEL" .onnx)"

echo "==> pith inspect $MODEL"
build/bin/pith inspect "$MODEL"

echo
echo "==> import: $MODEL -> $OUT/$name.mlir (onnx dialect; node names kept as locations)"
build/bin/pith-translate --import-onnx "$MODEL" --mlir-print-debuginfo -o "$OUT/$name.mlir"
grep -E "onnx\.(Initializer|[A-Z])|func.func" "$OUT/$name.mlir" | head -20 | cut -c1-150

echo
echo "==> export: $OUT/$name.mlir -> $OUT/$name.roundtrip.onnx"
build/bin/pith-translate --export-onnx "$OUT/$name.mlir" -o "$OUT/$name.roundtrip.onnx"

echo
echo "==> onnxruntime: original vs. round-tripped model"
inputs=()
if [ "$MODEL" = examples/tiny_cnn.onnx ]; then
  inputs=(--input image=examples/tiny_cnn_input.npy)
fi
.venv/bin/python examples/check_roundtrip.py "$MODEL" "$OUT/$name.roundtrip.onnx" "${inputs[@]}"

if [ "$MODEL" = examples/tiny_cnn.onnx ]; then
  echo
  echo "==> pith run: compile for the CPU in process and run"
  build/bin/pith run "$MODEL" "${inputs[@]}" --output-dir "$OUT/run"
  echo
  echo "==> compiled outputs vs. onnxruntime"
  .venv/bin/python examples/compare_with_onnxruntime.py "$MODEL" "$OUT/run" "${inputs[@]}"
fi

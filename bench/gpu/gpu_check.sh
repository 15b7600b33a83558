#!/usr/bin/env bash
# The one script run on the lent GPU machine, from the repository root of a
# copy of the working tree with .gpu-carry/ carried along (build/ is not
# there):
#   .gpu-carry/lib/        libpith_runtime.so, libpith_cuda_runtime.so
#   .gpu-carry/bin/        pith-run-compiled
#   .gpu-carry/conformance staged by test/conformance/gpu_models.py --stage
#   .gpu-carry/bench       staged by bench/gpu/prepare.py
# Runs the conformance subset, then the benchmark (bench/gpu/run_bench.py),
# and writes into $OUT (./gpu-out when unset): gpu_check.log (everything
# printed), conformance.json, bench.json and gpu_results.json (both merged,
# for bench/gpu/report.py). Every step has a time limit, all of them
# together (kill grace included) under 9 minutes (run it with timeout_s
# 560), and a failing step does not stop the others; the benchmark took
# 55 s there.
#
# Usage: bash bench/gpu/gpu_check.sh

set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CARRY=$PWD/.gpu-carry
RUNNER=$CARRY/bin/pith-run-compiled

# step NAME SECONDS COMMAND...: runs COMMAND under a time limit and reports
# how it ended.
step() {
  local name=$1 limit=$2 start=$SECONDS rc
  shift 2
  echo "=== $name (limit ${limit} s)"
  timeout -k 5 "$limit" "$@"
  rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "=== $name: TIMED OUT after $((SECONDS - start)) s"
  else
    echo "=== $name: exit $rc after $((SECONDS - start)) s"
  fi
}

# The directories holding the CUDA libraries Pith's runtime loads, from the
# pip packages torch brought. They are found by file name because the layout
# differs across CUDA versions: CUDA 13 wheels put cuBLAS and the runtime in
# nvidia/cu13/lib, while cuDNN keeps nvidia/cudnn/lib.
nvidia_pip_dirs() {
  timeout 20 python3 - <<'EOF'
import glob, os
try:
    import nvidia
except ImportError:
    raise SystemExit
dirs = set()
for root in nvidia.__path__:
    for name in ("libcublas.so.13*", "libcublasLt.so.13*", "libcudnn*.so.9*", "libcudart.so.13*"):
        dirs.update(os.path.dirname(f) for f in glob.glob(f"{root}/**/{name}", recursive=True))
print(":".join(sorted(dirs)))
EOF
}

merge_results() {
  timeout 20 python3 - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])

def load(name):
    try:
        return json.loads((out / name).read_text())
    except (OSError, ValueError) as e:
        return {"error": f"{name}: {e}"}

bench, conformance = load("bench.json"), load("conformance.json")
models = conformance.get("models", [])
summary = {"passed": sum(m["passed"] for m in models),
           "failed": sum(not m["passed"] for m in models), "total": len(models),
           "skipped": conformance.get("skipped"), "error": conformance.get("error"),
           "failures": [{"model": m["model"], "reason": m["reason"]}
                        for m in models if not m["passed"]]}
merged = {"device": bench.get("device") or bench.get("pith_device"),
          "conformance": summary, "bench": bench}
(out / "gpu_results.json").write_text(json.dumps(merged, indent=1) + "\n")
print(f"wrote {out / 'gpu_results.json'}: device {merged['device']}, conformance "
      f"{summary['passed']}/{summary['total']} passed, {len(bench.get('cases', []))} bench cases")
EOF
}

main() {
  echo "=== $(date -u +%FT%TZ) on $(hostname), repository $PWD, results in $OUT"
  step nvidia-smi 15 nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,utilization.gpu,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv
  step nvidia-smi-processes 10 nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv

  # The pip directories come first: they hold the exact builds torch was made
  # with, and LD_LIBRARY_PATH also applies to the python3 that runs torch.
  local dirs=$CARRY/lib pip_dirs dir
  IFS=: read -r -a pip_dirs <<< "$(nvidia_pip_dirs)"
  for dir in "${pip_dirs[@]}" /usr/local/cuda/lib64 /usr/local/cuda/lib; do
    [ -d "$dir" ] && dirs=$dirs:$dir
  done
  export LD_LIBRARY_PATH=$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  du -sh "$CARRY"/* 2>&1
  local lib deps missing
  for lib in "$CARRY/lib/libpith_cuda_runtime.so" "$CARRY/lib/libpith_runtime.so" "$RUNNER"; do
    if ! deps=$(timeout 10 ldd "$lib" 2>&1); then
      echo "ldd $lib: $deps"
      continue
    fi
    missing=$(grep "not found" <<< "$deps")
    echo "ldd $(basename "$lib"): ${missing:-all libraries found}"
  done

  # The staged conformance models travel as one archive (uncompressed they
  # would not fit the transfer).
  if [ ! -f "$CARRY/conformance/manifest.json" ] && [ -f "$CARRY/conformance.tar.xz" ]; then
    step unpack-conformance 60 python3 -c \
      "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" \
      "$CARRY/conformance.tar.xz" "$CARRY"
  fi
  if [ -f "$CARRY/conformance/manifest.json" ]; then
    # About 170 s on the H200 machine (16 cores): each model is a process
    # that creates a CUDA context and loads cuBLAS and cuDNN.
    step conformance 240 python3 test/conformance/gpu_models.py --run-staged "$CARRY/conformance" \
      --runner "$RUNNER" --json "$OUT/conformance.json" --jobs 16
  else
    echo "=== conformance: $CARRY/conformance/manifest.json is missing, skipped"
  fi
  if [ -f "$CARRY/bench/manifest.json" ]; then
    step bench 200 python3 bench/gpu/run_bench.py --stage "$CARRY/bench" --runner "$RUNNER" \
      --out "$OUT/bench.json"
  else
    echo "=== bench: $CARRY/bench/manifest.json is missing, skipped"
  fi
  merge_results
  echo "=== done after $SECONDS s"
}

main 2>&1 | tee "$OUT/gpu_check.log"

#!/usr/bin/env bash
# `pip install .` of the Python package `pith` from a fresh clone into a
# fresh virtual environment, then `import pith` and the worked example
# (examples/python/pytorch_to_pith.py: a PyTorch model exported, optimized
# with two transforms, compiled, run and compared with onnxruntime).
#
# The environment is made from Debian's python3 with its site packages
# visible, so that the example uses Debian's python3-torch; pip fetches the
# build backend (scikit-build-core, nanobind) and onnxruntime from PyPI.
# The package builds Pith into the clone's build/python-package; ccache
# (keyed relative to the clone, CCACHE_BASEDIR) reuses earlier builds'
# objects. Clones the committed HEAD of this checkout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d /tmp/pith-package-test.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

git clone -q "$ROOT" "$WORK/src"
/usr/bin/python3 -m venv --system-site-packages "$WORK/venv"
PIP=("$WORK/venv/bin/pip" install -q --disable-pip-version-check)
echo "python-package: pip install . (fresh clone, fresh venv)"
start=$SECONDS
if ! CCACHE_BASEDIR="$WORK/src" "${PIP[@]}" "$WORK/src" > "$WORK/install.log" 2>&1; then
  tail -40 "$WORK/install.log"
  echo "python-package: pip install . failed"
  exit 1
fi
echo "python-package: installed in $((SECONDS - start)) s"
"${PIP[@]}" onnxruntime==1.32.0

cd "$WORK"  # not the source tree: import the installed package
"$WORK/venv/bin/python" -c "import pith, numpy, torch; print('python-package: import pith ok, API version', pith.API_VERSION, 'from', pith.__file__, '| numpy', numpy.__version__, '| torch', torch.__version__)"
"$WORK/venv/bin/python" -W ignore "$WORK/src/examples/python/pytorch_to_pith.py" --out "$WORK/example"
# Built with the GPU target, the installed package compiles for cuda with the
# GPU runtime installed beside it: it runs, or says there is no GPU.
if [ -e "$ROOT/build/lib/libpith_cuda_runtime.so" ]; then
  "$WORK/venv/bin/python" - "$WORK/src/test/Inputs/mlp.onnxtxt" <<'PY'
import sys
import pith
try:
    pith.load(sys.argv[1]).compile("cuda")
    print("python-package: compile(target='cuda') ran on a GPU")
except pith.PithError as error:
    if "no CUDA driver" not in str(error) and "no usable CUDA device" not in str(error):
        raise
    print("python-package: compile(target='cuda') built the library; no GPU here")
PY
fi
echo "python-package: passed"

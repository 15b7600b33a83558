"""Shared fixtures: the Pith tools from <repo>/build/bin, and helpers that
run them and onnxruntime."""

import subprocess
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "build" / "bin"
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def pith_package():
    """The Python package `pith` as built in build/python."""
    package = REPO / "build" / "python"
    if not (package / "pith" / "__init__.py").is_file():
        pytest.skip(f"{package}/pith is missing: build Pith first")
    import sys
    sys.path.insert(0, str(package))
    import pith as built
    return built


def _tool(name):
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{path} is missing: build Pith first")
    return path


class Pith:
    """Runs pith-translate and pith; every call returns the CompletedProcess."""

    def __init__(self):
        self.translate_path = _tool("pith-translate")
        self.pith_path = _tool("pith")

    def translate(self, *args):
        return subprocess.run([str(self.translate_path), *map(str, args)],
                              capture_output=True, text=True, timeout=120)

    def pith(self, *args):
        return subprocess.run([str(self.pith_path), *map(str, args)],
                              capture_output=True, text=True, timeout=120)

    def roundtrip(self, model_path, out_dir, via="bytecode", export_args=()):
        """ONNX -> MLIR (bytecode, or text with locations) -> ONNX; returns the
        exported model's path."""
        out_dir = Path(out_dir)
        if via == "bytecode":
            mlir = out_dir / "model.mlirbc"
            extra = ["--emit-bytecode"]
        else:
            mlir = out_dir / "model.mlir"
            extra = ["--mlir-print-debuginfo"]
        result = self.translate("--import-onnx", model_path, "-o", mlir, *extra)
        assert result.returncode == 0, result.stderr
        exported = out_dir / "exported.onnx"
        result = self.translate("--export-onnx", mlir, "-o", exported, *export_args)
        assert result.returncode == 0, result.stderr
        return exported


@pytest.fixture(scope="session")
def pith():
    return Pith()


def random_inputs(model, seed=0):
    """Random values for the graph inputs (symbolic dimensions set to 2)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    initializers = {t.name for t in model.graph.initializer}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        shape = [d.dim_value if d.HasField("dim_value") else 2
                 for d in tensor_type.shape.dim]
        if dtype == np.bool_:
            feeds[value.name] = np.array(rng.random(shape) < 0.5)
        elif np.issubdtype(dtype, np.integer):
            feeds[value.name] = rng.integers(1, 4, shape).astype(dtype)
        else:
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


def run_model(path, feeds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options,
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def assert_bitwise_equal(expected, actual):
    """Same output names, dtypes, shapes and bytes."""
    assert list(expected) == list(actual)
    for name in expected:
        a, b = np.asarray(expected[name]), np.asarray(actual[name])
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), f"output {name!r} differs"


@pytest.fixture
def one_line_error():
    """Checks a failed run: non-zero exit, and stderr exactly one line that
    starts like every Pith error and contains each of `needles`."""

    def check(result, *needles):
        assert result.returncode != 0
        lines = result.stderr.splitlines()
        assert len(lines) == 1, f"expected one error line, got:\n{result.stderr}"
        assert lines[0].startswith(("pith-translate: error: ", "pith: error: ")), lines[0]
        for needle in needles:
            assert str(needle) in lines[0], f"{needle!r} not in {lines[0]!r}"
        return lines[0]

    return check

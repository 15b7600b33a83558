"""`pith optimize`: runs a pass pipeline (MLIR's textual syntax, pith-opt's
pass names), writes ONNX, prints the cost before and after and the output
error on calibration inputs; every bad input is one clear error line and
leaves no output file."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h

HERE = Path(__file__).resolve().parent
SMALL_CNN = HERE.parent / "Analysis" / "make_small_cnn.py"


@pytest.fixture
def small_cnn(tmp_path):
    path = tmp_path / "small.onnx"
    subprocess.run([sys.executable, str(SMALL_CNN), str(path)], check=True)
    return path


@pytest.fixture
def calibration(tmp_path):
    path = tmp_path / "calibration.npz"
    np.savez(path, x=np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32))
    return path


def test_lifting_parameters_keeps_the_model(pith, small_cnn, calibration, tmp_path):
    out = tmp_path / "out.onnx"
    result = pith.pith("optimize", str(small_cnn), "-o", str(out), "--pipeline",
                       "pith-lift-parameters,canonicalize", "--calibration", str(calibration))
    assert result.returncode == 0, result.stderr
    assert "[1/2] pith-lift-parameters" in result.stderr
    assert "[2/2] canonicalize" in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:3] == ["parameters", "139", "139"] for line in lines)
    assert any(line.split()[:3] == ["FLOPs", "29274", "29274"] for line in lines)
    assert "y: max abs 0.000e+00, relative 0.000e+00, relative L2 0.000e+00" in result.stdout
    # Standard ONNX that onnxruntime runs, with the same weights.
    model = onnx.load(out)
    onnx.checker.check_model(model)
    assert sorted(i.name for i in model.graph.initializer) == [
        "conv_b", "conv_w", "fc_b", "fc_w", "flat_shape"]
    x = np.load(calibration)["x"]
    want = ort.InferenceSession(str(small_cnn)).run(None, {"x": x})[0]
    got = ort.InferenceSession(str(out)).run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, want)


def no_weights_model(tmp_path):
    graph = h.make_graph([h.make_node("Relu", ["x"], ["y"])], "g",
                         [h.make_tensor_value_info("x", T.FLOAT, [2])],
                         [h.make_tensor_value_info("y", T.FLOAT, [2])])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    path = tmp_path / "relu.onnx"
    onnx.save(model, path)
    return path


@pytest.mark.parametrize("case, message", [
    ("unknown-pass", "'pith-no-such-pass' does not refer to a registered pass"),
    ("unknown-option", "no such option bogus"),
    ("calibration-name", "calibration {cal}: 'z' is not an input of the model (inputs: x)"),
    ("calibration-shape", "calibration {cal}: 'x' has shape 2x3x9x8, the model takes "
                          "tensor<2x3x8x8xf32>"),
    ("calibration-missing-file", "{cal}: cannot read"),
    ("calibration-compressed", "is compressed; save with numpy.savez"),
    ("no-weights", "the model has no weights to optimize"),
    ("missing-model", "missing.onnx: no such file"),
])
def test_bad_input(pith, small_cnn, tmp_path, case, message):
    model, pipeline, cal = small_cnn, "pith-lift-parameters", None
    if case == "unknown-pass":
        pipeline = "pith-no-such-pass"
    elif case == "unknown-option":
        pipeline = "pith-print-cost{bogus=1}"
    elif case.startswith("calibration"):
        cal = tmp_path / "cal.npz"
        if case == "calibration-name":
            np.savez(cal, x=np.zeros((2, 3, 8, 8), np.float32), z=np.zeros(1, np.float32))
        elif case == "calibration-shape":
            np.savez(cal, x=np.zeros((2, 3, 9, 8), np.float32))
        elif case == "calibration-compressed":
            np.savez_compressed(cal, x=np.zeros((2, 3, 8, 8), np.float32))
    elif case == "no-weights":
        model = no_weights_model(tmp_path)
    elif case == "missing-model":
        model = tmp_path / "missing.onnx"
    out = tmp_path / "out.onnx"
    args = ["optimize", str(model), "-o", str(out), "--pipeline", pipeline]
    if cal:
        args += ["--calibration", str(cal)]
    result = pith.pith(*args)
    assert result.returncode != 0
    assert message.format(cal=cal) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


def test_named_pipeline(pith, small_cnn, tmp_path):
    """Named pipelines resolve like passes (pith-prepare = lift + canonicalize)."""
    out = tmp_path / "out.onnx"
    result = pith.pith("optimize", str(small_cnn), "-o", str(out), "--pipeline", "pith-prepare")
    assert result.returncode == 0, result.stderr
    assert "pith-lift-parameters" in result.stderr
    assert out.exists()

"""Symbolic dimensions: a model is compiled once (`pith compile`) and the one
library runs at several batch and sequence sizes, matching onnxruntime."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper as h

from compiled_model import CompiledModel

RNG = np.random.default_rng(0)


def weight(name, *shape):
    return onnx.numpy_helper.from_array(
        (RNG.standard_normal(shape) * 0.3).astype(np.float32), name)


def attention_model():
    """One attention head block: the reshape target, a position slice and the
    softmax all depend on the run's batch and sequence sizes."""
    ints = lambda name, values: h.make_node(  # noqa: E731
        "Constant", [], [name], value=h.make_tensor("", T.INT64, [len(values)], values))
    nodes = [
        h.make_node("Shape", ["x"], ["shape"]),
        ints("i0", [0]), ints("i1", [1]), ints("heads", [2, -1]),
        h.make_node("Gather", ["shape", "i0"], ["batch"], axis=0),
        h.make_node("Gather", ["shape", "i1"], ["seq"], axis=0),
        # positions[:, :seq], added to the input
        h.make_node("Slice", ["positions", "i0", "seq", "i1"], ["pos"]),
        h.make_node("Add", ["x", "pos"], ["xp"]),
        h.make_node("MatMul", ["xp", "wq"], ["q"]),
        h.make_node("MatMul", ["xp", "wk"], ["k"]),
        h.make_node("Concat", ["batch", "seq", "heads"], ["target"], axis=0),
        h.make_node("Reshape", ["q", "target"], ["q4"]),
        h.make_node("Reshape", ["k", "target"], ["k4"]),
        h.make_node("Transpose", ["q4"], ["qt"], perm=[0, 2, 1, 3]),
        h.make_node("Transpose", ["k4"], ["kt"], perm=[0, 2, 3, 1]),
        h.make_node("MatMul", ["qt", "kt"], ["scores"]),
        h.make_node("Softmax", ["scores"], ["probs"], axis=-1),
        h.make_node("ReduceMean", ["probs", "i1"], ["y"], keepdims=0),
    ]
    graph = h.make_graph(
        nodes, "attention", [h.make_tensor_value_info("x", T.FLOAT, ["N", "S", 8])],
        [h.make_tensor_value_info("y", T.FLOAT, ["N", "S", "S"])],
        [weight("wq", 8, 8), weight("wk", 8, 8), weight("positions", 1, 16, 8)])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 18)])
    model.ir_version = 8
    return model


def cnn_model():
    """Convolution, pooling and a classifier over a symbolic batch."""
    nodes = [
        h.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        h.make_node("Relu", ["c"], ["r"]),
        h.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        h.make_node("GlobalAveragePool", ["p"], ["g"]),
        h.make_node("Flatten", ["g"], ["f"]),
        h.make_node("Gemm", ["f", "fc", "fcb"], ["y"], transB=1),
    ]
    graph = h.make_graph(
        nodes, "cnn", [h.make_tensor_value_info("x", T.FLOAT, ["N", 3, 8, 8])],
        [h.make_tensor_value_info("y", T.FLOAT, ["N", 5])],
        [weight("w", 4, 3, 3, 3), weight("b", 4), weight("fc", 5, 4), weight("fcb", 5)])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("make, shapes", [
    (attention_model, [(1, 5, 8), (3, 7, 8), (2, 16, 8)]),
    (cnn_model, [(1, 3, 8, 8), (4, 3, 8, 8)]),
])
def test_compiled_once_runs_at_several_sizes(pith, tmp_path, make, shapes):
    model = make()
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    library = tmp_path / "model.so"
    result = pith.pith("compile", str(path), "-o", str(library))
    assert result.returncode == 0, result.stderr
    compiled = CompiledModel(library)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for shape in shapes:
        x = RNG.standard_normal(shape).astype(np.float32)
        (got,) = compiled.run({"x": x})
        (want,) = session.run(None, {"x": x})
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_wrong_static_dimension_is_refused(pith, tmp_path):
    path = tmp_path / "model.onnx"
    onnx.save(cnn_model(), path)
    library = tmp_path / "model.so"
    assert pith.pith("compile", str(path), "-o", str(library)).returncode == 0
    compiled = CompiledModel(library)
    with pytest.raises(RuntimeError, match=r"input 'x' must have shape \[\?,3,8,8\]"):
        compiled.run({"x": np.zeros((2, 3, 9, 8), np.float32)})

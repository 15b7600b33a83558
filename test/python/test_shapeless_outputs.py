"""A graph output declared without a shape (as tools write when they add an
intermediate value as an output, and as Pith's calibration does) stays
unranked: fixing the input shapes for `pith run` must not turn it into a
scalar."""

import numpy as np
import onnx
from onnx import TensorProto, helper


def test_output_without_shape_runs(pith, tmp_path):
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3], np.arange(12, dtype=np.float32))
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["h"]), helper.make_node("MatMul", ["h", "w"], ["y"])],
        "shapeless",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3]),
         helper.make_tensor_value_info("h", TensorProto.FLOAT, None)],
        [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "shapeless.onnx"
    onnx.save(model, path)
    x = np.array([[-1, 2, -3, 4], [5, -6, 7, -8]], np.float32)
    np.save(tmp_path / "x.npy", x)
    result = pith.pith("run", path, "--input", f"x={tmp_path / 'x.npy'}",
                       "--output-dir", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    h = np.maximum(x, 0)
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "h.npy"), h)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "y.npy"),
                               h @ np.arange(12, dtype=np.float32).reshape(4, 3))

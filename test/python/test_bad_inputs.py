"""Binary ONNX inputs pith-translate must refuse.

Each import fails with exit status != 0 and exactly one stderr line naming
the file (and, for a node, its name and op type); it creates no output file
and leaves an existing one untouched.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import EXAMPLES


def save(model, path):
    """Serializes without onnx.save_model's checks, as a broken exporter would."""
    path.write_bytes(model.SerializeToString())
    return path


def graph_model(nodes, inputs=("x",), outputs=("y",), opset=17, initializers=()):
    graph = helper.make_graph(
        nodes, "bad",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 2]) for n in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 2]) for n in outputs],
        list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def float_axis(tmp_path):
    node = helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=0)
    node.attribute[0].CopyFrom(helper.make_attribute("axis", 0.5))
    return save(graph_model([node]), tmp_path / "float_axis.onnx")


def string_kernel(tmp_path):
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape="2x2")
    return save(graph_model([node]), tmp_path / "string_kernel.onnx")


def attribute_without_value(tmp_path):
    node = helper.make_node("Softmax", ["x"], ["y"], name="soft")
    node.attribute.add(name="axis")  # neither a type nor a value
    return save(graph_model([node]), tmp_path / "attribute_without_value.onnx")


def undefined_value(tmp_path):
    node = helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")
    return save(graph_model([node]), tmp_path / "undefined_value.onnx")


def missing_required_input(tmp_path):
    node = helper.make_node("Gemm", ["x", "", "x"], ["y"], name="gemm")
    return save(graph_model([node]), tmp_path / "missing_required_input.onnx")


def too_many_inputs(tmp_path):
    node = helper.make_node("Relu", ["x", "x"], ["y"], name="relu")
    return save(graph_model([node]), tmp_path / "too_many_inputs.onnx")


def missing_required_attribute(tmp_path):
    node = helper.make_node("Concat", ["x", "x"], ["y"], name="cat")
    return save(graph_model([node]), tmp_path / "missing_required_attribute.onnx")


def unknown_graph_output(tmp_path):
    node = helper.make_node("Relu", ["x"], ["r"], name="relu")
    return save(graph_model([node], outputs=("y",)), tmp_path / "unknown_graph_output.onnx")


def unnamed_node(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Transpose", ["r"], ["y"], perm=[0, 0])]
    return save(graph_model(nodes), tmp_path / "unnamed_node.onnx")


def unsupported_opset(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    return save(graph_model([node], opset=99), tmp_path / "unsupported_opset.onnx")


def bad_initializer_size(tmp_path):
    weight = numpy_helper.from_array(np.ones((2, 2), np.float32), "w")
    weight.raw_data = weight.raw_data[:7]
    node = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    return save(graph_model([node], initializers=[weight]), tmp_path / "bad_initializer_size.onnx")


def truncated(tmp_path):
    path = tmp_path / "truncated.onnx"
    path.write_bytes((EXAMPLES / "tiny_cnn.onnx").read_bytes()[:300])
    return path


def corrupt(tmp_path):
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"\xff" * 64)
    return path


def empty(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    return path


def missing_file(tmp_path):
    return tmp_path / "missing.onnx"


BAD_INPUTS = {
    # name: (make the input, strings the error line must contain)
    "float_axis": (float_axis, ["node 'cat' (Concat)", "attribute 'axis' must be INT, got FLOAT"]),
    "string_kernel": (string_kernel,
                      ["node 'pool' (MaxPool)", "attribute 'kernel_shape' must be INTS, got STRING"]),
    "attribute_without_value": (attribute_without_value,
                                ["node 'soft' (Softmax)", "attribute 'axis' has no value"]),
    "undefined_value": (undefined_value, ["node 'adder' (Add)", "input 'ghost' is not defined"]),
    "missing_required_input": (missing_required_input,
                               ["node 'gemm' (Gemm)", "required input 'B' is missing"]),
    "too_many_inputs": (too_many_inputs, ["node 'relu' (Relu)", "has 2 inputs, opset 17 allows 1"]),
    "missing_required_attribute": (missing_required_attribute,
                                   ["node 'cat' (Concat)", "requires attribute 'axis'"]),
    "unknown_graph_output": (unknown_graph_output, ["graph output 'y' is not defined"]),
    "unnamed_node": (unnamed_node, ["node #1 (Transpose)", "'perm' must be a permutation"]),
    "unsupported_opset": (unsupported_opset, ["unsupported ai.onnx opset 99"]),
    "bad_initializer_size": (bad_initializer_size,
                             ["initializer 'w'", "holds 7 bytes of data, expected 16"]),
    "truncated": (truncated, ["not a valid ONNX protobuf"]),
    "corrupt": (corrupt, ["not a valid ONNX protobuf"]),
    "empty": (empty, []),
    "missing_file": (missing_file, ["no such file"]),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_fails_with_one_line(pith, tmp_path, case, one_line_error):
    make, needles = BAD_INPUTS[case]
    path = make(tmp_path)
    out = tmp_path / "out.mlir"
    result = pith.translate("--import-onnx", path, "-o", out)
    one_line_error(result, path.name, *needles)
    assert not out.exists()


@pytest.mark.parametrize("case", ["undefined_value", "truncated", "unsupported_opset"])
def test_bad_input_leaves_existing_output(pith, tmp_path, case, one_line_error):
    path = BAD_INPUTS[case][0](tmp_path)
    out = tmp_path / "kept.mlir"
    out.write_text("untouched\n")
    one_line_error(pith.translate("--import-onnx", path, "-o", out), path.name)
    assert out.read_text() == "untouched\n"


def test_directory_as_input(pith, tmp_path, one_line_error):
    """A directory is not a model, and the error says so."""
    directory = tmp_path / "model.onnx"
    directory.mkdir()
    out = tmp_path / "out.mlir"
    line = one_line_error(pith.translate("--import-onnx", directory, "-o", out), directory.name)
    message = line.split(f"{directory}: ", 1)[1]
    assert "directory" in message.lower(), message
    assert not out.exists()


def test_bad_input_to_inspect(pith, tmp_path, one_line_error):
    """pith inspect reports the same one-line errors."""
    path = undefined_value(tmp_path)
    one_line_error(pith.pith("inspect", path), path.name, "input 'ghost' is not defined")

"""ONNX -> MLIR -> ONNX round trips of models built with onnx.helper.

Each exported model must pass onnx.checker (full check), have the original's
nodes, and compute bitwise the same outputs in onnxruntime. The models use
each opset's newest operator forms (opsets 17, 18, 21, 23) and control flow.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import EXAMPLES, assert_bitwise_equal, random_inputs, run_model

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def value(name, shape, elem_type=FLOAT):
    return helper.make_tensor_value_info(name, elem_type, shape)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, inputs, outputs, opset, initializers=(), **kwargs):
    graph = helper.make_graph(nodes, f"opset{opset}_graph", inputs, outputs,
                              list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=10 if opset >= 21 else 8, **kwargs)


def opset17():
    """Conv/pool/Gemm, LayerNormalization-17, Split-13 and ReduceSum-13
    with their sizes and axes as inputs."""
    rng = np.random.default_rng(1)
    return model(
        [helper.make_node("Conv", ["x", "w", "b"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["conv"], ["relu"]),
         helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
         helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, alpha=0.5),
         helper.make_node("LayerNormalization", ["logits", "ln_scale", "ln_bias"], ["normed"],
                          axis=-1, epsilon=1e-3),
         helper.make_node("Split", ["normed", "sizes"], ["head", "tail"], axis=1),
         helper.make_node("ReduceSum", ["tail", "axes"], ["total"], keepdims=0)],
        [value("x", ["N", 2, 8, 8])],
        [value("head", ["N", 4]), value("total", ["N"])],
        17,
        [const("w", rng.standard_normal((4, 2, 3, 3)).astype(np.float32)),
         const("b", rng.standard_normal(4).astype(np.float32)),
         const("fc_w", rng.standard_normal((10, 64)).astype(np.float32)),
         const("fc_b", rng.standard_normal(10).astype(np.float32)),
         const("ln_scale", np.full(10, 1.5, np.float32)),
         const("ln_bias", np.full(10, 0.25, np.float32)),
         const("sizes", np.array([4, 6], np.int64)),
         const("axes", np.array([1], np.int64))])


def opset18():
    """Split-18 with num_outputs, ReduceMean-18 with axes as input, Pad-18
    with axes, Resize-18."""
    return model(
        [helper.make_node("Split", ["x"], ["a", "b"], axis=1, num_outputs=2),
         helper.make_node("ReduceMean", ["a", "axes"], ["mean"], keepdims=1),
         helper.make_node("Pad", ["b", "pads", "pad_value", "pad_axes"], ["padded"], mode="constant"),
         helper.make_node("Resize", ["x", "", "scales"], ["resized"], mode="nearest")],
        [value("x", [1, 4, 4, 4])],
        [value("mean", [1, 1, 4, 4]), value("padded", [1, 2, 4, 7]), value("resized", [1, 4, 8, 8])],
        18,
        [const("axes", np.array([1], np.int64)),
         const("pads", np.array([1, 2], np.int64)),
         const("pad_value", np.array(0.5, np.float32)),
         const("pad_axes", np.array([3], np.int64)),
         const("scales", np.array([1, 1, 2, 2], np.float32))])


def opset21():
    """Gelu-20, Resize-19 (antialias), Pad-21 reflect with axes, Cast-21."""
    return model(
        [helper.make_node("Gelu", ["x"], ["gelu"], approximate="tanh"),
         helper.make_node("Resize", ["gelu", "", "scales"], ["resized"], mode="linear", antialias=1),
         helper.make_node("Pad", ["resized", "pads", "", "axes"], ["padded"], mode="reflect"),
         helper.make_node("Cast", ["padded"], ["out"], to=TensorProto.DOUBLE)],
        [value("x", [1, 2, 8, 8])],
        [value("out", [1, 2, 4, 6], TensorProto.DOUBLE)],
        21,
        [const("scales", np.array([1, 1, 0.5, 0.5], np.float32)),
         const("pads", np.array([1, 1], np.int64)),
         const("axes", np.array([-1], np.int64))])


def opset23():
    """RMSNormalization-23, Attention-23, LayerNormalization, Gelu at opset 23."""
    rng = np.random.default_rng(2)
    return model(
        [helper.make_node("RMSNormalization", ["x", "scale"], ["rms"], axis=-1, epsilon=1e-5),
         helper.make_node("Attention", ["q", "k", "v"], ["att"], is_causal=1),
         helper.make_node("LayerNormalization", ["att", "scale"], ["ln"], axis=-1),
         helper.make_node("Gelu", ["ln"], ["out"])],
        [value("x", [2, 3, 8]), value("q", [2, 2, 3, 8]), value("k", [2, 2, 3, 8]),
         value("v", [2, 2, 3, 8])],
        [value("rms", [2, 3, 8]), value("out", [2, 2, 3, 8])],
        23,
        [const("scale", rng.standard_normal(8).astype(np.float32))])


def subgraph(name, nodes, inputs, outputs):
    return helper.make_graph(nodes, name, inputs, outputs)


def if_model():
    """If whose branches read the enclosing graph's input and initializer."""
    then_g = subgraph("then_g", [helper.make_node("Add", ["x", "bias"], ["t"])], [], [value("t", [3])])
    else_g = subgraph("else_g", [helper.make_node("Mul", ["x", "x"], ["e"])], [], [value("e", [3])])
    return model(
        [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
         helper.make_node("Greater", ["s", "zero"], ["cond"]),
         helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)],
        [value("x", [3])], [value("y", [3])], 17,
        [const("bias", np.array([1, 2, 3], np.float32)), const("zero", np.array(0, np.float32))])


def loop_model():
    """Loop with a trip count, a carried value and a scan output, reading an
    outer-scope initializer."""
    body = subgraph(
        "body",
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "step"], ["acc_out"]),
         helper.make_node("Mul", ["acc_out", "acc_out"], ["scan_out"])],
        [value("iter", [], INT64), value("cond_in", [], TensorProto.BOOL), value("acc_in", [2])],
        [value("cond_out", [], TensorProto.BOOL), value("acc_out", [2]), value("scan_out", [2])])
    return model(
        [helper.make_node("Loop", ["trip", "", "init"], ["final", "scans"], body=body)],
        [value("init", [2])], [value("final", [2]), value("scans", ["T", 2])], 17,
        [const("trip", np.array(4, np.int64)), const("step", np.array([0.5, -1], np.float32))])


def scan_model():
    """Scan: a running sum over the rows of its scan input."""
    body = subgraph(
        "scan_body",
        [helper.make_node("Add", ["sum_in", "row"], ["sum_out"]),
         helper.make_node("Identity", ["sum_out"], ["partial"])],
        [value("sum_in", [3]), value("row", [3])],
        [value("sum_out", [3]), value("partial", [3])])
    return model(
        [helper.make_node("Scan", ["init", "rows"], ["total", "partials"], body=body,
                          num_scan_inputs=1)],
        [value("init", [3]), value("rows", [5, 3])],
        [value("total", [3]), value("partials", [5, 3])], 17)


def sibling_scopes_model():
    """Two Ifs whose branches all name their output `t`, float[2] in one If
    and int64[3] in the other: sibling subgraphs are separate scopes."""
    def branch(name, op, source, elem_type, shape):
        return subgraph(name, [helper.make_node(op, [source], ["t"])], [],
                        [value("t", shape, elem_type)])
    return model(
        [helper.make_node("If", ["c"], ["y"],
                          then_branch=branch("then_y", "Relu", "x", FLOAT, [2]),
                          else_branch=branch("else_y", "Neg", "x", FLOAT, [2])),
         helper.make_node("If", ["c"], ["z"],
                          then_branch=branch("then_z", "Abs", "n", INT64, [3]),
                          else_branch=branch("else_z", "Neg", "n", INT64, [3]))],
        [value("c", [], TensorProto.BOOL), value("x", [2]), value("n", [3], INT64)],
        [value("y", [2]), value("z", [3], INT64)], 17)


MODELS = {
    "opset17": opset17, "opset18": opset18, "opset21": opset21, "opset23": opset23,
    "if": if_model, "loop": loop_model, "scan": scan_model,
    "sibling_scopes": sibling_scopes_model,
}


def normalized_nodes(graph):
    """Nodes as comparable values: trailing empty inputs/outputs dropped,
    attributes by name, tensors as arrays, subgraphs recursively."""
    def attribute(a):
        if a.type == onnx.AttributeProto.GRAPH:
            return ("graph", a.g.name, normalized_nodes(a.g),
                    [i.name for i in a.g.input], [o.name for o in a.g.output])
        if a.type == onnx.AttributeProto.TENSOR:
            array = numpy_helper.to_array(a.t)
            return ("tensor", array.dtype.str, array.shape, array.tobytes())
        v = helper.get_attribute_value(a)
        return (a.type, v if isinstance(v, (bytes, str, int, float)) else list(v))

    def trimmed(names):
        names = list(names)
        while names and not names[-1]:
            names.pop()
        return names

    return [(n.op_type, n.domain, n.name, trimmed(n.input), trimmed(n.output),
             {a.name: attribute(a) for a in n.attribute}) for n in graph.node]


@pytest.mark.parametrize("via", ["bytecode", "text"])
@pytest.mark.parametrize("name", MODELS)
def test_roundtrip_computes_identically(pith, tmp_path, name, via):
    original = MODELS[name]()
    onnx.checker.check_model(original, full_check=True)
    original_path = tmp_path / "original.onnx"
    onnx.save_model(original, original_path)

    exported_path = pith.roundtrip(original_path, tmp_path, via=via)
    exported = onnx.load(exported_path)
    # The exported model is valid ONNX...
    onnx.checker.check_model(exported, full_check=True)
    # ... with the original's nodes...
    assert normalized_nodes(exported.graph) == normalized_nodes(original.graph)
    # ... and runs to the same bits.
    feeds = random_inputs(original)
    assert_bitwise_equal(run_model(original_path, feeds), run_model(exported_path, feeds))


def test_roundtrip_of_the_example_model(pith, tmp_path):
    """The shipped example, on its shipped input."""
    exported = pith.roundtrip(EXAMPLES / "tiny_cnn.onnx", tmp_path)
    onnx.checker.check_model(onnx.load(exported), full_check=True)
    feeds = {"image": np.load(EXAMPLES / "tiny_cnn_input.npy")}
    assert_bitwise_equal(run_model(EXAMPLES / "tiny_cnn.onnx", feeds), run_model(exported, feeds))


def annotated_model():
    """A model with every kind of name and annotation ONNX carries."""
    then_g = subgraph("then_g", [helper.make_node("Relu", ["r"], ["t"], name="inner_relu")], [],
                      [value("t", ["batch", 4])])
    else_g = subgraph("else_g", [helper.make_node("Neg", ["r"], ["e"], name="inner_neg")], [],
                      [value("e", ["batch", 4])])
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="first_relu", doc_string="rectifies x"),
         helper.make_node("If", ["c"], ["y"], name="choose", then_branch=then_g,
                          else_branch=else_g)],
        "annotated",
        [value("x", ["batch", 4]), value("c", [], TensorProto.BOOL)],
        [value("y", ["batch", 4])],
        doc_string="the main graph",
        value_info=[value("r", ["batch", 4])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("com.microsoft", 1)],
                          ir_version=8, producer_name="pith-tests", producer_version="2.1",
                          domain="org.pith.tests", model_version=7, doc_string="a model")
    helper.set_model_props(m, {"author": "pith", "license": "MIT"})
    return m


@pytest.mark.parametrize("via", ["bytecode", "text"])
def test_roundtrip_keeps_names_and_metadata(pith, tmp_path, via):
    original = annotated_model()
    onnx.checker.check_model(original, full_check=True)
    onnx.save_model(original, tmp_path / "original.onnx")
    exported = onnx.load(pith.roundtrip(tmp_path / "original.onnx", tmp_path, via=via))
    onnx.checker.check_model(exported, full_check=True)

    # Model header and metadata.
    for field in ("ir_version", "producer_name", "producer_version", "domain",
                  "model_version", "doc_string"):
        assert getattr(exported, field) == getattr(original, field), field
    assert ({p.key: p.value for p in exported.metadata_props}
            == {"author": "pith", "license": "MIT"})
    assert ({(o.domain, o.version) for o in exported.opset_import}
            == {("", 17), ("com.microsoft", 1)})
    # Graph: name, doc string, node names and doc strings, value names.
    assert exported.graph.name == "annotated"
    assert exported.graph.doc_string == "the main graph"
    assert normalized_nodes(exported.graph) == normalized_nodes(original.graph)
    assert exported.graph.node[0].doc_string == "rectifies x"
    # Symbolic dimensions of inputs, outputs and value_info.
    assert exported.graph.input == original.graph.input
    assert exported.graph.output == original.graph.output
    assert exported.graph.value_info == original.graph.value_info


def test_roundtrip_keeps_subgraph_signatures(pith, tmp_path):
    """Subgraph inputs and outputs keep their types, symbolic dims included."""
    original = annotated_model()
    onnx.save_model(original, tmp_path / "original.onnx")
    exported = onnx.load(pith.roundtrip(tmp_path / "original.onnx", tmp_path))
    for node_original, node_exported in zip(original.graph.node, exported.graph.node):
        graphs = {a.name: a.g for a in node_exported.attribute if a.type == onnx.AttributeProto.GRAPH}
        for a in node_original.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                assert graphs[a.name].output == a.g.output, a.name
                assert graphs[a.name].input == a.g.input, a.name

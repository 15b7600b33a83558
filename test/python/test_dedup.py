"""`pith optimize --pipeline pith-dedup-weights`: weights that are copies of
each other (identical, transposed, reshaped, an f32 copy of an f16 weight,
copies inside If branches) are stored once, and the outputs do not change:
the same under onnxruntime, and bit for bit in Pith's compiled code. Pith
cannot compile If, so the compiled check uses the model without it."""

import hashlib
from collections import defaultdict

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

from compiled_model import CompiledModel
from conftest import assert_bitwise_equal, run_model

RNG = np.random.default_rng(0)
W = RNG.standard_normal((6, 4)).astype(np.float32)
H16 = RNG.standard_normal((4, 4)).astype(np.float16)
B = RNG.standard_normal(4).astype(np.float32)  # no copy: must stay as it is


def branch(name, weight, transpose):
    """If branch: x @ weight (its own initializer), through a Transpose if asked."""
    nodes, operand = [], name
    if transpose:
        nodes.append(h.make_node("Transpose", [name], [name + "_t"], perm=[1, 0]))
        operand = name + "_t"
    nodes.append(h.make_node("MatMul", ["x", operand], [name + "_y"]))
    return h.make_graph(nodes, name, [], [h.make_tensor_value_info(name + "_y", T.FLOAT, [3, 4])],
                        [numpy_helper.from_array(weight, name)])


def make_model(with_if):
    """x [3,6], z [3,4] (and cond); one output per use of a copy."""
    weights = {"w": W, "w_t": np.ascontiguousarray(W.T), "w_r": W.reshape(2, 3, 4),
               "w_copy": W.copy(), "h16": H16, "h32": H16.astype(np.float32), "b": B,
               "shape": np.array([6, 4], np.int64)}
    nodes = [h.make_node("Reshape", ["w_r", "shape"], ["w_r2"]),
             h.make_node("Cast", ["h16"], ["h16_f32"], to=T.FLOAT),
             h.make_node("MatMul", ["x", "w"], ["xw"]),
             h.make_node("Add", ["xw", "b"], ["y_w"]),
             h.make_node("MatMul", ["z", "w_t"], ["y_t"]),
             h.make_node("MatMul", ["x", "w_r2"], ["y_r"]),
             h.make_node("MatMul", ["x", "w_copy"], ["y_copy"]),
             h.make_node("MatMul", ["z", "h16_f32"], ["y_h16"]),
             h.make_node("MatMul", ["z", "h32"], ["y_h32"])]
    shapes = {"y_w": [3, 4], "y_t": [3, 6], "y_r": [3, 4], "y_copy": [3, 4],
              "y_h16": [3, 4], "y_h32": [3, 4]}
    inputs = [h.make_tensor_value_info("x", T.FLOAT, [3, 6]),
              h.make_tensor_value_info("z", T.FLOAT, [3, 4])]
    if with_if:
        inputs.append(h.make_tensor_value_info("cond", T.BOOL, []))
        nodes.append(h.make_node("If", ["cond"], ["y_if"],
                                 then_branch=branch("w_then", W.copy(), transpose=False),
                                 else_branch=branch("w_else", np.ascontiguousarray(W.T),
                                                    transpose=True)))
        shapes["y_if"] = [3, 4]
    graph = h.make_graph(nodes, "copies", inputs,
                         [h.make_tensor_value_info(n, T.FLOAT, s) for n, s in shapes.items()],
                         [numpy_helper.from_array(a, n) for n, a in weights.items()])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


def float_initializers(graph):
    """Every float initializer of `graph` and its subgraphs, as arrays."""
    found = [numpy_helper.to_array(t) for t in graph.initializer]
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                found += float_initializers(attribute.g)
    return [a for a in found if a.dtype.kind == "f"]


def by_values(graph):
    """Float initializers keyed by their multiset of values (copies share a key)."""
    sets = defaultdict(list)
    for array in float_initializers(graph):
        bits = np.sort(array.astype(np.float64).view(np.uint64), axis=None)
        sets[hashlib.sha256(bits.tobytes()).hexdigest()].append(array)
    return sets


@pytest.fixture
def dedup(pith, tmp_path):
    """Saves make_model(with_if), runs the pass; returns (original, deduped) paths."""

    def run(with_if):
        original, deduped = tmp_path / "copies.onnx", tmp_path / "copies.dedup.onnx"
        onnx.save(make_model(with_if), original)
        result = pith.pith("optimize", original, "-o", deduped,
                           "--pipeline", "pith-dedup-weights")
        assert result.returncode == 0, result.stderr
        return original, deduped

    return run


def test_one_initializer_per_set_of_copies(dedup):
    original, deduped = dedup(with_if=True)
    model = onnx.load(deduped)
    onnx.checker.check_model(model, full_check=True)
    before, after = by_values(onnx.load(original).graph), by_values(model.graph)
    # {w and its 5 copies}, {h16, h32}, {b}
    assert sorted(len(s) for s in before.values()) == [1, 2, 6]
    assert after.keys() == before.keys()
    assert all(len(s) == 1 for s in after.values()), {k: len(s) for k, s in after.items()}
    # The f16 weight is kept, its f32 copy is the one dropped.
    assert sorted(s[0].dtype.name for s in after.values()) == ["float16", "float32", "float32"]
    assert sum(a.nbytes for a in float_initializers(model.graph)) == W.nbytes + H16.nbytes + B.nbytes


def test_onnxruntime_outputs_unchanged(dedup):
    original, deduped = dedup(with_if=True)
    feeds = {"x": RNG.standard_normal((3, 6)).astype(np.float32),
             "z": RNG.standard_normal((3, 4)).astype(np.float32)}
    for cond in (True, False):
        feeds["cond"] = np.array(cond)
        want, got = run_model(original, feeds), run_model(deduped, feeds)
        assert list(got) == list(want)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-6, atol=1e-6,
                                       err_msg=f"{name}, cond={cond}")


def test_compiled_outputs_bit_identical(pith, dedup):
    original, deduped = dedup(with_if=False)
    feeds = {"x": RNG.standard_normal((3, 6)).astype(np.float32),
             "z": RNG.standard_normal((3, 4)).astype(np.float32)}
    outputs = []
    for path in (original, deduped):
        library = path.with_suffix(".so")
        result = pith.pith("compile", path, "-o", library)
        assert result.returncode == 0, result.stderr
        compiled = CompiledModel(library)
        outputs.append(dict(zip(compiled.output_names, compiled.run(feeds))))
    assert_bitwise_equal(*outputs)

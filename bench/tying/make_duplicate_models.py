#!/usr/bin/env python3
"""Builds the models of the weight-deduplication benchmark
(dedup_benchmark.py, pass `pith-dedup-weights`) into bench/out/tying/, each
with an input file `<model>.inputs.npz` (arrays named after the model's
inputs, usable as `pith optimize --calibration`):

  lm_shipped.onnx   the tiny LM exactly as bench/corpus rebuilds it. The
                    exporter folded Transpose(embed.weight) into a separate
                    output matrix, and packing rounded embed.weight to int8
                    but not that matrix: they differ by up to ~5e-4, so this
                    near-copy must NOT be merged (a control).
  lm_tied.onnx      the LM tied as trained: the output projection reads
                    Transpose(embed.weight); nothing to deduplicate.
  lm_untied.onnx    lm_tied with a real untied copy: an initializer
                    lm_head.weight = embed.weight^T [256, 115] feeds the final
                    MatMul (checked bit-identical to lm_tied with onnxruntime).
  duplicates.onnx   generated, with large (2-4 MiB) copies of two weights:
                    transposed, reshaped, identical, and an f32 copy of an f16
                    weight, so that the saving shows in resident memory.
  duplicates_if.onnx  duplicates.onnx plus an If whose branches hold their
                    own copies of a main-graph weight. Pith cannot compile If
                    (docs/codegen-support.md), hence the separate model: the
                    benchmark checks this one with onnxruntime only.

The bytes a lossless deduplication should remove are computed here from the
tensors' values alone (duplicate_groups), independently of Pith; the
benchmark and this script print them.

Usage: .venv/bin/python bench/tying/make_duplicate_models.py
"""

import copy
import hashlib
import itertools
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "bench" / "out" / "tying"
sys.path.insert(0, str(REPO / "bench" / "corpus"))
import common  # noqa: E402  (the tiny LM and its calibration windows)

MODELS = ["lm_shipped", "lm_tied", "lm_untied", "duplicates", "duplicates_if"]
LM_WINDOWS = 4  # calibration windows of 128 tokens fed to the LM models
BATCH, WIDTH = 8, 1024  # duplicates*.onnx: x [BATCH, WIDTH], weights [WIDTH, WIDTH]


def model_path(name):
    return OUT / f"{name}.onnx"


def inputs_path(name):
    return OUT / f"{name}.inputs.npz"


# --- Finding duplicates independently of Pith -------------------------------

def initializers(graph, scope="main"):
    """(where/name, array) of every initializer of `graph` and, recursively,
    of its subgraphs."""
    for tensor in graph.initializer:
        yield f"{scope}/{tensor.name}", numpy_helper.to_array(tensor)
    for node in graph.node:
        for attribute in node.attribute:
            subgraphs = [attribute.g] if attribute.type == onnx.AttributeProto.GRAPH else (
                attribute.graphs if attribute.type == onnx.AttributeProto.GRAPHS else [])
            for subgraph in subgraphs:
                yield from initializers(subgraph, f"{scope}/{node.name}.{attribute.name}")


def _bits(array):
    """The values as float64 bit patterns (exact for every float type, -0.0 and NaN included)."""
    return array.astype(np.float64).view(np.uint64)


def same_values(a, b):
    """Whether b holds exactly a's values up to a permutation of a's axes, a
    reshape and a lossless cast between float types."""
    if a.size != b.size:
        return False
    wide, target = _bits(a), _bits(b).ravel()
    return any(np.array_equal(wide.transpose(p).ravel(), target)
               for p in itertools.permutations(range(a.ndim)))


def duplicate_groups(model):
    """Sets (two or more) of float initializers that are lossless copies of
    each other, as lists of (where/name, array)."""
    by_values = defaultdict(list)  # candidates: the same multiset of values
    for name, array in initializers(model.graph):
        if array.dtype.kind == "f":
            key = hashlib.sha256(np.sort(_bits(array), axis=None).tobytes()).digest()
            by_values[key].append((name, array))
    groups = []
    for candidates in by_values.values():
        classes = []
        for name, array in candidates:
            match = next((c for c in classes if same_values(c[0][1], array)), None)
            if match:
                match.append((name, array))
            else:
                classes.append([(name, array)])
        groups += [c for c in classes if len(c) > 1]
    return groups


def duplicated_bytes(groups):
    """What an ideal deduplication removes: every copy of each set but its
    narrowest (an f16 original stays; its f32 copy goes)."""
    return sum(sum(a.nbytes for _, a in group) - min(a.nbytes for _, a in group)
               for group in groups)


def describe_duplicates(model):
    groups = duplicate_groups(model)
    lines = [", ".join(f"{name} {a.dtype}{list(a.shape)}" for name, a in group)
             for group in groups]
    return duplicated_bytes(groups), lines


# --- The tiny LM, tied and untied -------------------------------------------

def ort_outputs(model, feeds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def lm_models():
    """{name: model} of the LM variants, and their input feeds."""
    shipped = onnx.load(common.ensure_lm_model())
    initializers = {t.name: t for t in shipped.graph.initializer}
    embed = numpy_helper.to_array(initializers["embed.weight"])
    # The output projection: the one MatMul whose right operand is a weight.
    (head_index, head), = [(i, n) for i, n in enumerate(shipped.graph.node)
                           if n.op_type == "MatMul" and n.input[1] in initializers]
    folded = numpy_helper.to_array(initializers[head.input[1]])
    assert folded.shape == embed.T.shape, folded.shape

    def without_head_matrix():
        model = copy.deepcopy(shipped)
        kept = [t for t in model.graph.initializer if t.name != head.input[1]]
        del model.graph.initializer[:]
        model.graph.initializer.extend(kept)
        return model, model.graph.node[head_index]

    tied, tied_head = without_head_matrix()
    tied_head.input[1] = "lm_head.transposed"
    tied.graph.node.insert(head_index, h.make_node(
        "Transpose", ["embed.weight"], ["lm_head.transposed"], name="lm_head_transpose",
        perm=[1, 0]))

    untied, untied_head = without_head_matrix()
    untied.graph.initializer.append(
        numpy_helper.from_array(np.ascontiguousarray(embed.T), "lm_head.weight"))
    untied_head.input[1] = "lm_head.weight"

    feeds = {"tokens": common.load_tokens(common.LM_CALIBRATION)[:LM_WINDOWS]}
    want, got, before = (ort_outputs(m, feeds)[0] for m in (tied, untied, shipped))
    if not np.array_equal(want, got):
        raise SystemExit("error: lm_untied's logits differ from lm_tied's under onnxruntime")
    print(f"lm_untied = lm_tied bit for bit under onnxruntime; both differ from lm_shipped "
          f"by at most {np.abs(want - before).max():.2e} in the logits (int8-rounded "
          f"embed.weight vs the unrounded folded copy {head.input[1]!r}, which differ by "
          f"at most {np.abs(folded - embed.T).max():.2e})")
    models = {"lm_shipped": shipped, "lm_tied": tied, "lm_untied": untied}
    return models, feeds


# --- The generated model with large duplicates ------------------------------

def duplicates_models():
    """{name: model} of duplicates and duplicates_if, and their feeds."""
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
    h16 = (rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float16)
    weights = {
        "w": w,
        "w_transposed": np.ascontiguousarray(w.T),   # x @ w^T
        "w_reshaped": w.reshape(WIDTH, 32, 32),       # read through a Reshape
        "w_copy": w.copy(),
        "h16": h16,                                   # read through a Cast to f32
        "h32": h16.astype(np.float32),                # lossless copy of h16
        "w_shape": np.array([WIDTH, WIDTH], np.int64),
    }
    nodes = [h.make_node("Reshape", ["w_reshaped", "w_shape"], ["w_reshaped_2d"]),
             h.make_node("Cast", ["h16"], ["h16_f32"], to=T.FLOAT)]
    for output, weight in [("y_w", "w"), ("y_transposed", "w_transposed"),
                           ("y_reshaped", "w_reshaped_2d"), ("y_copy", "w_copy"),
                           ("y_h16", "h16_f32"), ("y_h32", "h32")]:
        nodes.append(h.make_node("MatMul", ["x", weight], [output], name=f"matmul_{output}"))
    outputs = [h.make_tensor_value_info(n.output[0], T.FLOAT, [BATCH, WIDTH])
               for n in nodes if n.op_type == "MatMul"]
    initializers = [numpy_helper.from_array(a, n) for n, a in weights.items()]
    x = h.make_tensor_value_info("x", T.FLOAT, [BATCH, WIDTH])
    flat = h.make_graph(nodes, "duplicates", [x], outputs, initializers)

    def branch(name, copy_of_w):
        """A subgraph computing x @ (its own initializer `name`)."""
        out = f"{name}_y"
        return h.make_graph([h.make_node("MatMul", ["x", name], [out], name=f"matmul_{name}")],
                            name, [], [h.make_tensor_value_info(out, T.FLOAT, [BATCH, WIDTH])],
                            [numpy_helper.from_array(copy_of_w, name)])

    with_if = copy.deepcopy(flat)
    with_if.name = "duplicates_if"
    with_if.input.append(h.make_tensor_value_info("cond", T.BOOL, []))
    with_if.node.append(h.make_node(
        "If", ["cond"], ["y_if"], name="branch_on_cond",
        then_branch=branch("w_then", w.copy()),
        else_branch=branch("w_else", np.ascontiguousarray(w.T))))
    with_if.output.append(h.make_tensor_value_info("y_if", T.FLOAT, [BATCH, WIDTH]))

    x_value = rng.standard_normal((BATCH, WIDTH)).astype(np.float32)
    models = {name: h.make_model(graph, opset_imports=[h.make_opsetid("", 17)],
                                 producer_name="bench/tying/make_duplicate_models.py")
              for name, graph in (("duplicates", flat), ("duplicates_if", with_if))}
    feeds = {"duplicates": {"x": x_value},
             "duplicates_if": {"x": x_value, "cond": np.array(True)}}
    return models, feeds


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    lm, lm_feeds = lm_models()
    generated, generated_feeds = duplicates_models()
    models = {**lm, **generated}
    feeds = {**{name: lm_feeds for name in lm}, **generated_feeds}
    for name in MODELS:
        onnx.checker.check_model(models[name], full_check=True)
        onnx.save(models[name], model_path(name))
        np.savez(inputs_path(name), **feeds[name])
        removable, groups = describe_duplicates(models[name])
        print(f"wrote {model_path(name).relative_to(REPO)} "
              f"({model_path(name).stat().st_size:,} bytes) and {inputs_path(name).name}; "
              f"duplicated bytes: {removable:,}")
        for group in groups:
            print(f"  copies: {group}")


if __name__ == "__main__":
    main()

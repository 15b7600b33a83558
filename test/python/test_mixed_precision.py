"""pith-mixed-precision end to end: the exported model passes onnx.checker and
runs in onnxruntime (fp16; onnxruntime's CPU provider has no bf16 kernels for
most operators, so bf16 models run in Pith), with the failure classes that
break other converters: Resize/Range/ConstantOfShape inputs, Cast chains,
graph output types, initializers inside If and Loop bodies. Converted weights
are bit-exact numpy roundings and take exactly half the bytes."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

from conftest import run_model

PIPELINE = "pith-mixed-precision{{precision={precision} keep-io-types={keep}}}"


def const(name, value, dtype=np.float32):
    return nh.from_array(np.asarray(value, dtype), name)


def branch(name, weight_name):
    """A subgraph holding its own initializer: y = x . W."""
    weight = const(weight_name, np.full((4, 4), 0.25))
    return h.make_graph([h.make_node("MatMul", ["hidden", weight_name], [f"{name}_out"])],
                        name, [], [h.make_tensor_value_info(f"{name}_out", T.FLOAT, [2, 4])],
                        [weight])


def hard_model(subgraphs=True):
    """Every construct converters get wrong, around two MatMuls that do
    convert. Pith's code generation does not take If and Loop yet: without
    `subgraphs` the model runs in Pith (and can be calibrated)."""
    rng = np.random.default_rng(0)
    loop_body = h.make_graph(
        [h.make_node("MatMul", ["carried", "loop_w"], ["product"]),
         h.make_node("Identity", ["cond_in"], ["cond_out"])],
        "loop_body",
        [h.make_tensor_value_info("i", T.INT64, []), h.make_tensor_value_info("cond_in", T.BOOL, []),
         h.make_tensor_value_info("carried", T.FLOAT, [2, 4])],
        [h.make_tensor_value_info("cond_out", T.BOOL, []),
         h.make_tensor_value_info("product", T.FLOAT, [2, 4])],
        [const("loop_w", np.eye(4) * 0.5)])
    nodes = [
        h.make_node("MatMul", ["x", "w1"], ["hidden"], name="mm1"),
        h.make_node("Relu", ["hidden"], ["relu"], name="relu"),
        # Resize: its scales are float32 by the schema, whatever T is.
        h.make_node("Reshape", ["relu", "shape4d"], ["image"], name="to_image"),
        h.make_node("Resize", ["image", "", "scales"], ["resized"], name="resize", mode="nearest"),
        h.make_node("ReduceMean", ["resized"], ["pooled"], name="pool", axes=[2, 3], keepdims=0),
        # Range and ConstantOfShape: float values computed from the shape.
        h.make_node("Shape", ["x"], ["x_shape"], name="shape"),
        h.make_node("Gather", ["x_shape", "one"], ["width"], name="width"),
        h.make_node("Cast", ["width"], ["width_f"], name="width_float", to=T.FLOAT),
        h.make_node("Range", ["zero_f", "width_f", "one_f"], ["positions"], name="range"),
        h.make_node("Unsqueeze", ["width", "axis0"], ["width_1d"], name="width_1d"),
        h.make_node("ConstantOfShape", ["width_1d"], ["ones"], name="ones",
                    value=h.make_tensor("v", T.FLOAT, [1], [1.0])),
        h.make_node("Add", ["positions", "ones"], ["offsets"], name="offsets"),
        # A Cast chain already in the model.
        h.make_node("Cast", ["x"], ["x16"], name="to_half", to=T.FLOAT16),
        h.make_node("Cast", ["x16"], ["x32"], name="back_to_float", to=T.FLOAT),
        h.make_node("MatMul", ["x32", "w2"], ["m2"], name="mm2"),
        h.make_node("Add", ["m2", "offsets"], ["m2_offset"], name="add_offsets"),
    ]
    if subgraphs:  # with their own initializers
        nodes += [
            h.make_node("If", ["flag"], ["chosen"], name="if", then_branch=branch("then", "then_w"),
                        else_branch=branch("else", "else_w")),
            h.make_node("Loop", ["trips", "", "hidden"], ["looped"], name="loop", body=loop_body),
            h.make_node("Add", ["chosen", "looped"], ["sub"], name="combine"),
            h.make_node("Add", ["sub", "m2_offset"], ["y"], name="y")]
    else:
        nodes.append(h.make_node("Add", ["hidden", "m2_offset"], ["y"], name="y"))
    inputs = [h.make_tensor_value_info("x", T.FLOAT, [2, 4])]
    if subgraphs:
        inputs.append(h.make_tensor_value_info("flag", T.BOOL, []))
    graph = h.make_graph(
        nodes, "hard", inputs,
        [h.make_tensor_value_info("y", T.FLOAT, [2, 4]),
         h.make_tensor_value_info("pooled", T.FLOAT, [1, 2])],
        [const("w1", rng.standard_normal((4, 4))), const("w2", rng.standard_normal((4, 4))),
         const("shape4d", [1, 2, 2, 2], np.int64), const("scales", [1, 1, 2, 2]),
         const("one", 1, np.int64), const("axis0", [0], np.int64), const("zero_f", 0.0),
         const("one_f", 1.0), const("trips", 2, np.int64)])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    return model


@pytest.fixture
def hard(tmp_path):
    path = tmp_path / "hard.onnx"
    onnx.save(hard_model(), path)
    return path


@pytest.fixture
def flat(tmp_path):
    """hard_model without If and Loop, with calibration inputs."""
    path = tmp_path / "flat.onnx"
    onnx.save(hard_model(subgraphs=False), path)
    calibration = tmp_path / "calibration.npz"
    np.savez(calibration, x=np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32))
    return path, calibration


def convert(pith, path, out, precision="fp16", keep="true", calibration=None):
    args = ["optimize", path, "-o", out, "--pipeline",
            PIPELINE.format(precision=precision, keep=keep)]
    if calibration:
        args += ["--calibration", calibration]
    result = pith.pith(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def feeds(dtype=np.float32, subgraphs=True):
    values = {"x": np.random.default_rng(2).standard_normal((2, 4)).astype(dtype)}
    if subgraphs:
        values["flag"] = np.array(False)
    return values


def run_in_pith(pith, model, inputs, directory):
    args = []
    for name, value in inputs.items():
        np.save(directory / f"{name}.npy", value)
        args += ["--input", f"{name}={directory / (name + '.npy')}"]
    result = pith.pith("run", model, *args, "--output-dir", directory)
    assert result.returncode == 0, result.stderr
    return {name: np.load(directory / f"{name}.npy") for name in ("y", "pooled")}


@pytest.mark.parametrize("keep", ["true", "false"])
def test_exported_fp16_model_is_valid_and_runs_in_onnxruntime(pith, hard, tmp_path, keep):
    path = hard
    out = tmp_path / "fp16.onnx"
    report = convert(pith, path, out, keep=keep)
    assert "ops in fp16 (" in report and "MatMul 2" in report
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    # Graph output types: float32 with keep-io-types, float16 without.
    want = T.FLOAT if keep == "true" else T.FLOAT16
    assert [o.type.tensor_type.elem_type for o in model.graph.output] == [want, want]
    assert [o.name for o in model.graph.output] == ["y", "pooled"]
    # Subgraph initializers stay float32 (their ops are not converted).
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                for init in attribute.g.initializer:
                    assert init.data_type == T.FLOAT, (node.name, init.name)
    # Resize's scales, Range's and ConstantOfShape's values stay float32.
    inits = {i.name: i for i in model.graph.initializer}
    assert inits["scales"].data_type == T.FLOAT
    assert inits["zero_f"].data_type == T.FLOAT and inits["one_f"].data_type == T.FLOAT
    assert inits["w1"].data_type == T.FLOAT16 and inits["w2"].data_type == T.FLOAT16
    # No cast of a cast that Pith inserted.
    producers = {o: n for n in model.graph.node for o in n.output}
    for node in model.graph.node:
        if node.op_type == "Cast" and node.input[0] in producers:
            source = producers[node.input[0]]
            assert not (source.op_type == "Cast" and source.name.endswith(("_to_fp16", "_to_fp32"))), node.name
    dtype = np.float32 if keep == "true" else np.float16
    expected = run_model(path, feeds())
    got = run_model(out, feeds(dtype))
    for name in expected:
        assert got[name].dtype == dtype
        np.testing.assert_allclose(got[name].astype(np.float32), expected[name],
                                   rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("precision,tolerance", [("fp16", 1e-2), ("bf16", 5e-2)])
def test_converted_model_is_valid_and_runs_in_pith(pith, flat, tmp_path, precision, tolerance):
    """Range-checked on calibration inputs, valid ONNX, and Pith's outputs
    close to the model's own in onnxruntime (fp16; its CPU provider cannot
    run bf16, so bf16 is compared with the float32 original)."""
    path, calibration = flat
    out = tmp_path / f"{precision}.onnx"
    report = convert(pith, path, out, precision=precision, calibration=calibration)
    assert "range check on 2 calibration samples" in report
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    low = T.FLOAT16 if precision == "fp16" else T.BFLOAT16
    assert {i.name: i.data_type for i in model.graph.initializer}["w1"] == low
    inputs = feeds(subgraphs=False)
    expected = run_model(out if precision == "fp16" else path, inputs)
    got = run_in_pith(pith, out, inputs, tmp_path)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=tolerance, atol=tolerance)


def test_calibrating_a_model_pith_cannot_compile_names_the_node(pith, hard, tmp_path):
    calibration = tmp_path / "calibration.npz"
    np.savez(calibration, x=np.ones((2, 4), np.float32), flag=np.array(True))
    result = pith.pith("optimize", hard, "-o", tmp_path / "out.onnx", "--pipeline",
                       PIPELINE.format(precision="fp16", keep="true"),
                       "--calibration", calibration)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("pith: error: "), result.stderr
    for needle in ("pith-mixed-precision", "node 'if'", "not supported by code generation"):
        assert needle in errors[0]
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_weights_are_rounded_like_numpy_and_take_half_the_bytes(pith, tmp_path, precision):
    rng = np.random.default_rng(3)
    # Values that exercise rounding: ties, subnormals of fp16, large values.
    w = np.concatenate([rng.standard_normal(4091) * 10.0 ** rng.integers(-6, 4, 4091),
                        np.array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -20, 30000.0, -1e-3])])
    w = w.astype(np.float32).reshape(64, 64)
    graph = h.make_graph([h.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                         [h.make_tensor_value_info("x", T.FLOAT, [2, 64])],
                         [h.make_tensor_value_info("y", T.FLOAT, [2, 64])], [const("w", w)])
    path, out = tmp_path / "in.onnx", tmp_path / "out.onnx"
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), path)
    report = convert(pith, path, out, precision=precision)
    converted = onnx.load(out).graph.initializer[0]
    if precision == "fp16":
        # Half the bytes unless the range check keeps it (it must not here).
        assert converted.data_type == T.FLOAT16, report
        np.testing.assert_array_equal(nh.to_array(converted), w.astype(np.float16))
    else:
        ml_dtypes = pytest.importorskip("ml_dtypes")
        assert converted.data_type == T.BFLOAT16, report
        np.testing.assert_array_equal(nh.to_array(converted).astype(np.float32),
                                      w.astype(ml_dtypes.bfloat16).astype(np.float32))
    assert len(converted.raw_data) == w.nbytes // 2
    assert "weights: 1 converted, 16.4 kB -> 8.2 kB" in report


@pytest.mark.parametrize("precision", ["fp16", "bf16", "fp32"])
@pytest.mark.parametrize("transposed", [False, True])
def test_matmul_kernels_sum_in_f32(pith_package, tmp_path, precision, transposed):
    """The few-rows kernel (up to 8 rows, every format) and the library
    path (more), with K and N off every vector and unroll multiple, against
    the exact product of the rounded operands: only the f32 sum's rounding
    and the result's rounding to the low type may differ."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    low = {"fp16": np.float16, "bf16": ml_dtypes.bfloat16, "fp32": np.float32}[precision]
    rng = np.random.default_rng(4)
    k, n = 203, 77
    w = rng.standard_normal((n, k) if transposed else (k, n)).astype(np.float32)
    node = (h.make_node("Gemm", ["x", "w"], ["y"], transB=1) if transposed
            else h.make_node("MatMul", ["x", "w"], ["y"]))
    graph = h.make_graph([node], "g", [h.make_tensor_value_info("x", T.FLOAT, ["rows", k])],
                         [h.make_tensor_value_info("y", T.FLOAT, ["rows", n])], [const("w", w)])
    path = tmp_path / "layer.onnx"
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), path)
    model = pith_package.load(path)
    if precision != "fp32":
        model.optimize("pith-mixed-precision", precision=precision)
    compiled = model.compile()
    wq = w.astype(low).astype(np.float64)
    for rows in (1, 3, 8, 9, 40):
        x = rng.standard_normal((rows, k)).astype(low)
        exact = x.astype(np.float64) @ (wq.T if transposed else wq)
        got = np.asarray(compiled(x)[0], np.float64)
        unit = {"fp16": 2.0 ** -11, "bf16": 2.0 ** -8, "fp32": 2.0 ** -20}[precision]
        assert np.abs(got - exact).max() <= 2 * unit * np.abs(exact).max(), rows

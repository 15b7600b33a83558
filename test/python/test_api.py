"""The Python package `pith` (python/pith over include/pith/API): loading,
optimizing with the CLI's pass names, reports, export, compile and run
against onnxruntime, concurrent runs, and every kind of bad input raising
PithError with Pith's message."""

import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import REPO


@pytest.fixture(scope="module")
def pith(pith_package):
    return pith_package



def mlp(path, rows=8, k=64, dynamic_batch=False):
    """x [rows, k] -> MatMul w1 -> Relu -> MatMul w2 (a copy of w1) -> MatMul w3
    (rank 4 plus small noise) + b: dedup finds w2, low-rank factors w3."""
    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(k, k)).astype(np.float32) / 8
    w3 = (rng.normal(size=(k, 4)) @ rng.normal(size=(4, k)) / 8
          + rng.normal(size=(k, k)) * 1e-4).astype(np.float32)
    b = rng.normal(size=k).astype(np.float32)
    batch = "batch" if dynamic_batch else rows
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h1"], name="first"),
         helper.make_node("Relu", ["h1"], ["r1"], name="relu"),
         helper.make_node("MatMul", ["r1", "w2"], ["h2"], name="second"),
         helper.make_node("MatMul", ["h2", "w3"], ["h3"], name="third"),
         helper.make_node("Add", ["h3", "b"], ["y"], name="bias")],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, k])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w1.copy(), "w2"),
         numpy_helper.from_array(w3, "w3"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
    return path


def ort_run(model_bytes, x):
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def relative(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def test_version_and_exports(pith):
    assert pith.API_VERSION == 1
    assert issubclass(pith.PithError, RuntimeError)


def test_load_path_and_bytes_describe_the_graph(pith, tmp_path):
    path = mlp(tmp_path / "mlp.onnx")
    from_path = pith.load(path)
    from_bytes = pith.load(path.read_bytes(), name="mlp in memory")
    for model in (from_path, from_bytes):
        assert model.inputs == [{"name": "x", "dtype": "float32", "shape": [8, 64]}]
        assert model.outputs == [{"name": "y", "dtype": "float32", "shape": [8, 64]}]


def test_optimize_report_save_compile_run_matches_onnxruntime(pith, tmp_path):
    path = mlp(tmp_path / "mlp.onnx")
    model = pith.load(path)
    before = model.report()["cost"]["parameters"]
    assert model.optimize("pith-dedup-weights,pith-low-rank{rank=4 min-size=0 layers=w3}") is model
    report = model.report()
    assert [p["pass"] for p in report["passes"]] == ["pith-dedup-weights", "pith-low-rank"]
    assert report["passes"][1]["layers_factored"] == 1
    # w2 (4096) is gone; w3 (4096) became 64x4 + 4x64 (512).
    assert report["cost"]["parameters"] == before - 4096 - 4096 + 512
    out = tmp_path / "small.onnx"
    model.save(out)
    onnx.checker.check_model(onnx.load(out), full_check=True)
    assert model.to_bytes() == out.read_bytes()

    x = np.random.default_rng(1).normal(size=(8, 64)).astype(np.float32)
    compiled = model.compile()
    (y,) = compiled(x)
    assert y.dtype == np.float32 and y.shape == (8, 64)
    assert relative(y, ort_run(out.read_bytes(), x)) < 1e-4
    # Outputs own their memory: a later run does not change an earlier result.
    kept = y.copy()
    compiled(x * 2)
    np.testing.assert_array_equal(y, kept)
    assert y.flags.writeable
    # By name, and a non-contiguous input (copied, same result).
    (by_name,) = compiled(x=x)
    np.testing.assert_array_equal(by_name, y)
    wide = np.zeros((8, 128), np.float32)
    wide[:, ::2] = x
    (strided,) = compiled(wide[:, ::2])
    np.testing.assert_array_equal(strided, y)


def test_failed_optimize_leaves_the_model_unchanged(pith, tmp_path):
    model = pith.load(mlp(tmp_path / "mlp.onnx"))
    original = model.to_bytes()
    with pytest.raises(pith.PithError, match="layers: no MatMul, Gemm or Conv weight 'nothing'"):
        model.optimize("pith-dedup-weights,pith-low-rank{rank=2 layers=nothing}")
    assert model.to_bytes() == original
    assert model.report()["passes"] == []


def test_calibration_from_arrays(pith, tmp_path):
    model = pith.load(mlp(tmp_path / "mlp.onnx"))
    x = np.random.default_rng(2).normal(size=(8, 64)).astype(np.float32)
    model.optimize("pith-low-rank{rank=4 min-size=0 layers=w3 activation-aware=true}",
                   calibration={"x": x})
    lines = model.report()["passes"][0]["lines"]
    assert "activation-aware SVD" in lines[0]
    assert "on calibration activations" in lines[-1]


def test_symbolic_batch_runs_at_any_size_or_fixed(pith, tmp_path):
    model = pith.load(mlp(tmp_path / "dyn.onnx", dynamic_batch=True))
    assert model.inputs[0]["shape"] == [-1, 64]
    compiled = model.compile()
    for rows in (1, 5):
        x = np.ones((rows, 64), np.float32)
        (y,) = compiled(x)
        assert y.shape == (rows, 64)
    fixed = model.compile(input_shapes={"x": [3, 64]})
    assert fixed.inputs[0]["shape"] == [3, 64]
    assert fixed.peak_intermediate_bytes > 0


def test_two_threads_run_one_compiled_model(pith, tmp_path):
    path = mlp(tmp_path / "mlp.onnx")
    compiled = pith.load(path).compile()
    rng = np.random.default_rng(3)
    inputs = [rng.normal(size=(8, 64)).astype(np.float32) for _ in range(2)]
    expected = [compiled(x)[0] for x in inputs]
    failures = []

    def worker(index):
        try:
            for _ in range(200):
                (y,) = compiled(inputs[index])
                if not np.array_equal(y, expected[index]):
                    failures.append(f"thread {index}: wrong result")
                    return
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert relative(expected[0], ort_run(path.read_bytes(), inputs[0])) < 1e-4


@pytest.mark.parametrize("call, message", [
    (lambda c: c(np.ones((8, 64), np.float64)), "input 'x' must be float32, got float64"),
    (lambda c: c(np.ones((8, 63), np.float32)), r"input 'x' must have shape \[8,64\], got \[8,63\]"),
    (lambda c: c(), "the model takes 1 inputs, got 0"),
    (lambda c: c(z=np.ones((8, 64), np.float32)), "the model has no input 'z'"),
    (lambda c: c(np.ones((8, 64), np.complex64)), "input 'x' has an element type Pith does not run"),
])
def test_bad_run_inputs(pith, tmp_path, call, message):
    compiled = pith.load(mlp(tmp_path / "mlp.onnx")).compile()
    with pytest.raises(pith.PithError, match=message):
        call(compiled)


@pytest.mark.parametrize("pipeline, message", [
    ("pith-no-such-pass", "pipeline 'pith-no-such-pass': .*pith-no-such-pass"),
    ("pith-low-rank{no-such-option=1}", "pipeline 'pith-low-rank{no-such-option=1}': .*no-such-option"),
    ("pith-low-rank{rank=2 energy=0.5}", "set exactly one of energy, rank, max-rel-error, target-params"),
])
def test_bad_pipelines(pith, tmp_path, pipeline, message):
    model = pith.load(mlp(tmp_path / "mlp.onnx"))
    with pytest.raises(pith.PithError, match=message):
        model.optimize(pipeline)


def test_bad_paths_bytes_targets_and_closed_handles(pith, tmp_path):
    with pytest.raises(pith.PithError, match="no-such.onnx"):
        pith.load(tmp_path / "no-such.onnx")
    with pytest.raises(pith.PithError, match="junk bytes"):
        pith.load(b"\x00junk", name="junk bytes")
    model = pith.load(mlp(tmp_path / "mlp.onnx"))
    with pytest.raises(pith.PithError, match="unknown target 'gpu'"):
        model.compile("gpu")
    with pytest.raises(pith.PithError, match="calibration"):
        model.optimize("pith-low-rank{rank=2 min-size=0}", calibration=tmp_path / "missing.npz")
    with pytest.raises(pith.PithError):
        model.save(tmp_path / "no-such-dir" / "out.onnx")
    compiled = model.compile()
    compiled.close()
    with pytest.raises(pith.PithError, match="the compiled model is closed"):
        compiled(np.ones((8, 64), np.float32))
    with model:
        pass
    with pytest.raises(pith.PithError, match="the model is closed"):
        model.report()


def test_one_pass_with_typed_options(pith, tmp_path):
    path = mlp(tmp_path / "mlp.onnx")
    typed = pith.load(path).optimize("pith-low-rank", rank=4, min_size=0, layers=["w3"])
    text = pith.load(path).optimize("pith-low-rank{rank=4 min-size=0 layers=w3}")
    assert typed.report()["passes"] == text.report()["passes"]
    assert typed.to_bytes() == text.to_bytes()
    energy = pith.load(path).optimize("pith-low-rank", energy=np.float64(0.99), min_size=0)
    assert "energy kept" in energy.report()["passes"][0]["lines"][-1]
    model = pith.load(path)
    with pytest.raises(pith.PithError, match="no-such-option"):
        model.optimize("pith-low-rank", no_such_option=1)
    with pytest.raises(pith.PithError, match="rank"):
        model.optimize("pith-low-rank", rank="many")
    with pytest.raises(pith.PithError, match="is a pipeline, not a pass name"):
        model.optimize("pith-dedup-weights,pith-low-rank", rank=2)
    with pytest.raises(pith.PithError, match="a pass option cannot be dict"):
        model.optimize("pith-low-rank", rank={})


def test_two_threads_run_one_compiled_convolution_model(pith):
    """Convolutions and matmuls take their oneDNN scratchpad per thread: a
    shared one gave wrong results under concurrent runs."""
    compiled = pith.load(REPO / "examples" / "tiny_cnn.onnx").compile()
    rng = np.random.default_rng(4)
    inputs = [rng.normal(size=(4, 1, 28, 28)).astype(np.float32) for _ in range(2)]
    expected = [compiled(x)[0] for x in inputs]
    wrong = []

    def worker(index):
        for _ in range(300):
            if not np.array_equal(compiled(inputs[index])[0], expected[index]):
                wrong.append(index)
                return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []

"""Models whose initializers live in external-data files.

Import reads the data next to the model (and nowhere else); export writes it
inline or into a file of its own. Broken references fail with one line that
names the tensor.
"""

import os
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import assert_bitwise_equal, random_inputs, run_model

WEIGHT = np.arange(600, dtype=np.float32).reshape(20, 30) / 100
BIAS = np.linspace(-1, 1, 30, dtype=np.float32)


def linear_model():
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "weight"], ["mm"], name="matmul"),
         helper.make_node("Add", ["mm", "bias"], ["y"], name="add")],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 20])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 30])],
        [numpy_helper.from_array(WEIGHT, "weight"), numpy_helper.from_array(BIAS, "bias")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.fixture
def external_model(tmp_path):
    """linear_model saved with both initializers in weights.bin."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    onnx.save_model(linear_model(), model_dir / "model.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    assert (model_dir / "weights.bin").exists()
    return model_dir / "model.onnx"


def external_entries(model, name):
    tensor = next(t for t in model.graph.initializer if t.name == name)
    return tensor.data_location, {e.key: e.value for e in tensor.external_data}


def with_weight_entries(source, target, **entries):
    """Copies the model at `source` to `target`, changing the weight's
    external-data entries (location, offset, length)."""
    model = onnx.load(source, load_external_data=False)
    tensor = next(t for t in model.graph.initializer if t.name == "weight")
    for entry in tensor.external_data:
        if entry.key in entries:
            entry.value = str(entries.pop(entry.key))
    for key, value in entries.items():
        tensor.external_data.add(key=key, value=str(value))
    onnx.save_model(model, target)
    return target


def import_to_mlir(pith, path):
    out = path.with_suffix(".mlirbc")
    result = pith.translate("--import-onnx", path, "-o", out, "--emit-bytecode")
    return result, out


def test_export_inline_computes_identically(pith, external_model, tmp_path):
    """External data in, everything inline out."""
    result, mlir = import_to_mlir(pith, external_model)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "inline.onnx"
    result = pith.translate("--export-onnx", mlir, "-o", out)
    assert result.returncode == 0, result.stderr

    exported = onnx.load(out, load_external_data=False)
    assert all(t.data_location == TensorProto.DEFAULT for t in exported.graph.initializer)
    onnx.checker.check_model(exported, full_check=True)
    feeds = random_inputs(exported)
    assert_bitwise_equal(run_model(external_model, feeds), run_model(out, feeds))


def test_export_external_data_computes_identically(pith, external_model, tmp_path):
    """--external-data moves initializers of at least the threshold (1024
    bytes by default) to a file next to the exported model."""
    result, mlir = import_to_mlir(pith, external_model)
    assert result.returncode == 0, result.stderr
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "exported.onnx"
    result = pith.translate("--export-onnx", mlir, "-o", out, "--external-data=out.bin")
    assert result.returncode == 0, result.stderr

    exported = onnx.load(out, load_external_data=False)
    location, entries = external_entries(exported, "weight")
    assert location == TensorProto.EXTERNAL
    assert entries["location"] == "out.bin"
    assert int(entries["length"]) == WEIGHT.nbytes
    # The 120-byte bias stays inline.
    assert external_entries(exported, "bias")[0] == TensorProto.DEFAULT
    assert (out_dir / "out.bin").stat().st_size >= WEIGHT.nbytes

    onnx.checker.check_model(str(out), full_check=True)
    np.testing.assert_array_equal(
        numpy_helper.to_array(onnx.load(out).graph.initializer[0]), WEIGHT)
    feeds = random_inputs(exported)
    assert_bitwise_equal(run_model(external_model, feeds), run_model(out, feeds))


def test_external_data_threshold(pith, external_model, tmp_path):
    """With a threshold of 0 every initializer goes to the file."""
    result, mlir = import_to_mlir(pith, external_model)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "all_external.onnx"
    result = pith.translate("--export-onnx", mlir, "-o", out, "--external-data=all.bin",
                            "--external-data-threshold=0")
    assert result.returncode == 0, result.stderr
    exported = onnx.load(out, load_external_data=False)
    assert [t.data_location for t in exported.graph.initializer] == [TensorProto.EXTERNAL] * 2
    feeds = random_inputs(exported)
    assert_bitwise_equal(run_model(external_model, feeds), run_model(out, feeds))


def outside_file(tmp_path):
    """A copy of the weights outside the model's directory."""
    target = tmp_path / "outside.bin"
    target.write_bytes((tmp_path / "model" / "weights.bin").read_bytes())
    return target


def escaping_parent(external_model, tmp_path):
    outside_file(tmp_path)
    return {"location": "../outside.bin"}


def escaping_absolute(external_model, tmp_path):
    return {"location": str(outside_file(tmp_path))}


def escaping_symlink(external_model, tmp_path):
    os.symlink(outside_file(tmp_path), external_model.parent / "link.bin")
    return {"location": "link.bin"}


def missing_file(external_model, tmp_path):
    return {"location": "nowhere.bin"}


def range_beyond_end(external_model, tmp_path):
    return {"offset": WEIGHT.nbytes, "length": WEIGHT.nbytes}


def offset_beyond_end(external_model, tmp_path):
    return {"offset": 1 << 40}


def length_mismatch(external_model, tmp_path):
    return {"length": 100}


BROKEN_REFERENCES = {
    # name: (how to break the weight's entries, what the error says)
    "parent_directory": (escaping_parent, "escapes the model's directory"),
    "absolute_path": (escaping_absolute, "is an absolute path"),
    "symlink_outside": (escaping_symlink, "escapes the model's directory"),
    "missing_file": (missing_file, "not found"),
    "range_beyond_end": (range_beyond_end, "lies beyond the file's"),
    "offset_beyond_end": (offset_beyond_end, "lies beyond the file's"),
    "length_mismatch": (length_mismatch, "expected 2400"),
}


@pytest.mark.parametrize("case", BROKEN_REFERENCES)
def test_broken_external_reference_is_rejected(pith, external_model, tmp_path, case,
                                               one_line_error):
    breaker, message = BROKEN_REFERENCES[case]
    broken = with_weight_entries(external_model, external_model.parent / f"{case}.onnx",
                                 **breaker(external_model, tmp_path))
    out = tmp_path / "out.mlir"
    result = pith.translate("--import-onnx", broken, "-o", out)
    one_line_error(result, broken.name, "'weight'", message)
    assert not out.exists()


def test_broken_reference_leaves_existing_output(pith, external_model, tmp_path, one_line_error):
    broken = with_weight_entries(external_model, external_model.parent / "broken.onnx",
                                 location="nowhere.bin")
    out = tmp_path / "kept.mlir"
    out.write_text("untouched\n")
    one_line_error(pith.translate("--import-onnx", broken, "-o", out), "'weight'")
    assert out.read_text() == "untouched\n"


def test_model_from_stdin_cannot_resolve_external_data(pith, external_model, one_line_error):
    """Read from stdin, the model has no directory to find its data in."""
    with open(external_model, "rb") as stdin:
        result = subprocess.run([str(pith.translate_path), "--import-onnx", "-"], stdin=stdin,
                                capture_output=True, text=True, timeout=60)
    one_line_error(result, "'weight'", "the model was not read from a file")

#!/usr/bin/env python3
"""Checks that an exported ONNX model computes exactly what the original does.

  examples/check_roundtrip.py ORIGINAL.onnx EXPORTED.onnx [--input NAME=FILE.npy ...]

Runs both models in onnxruntime on the same inputs and requires bitwise
identical outputs (a NaN matches any NaN), and requires the exported model to
pass onnx.checker. Inputs not given with --input are random (seed 0), with
symbolic dimensions set to 2. Prints "outputs identical: yes" and exits 0, or
prints what differs and exits 1.

Example, after building Pith:
  build/bin/pith-translate --import-onnx examples/tiny_cnn.onnx |
    build/bin/pith-translate --export-onnx - -o /tmp/tiny_cnn.onnx
  examples/check_roundtrip.py examples/tiny_cnn.onnx /tmp/tiny_cnn.onnx \\
    --input image=examples/tiny_cnn_input.npy
"""

import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort

SYMBOLIC_DIM = 2


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("original", help="the model before the round trip")
    parser.add_argument("exported", help="the model after the round trip")
    parser.add_argument("--input", action="append", default=[], type=name_and_file,
                        metavar="NAME=FILE.npy",
                        help="value of input NAME (repeatable); other inputs are random")
    return parser.parse_args()


def name_and_file(text):
    name, separator, path = text.partition("=")
    if not (name and separator and path):
        raise argparse.ArgumentTypeError(f"expected NAME=FILE.npy, got {text!r}")
    return name, path


def random_value(value_info, rng):
    if value_info.type.WhichOneof("value") != "tensor_type":
        sys.exit(f"input {value_info.name!r} is not a tensor; pass it with --input")
    tensor_type = value_info.type.tensor_type
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
    shape = [d.dim_value if d.HasField("dim_value") else SYMBOLIC_DIM
             for d in tensor_type.shape.dim]
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 10, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def make_inputs(model, given):
    """Feeds for every graph input that is not an initializer."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    rng = np.random.default_rng(0)
    feeds = {}
    for value_info in model.graph.input:
        if value_info.name in given:
            feeds[value_info.name] = np.load(given.pop(value_info.name))
        elif value_info.name not in initializers:
            feeds[value_info.name] = random_value(value_info, rng)
    if given:
        sys.exit(f"the original model has no input named {', '.join(given)}")
    return feeds


def run(path, feeds):
    """Runs the model exactly as written: single thread, no graph rewrites."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # Failures are reported from the exception.
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def describe_difference(name, a, b):
    """None if a and b are bitwise identical (any NaN matching any NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return f"{name}: {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}"
    if a.dtype == object:  # Strings.
        differs = a != b
    else:
        bits_a = a.reshape(-1).view(np.uint8).reshape(a.shape + (a.itemsize,))
        bits_b = b.reshape(-1).view(np.uint8).reshape(b.shape + (b.itemsize,))
        differs = (bits_a != bits_b).any(axis=-1) & ~((a != a) & (b != b))
    if not differs.any():
        return None
    index = tuple(int(i) for i in np.argwhere(differs)[0])
    summary = f"{name}: {int(differs.sum())} of {a.size} elements differ"
    if np.issubdtype(a.dtype, np.number):
        gaps = np.abs(a[differs].astype(np.complex128) - b[differs].astype(np.complex128))
        gaps = gaps[np.isfinite(gaps)]  # A NaN or Inf on one side has no size.
        if gaps.size:
            summary += f", largest difference {gaps.max():.3g}"
    return summary + f", first at {list(index)}: {a[index]} vs {b[index]}"


def checker_problems(path):
    try:
        onnx.checker.check_model(path)
    except Exception as e:
        return [f"onnx.checker rejects {path}: {e}"]
    return []


def output_problems(expected, path, feeds):
    try:
        actual = run(path, feeds)
    except Exception as e:
        return [f"onnxruntime cannot run {path}: {e}"]
    if list(expected) != list(actual):
        return [f"output names differ: {list(expected)} vs {list(actual)}"]
    differences = (describe_difference(name, expected[name], actual[name]) for name in expected)
    return [difference for difference in differences if difference]


def main():
    args = parse_args()
    feeds = make_inputs(onnx.load(args.original), dict(args.input))
    try:
        expected = run(args.original, feeds)
    except Exception as e:
        sys.exit(f"onnxruntime cannot run {args.original}, so there is nothing to compare: {e}")
    problems = checker_problems(args.exported) + output_problems(expected, args.exported, feeds)
    if problems:
        print("\n".join(problems))
        return 1
    print("outputs identical: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Compiles and runs libonnx-testdata models with `pith run` on the CPU.

For every model, each test_data_set_*/input_N.pb feeds the N-th graph input
that is not an initializer; the outputs written by `pith run` are compared
with output_N.pb at ONNX's backend-test tolerances (rtol 1e-3, atol 1e-7;
exact for integers and booleans).

Models known to fail are listed, with a reason each, in
codegen_expected_failures.txt next to this script. The exit status is 1 when
an unlisted model fails or a listed one passes.

Usage: test/conformance/run_models.py [--filter SUBSTR [--exact]] [--jobs N]
       [--update-expected] [--verbose] [--support-table FILE]
"""

import argparse
import collections
import multiprocessing
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA_ROOT = Path("/usr/share/libonnx-testdata/data")
SUITES = ("node", "pytorch-converted", "pytorch-operator", "simple")
EXPECTED = Path(__file__).with_name("codegen_expected_failures.txt")
HEADER = """\
# libonnx-testdata models that `pith run` (CPU code generation) does not yet
# compile and run correctly, checked by test/conformance/run_models.py.
# One model per line:  <suite>/<model_dir_name>  # reason
# Regenerate (keeping existing reasons) with:
#   test/conformance/run_models.py --update-expected
"""
RTOL, ATOL = 1e-3, 1e-7
TIMEOUT_S = 120


def discover(pattern, exact):
    models = {}
    for suite in SUITES:
        for path in sorted((DATA_ROOT / suite).glob("*/model.onnx")):
            key = f"{suite}/{path.parent.name}"
            if (key == pattern) if exact else (pattern in key):
                models[key] = path.parent
    return models


def output_file_name(name):
    """The file `pith run` writes for an output name."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "output"


def compare(name, expected, actual):
    if expected.shape != actual.shape:
        return f"output '{name}': shape {actual.shape}, expected {expected.shape}"
    if expected.dtype != actual.dtype:
        return f"output '{name}': dtype {actual.dtype}, expected {expected.dtype}"
    if expected.dtype.kind in "biu":
        if not np.array_equal(expected, actual):
            return f"output '{name}': values differ"
        return ""
    if not np.allclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True):
        error = np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
        return f"output '{name}': max abs error {error:.3g}"
    return ""


def check_model(key, model_dir, pith):
    """Returns (key, op types, reason or "")."""
    # Imported here, not at the top: gpu_models.py imports this module on GPU
    # machines where onnx may be missing.
    import onnx
    from onnx import numpy_helper
    try:
        model = onnx.load(str(model_dir / "model.onnx"))
    except Exception as e:  # a model onnx cannot load is not a Pith failure
        return key, [], f"onnx cannot load the model: {e}"
    op_types = sorted({(n.domain + "." if n.domain not in ("", "ai.onnx") else "") + n.op_type
                       for n in model.graph.node})
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    for data_set in sorted(model_dir.glob("test_data_set_*")):
        args = []
        for index, value in enumerate(inputs):
            path = data_set / f"input_{index}.pb"
            if not path.exists():
                continue
            if not value.type.HasField("tensor_type"):
                return key, op_types, f"input '{value.name}' is not a tensor"
            args += ["--input", f"{value.name}={path}"]
        with tempfile.TemporaryDirectory(prefix="pith-run-") as out:
            try:
                proc = subprocess.run([str(pith), "run", str(model_dir / "model.onnx"), *args,
                                       "--output-dir", out], capture_output=True, text=True,
                                      errors="replace", timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                return key, op_types, f"timed out after {TIMEOUT_S} s"
            if proc.returncode != 0:
                lines = [l for l in proc.stderr.splitlines() if l.strip()]
                reason = lines[0] if lines else f"exit status {proc.returncode}"
                reason = reason.replace(str(model_dir) + "/", "")
                return key, op_types, reason[:300]
            for index, value in enumerate(model.graph.output):
                expected_path = data_set / f"output_{index}.pb"
                if not expected_path.exists():
                    continue
                expected = numpy_helper.to_array(onnx.load_tensor(str(expected_path)))
                actual = np.load(Path(out) / (output_file_name(value.name) + ".npy"))
                problem = compare(value.name, expected, actual)
                if problem:
                    return key, op_types, problem
    return key, op_types, ""


def read_expected():
    expected = {}
    if EXPECTED.exists():
        for line in EXPECTED.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, reason = line.partition("#")
                expected[key.strip()] = reason.strip()
    return expected


def write_support_table(path, results):
    """Per ONNX operator: node tests passing / total."""
    counts = collections.defaultdict(lambda: [0, 0])
    for key, (ops, reason) in results.items():
        if not key.startswith("node/"):
            continue
        for op in ops:
            counts[op][1] += 1
            counts[op][0] += not reason
    lines = ["<!-- Generated by test/conformance/run_models.py --support-table. -->",
             "# CPU code generation: operator support",
             "",
             "Node tests of Debian's libonnx-testdata that use each operator and pass",
             "when compiled and run by `pith run` (rtol 1e-3, atol 1e-7).",
             "",
             "| operator | passing | tests |", "| --- | --- | --- |"]
    for op in sorted(counts):
        passing, total = counts[op]
        lines.append(f"| {op} | {passing} | {total} |")
    Path(path).write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="", help="only models whose suite/name contains this")
    parser.add_argument("--exact", action="store_true", help="--filter names one model exactly")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pith", type=Path, default=REPO / "build" / "bin" / "pith")
    parser.add_argument("--update-expected", action="store_true")
    parser.add_argument("--support-table", type=Path, help="write the per-operator table here")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    models = discover(args.filter, args.exact)
    if not models:
        print("codegen: no models match", file=sys.stderr)
        return 2
    with multiprocessing.Pool(max(args.jobs, 1)) as pool:
        outcomes = pool.starmap(check_model,
                                [(key, path, args.pith) for key, path in models.items()])
    results = {key: (ops, reason) for key, ops, reason in outcomes}
    expected = read_expected()
    unexpected = 0
    for key, (ops, reason) in sorted(results.items()):
        if args.verbose:
            print(f"{'PASS' if not reason else 'FAIL'}: {key}{': ' + reason if reason else ''}")
        if reason and key not in expected:
            unexpected += 1
            if not args.verbose and not args.update_expected:
                print(f"FAIL: {key}: {reason}")
        elif not reason and key in expected:
            unexpected += 1
            if not args.update_expected:
                print(f"UNEXPECTED PASS: {key}: remove it from {EXPECTED.name}")
    if args.update_expected:
        kept = {k: v for k, v in expected.items() if k not in results}
        for key, (ops, reason) in results.items():
            if reason:
                kept[key] = expected.get(key) or reason
        EXPECTED.write_text(HEADER + "".join(f"{k}  # {v}\n" for k, v in sorted(kept.items())))
        unexpected = 0
    if args.support_table:
        write_support_table(args.support_table, results)
    passed = sum(1 for _, reason in results.values() if not reason)
    failed = len(results) - passed
    listed = sum(1 for k, (_, r) in results.items() if r and k in expected)
    node = [r for k, (_, r) in results.items() if k.startswith("node/")]
    print(f"codegen: {passed} passed, {failed} failed ({listed} expected), {unexpected} unexpected")
    if node:
        node_passed = sum(1 for r in node if not r)
        print(f"codegen: node tests {node_passed} of {len(node)} pass "
              f"({100.0 * node_passed / len(node):.1f}%)")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())

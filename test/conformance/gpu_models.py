#!/usr/bin/env python3
"""Compiles libonnx-testdata models for the NVIDIA GPU and runs them staged.

--compile-only (needs no GPU): compiles every model with `pith compile
--target cuda`, fixing each graph input's shape (the GPU pipeline needs every
dimension static) from the first test data set's input_N.pb, where input_N
is the N-th graph input that is not an initializer. A model is supported
when it compiles. gpu_supported.txt next to this script lists the supported
models: the exit status is 1 when a listed model no longer compiles; models
that newly compile are only reported. --update-supported rewrites the list.
--stage DIR also copies each compiled library, its weights and its test data
as .npy into DIR/<suite>__<model>/, described by DIR/manifest.json, for
--run-staged on a GPU machine; models whose staged files exceed 2 MiB are
left out, to keep DIR small enough to carry there.

--run-staged DIR (on the GPU machine, which needs numpy and
pith-run-compiled, not onnx or MLIR): runs each staged model with
pith-run-compiled and compares its outputs with the expected ones at
run_models.py's tolerances (models listed in gpu_expected_failures.txt, with
reasons, are expected to differ). When the machine has no usable GPU it prints
"gpu-run: skipped: <reason>" and exits 0.

Usage: test/conformance/gpu_models.py --compile-only [--update-supported]
         [--stage DIR] [--filter SUBSTR [--exact]] [--jobs N] [--verbose]
       test/conformance/gpu_models.py --run-staged DIR [--runner PATH]
         [--json FILE] [--filter SUBSTR [--exact]] [--jobs N]
"""

import argparse
import collections
import json
import multiprocessing
import multiprocessing.pool
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# onnx is imported only where compile mode needs it: --run-staged runs on GPU
# machines that may not have it, and run_models imports it lazily too.
from run_models import REPO, TIMEOUT_S, compare, discover, output_file_name

SUPPORTED = Path(__file__).with_name("gpu_supported.txt")
EXPECTED_RUN_FAILURES = Path(__file__).with_name("gpu_expected_failures.txt")
HEADER = """\
# libonnx-testdata models that `pith compile --target cuda` compiles, checked
# by test/conformance/gpu_models.py --compile-only. One model per line:
#   <suite>/<model_dir_name>
# Regenerate with:
#   test/conformance/gpu_models.py --compile-only --update-supported
"""
# Staged models travel to the GPU machine, where what is carried is limited.
MAX_STAGED_BYTES = 2 * 1024 * 1024
NO_GPU = ("no CUDA driver", "no usable CUDA device")


def first_error_line(proc, *paths):
    """The first non-blank stderr line, without the given directory prefixes."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    # The runner's no-GPU message need not come first; it decides the skip.
    line = next((l for l in lines if any(p in l for p in NO_GPU)),
                lines[0] if lines else f"exit status {proc.returncode}")
    for path in paths:
        line = line.replace(f"{path}/", "")
    return line[:300]


def compile_model(key, model_dir, pith, stage_root):
    """Returns (key, reason or "", staged manifest entry or None, staged bytes)."""
    import onnx

    try:
        model = onnx.load(str(model_dir / "model.onnx"))
    except Exception as e:  # a model onnx cannot load is not a Pith failure
        return key, f"onnx cannot load the model: {e}", None, 0
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    # Only tensors have a static shape to give, and pith-run-compiled reads
    # and writes tensors (.npy) only. The reason names no value so that
    # --verbose counts these models together.
    if not all(value.type.HasField("tensor_type") for value in [*inputs, *model.graph.output]):
        return key, "a graph input or output is not a tensor", None, 0
    data_sets = sorted(model_dir.glob("test_data_set_*"))
    shapes = []
    for index, value in enumerate(inputs):
        path = data_sets[0] / f"input_{index}.pb" if data_sets else None
        dims = onnx.load_tensor(str(path)).dims if path and path.exists() else []
        # --input-shape cannot say rank 0; a scalar input is static already.
        if dims:
            shapes += ["--input-shape", f"{value.name}={'x'.join(str(d) for d in dims)}"]
    with tempfile.TemporaryDirectory(prefix="pith-gpu-") as out:
        library = Path(out) / "model.so"
        try:
            proc = subprocess.run([str(pith), "compile", str(model_dir / "model.onnx"),
                                   "-o", str(library), "--target", "cuda", *shapes],
                                  capture_output=True, text=True, errors="replace",
                                  timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return key, f"timed out after {TIMEOUT_S} s", None, 0
        if proc.returncode != 0:
            return key, first_error_line(proc, model_dir, out), None, 0
        if stage_root is None:
            return key, "", None, 0
        name = key.replace("/", "__")
        staged = Path(out) / name
        entry = stage(key, name, staged, library, data_sets, inputs, model.graph.output)
        size = sum(f.stat().st_size for f in staged.rglob("*") if f.is_file())
        if size > MAX_STAGED_BYTES:
            return key, "", None, size
        shutil.copytree(staged, stage_root / name)
        return key, "", entry, size


def stage(key, name, staged, library, data_sets, inputs, outputs):
    """Fills `staged` with the library, its weights and the test data as .npy;
    returns the model's manifest entry, with paths relative to `staged`."""
    import onnx
    from onnx import numpy_helper

    staged.mkdir()
    shutil.copy(library, staged / "model.so")
    shutil.copy(f"{library}.weights", staged / "model.so.weights")
    entry = {"model": key, "dir": name, "library": "model.so",
             "weights": "model.so.weights", "data_sets": []}
    for data_set in data_sets:
        (staged / data_set.name).mkdir()
        files = {"inputs": [], "outputs": []}
        for kind, values, stem in (("inputs", inputs, "input"), ("outputs", outputs, "output")):
            for index, value in enumerate(values):
                path = data_set / f"{stem}_{index}.pb"
                if not path.exists():
                    continue
                file_name = (output_file_name(value.name) if kind == "inputs"
                             else f"expected_{index}")
                file = f"{data_set.name}/{file_name}.npy"
                np.save(staged / file, numpy_helper.to_array(onnx.load_tensor(str(path))))
                files[kind].append({"name": value.name, "file": file})
        entry["data_sets"].append(files)
    return entry


def read_supported():
    return {line.strip() for line in SUPPORTED.read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def compile_mode(args):
    if not args.update_supported and not SUPPORTED.exists():
        print(f"gpu-compile: {SUPPORTED.relative_to(REPO)} is missing; create it with "
              f"test/conformance/gpu_models.py --compile-only --update-supported",
              file=sys.stderr)
        return 1
    if args.stage:
        if args.stage.exists() and any(args.stage.iterdir()):
            print(f"gpu-compile: --stage {args.stage} is not empty", file=sys.stderr)
            return 1
        args.stage.mkdir(parents=True, exist_ok=True)
    models = discover(args.filter, args.exact)
    if not models:
        print("gpu-compile: no models match", file=sys.stderr)
        return 2
    with multiprocessing.Pool(max(args.jobs, 1)) as pool:
        outcomes = pool.starmap(compile_model, [(key, path, args.pith, args.stage)
                                                for key, path in models.items()])
    reasons = {key: reason for key, reason, _, _ in outcomes}
    regressions = 0
    if not args.update_supported:
        listed = read_supported()
        for key, reason in sorted(reasons.items()):
            if reason and key in listed:
                regressions += 1
                print(f"NO LONGER COMPILES: {key}: {reason}")
            elif not reason and key not in listed:
                print(f"NEWLY COMPILES: {key}: add it with --update-supported")
    else:
        # Models outside --filter keep their listing.
        kept = {k for k in read_supported() if k not in reasons} if SUPPORTED.exists() else set()
        kept |= {k for k, reason in reasons.items() if not reason}
        SUPPORTED.write_text(HEADER + "".join(f"{k}\n" for k in sorted(kept)))
    unsupported = collections.Counter(reason for reason in reasons.values() if reason)
    if args.verbose and unsupported:
        print("unsupported, by first error line:")
        for reason, count in unsupported.most_common(15):
            print(f"{count:6d}  {reason}")
    if args.stage:
        entries = sorted((e for _, _, e, _ in outcomes if e), key=lambda e: e["model"])
        (args.stage / "manifest.json").write_text(json.dumps({"models": entries}, indent=1))
        staged_bytes = sum(size for _, _, e, size in outcomes if e)
        too_large = sum(1 for _, reason, e, _ in outcomes if not reason and not e)
        print(f"gpu-stage: {len(entries)} models in {args.stage} "
              f"({staged_bytes / 2**20:.1f} MiB), {too_large} skipped as over "
              f"{MAX_STAGED_BYTES // 2**20} MiB")
    compiled = len(reasons) - sum(unsupported.values())
    print(f"gpu-compile: {compiled} compiled, {sum(unsupported.values())} unsupported "
          f"(of {len(reasons)})")
    return 1 if regressions else 0


def run_model(entry, root, runner):
    """Returns (key, reason or "", median run time in seconds per data set)."""
    model_dir = root / entry["dir"]
    times = []
    for data_set in entry["data_sets"]:
        inputs = [a for i in data_set["inputs"]
                  for a in ("--input", f"{i['name']}={model_dir / i['file']}")]
        with tempfile.TemporaryDirectory(prefix="pith-gpu-run-") as out:
            try:
                proc = subprocess.run([str(runner), str(model_dir / entry["library"]),
                                       "--weights", str(model_dir / entry["weights"]),
                                       *inputs, "--output-dir", out],
                                      capture_output=True, text=True, errors="replace",
                                      timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                return entry["model"], f"timed out after {TIMEOUT_S} s", times
            if proc.returncode != 0:
                return entry["model"], first_error_line(proc, model_dir, out), times
            match = re.search(r"^run time:\s*(\S+) s", proc.stdout, re.M)
            if match:
                times.append(float(match.group(1)))
            for output in data_set["outputs"]:
                actual = Path(out) / (output_file_name(output["name"]) + ".npy")
                if not actual.exists():
                    return entry["model"], f"output '{output['name']}' was not written", times
                problem = compare(output["name"], np.load(model_dir / output["file"]),
                                  np.load(actual))
                if problem:
                    return entry["model"], problem, times
    return entry["model"], "", times


def write_json(path, skipped, results):
    models = [{"model": key, "passed": not reason, "reason": reason, "run_time_s": times}
              for key, (reason, times) in sorted(results.items())]
    Path(path).write_text(json.dumps({"skipped": skipped, "models": models}, indent=1))


def run_mode(args):
    manifest = args.run_staged / "manifest.json"
    if not manifest.exists():
        print(f"gpu-run: {manifest} is missing", file=sys.stderr)
        return 1
    if not args.runner.exists():
        print(f"gpu-run: runner {args.runner} not found", file=sys.stderr)
        return 1
    entries = [e for e in json.loads(manifest.read_text())["models"]
               if (e["model"] == args.filter if args.exact else args.filter in e["model"])]
    results = {}
    # Threads suffice: each model runs in its own pith-run-compiled process.
    with multiprocessing.pool.ThreadPool(max(args.jobs, 1)) as pool:
        for key, reason, times in pool.imap_unordered(
                lambda e: run_model(e, args.run_staged, args.runner), entries):
            if any(p in reason for p in NO_GPU):
                print(f"gpu-run: skipped: {reason}")
                if args.json:
                    write_json(args.json, reason, {})
                return 0
            results[key] = (reason, times)
    expected = read_expected_failures()
    failed = known = passed_anyway = 0
    for key, (reason, _) in sorted(results.items()):
        if reason and key in expected:
            known += 1
        elif reason:
            failed += 1
            print(f"FAIL: {key}: {reason}")
        elif key in expected:
            passed_anyway += 1
    if args.json:
        write_json(args.json, None, results)
    print(f"gpu-run: {len(results) - failed - known} passed, {known} expected failures, "
          f"{failed} failed (of {len(results)})"
          + (f"; {passed_anyway} listed as known to differ passed this time" if passed_anyway else ""))
    return 1 if failed else 0


def read_expected_failures():
    """{model: reason} from gpu_expected_failures.txt: models whose outputs
    are known to differ, some only on some runs (cuDNN's algorithm is chosen
    by timing), so they may pass too."""
    expected = {}
    for line in EXPECTED_RUN_FAILURES.read_text().splitlines():
        model, _, reason = line.partition("#")
        if model.strip():
            expected[model.strip()] = reason.strip()
    return expected


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--compile-only", action="store_true",
                      help="compile for the GPU and check gpu_supported.txt")
    mode.add_argument("--run-staged", type=Path, metavar="DIR",
                      help="run the models staged in DIR on this machine's GPU")
    parser.add_argument("--filter", default="", help="only models whose suite/name contains this")
    parser.add_argument("--exact", action="store_true", help="--filter names one model exactly")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--update-supported", action="store_true",
                        help="rewrite gpu_supported.txt (--compile-only)")
    parser.add_argument("--stage", type=Path, metavar="DIR",
                        help="stage the compiled models in DIR (--compile-only)")
    parser.add_argument("--verbose", action="store_true",
                        help="count the unsupported models' errors (--compile-only)")
    parser.add_argument("--runner", type=Path,
                        default=REPO / "build" / "bin" / "pith-run-compiled",
                        help="pith-run-compiled (--run-staged)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="write per-model results here (--run-staged)")
    # Lets tests stand a stub in for the compiler.
    parser.add_argument("--pith", type=Path, default=REPO / "build" / "bin" / "pith",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compile_only and args.json:
        parser.error("--json goes with --run-staged")
    if args.run_staged and (args.update_supported or args.stage or args.verbose):
        parser.error("--update-supported, --stage and --verbose go with --compile-only")
    return compile_mode(args) if args.compile_only else run_mode(args)


if __name__ == "__main__":
    sys.exit(main())

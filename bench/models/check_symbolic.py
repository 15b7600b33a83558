#!/usr/bin/env python3
"""Compile each corpus model with symbolic dimensions once (`pith compile`)
and run the one library at several batch/sequence sizes against onnxruntime.

Usage: .venv/bin/python bench/models/check_symbolic.py [MODEL_dyn.onnx ...]
(default: bench/models/out/*_dyn.onnx, made by make_models.py)
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "python"))
sys.path.insert(0, HERE)
from compare_with_ort import make_inputs  # noqa: E402
from compiled_model import CompiledModel  # noqa: E402

SIZES = [(1, 20), (3, 37)]  # (batch, sequence); CNNs use the batch only


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*")
    args = parser.parse_args()
    models = args.models or sorted(glob.glob(os.path.join(HERE, "out", "*_dyn.onnx")))
    if not models:
        sys.exit("no *_dyn.onnx models: run /usr/bin/python3 bench/models/make_models.py")
    worst = 0.0
    with tempfile.TemporaryDirectory() as work:
        for path in models:
            name = os.path.splitext(os.path.basename(path))[0]
            library = os.path.join(work, name + ".so")
            subprocess.run([os.path.join(ROOT, "build", "bin", "pith"), "compile", path,
                            "-o", library], check=True, capture_output=True)
            compiled = CompiledModel(library)
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            model = onnx.load(path, load_external_data=False)
            for batch, seq in SIZES:
                feeds = make_inputs(model, batch, seq)
                compiled.run(feeds)  # warm-up
                start = time.perf_counter()
                got = compiled.run(feeds)
                elapsed = time.perf_counter() - start
                want = session.run(None, feeds)
                error = max(float(np.abs(g - w).max() / (np.abs(w).max() or 1))
                            for g, w in zip(got, want))
                worst = max(worst, error)
                shapes = ", ".join(str(tuple(g.shape)) for g in got)
                print(f"{name:18} batch {batch} seq {seq:3}: {shapes:18} "
                      f"{elapsed * 1e3:8.1f} ms  max rel. error {error:.2e}")
    print(f"worst relative error {worst:.2e}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks outputs written by `pith run` against onnxruntime on the same inputs.

Usage: compare_with_onnxruntime.py MODEL.onnx OUTPUT_DIR --input NAME=FILE.npy ...
       [--rtol 1e-4]

Prints the largest relative error per output (max |pith - ort| / max |ort|)
and exits 1 if any exceeds --rtol.
"""
import argparse
import re
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--input", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()

    feeds = {}
    for spec in args.input:
        name, _, path = spec.partition("=")
        feeds[name] = np.load(path)
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    expected = session.run(None, feeds)
    ok = True
    for meta, reference in zip(session.get_outputs(), expected):
        file = args.output_dir / (re.sub(r"[^A-Za-z0-9_.\-]", "_", meta.name) + ".npy")
        actual = np.load(file)
        scale = max(float(np.max(np.abs(reference))), np.finfo(np.float32).tiny)
        error = float(np.max(np.abs(actual.astype(np.float64) - reference))) / scale
        within = actual.shape == reference.shape and error <= args.rtol
        ok &= within
        print(f"output {meta.name}: max relative error {error:.2e} "
              f"({'within' if within else 'exceeds'} {args.rtol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Worked example: a PyTorch model made cheaper by Pith, compiled and run.

1. Builds a small PyTorch network, as one often gets it: a block whose
   weight is tied to the transpose of another's (stored twice, as the
   exporter writes it) and a wide projection whose trained weights have a
   fast-decaying spectrum, and exports it to ONNX.
2. Loads the ONNX model with Pith and applies two transforms, named as in
   `pith optimize` and pith-opt: `pith-dedup-weights` (one stored copy of
   weights that are copies, transposed or not) and `pith-low-rank{energy=0.999}` (truncated SVD keeping 99.9%
   of each layer's spectral energy).
3. Prints what the passes report, saves the optimized model as ONNX,
   compiles it for this CPU and runs it on numpy arrays.
4. Checks Pith's compiled code against onnxruntime running the saved ONNX
   (same model: must agree within 1e-4 relative), and shows what the
   transforms cost against the original PyTorch model.

Usage: python examples/python/pytorch_to_pith.py [--out DIR]
Needs torch (Debian's python3-torch works), onnxruntime, numpy and pith
(`pip install .` from the repository root).
"""

import argparse
import os
import tempfile

import numpy as np
import onnxruntime as ort
import torch

import pith


class Block(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
        self.linear = torch.nn.Linear(width, width)

    def forward(self, x):
        return torch.relu(self.linear(x))


class Net(torch.nn.Module):
    def __init__(self, width=64, wide=1024):
        super().__init__()
        self.first, self.second = Block(width), Block(width)
        self.up = torch.nn.Linear(width, wide)
        self.down = torch.nn.Linear(wide, width)

    def forward(self, x):
        return self.down(torch.tanh(self.up(self.second(self.first(x)))))


def make_model():
    torch.manual_seed(0)
    net = Net().eval()
    with torch.no_grad():
        # The second block tied to the first's transpose (as decoders are
        # tied to embeddings): the exporter stores both matrices.
        net.second.linear.weight.copy_(net.first.linear.weight.T)
        # A trained-looking spectrum: singular values falling as 0.8^i.
        for layer in (net.up, net.down):
            rows, cols = layer.weight.shape
            u, _ = torch.linalg.qr(torch.randn(rows, min(rows, cols)))
            v, _ = torch.linalg.qr(torch.randn(cols, min(rows, cols)))
            s = 0.8 ** torch.arange(min(rows, cols), dtype=torch.float32)
            layer.weight.copy_(u @ torch.diag(s) @ v.T)
    return net


def export(net, path):
    x = torch.zeros(2, 64)
    kwargs = dict(input_names=["x"], output_names=["y"], opset_version=17,
                  dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    try:  # torch >= 2.5 defaults to the dynamo exporter; ask for TorchScript's
        torch.onnx.export(net, (x,), path, dynamo=False, **kwargs)
    except TypeError:  # older torch (Debian 12's 1.13) has only that one
        torch.onnx.export(net, (x,), path, **kwargs)


def relative(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="where to write the models (default: a temporary directory)")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="pith-example-")
    os.makedirs(out, exist_ok=True)
    original_path = os.path.join(out, "net.onnx")
    optimized_path = os.path.join(out, "net.pith.onnx")

    net = make_model()
    export(net, original_path)

    model = pith.load(original_path)
    before = model.report()["cost"]
    model.optimize("pith-dedup-weights,pith-low-rank{energy=0.999}")
    report = model.report()
    for entry in report["passes"]:
        print(entry["pass"])
        for line in entry["lines"]:
            print("   ", line)
    after = report["cost"]
    print(f"parameters {before['parameters']:,} -> {after['parameters']:,}, "
          f"weight bytes {before['weight_bytes']:,} -> {after['weight_bytes']:,}")
    model.save(optimized_path)

    compiled = model.compile()
    x = np.random.default_rng(0).normal(size=(16, 64)).astype(np.float32)
    (y_pith,) = compiled(x)
    session = ort.InferenceSession(optimized_path, providers=["CPUExecutionProvider"])
    (y_ort,) = session.run(None, {"x": x})
    with torch.no_grad():  # no numpy <-> torch bridge: works with any numpy
        y_torch = np.array(net(torch.tensor(x.tolist())).tolist(), dtype=np.float32)

    vs_ort = relative(y_pith, y_ort)
    print(f"Pith vs onnxruntime on the optimized model: max relative difference {vs_ort:.2e}")
    print(f"optimized vs original PyTorch model: max relative difference {relative(y_pith, y_torch):.2e}")
    if vs_ort > 1e-4:
        raise SystemExit("Pith and onnxruntime disagree by more than 1e-4")
    print("ok: within 1e-4 of onnxruntime")


if __name__ == "__main__":
    main()

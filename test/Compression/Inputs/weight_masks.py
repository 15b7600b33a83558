"""Prints which weights of the named initializers are nonzero, a row of 0/1
per matrix row: what the sparsify lit tests check exact masks against.

Usage: weight_masks.py MODEL.onnx NAME [NAME...]
"""
import sys

import onnx
from onnx import numpy_helper


def main():
    model = onnx.load(sys.argv[1])
    onnx.checker.check_model(model, full_check=True)
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for name in sys.argv[2:]:
        w = weights[name]
        print(f"{name} {'x'.join(map(str, w.shape))}:")
        for row in w.reshape(w.shape[0], -1):
            print("".join("1" if v != 0 else "0" for v in row))


if __name__ == "__main__":
    main()

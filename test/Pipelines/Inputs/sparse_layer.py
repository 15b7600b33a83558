"""Writes y = x . W for a W with a given fraction of zeros (random
positions), its input and numpy's result.

Usage: sparse_layer.py DIR ROWS K N SPARSITY
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out, rows, k, n, sparsity = sys.argv[1], *map(int, sys.argv[2:5]), float(sys.argv[5])
    rng = np.random.default_rng(0)
    w = rng.normal(size=(k, n)).astype(np.float32)
    w[rng.random(size=w.shape) < sparsity] = 0
    x = rng.normal(size=(rows, k)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "sparse",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, n])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, f"{out}/sparse.onnx")
    np.save(f"{out}/x.npy", x)
    np.save(f"{out}/expected.npy", (x.astype(np.float64) @ w).astype(np.float32))


if __name__ == "__main__":
    main()

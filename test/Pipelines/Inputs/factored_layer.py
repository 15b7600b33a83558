"""Writes a factored layer y = (x U) V + b as ONNX, the same layer with its
weight U V multiplied out, an input and numpy's result.

Usage: factored_layer.py DIR ROWS K RANK N. Rows beyond the factored kernel's
tile make it run several tiles and a remainder.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(path, weights, nodes, k, n, rows):
    graph = helper.make_graph(
        nodes, "layer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, n])],
        [numpy_helper.from_array(w, name) for name, w in weights.items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def main():
    out, rows, k, rank, n = sys.argv[1], *map(int, sys.argv[2:])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, k)).astype(np.float32)
    u = (rng.normal(size=(k, rank)) / np.sqrt(k)).astype(np.float32)
    v = (rng.normal(size=(rank, n)) / np.sqrt(rank)).astype(np.float32)
    b = rng.normal(size=n).astype(np.float32)
    model(f"{out}/factored.onnx", {"u": u, "v": v, "b": b},
          [helper.make_node("MatMul", ["x", "u"], ["t"]),
           helper.make_node("MatMul", ["t", "v"], ["p"]),
           helper.make_node("Add", ["p", "b"], ["y"])], k, n, rows)
    model(f"{out}/dense.onnx", {"w": (u.astype(np.float64) @ v).astype(np.float32), "b": b},
          [helper.make_node("MatMul", ["x", "w"], ["p"]),
           helper.make_node("Add", ["p", "b"], ["y"])], k, n, rows)
    np.save(f"{out}/x.npy", x)
    np.save(f"{out}/expected.npy", (x.astype(np.float64) @ u @ v + b).astype(np.float32))


if __name__ == "__main__":
    main()

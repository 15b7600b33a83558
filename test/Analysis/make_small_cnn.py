"""Writes the small CNN the cost-model tests count by hand (cost-model.test):
node names with a layer hierarchy, as exporters write them."""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

weights = [
    nh.from_array(np.full((4, 3, 3, 3), 0.5, np.float32), "conv_w"),
    nh.from_array(np.array([0, 1, 0, 1], np.float32), "conv_b"),
    nh.from_array(np.eye(5, 4, dtype=np.float32), "fc_w"),
    nh.from_array(np.zeros(5, np.float32), "fc_b"),
    nh.from_array(np.array([2, 4], np.int64), "flat_shape"),
]
nodes = [
    h.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], "/block.0/conv/Conv", pads=[1, 1, 1, 1]),
    h.make_node("Relu", ["c"], ["r"], "/block.0/relu/Relu"),
    h.make_node("GlobalAveragePool", ["r"], ["p"], "/head/pool/GlobalAveragePool"),
    h.make_node("Reshape", ["p", "flat_shape"], ["f"], "/head/flat/Reshape"),
    h.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], "/head/fc/Gemm", transB=1),
]
graph = h.make_graph(nodes, "small_cnn", [h.make_tensor_value_info("x", T.FLOAT, [2, 3, 8, 8])],
                     [h.make_tensor_value_info("y", T.FLOAT, [2, 5])], weights)
model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, sys.argv[1])

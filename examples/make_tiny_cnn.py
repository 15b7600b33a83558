#!/usr/bin/env python3
"""Builds examples/tiny_cnn.onnx, Pith's default example model, and a sample input.

A small MNIST-shaped image classifier with fixed random weights (it is not
trained: the point is a realistic, reproducible graph, not accuracy):

  image[N,1,28,28] -> Conv 8x3x3 (pads 1) -> Relu -> MaxPool 2x2
                   -> Conv 16x3x3 -> Relu -> GlobalAveragePool -> Flatten
                   -> Gemm 16->10 -> Softmax -> probs[N,10]

Writes tiny_cnn.onnx (opset 17, IR version 8) and tiny_cnn_input.npy
(float32[2,1,28,28]) next to this script. Both are byte-for-byte reproducible.
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
MODEL_PATH = HERE / "tiny_cnn.onnx"
INPUT_PATH = HERE / "tiny_cnn_input.npy"
CLASSES = 10


def he_normal(rng, shape, fan_in):
    """Scaled so that activations keep a sensible range through the Relus."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def make_initializers(rng):
    weights = {
        "conv1.weight": he_normal(rng, (8, 1, 3, 3), 1 * 3 * 3),
        "conv1.bias": np.zeros(8, np.float32),
        "conv2.weight": he_normal(rng, (16, 8, 3, 3), 8 * 3 * 3),
        "conv2.bias": np.zeros(16, np.float32),
        "fc.weight": he_normal(rng, (CLASSES, 16), 16),
        "fc.bias": np.zeros(CLASSES, np.float32),
    }
    return [numpy_helper.from_array(value, name) for name, value in weights.items()]


def make_nodes():
    node = helper.make_node
    return [
        node("Conv", ["image", "conv1.weight", "conv1.bias"], ["conv1.out"], name="conv1",
             kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("Relu", ["conv1.out"], ["relu1.out"], name="relu1"),
        node("MaxPool", ["relu1.out"], ["pool1.out"], name="pool1",
             kernel_shape=[2, 2], strides=[2, 2]),
        node("Conv", ["pool1.out", "conv2.weight", "conv2.bias"], ["conv2.out"], name="conv2",
             kernel_shape=[3, 3]),
        node("Relu", ["conv2.out"], ["relu2.out"], name="relu2"),
        node("GlobalAveragePool", ["relu2.out"], ["gap.out"], name="gap"),
        node("Flatten", ["gap.out"], ["flatten.out"], name="flatten", axis=1),
        # fc.weight is stored [out, in], as PyTorch's Linear does.
        node("Gemm", ["flatten.out", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
    ]


def make_model():
    graph = helper.make_graph(
        make_nodes(), "tiny_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", CLASSES])],
        make_initializers(np.random.default_rng(0)))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8,
                              producer_name="pith-examples", producer_version="1",
                              doc_string="Tiny CNN image classifier with random weights.")
    helper.set_model_props(model, {
        "description": "Untrained 10-class classifier for 1x28x28 images; "
                       "Pith's default example model.",
        "generator": "examples/make_tiny_cnn.py",
    })
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    onnx.save(make_model(), MODEL_PATH)
    sample = np.random.default_rng(1).random((2, 1, 28, 28), dtype=np.float32)
    np.save(INPUT_PATH, sample)
    print(f"wrote {MODEL_PATH.name} ({MODEL_PATH.stat().st_size} bytes) and {INPUT_PATH.name}")


if __name__ == "__main__":
    main()

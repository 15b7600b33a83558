"""Prints a model's initializers (name, type, shape), sorted, and their count
and bytes: what a test checks a weight transform stored."""
import sys

import onnx
from onnx import numpy_helper

model = onnx.load(sys.argv[1])
total = 0
for tensor in sorted(model.graph.initializer, key=lambda t: t.name):
    array = numpy_helper.to_array(tensor)
    total += array.nbytes
    print(tensor.name, array.dtype, list(array.shape))
print(f"{len(model.graph.initializer)} initializers, {total} bytes")

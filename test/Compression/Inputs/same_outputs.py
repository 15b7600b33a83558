"""Runs two versions of the dedup test model with onnxruntime on the same
inputs, for both values of the If condition `c`, and says whether the
outputs are bit-identical."""
import sys

import numpy as np
import onnxruntime as ort

original, edited = (ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                    for path in sys.argv[1:3])
x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2)
for c in (True, False):
    feeds = {"x": x, "c": np.array(c)}
    a, b = original.run(None, feeds)[0], edited.run(None, feeds)[0]
    print(f"c={c}:", "bit-identical" if a.tobytes() == b.tobytes() else "DIFFERENT")

"""Compares the outputs `pith run` wrote (OUT_DIR/<output>.npy) with
onnxruntime's on the same inputs (an .npz named after the model's inputs):
prints the largest error relative to the output's largest magnitude, and
whether it is within 1e-4."""
import sys

import numpy as np
import onnxruntime as ort

model, inputs, out_dir = sys.argv[1:4]
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
feeds = dict(np.load(inputs))
worst = 0.0
for output, expected in zip(session.get_outputs(), session.run(None, feeds)):
    got = np.load(f"{out_dir}/{output.name}.npy")
    worst = max(worst, float(np.abs(got - expected).max() / np.abs(expected).max()))
print("within 1e-4 of onnxruntime" if worst <= 1e-4 else f"DIFFERS: {worst:.3e}")

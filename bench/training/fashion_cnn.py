#!/usr/bin/env python3
"""The Fashion-MNIST CNN trained from scratch by `pith train`, against the
torch-trained model of the corpus.

1. The corpus CNN (bench/corpus/models/fashion_mnist_cnn.onnx) with every
   weight drawn again from torch's default initialization (uniform in
   +-1/sqrt(fan_in), biases with their layer's fan_in), seed 0: the same
   architecture, untrained.
2. `pith train` on the corpus's 59,000 training images (the calibration
   split left out, as torch's run did), with torch's recipe
   (bench/corpus/fashion_mnist.py): Adam (AdamW with weight decay 0), a
   one-cycle schedule peaking at 2e-3 with 15% warm-up, batches of 128, 8
   epochs. Not reproduced: torch's run also used dropout (0.25 before the
   first linear layer) and random horizontal flips, which a compiled step
   of the exported inference graph does not have.
3. Top-1 accuracy of the written model on the 10,000 test images, in
   onnxruntime, against the torch-trained model's (fashion_mnist_training.json).

Writes docs/training/fashion_cnn.json, docs/training/fashion_cnn.svg and
the table in docs/training.md (between its generated markers).

Usage: .venv/bin/python bench/training/fashion_cnn.py [--epochs 8] [--render-only]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "corpus"))
sys.path.insert(0, str(REPO / "bench" / "tying"))
import common  # noqa: E402
import plot  # noqa: E402

OUT = REPO / "bench" / "out" / "training"
DOCS = REPO / "docs" / "training"
JSON_PATH = DOCS / "fashion_cnn.json"
PITH = REPO / "build" / "bin" / "pith"


def reinitialize(source, target, seed):
    """Every float initializer drawn from torch's default init for its layer."""
    model = onnx.load(source)
    rng = np.random.default_rng(seed)
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    fresh = []
    for tensor in model.graph.initializer:
        value = weights[tensor.name]
        if value.dtype != np.float32 or value.ndim == 0:
            fresh.append(tensor)
            continue
        layer_weight = weights.get(tensor.name.rsplit(".", 1)[0] + ".weight", value)
        fan_in = int(np.prod(layer_weight.shape[1:]))
        bound = 1.0 / np.sqrt(fan_in)
        drawn = rng.uniform(-bound, bound, value.shape).astype(np.float32)
        fresh.append(numpy_helper.from_array(drawn, tensor.name))
    del model.graph.initializer[:]
    model.graph.initializer.extend(fresh)
    onnx.save(model, target)


def top1(model_path, images, labels):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    correct = 0
    for start in range(0, len(images), 1000):
        logits = session.run(None, {"image": images[start:start + 1000]})[0]
        correct += int((logits.argmax(1) == labels[start:start + 1000]).sum())
    return correct / len(images)


def run(epochs):
    OUT.mkdir(parents=True, exist_ok=True)
    init_path, trained_path, data_path = OUT / "cnn_init.onnx", OUT / "cnn_trained.onnx", \
        OUT / "fashion_train.npz"
    reinitialize(common.FASHION_MODELS["cnn"], init_path, seed=0)
    images, labels = common.load_fashion_mnist("train")
    training, _ = common.fashion_train_calibration_split()
    np.savez(data_path, image=common.normalize_images(images[training]),
             labels=labels[training].astype(np.int64))
    command = [str(PITH), "train", str(init_path), "--data", str(data_path), "-o",
               str(trained_path), "--loss", "cross-entropy", "--optimizer", "adamw",
               "--weight-decay", "0", "--lr", "0.002", "--schedule", "one-cycle",
               "--warmup", "0.15", "--batch-size", "128", "--epochs", str(epochs), "--seed", "0"]
    print("$", " ".join(os.path.relpath(c, REPO) if c.startswith(str(REPO)) else c
                        for c in command), flush=True)
    start = time.time()
    process = subprocess.run(command, capture_output=True, text=True,
                             env={**os.environ, "OMP_NUM_THREADS": "2"})
    print(process.stdout, process.stderr, end="", flush=True)
    if process.returncode:
        raise SystemExit("pith train failed")
    wall = time.time() - start
    epochs_seen = [{"epoch": int(m[1]), "loss": float(m[2]), "samples_per_second": float(m[4]),
                    "seconds": float(m[5])}
                   for m in re.finditer(r"epoch (\d+): loss ([\d.]+), (\d+) steps, ([\d.]+) "
                                        r"samples/s, ([\d.]+) s", process.stdout)]
    memory = re.search(r"arena ([\d.]+) MB .* ([\d.]+) MB with", process.stdout)
    test_images, test_labels = common.load_fashion_mnist("t10k")
    test_x = common.normalize_images(test_images)
    torch_record = json.loads(common.FASHION_TRAINING.read_text())["models"]["cnn"]
    result = {
        "command": " ".join(os.path.relpath(c, REPO) if c.startswith(str(REPO)) else c
                            for c in command),
        "epochs": epochs_seen,
        "arena_mb": float(memory[1]), "step_mb": float(memory[2]),
        "wall_seconds": wall,
        "pith_top1": top1(trained_path, test_x, test_labels),
        "untrained_top1": top1(init_path, test_x, test_labels),
        "torch_top1": torch_record["torch_test_top1"],
        "torch_epochs": torch_record["epochs"],
        "torch_train_seconds": torch_record["train_seconds"],
    }
    print(json.dumps(result, indent=1))
    DOCS.mkdir(parents=True, exist_ok=True)
    common.write_json(JSON_PATH, result)
    return result


def render(result):
    panel = {"title": "training loss per epoch (pith train)", "xlabel": "epoch",
             "ylabel": "mean cross-entropy",
             "series": [{"name": "Pith", "points": [(e["epoch"], e["loss"], "")
                                                     for e in result["epochs"]]}]}
    (DOCS / "fashion_cnn.svg").write_text(
        plot.chart([panel], "Fashion-MNIST CNN trained from scratch", columns=1))
    table = ("| trained by | epochs | test top-1 | train time |\n| --- | --- | --- | --- |\n"
             f"| torch 1.13 (corpus recipe, with dropout and flips) | {result['torch_epochs']} | "
             f"{result['torch_top1']:.4f} | {result['torch_train_seconds']:.0f} s |\n"
             f"| `pith train` | {len(result['epochs'])} | **{result['pith_top1']:.4f}** | "
             f"{sum(e['seconds'] for e in result['epochs']):.0f} s |\n"
             f"| untrained (the initialization) | 0 | {result['untrained_top1']:.4f} | – |\n\n"
             f"Difference: {100 * (result['pith_top1'] - result['torch_top1']):+.2f} points. "
             f"Step memory: arena {result['arena_mb']:.1f} MB, {result['step_mb']:.1f} MB with "
             "the step's inputs and outputs. Command:\n\n```\n" + result["command"] + "\n```\n")
    common.replace_marked(REPO / "docs" / "training.md", "fashion_cnn table", table)
    print("wrote docs/training/fashion_cnn.svg and the table in docs/training.md")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    result = json.loads(JSON_PATH.read_text()) if args.render_only else run(args.epochs)
    render(result)


if __name__ == "__main__":
    main()

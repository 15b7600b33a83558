#!/usr/bin/env python3
"""The corpus transformer LM trained by Pith from torch's initialization,
against the torch-trained model of the corpus.

1. Debian's python3-torch builds the corpus LM (bench/corpus/tiny_lm.py: 4
   blocks of width 256, tied embeddings) with the corpus run's seed, so with
   the same initial weights, and exports it untrained. The export folds the
   output projection's transposed embedding into a copy; the script reads it
   through a Transpose of the embedding again, so it stays tied, as in torch.
2. Pith trains it with Model.train (the loop behind `pith train`) on 300
   batches of 16 random 129-token windows of the training fortunes, as
   torch's run drew them. The recipe is torch's: AdamW with betas
   (0.9, 0.98), weight decay 0.1, peak learning rate 2e-3, gradients clipped
   to norm 1, and 5% warm-up. The causal mask is frozen.
   Differences: torch decays only the matrices (not biases, norms or
   positions), and warms up linearly before its cosine; Pith decays every
   parameter and uses its one-cycle schedule (a cosine warm-up from lr/25).
   The windows are drawn by numpy, not torch's generator.
3. Held-out perplexity on the 1,028 evaluation windows (onnxruntime, each
   window scored from its own start), for the Pith-trained and the
   torch-trained model.

Writes docs/training/tiny_lm.json and the table in docs/training.md.

Usage: .venv/bin/python bench/training/tiny_lm.py [--steps 300] [--render-only]
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "corpus"))
sys.path.insert(0, str(REPO / "build" / "python"))
import common  # noqa: E402

OUT = REPO / "bench" / "out" / "training"
DOCS = REPO / "docs" / "training"
JSON_PATH = DOCS / "tiny_lm.json"

EXPORT_INIT = r"""
import sys, torch
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import common, tiny_lm
common.seed_everything(0)
model = tiny_lm.TinyLM(int(sys.argv[3]))
common.export_onnx(model, torch.zeros(2, 16, dtype=torch.long), Path(sys.argv[2]), "tokens",
                   "logits", {"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
"""


def tie_embeddings(path):
    """torch's export folds the output projection's embed.weight.t() into a
    copy; read it through a Transpose again, so the embedding stays tied."""
    import onnx
    from onnx import helper, numpy_helper
    model = onnx.load(path)
    inits = {t.name: t for t in model.graph.initializer}
    embed = numpy_helper.to_array(inits["embed.weight"])
    copy = next(t for t in model.graph.initializer if t.name != "embed.weight" and
                numpy_helper.to_array(t).shape == embed.T.shape and
                np.array_equal(numpy_helper.to_array(t), embed.T))
    model.graph.initializer.remove(copy)
    model.graph.node.insert(0, helper.make_node("Transpose", ["embed.weight"], [copy.name],
                                                name="tied_output_projection", perm=[1, 0]))
    onnx.save(model, path)
    return copy.name


def training_windows(steps, batch, seq, seed):
    """steps * batch random windows of seq + 1 tokens of the training stream."""
    train_text, _, _ = common.split_fortunes(common.load_fortunes())
    tokenizer = common.CharTokenizer.load()
    stream = tokenizer.encode_stream(train_text)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(stream) - seq - 1, steps * batch)
    windows = stream[starts[:, None] + np.arange(seq + 1)]
    return {"tokens": windows[:, :-1].copy(), "labels": windows[:, 1:].copy()}, tokenizer


def perplexity(path, windows, batch=64):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    total, count = 0.0, 0
    for start in range(0, len(windows), batch):
        tokens = windows[start:start + batch]
        logits = session.run(None, {"tokens": tokens})[0]
        nll, n = common.sequence_nll(logits, tokens)
        total, count = total + nll, count + n
    return math.exp(total / count)


def run(steps):
    import pith
    OUT.mkdir(parents=True, exist_ok=True)
    torch_info = json.loads((common.MODELS_DIR / "tiny_lm_training.json").read_text())
    init = OUT / "tiny_lm_init.onnx"
    subprocess.run(["/usr/bin/python3", "-c", EXPORT_INIT, str(REPO / "bench" / "corpus"),
                    str(init), str(torch_info["vocab_size"])], check=True)
    tie_embeddings(init)
    data, _ = training_windows(steps, torch_info["batch"], torch_info["seq"] - 1, seed=0)
    eval_windows = common.load_tokens(common.LM_EVAL)
    model = pith.load(init)
    start = time.perf_counter()
    run = model.train(data, epochs=1, batch_size=torch_info["batch"], optimizer="adamw",
                      learning_rate=torch_info["max_lr"], schedule="one-cycle", warmup=0.05,
                      beta2=0.98, weight_decay=0.1, clip_norm=1.0, freeze=["mask"], seed=0,
                      on_epoch=lambda e: print(f"epoch {e['epoch']}: loss {e['loss']:.3f}, "
                                               f"{e['samples_per_second']:.1f} windows/s",
                                               flush=True))
    seconds = time.perf_counter() - start
    trained = OUT / "tiny_lm_pith.onnx"
    model.save(trained)
    losses = run["losses"]
    result = {
        "steps": len(losses), "batch": torch_info["batch"], "tokens_per_window": data["tokens"].shape[1],
        "pith_train_seconds": seconds, "arena_mb": run["arena_bytes"] / 1e6,
        "first_loss": losses[0], "last_losses_mean": float(np.mean(losses[-25:])),
        "pith_perplexity": perplexity(trained, eval_windows),
        "torch_perplexity": perplexity(common.ensure_lm_model(), eval_windows),
        "torch_reported_perplexity": torch_info["torch_eval_perplexity"],
        "untrained_perplexity": perplexity(init, eval_windows),
        "unigram_perplexity": torch_info["unigram_eval_perplexity"],
        "torch_train_seconds": torch_info["train_seconds"],
        "losses_every_25": [float(np.mean(losses[i:i + 25])) for i in range(0, len(losses), 25)],
    }
    DOCS.mkdir(parents=True, exist_ok=True)
    common.write_json(JSON_PATH, result)
    return result


def render(r):
    table = ("| trained by | steps (batch 16 x 128 tokens) | held-out perplexity | train time |\n"
             "| --- | --- | --- | --- |\n"
             f"| torch 1.13 (corpus recipe) | 300 | {r['torch_perplexity']:.3f} | "
             f"{r['torch_train_seconds']} s |\n"
             f"| Pith (`Model.train`, from torch's initialization) | {r['steps']} | "
             f"**{r['pith_perplexity']:.3f}** | {r['pith_train_seconds']:.0f} s |\n"
             f"| untrained (the initialization) | 0 | {r['untrained_perplexity']:.3f} | – |\n"
             f"| unigram baseline | – | {r['unigram_perplexity']:.3f} | – |\n\n"
             f"Difference: {100 * (r['pith_perplexity'] / r['torch_perplexity'] - 1):+.1f}% "
             f"perplexity. Loss per 25 steps: "
             + ", ".join(f"{x:.2f}" for x in r["losses_every_25"])
             + f". Step arena {r['arena_mb']:.0f} MB.\n")
    common.replace_marked(REPO / "docs" / "training.md", "tiny_lm table", table)
    print(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    result = json.loads(JSON_PATH.read_text()) if args.render_only else run(args.steps)
    render(result)


if __name__ == "__main__":
    main()

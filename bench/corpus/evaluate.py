"""Evaluates the corpus's trained models on held-out data with onnxruntime and
with Pith's compiled code, and prints both figures and their difference.

Run with the project's venv (numpy, onnx, onnxruntime):

    .venv/bin/python bench/corpus/evaluate.py                  # all three models
    .venv/bin/python bench/corpus/evaluate.py --task cnn --limit 1000
    .venv/bin/python bench/corpus/evaluate.py --task lm --model /tmp/lm.int8.onnx --json out.json

Tasks and metrics:
  cnn, mlp  Fashion-MNIST top-1 accuracy on the official 10k test set
            (read from /usr/share/datasets/fashion-mnist).
  lm        tiny_lm perplexity on the held-out fortunes
            (models/tiny_lm_eval.npz: windows of 128 tokens, each scored from
            its own start), next to the training split's unigram baseline.

--model evaluates another file (e.g. a transformed model) in place of the
committed one; it must keep the committed model's input and output. Pith
compiles each model once (`pith compile`, symbolic dimensions kept) and one
library runs every batch.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

sys.path.insert(0, str(common.REPO / "test" / "python"))
PITH = common.REPO / "build" / "bin" / "pith"

TASKS = {
    "cnn": {"model": common.FASHION_MODELS["cnn"], "metric": "top1", "input": "image"},
    "mlp": {"model": common.FASHION_MODELS["mlp"], "metric": "top1", "input": "image"},
    "lm": {"model": common.LM_MODEL, "metric": "perplexity", "input": "tokens"},
}


class OnnxRuntime:
    name = "onnxruntime"

    def __init__(self, model_path, threads):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model_path), options,
                                            providers=["CPUExecutionProvider"])

    def __call__(self, feeds):
        return self.session.run(None, feeds)[0]


class Pith:
    """`pith compile` once into a temporary directory, then runs the library
    through the C API (test/python/compiled_model.py)."""
    name = "pith"

    def __init__(self, model_path, threads):
        del threads  # Pith's compiled code picks its own threading.
        if not PITH.exists():
            raise SystemExit(f"error: {PITH} is missing: build Pith first")
        from compiled_model import CompiledModel
        self.workdir = tempfile.TemporaryDirectory(prefix="pith-corpus-")
        library = Path(self.workdir.name) / "model.so"
        result = subprocess.run([str(PITH), "compile", str(model_path), "-o", str(library)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"pith compile {model_path} failed: {result.stderr.strip()}")
        self.model = CompiledModel(library)

    def __call__(self, feeds):
        return self.model.run(feeds)[0]


def fashion_data(limit):
    images, labels = common.load_fashion_mnist("t10k")
    images, labels = images[:limit], labels[:limit]
    return common.normalize_images(images), labels.astype(np.int64)


def run_top1(runner, data, batch):
    """Top-1 accuracy and the logits (kept to compare the two runtimes)."""
    images, labels = data
    logits = np.concatenate([runner({"image": images[i:i + batch]})
                             for i in range(0, len(images), batch)])
    if logits.shape != (len(images), 10):
        raise RuntimeError(f"{runner.name}: logits of shape {logits.shape}, "
                           f"expected {(len(images), 10)}")
    return float((logits.argmax(1) == labels).mean()), logits


def run_perplexity(runner, windows, batch):
    total, count, chunks = 0.0, 0, []
    for i in range(0, len(windows), batch):
        tokens = windows[i:i + batch]
        logits = runner({"tokens": tokens})
        if logits.shape[:2] != tokens.shape:
            raise RuntimeError(f"{runner.name}: logits of shape {logits.shape} "
                               f"for tokens of shape {tokens.shape}")
        nll, n = common.sequence_nll(logits, tokens)
        total, count = total + nll, count + n
        chunks.append(logits)
    return float(np.exp(total / count)), np.concatenate(chunks)


def evaluate(task, model_path=None, limit=None, batch=None, threads=2,
             backends=(OnnxRuntime, Pith)):
    """Evaluates one task with each backend; returns a dict of figures (what
    --json writes for the task)."""
    spec = TASKS[task]
    if model_path is None and task == "lm":
        common.ensure_lm_model()  # rebuilt from its compact committed form
    model_path = Path(model_path or spec["model"])
    if not model_path.exists():
        raise SystemExit(f"error: model {model_path} is missing")
    if spec["metric"] == "top1":
        data, measure, batch = fashion_data(limit), run_top1, batch or 256
        examples = len(data[1])
    else:
        data, measure, batch = common.load_tokens(common.LM_EVAL)[:limit], run_perplexity, batch or 32
        examples = len(data)
    if examples == 0:
        raise SystemExit("error: --limit leaves no examples to evaluate")
    result = {"task": task, "model": str(model_path), "metric": spec["metric"],
              "examples": examples}
    logits = {}
    for backend in backends:
        start = time.time()
        runner = backend(model_path, threads)
        result[backend.name], logits[backend.name] = measure(runner, data, batch)
        result[f"{backend.name}_seconds"] = round(time.time() - start, 2)
    if len(logits) == 2:
        a, b = logits.values()
        reference = result[OnnxRuntime.name]
        result["relative_difference"] = abs(result[Pith.name] - reference) / abs(reference)
        result["max_abs_logit_difference"] = float(np.abs(a - b).max())
    if task == "lm" and common.LM_TRAINING.exists():
        # The unigram baseline was measured on the full evaluation set.
        training = json.loads(common.LM_TRAINING.read_text())
        result["unigram_perplexity_full_eval"] = training["unigram_eval_perplexity"]
    return result


def describe(result):
    line = f"{result['task']:4} {result['metric']:10} n={result['examples']:<6}"
    for name in (OnnxRuntime.name, Pith.name):
        if name in result:
            line += f" {name} {result[name]:.6f} ({result[name + '_seconds']:.1f} s)"
    if "relative_difference" in result:
        line += (f"  rel. diff {result['relative_difference']:.2e}"
                 f"  max |logit diff| {result['max_abs_logit_difference']:.2e}")
    if "unigram_perplexity_full_eval" in result:
        line += f"  unigram baseline {result['unigram_perplexity_full_eval']:.3f}"
    return line


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--task", action="append", choices=sorted(TASKS),
                        help="model to evaluate (repeatable; default: all)")
    parser.add_argument("--model", type=Path,
                        help="evaluate this ONNX file in place of the committed model "
                             "(needs exactly one --task)")
    parser.add_argument("--limit", type=int, help="evaluate the first N examples only")
    parser.add_argument("--batch", type=int, help="examples per run (default 256 images, 32 windows)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--only", choices=[OnnxRuntime.name, Pith.name],
                        help="run one backend only")
    args = parser.parse_args()
    tasks = args.task or list(TASKS)
    if args.model and len(tasks) != 1:
        parser.error("--model needs exactly one --task (cnn, mlp or lm)")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be positive, got {args.limit}")
    if args.batch is not None and args.batch < 1:
        parser.error(f"--batch must be positive, got {args.batch}")
    backends = [b for b in (OnnxRuntime, Pith) if args.only in (None, b.name)]

    results = {}
    for task in tasks:
        try:
            results[task] = evaluate(task, args.model, args.limit, args.batch, args.threads,
                                     backends)
        except RuntimeError as error:
            raise SystemExit(f"error: {task}: {error}")
        print(describe(results[task]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

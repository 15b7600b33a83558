#!/usr/bin/env python3
"""Accuracy of pith-mixed-precision on the corpus's real tasks, fp16 and bf16
(keep-io-types, range-checked on each model's calibration split):

  MiniLM-L6   cosine of each sentence embedding against the fp32 reference
              (bench/corpus/minilm_reference.py), 300 held-out sentences
  CNN, MLP    Fashion-MNIST top-1 on the official 10k test set
  tiny_lm     perplexity on the 1,028 held-out windows

Every converted model runs in Pith's compiled code; the fp16 files also in
onnxruntime (its CPU provider has no bf16 kernels for Add, Conv, ...). Each
run's outputs on the calibration and the evaluation data are checked for NaN
and Inf. Writes docs/mixed_precision/accuracy.json.

Usage: .venv/bin/python bench/mixed_precision/accuracy.py [--limit N]
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "corpus"))
sys.path.insert(0, str(REPO / "bench" / "tying"))
sys.path.insert(0, str(REPO / "test" / "python"))
sys.path.insert(0, str(REPO / "build" / "python"))
import calibration as tying_calibration  # noqa: E402  (bench/tying/calibration.py)
import common  # noqa: E402
import evaluate  # noqa: E402  (bench/corpus/evaluate.py)
import minilm  # noqa: E402

import pith  # noqa: E402

OUT = REPO / "bench" / "out" / "mixed_precision"
JSON_PATH = REPO / "docs" / "mixed_precision" / "accuracy.json"
PRECISIONS = ["fp16", "bf16"]


def fashion_calibration():
    with np.load(common.FASHION_CALIBRATION) as data:
        images = common.normalize_images(data["images"][:256])
    path = OUT / "fashion_calibration.npz"
    np.savez(path, image=images)
    return path, {"image": images}


def convert(source, precision, calibration, name):
    out = OUT / f"{name}.{precision}.onnx"
    model = pith.load(source).optimize("pith-mixed-precision", precision=precision,
                                       keep_io_types=True, calibration=calibration)
    model.save(out)
    report = model.report()
    figures = {k: v for k, v in report["passes"][0].items() if k not in ("lines", "pass")}
    figures["lines"] = report["passes"][0]["lines"][:3]
    return out, figures


def finite(array):
    return bool(np.isfinite(np.asarray(array, np.float64)).all())


def corpus_task(task, limit):
    """fp32, fp16 and bf16 figures of one corpus model (cnn, mlp or lm)."""
    source = evaluate.TASKS[task]["model"]
    if task == "lm":
        calibration = tying_calibration.write_lm()[0]
        data, measure, batch = common.load_tokens(common.LM_EVAL)[:limit], evaluate.run_perplexity, 32
        with np.load(calibration) as c:
            calibration_feeds = {"tokens": c["tokens"]}
    else:
        calibration, calibration_feeds = fashion_calibration()
        data, measure, batch = evaluate.fashion_data(limit), evaluate.run_top1, 256
    result = {"metric": evaluate.TASKS[task]["metric"]}
    runner = evaluate.Pith(source, 2)
    result["fp32"] = {"pith": measure(runner, data, batch)[0]}
    for precision in PRECISIONS:
        path, figures = convert(source, precision, calibration, task)
        entry = {"report": figures}
        runner = evaluate.Pith(path, 2)
        entry["pith"], logits = measure(runner, data, batch)
        entry["finite"] = finite(logits) and finite(runner(calibration_feeds))
        if precision == "fp16":
            ort_runner = evaluate.OnnxRuntime(path, 2)
            entry["onnxruntime"], ort_logits = measure(ort_runner, data, batch)
            entry["finite"] = entry["finite"] and finite(ort_logits)
        reference = result["fp32"]["pith"]
        entry["change"] = entry["pith"] - reference
        entry["relative_change"] = (entry["pith"] - reference) / reference
        result[precision] = entry
        print(task, precision, {k: v for k, v in entry.items() if k != "report"}, flush=True)
    return result


def minilm_task(limit):
    calibration, _ = tying_calibration.write_minilm()
    source = minilm.ensure_minilm_onnx()
    sentences = minilm.evaluation_sentences()[:limit]
    tokenizer = minilm.load_tokenizer()
    result = {"metric": "cosine against the fp32 reference",
              "fp32": minilm.evaluate(source, "pith", sentences=sentences)}
    for precision in PRECISIONS:
        path, figures = convert(source, precision, calibration, "minilm")
        runner = minilm.Runner(path, "pith")
        entry = minilm.evaluate(runner=runner, sentences=sentences)
        calibration_out = minilm.embed(runner.run, minilm.calibration_sentences()[:32], tokenizer)
        entry["finite"] = finite(calibration_out) and bool(np.isfinite(entry["cosine_min"]))
        if precision == "fp16":
            ort = minilm.evaluate(runner=minilm.Runner(path, "onnxruntime"), sentences=sentences)
            entry["onnxruntime_cosine_min"] = ort["cosine_min"]
        entry["report"] = figures
        result[precision] = entry
        print("minilm", precision, {k: entry[k] for k in ("cosine_mean", "cosine_min", "finite")},
              flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="evaluate the first N examples only")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = {"minilm": minilm_task(args.limit)}
    for task in ("cnn", "mlp", "lm"):
        data[task] = corpus_task(task, args.limit)
    JSON_PATH.parent.mkdir(parents=True, exist_ok=True)
    JSON_PATH.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {JSON_PATH.relative_to(REPO)}")


if __name__ == "__main__":
    main()

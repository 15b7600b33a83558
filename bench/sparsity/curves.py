#!/usr/bin/env python3
"""Sparsity vs task metric for pith-sparsify: patterns x criteria.

Each run prunes a model with the Python package (the same passes `pith
optimize` runs),

    model = pith.load(MODEL)
    model.optimize("pith-sparsify{pattern=P sparsity=S criterion=C}", calibration=CAL)
    model.save(OUT)

and evaluates the written ONNX with onnxruntime on held-out data:

- Fashion-MNIST CNN and MLP: top-1 accuracy on the 10,000 test images;
  calibration: 256 of the calibration split's images (never test images).
- the tiny character LM: perplexity on the 1,028 evaluation windows;
  calibration: 32 windows of its calibration split.
- MiniLM-L6: mean/minimum cosine and pairwise Spearman of the embeddings
  against the original's on 300 evaluation sentences; calibration: 200
  calibration sentences.

Runs: unstructured and block4x4 at 50/70/90% and 2:4 (50%), each by
magnitude and by activation (Wanda); on the CNN, MLP and LM also
`global=true` (unstructured, magnitude: per-layer sparsity from measured
sensitivity); on MiniLM, 50% unstructured and 2:4 with both criteria.
One pruned model per task is compiled by Pith and compared with
onnxruntime (onnx.checker, relative output difference <= 1e-4).

Writes docs/sparsity/curves.json, curves.md (its commentary block survives
reruns) and one SVG per model.

Usage: .venv/bin/python bench/sparsity/curves.py [--models cnn mlp lm minilm] [--render-only]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "tying"))
sys.path.insert(0, str(REPO / "build" / "python"))
import harness  # noqa: E402  (tasks: MiniLM, LM; onnxruntime helpers)
import plot  # noqa: E402  (SVG charts)
from harness import common, minilm  # noqa: E402

import pith  # noqa: E402

OUT = REPO / "bench" / "out" / "sparsity"
DOCS = REPO / "docs" / "sparsity"
JSON_PATH = DOCS / "curves.json"
MD_PATH = DOCS / "curves.md"
SPARSITIES = [0.5, 0.7, 0.9]
CRITERIA = ["magnitude", "activation"]


def runs_for(model):
    """(pattern, sparsity or None, criterion, global) of each run."""
    if model == "minilm":
        return [(p, s, c, False) for c in CRITERIA for p, s in (("unstructured", 0.5), ("2:4", None))]
    runs = []
    for criterion in CRITERIA:
        runs += [("unstructured", s, criterion, False) for s in SPARSITIES]
        runs += [("block4x4", s, criterion, False) for s in SPARSITIES]
        runs.append(("2:4", None, criterion, False))
    runs += [("unstructured", s, "magnitude", True) for s in SPARSITIES]
    return runs


class FashionTask:
    """Top-1 accuracy on the Fashion-MNIST test set with onnxruntime."""

    def __init__(self, name):
        self.name = name
        self.model = REPO / "bench" / "corpus" / "models" / f"fashion_mnist_{name}.onnx"
        images, labels = common.load_fashion_mnist("t10k")
        self.images = common.normalize_images(images)
        self.labels = labels.astype(np.int64)

    def metrics(self, path):
        session = harness.ort_session(path)
        logits = np.concatenate([session.run(None, {"image": self.images[i:i + 500]})[0]
                                 for i in range(0, len(self.images), 500)])
        return {"top1": float((logits.argmax(1) == self.labels).mean())}

    def compare_runtimes(self, path, count=256):
        compiled = pith.load(path).compile(input_shapes={"image": [count, 1, 28, 28]})
        x = np.ascontiguousarray(self.images[:count])
        (ort,) = harness.ort_session(path).run(None, {"image": x})
        (ours,) = compiled(x)
        return harness.relative_error([ort], [ours])


def calibration_for(task_name):
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{task_name}_calibration.npz"
    if task_name in ("cnn", "mlp"):
        with np.load(REPO / "bench" / "corpus" / "models" / "fashion_mnist_calibration.npz") as data:
            images = common.normalize_images(data["images"][:256])
        np.savez(path, image=images)
    elif task_name == "lm":
        np.savez(path, tokens=common.load_tokens(common.LM_CALIBRATION)[:32])
    else:
        np.savez(path, **minilm.tokenize(minilm.calibration_sentences()[:200]))
    return path


def task_for(name):
    if name in ("cnn", "mlp"):
        return FashionTask(name)
    return harness.LMTask() if name == "lm" else harness.MiniLMTask()


def spec(pattern, sparsity, criterion, global_):
    options = {"pattern": pattern}
    if sparsity is not None:
        options["sparsity"] = sparsity
    options["criterion"] = criterion
    if global_:
        options["global"] = "true"
    return "pith-sparsify{" + " ".join(f"{k}={v}" for k, v in options.items()) + "}"


def sweep(name):
    task = task_for(name)
    calibration = calibration_for(name)
    result = {"model": str(Path(task.model).relative_to(REPO)),
              "calibration": str(calibration.relative_to(REPO)),
              "original": {"metrics": task.metrics(task.model)}, "runs": []}
    print(f"{name}: original {result['original']['metrics']}", flush=True)
    for pattern, sparsity, criterion, global_ in runs_for(name):
        pipeline = spec(pattern, sparsity, criterion, global_)
        tag = pipeline.replace("pith-sparsify{", "").rstrip("}").replace(" ", "_").replace(":", "-")
        out = OUT / name / f"{tag}.onnx"
        out.parent.mkdir(parents=True, exist_ok=True)
        run = {"pattern": pattern, "sparsity": sparsity, "criterion": criterion,
               "global": global_, "pipeline": pipeline}
        start = time.time()
        try:
            model = pith.load(task.model)
            model.optimize(pipeline, calibration=calibration)
            model.save(out)
            report = model.report()["passes"][0]
        except pith.PithError as error:
            run["failure"] = str(error)
            print(f"  FAILED {pipeline}: {error}", flush=True)
            result["runs"].append(run)
            continue
        run.update(seconds=round(time.time() - start, 1), output=str(out.relative_to(REPO)),
                   report=report, metrics=task.metrics(out))
        pruned, total = report["parameters"] - report["nonzero_after"], report["parameters"]
        run["achieved"] = pruned / total if total else 0.0
        print(f"  {pipeline:70} {run['achieved']:.3f} zeros of {total:,} in "
              f"{report['layers_pruned']} layers, error {report.get('error', float('nan')):.3g}, "
              f"{run['metrics']} [{run['seconds']:.0f} s]", flush=True)
        result["runs"].append(run)
    # Pith against onnxruntime on the 70% (MiniLM: 50%) unstructured magnitude model.
    candidates = [r for r in result["runs"] if "output" in r and r["pattern"] == "unstructured"
                  and r["criterion"] == "magnitude" and not r["global"]]
    checked = max(candidates, key=lambda r: r["sparsity"] if r["sparsity"] <= 0.7 else 0)
    import onnx
    onnx.checker.check_model(str(REPO / checked["output"]), full_check=True)
    if name in ("minilm", "lm"):
        difference = task.compare_runtimes(REPO / checked["output"], REPO / checked["output"])
    else:
        difference = task.compare_runtimes(REPO / checked["output"])
    result["pith_check"] = {"pipeline": checked["pipeline"], "onnx_checker": "passed",
                            "relative_output_difference": difference,
                            "agrees": difference <= harness.AGREEMENT}
    print(f"  Pith vs onnxruntime on {checked['pipeline']}: {difference:.2e}", flush=True)
    return result


METRIC = {"cnn": ("top1", "top-1 accuracy"), "mlp": ("top1", "top-1 accuracy"),
          "lm": ("perplexity", "perplexity"), "minilm": ("cosine_mean", "mean cosine")}
TITLES = {"cnn": "Fashion-MNIST CNN", "mlp": "Fashion-MNIST MLP", "lm": "tiny character LM",
          "minilm": "MiniLM-L6"}


def render(data):
    lines = ["<!-- Generated by bench/sparsity/curves.py from curves.json, except the "
             "commentary block. -->", "# Sparsity: task metric vs fraction of zeros (pith-sparsify)",
             "", "Each row is one `pith-sparsify` run through the Python package on the "
             "original model, evaluated with onnxruntime on held-out data. *Zeros*: the "
             "fraction of the pruned layers' weights that are zero (layers the pattern cannot "
             "apply to, or below min-size 4096, stay dense: see each report). *Error*: the "
             "pass's max over outputs of ‖y′−y‖₂/‖y‖₂ on the calibration inputs.", "",
             "{commentary}", ""]
    for name, result in data["models"].items():
        key, label = METRIC[name]
        base = result["original"]["metrics"][key]
        lines += [f"## {TITLES[name]}", "",
                  f"Model `{result['model']}`, calibration `{result['calibration']}`. "
                  f"Original {label}: {base:.4f}.", "", f"![{name}]({name}.svg)", "",
                  "| pattern | target | criterion | global | layers | zeros | error | "
                  f"{label} | change |", "|" + " --- |" * 9]
        for run in result["runs"]:
            if "metrics" not in run:
                lines.append(f"| {run['pattern']} | {run['sparsity']} | {run['criterion']} | "
                             f"{run['global']} | failed: {run['failure']} | | | | |")
                continue
            value = run["metrics"][key]
            change = (value - base) / base
            target = run["sparsity"] if run["sparsity"] is not None else 0.5
            lines.append(f"| {run['pattern']} | {target:.0%} | {run['criterion']} | "
                         f"{'yes' if run['global'] else ''} | {run['report']['layers_pruned']} | "
                         f"{run['achieved']:.1%} | {run['report'].get('error', float('nan')):.3g} | "
                         f"{value:.4f} | {change:+.2%} |")
        check = result.get("pith_check")
        if check:
            lines += ["", f"Pith check on `{check['pipeline']}`: onnx.checker passed; Pith's "
                      f"compiled code vs onnxruntime: relative output difference "
                      f"{check['relative_output_difference']:.2e} "
                      f"({'within' if check['agrees'] else '**not within**'} 1e-4)."]
        lines.append("")
    text = harness.keep_commentary(MD_PATH, "\n".join(lines), "(commentary to be written)")
    MD_PATH.write_text(text)
    print(f"wrote {MD_PATH.relative_to(REPO)}")
    for name, result in data["models"].items():
        key, label = METRIC[name]
        base = result["original"]["metrics"][key]
        series = []
        for pattern in ("unstructured", "block4x4", "2:4"):
            for criterion in CRITERIA:
                points = [(r["achieved"], r["metrics"][key], "") for r in result["runs"]
                          if "metrics" in r and r["pattern"] == pattern
                          and r["criterion"] == criterion and not r["global"]]
                if points:
                    series.append({"name": f"{pattern} {criterion}", "points": points,
                                   "line": pattern != "2:4"})
        points = [(r["achieved"], r["metrics"][key], "") for r in result["runs"]
                  if "metrics" in r and r["global"]]
        if points:
            series.append({"name": "global", "points": points, "line": True})
        panel = {"title": f"{TITLES[name]}", "xlabel": "fraction of the pruned layers' weights "
                 "that are zero", "ylabel": label, "series": series,
                 "hlines": [(base, "original")], "ylog": name == "lm"}
        svg = plot.chart([panel], f"{TITLES[name]}: pith-sparsify", columns=1, panel_width=760)
        (DOCS / f"{name}.svg").write_text(svg)
        print(f"wrote docs/sparsity/{name}.svg")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "mlp", "lm", "minilm"],
                        choices=["cnn", "mlp", "lm", "minilm"])
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    data = json.loads(JSON_PATH.read_text()) if JSON_PATH.is_file() else {"models": {}}
    if not args.render_only:
        for name in args.models:
            data["models"][name] = sweep(name)
            DOCS.mkdir(parents=True, exist_ok=True)
            harness.write_json(JSON_PATH, data)
    render(data)


if __name__ == "__main__":
    main()

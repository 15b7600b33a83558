#!/usr/bin/env python3
"""Does one basis shared by several MiniLM layers (pith-share-basis) keep
more of the model than per-layer truncated SVD at the same parameter count?

pith-share-basis factors the corresponding linear weights W_i of a group of
layers as W_i ~ B C_i with one basis B per group, keeping `param-fraction`
of the group's weight parameters. Three groupings per parameter fraction and
weight selection:
  shared basis, groups=all            one basis for all six layers
  shared basis, adjacent pairs        groups=adjacent group-size=2
  per-layer SVD                       groups=adjacent group-size=1: every layer
                                      its own group, i.e. truncated SVD of each
                                      matrix at the same fraction (the baseline)
For each result: the float weight parameters of the written file
(harness.weight_parameters), the output error on the MiniLM calibration
inputs (recomputed with onnxruntime, the pass's own measure) and the
sentence-embedding metrics on the 300 evaluation sentences with onnxruntime
(mean and minimum cosine to the original, Spearman of pairwise similarities).
Two results (--check) are checked with onnx.checker and run with Pith's
compiled code against onnxruntime.

Writes docs/tying/basis_vs_svd.json, basis_vs_svd.md (the hand-written
commentary block survives reruns) and basis_vs_svd.svg (plot.py).

Usage: .venv/bin/python bench/tying/basis_vs_svd.py [--fractions ...]
       [--weights ffn all] [--limit N] [--render-only]
"""

import argparse
import json
import sys
import time

import calibration
import harness
import plot
from harness import DOCS, OUT

FRACTIONS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.8]
WEIGHTS = ["ffn", "all"]
METHODS = {"shared basis, groups=all": {"groups": "all"},
           "shared basis, adjacent pairs": {"groups": "adjacent", "group-size": 2},
           "per-layer SVD": {"groups": "adjacent", "group-size": 1}}
# Results checked against Pith's compiled code: (method, weights, fraction).
CHECKS = [("shared basis, groups=all", "ffn", 0.5), ("per-layer SVD", "ffn", 0.5)]
PASS = "pith-share-basis"
JSON_PATH = DOCS / "basis_vs_svd.json"
MD_PATH = DOCS / "basis_vs_svd.md"


def sweep(pith, task, calibration_npz, fractions, weights_list, pass_calibration):
    calibration_error = harness.CalibrationError(task.model, calibration_npz)
    data = {"model": str(task.model.relative_to(harness.REPO)),
            "calibration": str(calibration_npz.relative_to(harness.REPO)),
            "pipeline_prefix": harness.PIPELINE_PREFIX,
            "pith_built": time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                        time.gmtime(pith.stat().st_mtime)),
            "evaluation_limit": task.limit, "weights": weights_list, "methods": list(METHODS),
            "original": {"parameters": harness.weight_parameters(task.model),
                         "metrics": task.metrics(task.model)},
            "runs": []}
    for weights in weights_list:
        for fraction in fractions:
            for method, grouping in METHODS.items():
                options = {"weights": weights, **grouping, "param-fraction": fraction}
                tag = "-".join(f"{v}" for v in options.values())
                out = OUT / "basis" / f"basis-{tag}.onnx"
                run = {"method": method, "options": options}
                try:
                    report, seconds, command = harness.run_optimize(
                        pith, task.model, out, PASS, options,
                        calibration_npz if pass_calibration else None)
                except (harness.OptimizeError, json.JSONDecodeError) as error:
                    print(f"FAILED {method} {options}: {error}", file=sys.stderr, flush=True)
                    run["failure"] = str(error)
                    data["runs"].append(run)
                    continue
                run.update(output=str(out.relative_to(harness.REPO)), command=command,
                           optimize_seconds=round(seconds, 1), report=report,
                           parameters=harness.weight_parameters(out))
                ort_path, run["duplicate_node_names"] = harness.for_onnxruntime(out)
                if run["duplicate_node_names"]:
                    print(f"!!! {out} repeats node names {run['duplicate_node_names'][:3]}: "
                          "onnxruntime runs a renamed copy", file=sys.stderr, flush=True)
                run.update(onnxruntime_calibration_error=calibration_error(ort_path),
                           metrics=task.metrics(ort_path))
                if (method, weights, fraction) in CHECKS:
                    run["pith_check"] = harness.check_against_pith(task, out, ort_path)
                    if not run["pith_check"]["agrees"]:
                        print(f"!!! PITH CHECK FAILED on {out}: {run['pith_check']}",
                              file=sys.stderr, flush=True)
                print(f"{method:30} {weights:4} {fraction}: params "
                      f"{run['parameters']['unique']:,} error "
                      f"{run['onnxruntime_calibration_error']:.4g} {run['metrics']} "
                      f"[{seconds:.0f} s]", flush=True)
                data["runs"].append(run)
            harness.write_json(JSON_PATH, data)  # partial results survive a later failure
    return data


def render_markdown(data):
    original = data["original"]
    limit = data["evaluation_limit"]
    lines = ["<!-- Generated by bench/tying/basis_vs_svd.py from basis_vs_svd.json, except "
             "the commentary block. -->",
             "# Shared basis vs per-layer SVD on MiniLM-L6 (pith-share-basis)", "",
             f"`pith optimize --pipeline '{data['pipeline_prefix']}pith-share-basis{{...}}'` on "
             f"`{data['model']}`. *Parameters*: float weight elements of the written file "
             "(a shared tensor counted once). *Error*: max over outputs of ‖y′−y‖₂/‖y‖₂ on "
             f"the calibration inputs `{data['calibration']}`, computed with onnxruntime. "
             "Metrics: sentence embeddings on "
             + ("all 300" if limit is None else f"the first {limit}")
             + " evaluation sentences with onnxruntime, against the original's. "
             f"Original: {original['parameters']['unique']:,} parameters. Pith binary built "
             f"{data['pith_built']}.", "",
             "Reproduce: `.venv/bin/python bench/tying/basis_vs_svd.py` (about 12 minutes "
             "on 2 cores); redraw the chart alone with `bench/tying/plot.py`.", "",
             "![parameters vs metrics](basis_vs_svd.svg)", ""]
    note = harness.duplicate_names_note(data["runs"])
    if note:
        lines += [note, ""]
    lines += ["{commentary}", ""]
    runs = data["runs"]
    for weights in data["weights"]:
        lines += [f"## weights={weights}", "",
                  "| param-fraction | method | parameters | % of original | error | "
                  "cosine mean | cosine min | Spearman | s |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for run in runs:
            options = run["options"]
            if options["weights"] != weights:
                continue
            if "failure" in run:
                lines.append(f"| {options['param-fraction']} | {run['method']} | "
                             "**failed** (see JSON) |")
                continue
            params = run["parameters"]["unique"]
            metrics = run["metrics"]
            lines.append(f"| {options['param-fraction']} | {run['method']} | {params:,} | "
                         f"{100.0 * params / original['parameters']['unique']:.1f} | "
                         f"{run['onnxruntime_calibration_error']:.4g} | "
                         f"{metrics['cosine_mean']:.5f} | {metrics['cosine_min']:.4f} | "
                         f"{metrics['pairwise_spearman']:.5f} | {run['optimize_seconds']} |")
        lines.append("")
    for run in runs:
        check = run.get("pith_check")
        if check:
            options = " ".join(f"{k}={v}" for k, v in run["options"].items())
            lines += [harness.describe_check(f"{run['method']} (`{options}`)", check), ""]
    return harness.keep_commentary(MD_PATH, "\n".join(lines), "_Commentary to be written "
                                                              "after reading the results._")


def render(data):
    MD_PATH.write_text(render_markdown(data))
    print(f"wrote {MD_PATH.relative_to(harness.REPO)}")
    plot.write_charts(plot.basis_charts(data))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fractions", nargs="+", type=float, default=FRACTIONS)
    parser.add_argument("--weights", nargs="+", choices=["ffn", "attention", "all"],
                        default=WEIGHTS)
    parser.add_argument("--limit", type=int, help="evaluate on the first N sentences only")
    parser.add_argument("--pass-calibration", action="store_true",
                        help="also give the pass the calibration inputs (it then compiles "
                             "both models to report the error itself: slower)")
    parser.add_argument("--render-only", action="store_true",
                        help="redraw basis_vs_svd.md and the chart from basis_vs_svd.json")
    args = parser.parse_args()
    if args.render_only:
        render(json.loads(JSON_PATH.read_text()))
        return
    if not harness.passes_available(PASS):
        raise SystemExit(f"error: {harness.PITH_OPT} does not register {PASS}: build Pith")
    pith = harness.snapshot_pith()
    npz, _ = calibration.write_minilm()
    render(sweep(pith, harness.MiniLMTask(args.limit), npz, args.fractions, args.weights,
                 args.pass_calibration))


if __name__ == "__main__":
    main()

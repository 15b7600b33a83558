#!/usr/bin/env python3
"""Parameters vs task metric for pith-low-rank, plain vs activation-aware.

pith-low-rank factors linear layers by truncated SVD. This sweep runs it on
MiniLM-L6 (sentence embeddings) and the trained tiny character LM
(perplexity).

Every run is

    pith optimize MODEL -o OUT --pipeline 'pith-low-rank{...}' \
        --calibration CAL.npz --report-json R.json

(no pith-prepare prefix: the pass lifts the initializers itself) and records
the parameters of the factored layers before and after (the pass's report),
the linear-layer parameters (2-D float initializers read as the weight of a
MatMul or Gemm: a factored layer counts both factors) and the whole model's
float weights of the written file, the calibration output error (as the pass
reports it and recomputed with onnxruntime), and the task metric on held-out
data with onnxruntime: MiniLM mean/minimum cosine and pairwise-similarity
Spearman against the original's embeddings (300 evaluation sentences), LM
perplexity (1,028 evaluation windows).

Calibration (never evaluation data) is larger than the tying sweeps', since
activation-aware whitening overfits a small set: the first 200 MiniLM
calibration sentences and 32 windows of bench/corpus/models/tiny_lm_calibration.npz,
written to bench/out/lowrank/.

The runs (MINILM_RUNS, LM_RUNS): target-params fractions for both variants
(equal parameter counts by construction), energy points, and on MiniLM the
ffn output layers alone (`layers=`), the candidates for the acceptance
"mean cosine >= 0.99 with >= 30% fewer parameters in the factored layers";
each activation-aware run on layer 0's ffn output has a plain twin at the
same rank. One result per model (CHECKS) is checked with onnx.checker and
Pith's compiled code against onnxruntime (harness.check_against_pith).

Writes docs/lowrank/curves.json, curves.md (the hand-written commentary
block survives reruns), minilm.svg and lm.svg.

Usage: .venv/bin/python bench/lowrank/curves.py [--models minilm lm]
       [--render-only]
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tying"))
import harness  # noqa: E402  (pith optimize, metrics, Pith checks)
import plot  # noqa: E402  (SVG charts)
from harness import REPO, common, minilm  # noqa: E402

# The pass lifts the initializers itself: no pith-prepare before it
# (harness.run_optimize puts PIPELINE_PREFIX before the pass).
harness.PIPELINE_PREFIX = ""

OUT = REPO / "bench" / "out" / "lowrank"
DOCS = REPO / "docs" / "lowrank"
JSON_PATH = DOCS / "curves.json"
MD_PATH = DOCS / "curves.md"
PASS = "pith-low-rank"
MINILM_SENTENCES = 200
LM_WINDOWS = 32
FRACTIONS = [0.9, 0.8, 0.7, 0.5]
LM_FRACTIONS = [0.9, 0.75, 0.5, 0.3]
AWARE = {"activation-aware": "true"}
FFN_OUTPUT = [f"encoder.layer.{i}.output.dense.weight_t" for i in range(6)]
# Acceptance thresholds.
MINILM_COSINE = 0.99
MINILM_FACTORED_KEPT = 0.7   # factored layers' parameters fall by >= 30%
LM_LINEAR_KEPT = 0.75        # >= 25% fewer linear-layer parameters
LM_PERPLEXITY_RISE = 0.05    # perplexity rises by at most 5% there

# (series, options, plain twin): the twin is a plain run at the rank the
# activation-aware run chose (one layer, so one rank).
MINILM_RUNS = (
    [("plain, target-params", {"target-params": f}, False) for f in FRACTIONS]
    + [("activation-aware, target-params", {"target-params": f, **AWARE}, False)
       for f in FRACTIONS]
    + [("plain, energy", {"energy": 0.95}, False)]
    + [("activation-aware, energy", {"energy": e, **AWARE}, False) for e in (0.995, 0.999)]
    + [("activation-aware, 6 ffn outputs, target-params",
        {"target-params": 0.7, **AWARE, "layers": ",".join(FFN_OUTPUT)}, False)]
    + [("activation-aware, layer-0 ffn output, max-rel-error",
        {"max-rel-error": e, **AWARE, "layers": FFN_OUTPUT[0]}, True) for e in (0.03, 0.04, 0.05)])
LM_RUNS = ([("plain, target-params", {"target-params": f}, False) for f in LM_FRACTIONS]
           + [("activation-aware, target-params", {"target-params": f, **AWARE}, False)
              for f in LM_FRACTIONS])
PLAIN_TWIN = "plain, layer-0 ffn output, same rank"
# Checked against Pith's compiled code: MiniLM's acceptance result (or, if
# none, this run) and the LM's activation-aware 25% point.
CHECKS = {"minilm": ("activation-aware, target-params", 0.7),
          "lm": ("activation-aware, target-params", 0.75)}


def snapshot_pith():
    """harness.snapshot_pith into bench/out/lowrank/ (not the tying sweeps'
    copy, which another sweep may be running)."""
    harness.SNAPSHOT = OUT / "pith-snapshot"
    return harness.snapshot_pith()


def write_calibration():
    """{model: .npz path} of the calibration inputs (see the docstring)."""
    OUT.mkdir(parents=True, exist_ok=True)
    feeds = {"minilm": minilm.tokenize(minilm.calibration_sentences()[:MINILM_SENTENCES]),
             "lm": {"tokens": common.load_tokens(common.LM_CALIBRATION)[:LM_WINDOWS]}}
    paths = {}
    for name, arrays in feeds.items():
        paths[name] = OUT / f"{name}_calibration.npz"
        np.savez(paths[name], **arrays)
    return paths


def linear_parameters(path):
    """Elements of the 2-D float initializers read as the weight (input 1)
    of a MatMul or Gemm: a linear layer's matrix, or both of its factors."""
    import onnx
    model = onnx.load(str(path))
    matrices = {t.name: t for t in model.graph.initializer
                if len(t.dims) == 2 and t.data_type == onnx.TensorProto.FLOAT}
    names = {n.input[1] for n in model.graph.node
             if n.op_type in ("MatMul", "Gemm") and n.input[1] in matrices}
    return sum(int(np.prod(matrices[name].dims)) for name in names)


def option_text(options):
    """Options for a table: the layers list shortened to its count."""
    shown = dict(options)
    if "layers" in shown:
        shown["layers"] = f"[{len(shown['layers'].split(','))}]"
    return " ".join(f"{k}={v}" for k, v in shown.items())


def run_name(options):
    """A file name for a run's options (the layers list by its count)."""
    return "-".join(f"{k}{v}" for k, v in options.items() if k != "layers") + \
        (f"-layers{len(options['layers'].split(','))}" if "layers" in options else "")


def measure(pith, task, calibration_npz, calibration_error, series, options, tag):
    """One pith-low-rank run and its figures (or its failure)."""
    out = OUT / task.name / f"{tag}.onnx"
    run = {"series": series, "options": options}
    try:
        report, seconds, command = harness.run_optimize(pith, task.model, out, PASS, options,
                                                        calibration_npz)
    except (harness.OptimizeError, json.JSONDecodeError, subprocess.TimeoutExpired) as error:
        print(f"FAILED {series} {options}: {error}", file=sys.stderr, flush=True)
        run["failure"] = str(error)
        return run
    ort_path, duplicates = harness.for_onnxruntime(out)
    run.update(output=str(out.relative_to(REPO)), command=command,
               optimize_seconds=round(seconds, 1), duplicate_node_names=duplicates,
               report=report, parameters=harness.weight_parameters(out)["unique"],
               linear_parameters=linear_parameters(out),
               onnxruntime_calibration_error=calibration_error(ort_path),
               metrics=task.metrics(ort_path))
    print(f"{series:50} {option_text(options):45} factored {report['parameters_before']:,} -> "
          f"{report['parameters_after']:,}, error {report.get('error', float('nan')):.4g}, "
          f"{run['metrics']} [{seconds:.0f} s]", flush=True)
    return run


def chosen_rank(run):
    """The one rank in a run's report lines ('... rank R, ...')."""
    ranks = {int(r) for line in run["report"]["lines"] for r in re.findall(r"rank (\d+),", line)}
    if len(ranks) != 1:
        raise RuntimeError(f"expected one rank in {run['report']['lines']}")
    return ranks.pop()


def sweep_model(pith, task, calibration_npz, runs):
    calibration_error = harness.CalibrationError(task.model, calibration_npz)
    result = {"model": str(task.model.relative_to(REPO)),
              "calibration": str(calibration_npz.relative_to(REPO)),
              "original": {"parameters": harness.weight_parameters(task.model)["unique"],
                           "linear_parameters": linear_parameters(task.model),
                           "metrics": task.metrics(task.model)},
              "runs": []}
    for series, options, twin in runs:
        run = measure(pith, task, calibration_npz, calibration_error, series, options,
                      run_name(options))
        result["runs"].append(run)
        if twin and "report" in run:
            plain = {"rank": chosen_rank(run), "layers": options["layers"]}
            result["runs"].append(measure(pith, task, calibration_npz, calibration_error,
                                          PLAIN_TWIN, plain, run_name(plain)))
    return result


def factored_kept(run):
    report = run["report"]
    return report["parameters_after"] / report["parameters_before"]


def minilm_acceptance(result):
    """The run saving the most weights with mean cosine >= 0.99 and the
    factored layers' parameters down by >= 30%, or None."""
    original = result["original"]["parameters"]
    passing = [r for r in result["runs"] if "metrics" in r and r["report"]["parameters_before"]
               and r["metrics"]["cosine_mean"] >= MINILM_COSINE
               and factored_kept(r) <= MINILM_FACTORED_KEPT]
    best = max(passing, key=lambda r: original - r["parameters"], default=None)
    return best and {"series": best["series"], "options": best["options"],
                     "output": best["output"]}


def find_run(result, series, fraction):
    return next((r for r in result["runs"] if r["series"] == series and "metrics" in r
                 and r["options"].get("target-params") == fraction), None)


def check(result, task, spec):
    """check_against_pith on the run given by `spec` (a dict with output)."""
    run = next(r for r in result["runs"] if r.get("output") == spec["output"])
    out = REPO / run["output"]
    ort_path, _ = harness.for_onnxruntime(out)
    run["pith_check"] = harness.check_against_pith(task, out, ort_path)
    print(f"Pith check {run['output']}: {run['pith_check']}", flush=True)
    if not run["pith_check"]["agrees"]:
        print(f"!!! PITH CHECK FAILED on {out}", file=sys.stderr, flush=True)


def git_head():
    return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()


def sweep(names):
    if not harness.passes_available(PASS):
        raise SystemExit(f"error: {harness.PITH_OPT} does not register {PASS}: build Pith")
    pith = snapshot_pith()
    calibration = write_calibration()
    data = json.loads(JSON_PATH.read_text()) if JSON_PATH.is_file() else {"models": {}}
    built = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(pith.stat().st_mtime))
    tasks = {"minilm": (harness.MiniLMTask, MINILM_RUNS), "lm": (harness.LMTask, LM_RUNS)}
    for name in names:
        task_class, runs = tasks[name]
        task = task_class()
        result = sweep_model(pith, task, calibration[name], runs)
        result.update(git_head=git_head(), pith_built=built)
        if name == "minilm":
            result["acceptance"] = minilm_acceptance(result)
            spec = result["acceptance"] or find_run(result, *CHECKS[name])
        else:
            spec = find_run(result, *CHECKS[name])
        if spec:
            check(result, task, spec)
        data["models"][name] = result
        harness.write_json(JSON_PATH, data)
    return data


# --------------------------------------------------------------------------
# Rendering


def _row(run, original, columns):
    options = option_text(run["options"])
    if "failure" in run:
        return f"| {run['series']} | `{options}` | **failed** (see JSON) |"
    report = run["report"]
    before, after = report["parameters_before"], report["parameters_after"]
    kept = f"{after / before:.3f}" if before else "–"
    cells = [run["series"], f"`{options}`", str(report["layers_factored"]),
             f"{before:,} → {after:,}", kept,
             f"{run['linear_parameters'] / original['linear_parameters']:.3f}",
             f"{run['parameters']:,}",
             f"{report['error']:.4g}" if "error" in report else "–",
             f"{run['onnxruntime_calibration_error']:.4g}"]
    cells += [f"{run['metrics'][c]:.{d}f}" for c, d in columns]
    return "| " + " | ".join(cells + [str(run["optimize_seconds"])]) + " |"


def render_markdown(data):
    lines = ["<!-- Generated by bench/lowrank/curves.py from curves.json, except the "
             "commentary block. -->",
             "# Low-rank factoring: parameters vs task metric (pith-low-rank)", "",
             "Each row is one `pith optimize --pipeline 'pith-low-rank{...}' --calibration` "
             "run; metrics on held-out data with onnxruntime. *Factored*: the parameters of "
             "the layers the pass factored, before → after (its report), and the fraction "
             "kept. *Linear kept*: parameters of all MatMul/Gemm weight matrices (factors "
             "included) relative to the original's. *Weights*: float weight elements of the "
             "written file. *Error*: max over outputs of ‖y′−y‖₂/‖y‖₂ on the calibration "
             "inputs, as the pass reports it and recomputed with onnxruntime.", "",
             "{commentary}", ""]
    minilm_result = data["models"].get("minilm")
    if minilm_result:
        original = minilm_result["original"]
        m = original["metrics"]
        lines += ["## MiniLM-L6 (sentence embeddings)", "",
                  f"Model `{minilm_result['model']}`, calibration `{minilm_result['calibration']}` "
                  f"({MINILM_SENTENCES} sentences), evaluation on the 300 held-out sentences "
                  f"(the original against the numpy reference: cosine mean "
                  f"{m['cosine_mean']:.6f}). Original: {original['parameters']:,} weights, "
                  f"{original['linear_parameters']:,} in linear layers. "
                  f"Pith {minilm_result['git_head']} built {minilm_result['pith_built']}.", "",
                  "![MiniLM](minilm.svg)", "",
                  "| series | options | layers | factored params | kept | linear kept | "
                  "weights | error (pass) | error (ort) | cosine mean | cosine min | "
                  "Spearman | s |", "|" + " --- |" * 13]
        columns = [("cosine_mean", 5), ("cosine_min", 4), ("pairwise_spearman", 5)]
        lines += [_row(r, original, columns) for r in minilm_result["runs"]] + [""]
        accepted = minilm_result.get("acceptance")
        verdict = "**not met** by any run."
        if accepted:
            run = next(r for r in minilm_result["runs"] if r.get("output") == accepted["output"])
            saved = original["parameters"] - run["parameters"]
            verdict = (f"**met** by `{option_text(accepted['options'])}` ({accepted['series']}), "
                       f"the passing run that saves the most weights: {saved:,}, "
                       f"{saved / original['parameters']:.2%} of the model's weights and "
                       f"{saved / original['linear_parameters']:.2%} of its linear-layer "
                       "parameters.")
        lines += [f"Acceptance (mean cosine ≥ {MINILM_COSINE} with the factored layers' "
                  f"parameters down ≥ {1 - MINILM_FACTORED_KEPT:.0%}): " + verdict, ""]
    lm_result = data["models"].get("lm")
    if lm_result:
        original = lm_result["original"]
        base = original["metrics"]["perplexity"]
        lines += ["## Tiny character LM (perplexity)", "",
                  f"Model `{lm_result['model']}`, calibration `{lm_result['calibration']}` "
                  f"({LM_WINDOWS} windows of 128 tokens), perplexity on the 1,028 held-out "
                  f"windows. Original: {original['parameters']:,} weights, "
                  f"{original['linear_parameters']:,} in linear layers, perplexity {base:.4f}. "
                  f"Pith {lm_result['git_head']} built {lm_result['pith_built']}.",
                  "", "![LM](lm.svg)", "",
                  "| series | options | layers | factored params | kept | linear kept | "
                  "weights | error (pass) | error (ort) | perplexity | s |",
                  "|" + " --- |" * 11]
        lines += [_row(r, original, [("perplexity", 4)]) for r in lm_result["runs"]] + [""]
        lines += ["| target-params | plain perplexity | activation-aware perplexity | "
                  "rise plain | rise aware | aware better |", "|" + " --- |" * 6]
        pairs = [(f, find_run(lm_result, "plain, target-params", f),
                  find_run(lm_result, "activation-aware, target-params", f)) for f in LM_FRACTIONS]
        pairs = [(f, p["metrics"]["perplexity"], a["metrics"]["perplexity"])
                 for f, p, a in pairs if p and a]
        for fraction, p, a in pairs:
            lines.append(f"| {fraction} | {p:.4f} | {a:.4f} | {p / base - 1:+.3%} | "
                         f"{a / base - 1:+.3%} | {'yes' if a < p else 'no'} |")
        small = [r for r in lm_result["runs"] if "metrics" in r and
                 r["linear_parameters"] <= LM_LINEAR_KEPT * original["linear_parameters"]]
        within = [r for r in small
                  if r["metrics"]["perplexity"] <= (1 + LM_PERPLEXITY_RISE) * base]
        lines += ["", f"Acceptance: runs with ≥ {1 - LM_LINEAR_KEPT:.0%} fewer linear-layer "
                      f"parameters whose perplexity rose ≤ {LM_PERPLEXITY_RISE:.0%}: "
                      f"{len(within)} of {len(small)}; activation-aware better than plain at "
                      f"equal parameters: {sum(a < p for _, p, a in pairs)} of {len(pairs)} "
                      "target-params fractions.", ""]
    for name, result in data["models"].items():
        for run in result["runs"]:
            if "pith_check" in run:
                lines += [harness.describe_check(f"{name} `{option_text(run['options'])}` "
                                                 f"({run['output']})", run["pith_check"]), ""]
    return harness.keep_commentary(MD_PATH, "\n".join(lines),
                                   "_Commentary to be written after reading the results._")


# Legend name and colour of each series (the tables name them in full).
LEGEND = {"plain, target-params": ("plain target-params", "#4e79a7"),
          "activation-aware, target-params": ("aware target-params", "#e15759"),
          "plain, energy": ("plain energy", "#59a14f"),
          "activation-aware, energy": ("aware energy", "#f28e2b"),
          "activation-aware, 6 ffn outputs, target-params": ("aware 6 ffn-out", "#b07aa1"),
          "activation-aware, layer-0 ffn output, max-rel-error": ("aware L0 ffn-out", "#76b7b2"),
          PLAIN_TWIN: ("plain L0 ffn-out", "#9c755f")}


def _series(runs, x, y):
    """plot series, one per run series in the order they first appear, each
    point labelled with its rank option's value."""
    found = {}
    for run in runs:
        if "metrics" not in run:
            continue
        name, color = LEGEND[run["series"]]
        entry = found.setdefault(run["series"], {"name": name, "color": color, "points": [],
                                                 "line": "target-params" in run["series"]})
        options = run["options"]
        key = next(k for k in ("target-params", "energy", "max-rel-error", "rank") if k in options)
        entry["points"].append((x(run), y(run), str(options[key])))
    return list(found.values())


def charts(data):
    """{file name: svg}. MiniLM: x is the linear-layer parameters saved (log:
    the one-layer runs save little), y the distance of the metric from 1 (log).
    LM: x the linear-layer parameters, y the perplexity rise (log)."""
    result = {}
    minilm_result = data["models"].get("minilm")
    if minilm_result:
        original = minilm_result["original"]["linear_parameters"]
        panels = []
        for metric, title in (("cosine_mean", "mean cosine"),
                              ("pairwise_spearman", "Spearman of pairwise similarities")):
            panels.append({"title": f"1 - {title} (to the original)", "xlog": True, "ylog": True,
                           "xlabel": "linear-layer parameters saved (millions, log)",
                           "ylabel": f"1 - {title} (log)",
                           "series": _series(minilm_result["runs"],
                                             lambda r: (original - r["linear_parameters"]) / 1e6,
                                             lambda r, m=metric: 1 - r["metrics"][m]),
                           "hlines": [(1 - MINILM_COSINE, "cosine 0.99")]
                           if metric == "cosine_mean" else []})
        result["minilm.svg"] = plot.chart(
            panels, f"MiniLM-L6 ({original / 1e6:.2f} M linear-layer parameters): pith-low-rank "
                    "(labels: the rank option)", columns=1, panel_width=900)
    lm_result = data["models"].get("lm")
    if lm_result:
        original = lm_result["original"]
        base = original["metrics"]["perplexity"]
        panel = {"title": "perplexity rise on held-out windows", "ylog": True,
                 "xlabel": "linear-layer parameters (millions)",
                 "ylabel": "perplexity / original - 1 (log; none at or below 0 drawn)",
                 "series": _series(lm_result["runs"], lambda r: r["linear_parameters"] / 1e6,
                                   lambda r: r["metrics"]["perplexity"] / base - 1),
                 "hlines": [(LM_PERPLEXITY_RISE, "+5%")],
                 "vlines": [(original["linear_parameters"] * LM_LINEAR_KEPT / 1e6, "-25%")]}
        result["lm.svg"] = plot.chart([panel], f"tiny LM (perplexity {base:.4f}): pith-low-rank "
                                               "(labels: target-params)",
                                      columns=1, panel_width=640)
    return result


def render(data):
    MD_PATH.write_text(render_markdown(data))
    print(f"wrote {MD_PATH.relative_to(REPO)}")
    for name, svg in charts(data).items():
        (DOCS / name).write_text(svg)
        print(f"wrote {(DOCS / name).relative_to(REPO)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=["minilm", "lm"],
                        default=["minilm", "lm"])
    parser.add_argument("--render-only", action="store_true",
                        help="redraw curves.md and the charts from curves.json")
    args = parser.parse_args()
    data = json.loads(JSON_PATH.read_text()) if args.render_only else sweep(args.models)
    render(data)


if __name__ == "__main__":
    main()

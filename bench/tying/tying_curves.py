#!/usr/bin/env python3
"""How many weights pith-tie-layers saves for a given output-error budget,
and what the tying costs on held-out data, for MiniLM-L6 (sentence
embeddings) and the tiny character LM (perplexity).

For each model and each configuration (weights=all; groups=adjacent at
several max-rel-error budgets, groups=all at a few, and the unbudgeted mode
that ties everything selected by the mean) it runs

    pith optimize MODEL -o OUT --pipeline 'pith-prepare,pith-tie-layers{...}'
                  --calibration CAL.npz --report-json R.json

and records:
  - the float weight parameters of the result (harness.weight_parameters:
    distinct initializer tensors; a tied weight counts once);
  - the calibration error the pass reports, checked against its budget (a
    run over budget is flagged in the output, the JSON and the table), and
    the same error recomputed with onnxruntime as a cross-check;
  - the task metric on the evaluation data with onnxruntime: MiniLM mean and
    minimum cosine to the original's embeddings and the Spearman of the
    pairwise similarities (300 sentences); LM perplexity (1,028 windows of
    128 tokens), next to the original's.
A few results (--check) are also checked with onnx.checker and run with
Pith's compiled code against onnxruntime (relative output difference <= 1e-4).

Writes docs/tying/tying.json, docs/tying/tying.md (tables; the hand-written
commentary block in it survives reruns) and the charts (plot.py).
Calibration inputs: bench/tying/calibration.py (run first, or here on demand).

Usage: .venv/bin/python bench/tying/tying_curves.py [--models minilm lm]
       [--budgets ...] [--limit N] [--render-only]
"""

import argparse
import json
import sys
import time

import calibration
import harness
import plot
from harness import DOCS, OUT

BUDGETS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
ALL_GROUP_BUDGETS = [0.02, 0.1]
# The results checked against Pith's compiled code, by run_name: per model a
# budgeted run that ties real weights, and the most aggressive tying.
CHECKS = {"minilm": ["adjacent-0.5", "all-unbudgeted"],
          "lm": ["adjacent-0.1", "all-unbudgeted"]}
PASS = "pith-tie-layers"
JSON_PATH = DOCS / "tying.json"
MD_PATH = DOCS / "tying.md"


def configurations(budgets, all_group_budgets):
    """pith-tie-layers options of every run, in order."""
    for budget in budgets:
        yield {"weights": "all", "groups": "adjacent", "max-rel-error": budget}
    for budget in all_group_budgets:
        yield {"weights": "all", "groups": "all", "max-rel-error": budget}
    for groups in ("adjacent", "all"):
        yield {"weights": "all", "groups": groups, "unbudgeted": "true"}


def run_name(options):
    if options.get("unbudgeted") == "true":
        return f"{options['groups']}-unbudgeted"
    return f"{options['groups']}-{options['max-rel-error']}"


def sweep_model(pith, task, calibration_npz, configs, checks):
    """The original's figures and one record per configuration."""
    calibration_error = harness.CalibrationError(task.model, calibration_npz)
    record = {"model": str(task.model.relative_to(harness.REPO)),
              "calibration": str(calibration_npz.relative_to(harness.REPO)),
              "original": {"parameters": harness.weight_parameters(task.model),
                           "metrics": task.metrics(task.model)},
              "runs": []}
    print(f"{task.name} original: {record['original']}", flush=True)
    for options in configs:
        out = OUT / task.name / f"tie-{run_name(options)}.onnx"
        run = {"options": {k: str(v) for k, v in options.items()}}
        try:
            report, seconds, command = harness.run_optimize(pith, task.model, out, PASS,
                                                            options, calibration_npz)
        except (harness.OptimizeError, json.JSONDecodeError) as error:
            print(f"FAILED {task.name} {run_name(options)}: {error}", file=sys.stderr, flush=True)
            run["failure"] = str(error)
            record["runs"].append(run)
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
        budget = options.get("max-rel-error")
        error = report.get("error")
        if budget is not None:
            run["within_budget"] = error is not None and error <= budget * (1 + 1e-6)
            if not run["within_budget"]:
                print(f"!!! BUDGET EXCEEDED: {task.name} {run_name(options)}: reported error "
                      f"{error} > max-rel-error {budget}", file=sys.stderr, flush=True)
        if run_name(options) in checks:
            run["pith_check"] = harness.check_against_pith(task, out, ort_path)
            if not run["pith_check"]["agrees"]:
                print(f"!!! PITH CHECK FAILED on {out}: {run['pith_check']}",
                      file=sys.stderr, flush=True)
        print(f"{task.name} {run_name(options)}: params {run['parameters']['unique']:,} "
              f"error {error} (ort {run['onnxruntime_calibration_error']:.4g}) "
              f"{run['metrics']} [{seconds:.0f} s]", flush=True)
        record["runs"].append(run)
    return record


def _fmt(value, digits=4):
    return "" if value is None else f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def render_markdown(data):
    """tying.md: settings, one table per model, the Pith checks, commentary."""
    limit = data["settings"]["evaluation_limit"]
    scope = "all" if limit is None else f"the first {limit}"
    lines = ["<!-- Generated by bench/tying/tying_curves.py from tying.json, except the "
             "commentary block. -->",
             "# Layer tying: parameters vs task metric (pith-tie-layers)", "",
             "Each row is one `pith optimize --pipeline 'pith-prepare,pith-tie-layers{...}'` "
             "run with `weights=all` on the calibration inputs of "
             "`bench/tying/calibration.py`; metrics on held-out data with onnxruntime. "
             "*Parameters*: float weight elements of the written ONNX file, a tensor "
             "shared by several layers counted once. *Error*: max over outputs of "
             "‖y′−y‖₂/‖y‖₂ on the calibration inputs, as the pass reports it and recomputed "
             "with onnxruntime. Rows over budget are marked **OVER BUDGET**.", "",
             f"Evaluation data: {scope} held-out sentences (MiniLM, 300 in all) / "
             "windows (LM, 1,028 in all). Pith binary built "
             f"{data['settings']['pith_built']}.", "",
             "Reproduce: `.venv/bin/python bench/tying/tying_curves.py` (about 15 minutes "
             "on 2 cores; writes its calibration inputs first); redraw the charts alone "
             "with `bench/tying/plot.py`.", ""]
    note = harness.duplicate_names_note([r for m in data["models"].values() for r in m["runs"]])
    if note:
        lines += [note, ""]
    lines += ["{commentary}", ""]
    names = {"minilm": "MiniLM-L6 (sentence embeddings)", "lm": "tiny character LM"}
    for name, model in data["models"].items():
        original = model["original"]
        lines += [f"## {names[name]}", "",
                  f"Model `{model['model']}`, calibration `{model['calibration']}`. "
                  f"Original: {original['parameters']['unique']:,} weight parameters, "
                  + ", ".join(f"{k} {_fmt(v, 6)}" for k, v in original["metrics"].items())
                  + ".", ""]
        header = "| groups | budget | parameters | saved | error (pass) | error (onnxruntime) | "
        if name == "minilm":
            header += "cosine mean | cosine min | Spearman | bytes saved (pass) | s |"
        else:
            header += "perplexity | vs original | bytes saved (pass) | s |"
        lines += [header, "|" + " --- |" * (header.count("|") - 1)]
        for run in model["runs"]:
            options = run["options"]
            budget = "unbudgeted" if options.get("unbudgeted") == "true" \
                else options["max-rel-error"]
            if "failure" in run:
                lines.append(f"| {options['groups']} | {budget} | **failed** (see JSON) |")
                continue
            params = run["parameters"]["unique"]
            saved = original["parameters"]["unique"] - params
            share = 100.0 * saved / original["parameters"]["unique"]
            error = _fmt(run["report"].get("error"))
            if run.get("within_budget") is False:
                error += " **OVER BUDGET**"
            cells = [options["groups"], budget, f"{params:,}", f"{saved:,} ({share:.3g}%)", error,
                     _fmt(run["onnxruntime_calibration_error"])]
            metrics = run["metrics"]
            if name == "minilm":
                cells += [f"{metrics['cosine_mean']:.5f}", f"{metrics['cosine_min']:.4f}",
                          f"{metrics['pairwise_spearman']:.5f}"]
            else:
                ratio = metrics["perplexity"] / original["metrics"]["perplexity"]
                cells += [f"{metrics['perplexity']:.4f}", f"{ratio:.3f}x"]
            cells += [_fmt(run["report"].get("bytes_saved")), _fmt(run["optimize_seconds"])]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        lines += ["", f"![{names[name]}](tying_{name}.svg)", ""]
        checks = [(run_name(r["options"]), r["pith_check"]) for r in model["runs"]
                  if "pith_check" in r]
        for label, check in checks:
            lines += [harness.describe_check(f"`{label}`", check), ""]
        lines.append("")
    generated = "\n".join(lines)
    return harness.keep_commentary(MD_PATH, generated, "_Commentary to be written after "
                                                       "reading the results._")


def render(data):
    MD_PATH.write_text(render_markdown(data))
    print(f"wrote {MD_PATH.relative_to(harness.REPO)}")
    plot.write_charts(plot.tying_charts(data))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=["minilm", "lm"],
                        default=["minilm", "lm"])
    parser.add_argument("--budgets", nargs="+", type=float, default=BUDGETS,
                        help="max-rel-error values with groups=adjacent")
    parser.add_argument("--all-group-budgets", nargs="+", type=float,
                        default=ALL_GROUP_BUDGETS, help="max-rel-error values with groups=all")
    parser.add_argument("--limit", type=int,
                        help="evaluate on the first N sentences / windows only")
    parser.add_argument("--render-only", action="store_true",
                        help="redraw tying.md and the charts from tying.json")
    args = parser.parse_args()
    if args.render_only:
        render(json.loads(JSON_PATH.read_text()))
        return
    if not harness.passes_available(PASS):
        raise SystemExit(f"error: {harness.PITH_OPT} does not register {PASS}: build Pith")
    pith = harness.snapshot_pith()

    data = {"settings": {"evaluation_limit": args.limit, "runtime": "onnxruntime",
                         "pipeline_prefix": harness.PIPELINE_PREFIX,
                         "pith_built": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(
                             pith.stat().st_mtime))},
            "lm_unigram_perplexity": json.loads(
                harness.common.LM_TRAINING.read_text())["unigram_eval_perplexity"],
            "models": {}}
    configs = list(configurations(args.budgets, args.all_group_budgets))
    for name in args.models:
        if name == "minilm":
            task, (npz, _) = harness.MiniLMTask(args.limit), calibration.write_minilm()
        else:
            task, (npz, _) = harness.LMTask(args.limit), calibration.write_lm()
        data["models"][name] = sweep_model(pith, task, npz, configs, CHECKS[name])
        harness.write_json(JSON_PATH, data)  # partial results survive a later failure
    render(data)


if __name__ == "__main__":
    main()

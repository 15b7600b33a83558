#!/usr/bin/env python3
"""Activation recomputation (pith-remat): peak memory against step time.

Models, each trained for a few steps by Model.train (the path of
`pith train`) on the same data, 2 threads:
- the corpus transformer LM (4 blocks of width 256), batches of 16 x 128
  tokens, as it was trained (bench/corpus/tiny_lm.py);
- a 12-block variant of it (torch's initialization, exported by Debian's
  python3-torch), same batches;
- the Fashion-MNIST CNN, batches of 128.

Configurations: keep everything, sqrt(n) checkpointing, and the greedy
solver at several activation-memory budgets (fractions of keeping
everything). For each: the activation memory and the recomputed FLOPs
pith-remat reports, the step's arena as the runtime allocates it (planned
by liveness over the compiled step), the median step time, and whether
every step's loss equals the keep-everything run's (within 1e-5 relative).

Writes docs/training/remat.json, docs/training/remat.svg and the table in
docs/training.md.

Then the step time once more for the LMs, keep-everything, sqrt(n) and
greedy 0.5 compiled side by side and called in turn (median of 7 rounds):
the ratios of one run.

Usage: .venv/bin/python bench/training/remat.py [--steps 12] [--render-only | --timing-only | --solvers-only]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "corpus"))
sys.path.insert(0, str(REPO / "bench" / "tying"))
sys.path.insert(0, str(REPO / "build" / "python"))
import common  # noqa: E402
import plot  # noqa: E402

import pith  # noqa: E402

OUT = REPO / "bench" / "out" / "training"
DOCS = REPO / "docs" / "training"
JSON_PATH = DOCS / "remat.json"
CONFIGS = [("keep everything", {}), ("sqrt(n)", {"remat_solver": "sqrt"}),
           ("greedy 0.75", {"memory_budget": "0.75"}), ("greedy 0.5", {"memory_budget": "0.5"}),
           ("greedy 0.3", {"memory_budget": "0.3"})]

EXPORT_12 = r"""
import sys, torch
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import common, tiny_lm
tiny_lm.LAYERS = 12
torch.manual_seed(0)
model = tiny_lm.TinyLM(int(sys.argv[3]))
common.export_onnx(model, torch.zeros(2, 16, dtype=torch.long), Path(sys.argv[2]), "tokens",
                   "logits", {"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
"""


def lm_data(windows):
    tokens = np.load(common.MODELS_DIR / "tiny_lm_calibration.npz")["tokens"].astype(np.int64)
    tokens = tokens[:windows]
    # Next-token targets: each window predicts itself shifted by one.
    return {"tokens": tokens[:, :-1].copy(), "labels": tokens[:, 1:].copy()}


def cnn_data(count):
    images, labels = common.load_fashion_mnist("train")
    training, _ = common.fashion_train_calibration_split()
    return {"image": common.normalize_images(images[training[:count]]),
            "labels": labels[training[:count]].astype(np.int64)}


def measure(name, path, data, batch, freeze, steps):
    rows, reference = [], None
    for label, remat in CONFIGS:
        model = pith.load(path)
        try:
            run = model.train(data, epochs=2, batch_size=batch, learning_rate=1e-3, seed=0,
                              freeze=freeze, **remat)
        except pith.PithError as error:
            rows.append({"config": label, "error": str(error).split(": budget: ")[-1]})
            print(f"{name:10s} {label:16s} {rows[-1]['error']}", flush=True)
            continue
        line = next((l for l in run["report"] if l.startswith("pith-remat:")), "")
        match = re.search(r"activation memory ([\d.]+ [kMG]?B) -> ([\d.]+ [kMG]?B)", line)
        flops = re.search(r"([\d.e+]+) FLOPs per step", line)
        second = run["epochs"][1]
        row = {"config": label, "arena_mb": run["arena_bytes"] / 1e6,
               "step_ms": 1e3 * second["seconds"] / second["steps"],
               "activation_memory": match[2] if match else None,
               "activation_memory_kept_all": match[1] if match else None,
               "recompute_flops": float(flops[1]) if flops else 0.0,
               "losses": run["losses"]}
        if reference is None:
            reference = row
        row["losses_equal"] = bool(np.allclose(row["losses"], reference["losses"], rtol=1e-5))
        row["arena_ratio"] = row["arena_mb"] / reference["arena_mb"]
        row["time_ratio"] = row["step_ms"] / reference["step_ms"]
        rows.append(row)
        print(f"{name:10s} {label:16s} arena {row['arena_mb']:7.1f} MB ({row['arena_ratio']:.2f}x)"
              f"  step {row['step_ms']:7.1f} ms ({row['time_ratio']:.2f}x)  recompute "
              f"{row['recompute_flops']:.2e} FLOPs  activations {row['activation_memory']}  "
              f"losses equal: {row['losses_equal']}", flush=True)
    return rows


def interleaved_times(path, freeze, batch, seq, configs, rounds):
    """Median step time of each configuration's compiled step, the steps
    called in turn (one round runs each once), on the same inputs: the
    ratios of one run on a shared machine."""
    import time
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    for value in list(model.graph.input) + list(model.graph.output):
        for d, size in zip(value.type.tensor_type.shape.dim, (batch, seq)):
            d.ClearField("dim_param")
            d.dim_value = size
    fixed = OUT / (Path(path).stem + f"_{batch}x{seq}.onnx")
    onnx.save(model, fixed)
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, weights["embed.weight"].shape[0], (batch, seq)).astype(np.int64)
    compiled = {}
    for label, remat in configs:
        pipeline = "pith-autodiff{freeze=" + ",".join(freeze) + "}"
        if "memory_budget" in remat:
            pipeline += ",pith-remat{budget=" + remat["memory_budget"] + "}"
        elif remat.get("remat_solver") == "sqrt":
            pipeline += ",pith-remat{solver=sqrt}"
        step = pith.load(fixed).optimize(pipeline).compile()
        feeds = []
        for info in step.inputs:
            name = info["name"]
            if name == "tokens":
                feeds.append(tokens)
            elif name == "labels":
                feeds.append(np.roll(tokens, -1, axis=1))
            elif name in ("learning_rate", "step"):
                feeds.append(np.array(1e-3 if name == "learning_rate" else 1.0, np.float32))
            elif name in weights:
                feeds.append(weights[name])
            else:
                feeds.append(np.zeros(info["shape"], np.float32))
        compiled[label] = (step, feeds)
    times = {label: [] for label in compiled}
    for label, (step, feeds) in compiled.items():
        step(*feeds)  # warm-up
    for _ in range(rounds):
        for label, (step, feeds) in compiled.items():
            start = time.perf_counter()
            step(*feeds)
            times[label].append(time.perf_counter() - start)
    medians = {label: float(np.median(t)) for label, t in times.items()}
    base = medians[configs[0][0]]
    return {label: {"step_ms": 1e3 * m, "time_ratio": m / base} for label, m in medians.items()}


def fixed_shape(path, sizes):
    """The model with its inputs' and outputs' leading dimensions fixed."""
    import onnx
    model = onnx.load(path)
    for value in list(model.graph.input) + list(model.graph.output):
        for d, size in zip(value.type.tensor_type.shape.dim, sizes):
            d.ClearField("dim_param")
            d.dim_value = size
    fixed = OUT / (Path(path).stem + "_" + "x".join(map(str, sizes)) + ".onnx")
    onnx.save(model, fixed)
    return fixed


def remat_report(path, freeze, options):
    """pith-remat's report entry for the given options, or the error."""
    pipeline = "pith-autodiff{freeze=" + ",".join(freeze) + "},pith-remat{" + options + "}"
    try:
        return pith.load(path).optimize(pipeline).report()["passes"][-1], None
    except pith.PithError as error:
        return None, str(error).split("budget: ")[-1]


ILP_SECONDS = 120


def solver_check():
    """Recomputed FLOPs of the greedy solver against the optimum: the
    integer program (CBC, 120 s) on every model, and every subset of
    producers (exact) where that is tractable (the CNN)."""
    rows = []
    models = [("LM, 4 blocks", fixed_shape(common.ensure_lm_model(), (16, 127)), ["mask"],
               ("0.75", "0.5", "0.3"), ("greedy", "ilp")),
              ("LM, 12 blocks", fixed_shape(OUT / "tiny_lm_12.onnx", (16, 127)), ["mask"],
               ("0.75", "0.5", "0.3"), ("greedy", "ilp")),
              ("CNN, batch 128", fixed_shape(common.FASHION_MODELS["cnn"], (128,)), [],
               ("0.75", "0.5", "0.4", "0.3"), ("greedy", "ilp", "exact"))]
    for model, path, freeze, budgets, solvers in models:
        for budget in budgets:
            row = {"model": model, "budget": budget}
            for solver in solvers:
                start = time.perf_counter()
                entry, error = remat_report(path, freeze, f"budget={budget} solver={solver} "
                                                          f"time-limit={ILP_SECONDS}")
                row[solver + "_seconds"] = time.perf_counter() - start
                if error:
                    row[solver] = None
                    row[solver + "_memory"] = error
                    continue
                lines = entry["lines"]
                row[solver] = float(entry["recompute_flops"])
                row[solver + "_memory"] = re.search(r"-> ([\d.]+ [kMG]?B) \(budget", lines[0])[1]
                ilp = next((l for l in lines if l.startswith("ilp: ")), None)
                if ilp:
                    row["ilp_status"] = ilp.split(" in ")[0][len("ilp: "):]
                    row["ilp_optimum"] = float(re.search(r"optimum ([\d.e+]+)", ilp)[1])
                    row["ilp_bound"] = float(re.search(r"bound ([\d.e+]+)", ilp)[1])
                    row["ilp_program"] = re.search(r"\((\d+ columns, \d+ rows, \d+ binary)\)",
                                                   ilp)[1]
            print(row, flush=True)
            rows.append(row)
    return rows


def add_intermediates(results):
    """Every measured configuration's simulated peak of all intermediates
    (activations, gradients and working memory), from pith-remat's report:
    what the arena follows, beside the activation memory the budget bounds."""
    models = {"LM (4 blocks)": (fixed_shape(common.ensure_lm_model(), (16, 127)), ["mask"]),
              "LM (12 blocks)": (fixed_shape(OUT / "tiny_lm_12.onnx", (16, 127)), ["mask"]),
              "CNN": (fixed_shape(common.FASHION_MODELS["cnn"], (128,)), [])}
    options = {"keep everything": "solver=none", "sqrt(n)": "solver=sqrt"}
    for name, (path, freeze) in models.items():
        for row in results[name]:
            if "error" in row:
                continue
            budget = row["config"].split()[-1]
            entry, _ = remat_report(path, freeze, options.get(row["config"], f"budget={budget}"))
            row["intermediates_mb"] = entry["peak"] / 1e6
            row["intermediates_kept_all_mb"] = entry["peak_before"] / 1e6
            print(name, row["config"], f"all intermediates {row['intermediates_mb']:.1f} MB",
                  flush=True)


def run(steps):
    OUT.mkdir(parents=True, exist_ok=True)
    results = {}
    lm = common.ensure_lm_model()
    lm12 = OUT / "tiny_lm_12.onnx"
    if not lm12.exists():
        subprocess.run(["/usr/bin/python3", "-c", EXPORT_12, str(REPO / "bench" / "corpus"),
                        str(lm12), "115"], check=True)
    windows = 16 * steps // 2
    results["LM (4 blocks)"] = measure("LM-4", lm, lm_data(windows), 16, ["mask"], steps)
    results["LM (12 blocks)"] = measure("LM-12", lm12, lm_data(windows), 16, ["mask"], steps)
    results["CNN"] = measure("CNN", common.FASHION_MODELS["cnn"], cnn_data(128 * steps // 2), 128,
                             [], steps)
    results["solver check"] = solver_check()
    add_intermediates(results)
    add_interleaved_times(results)
    for rows in results.values():
        for row in rows:
            row.pop("losses", None)
    DOCS.mkdir(parents=True, exist_ok=True)
    common.write_json(JSON_PATH, results)
    return results


def add_interleaved_times(results):
    """Step time again, the configurations' steps called in turn."""
    timed = [c for c in CONFIGS if c[0] in ("keep everything", "sqrt(n)", "greedy 0.5")]
    lm, lm12 = common.ensure_lm_model(), OUT / "tiny_lm_12.onnx"
    for name, path in (("LM (4 blocks)", lm), ("LM (12 blocks)", lm12)):
        ratios = interleaved_times(path, ["mask"], 16, 127, timed, rounds=7)
        for row in results[name]:
            if row["config"] in ratios:
                row["interleaved_step_ms"] = ratios[row["config"]]["step_ms"]
                row["interleaved_time_ratio"] = ratios[row["config"]]["time_ratio"]
                print(f"{name:16s} {row['config']:16s} interleaved step "
                      f"{row['interleaved_step_ms']:.0f} ms ({row['interleaved_time_ratio']:.2f}x)",
                      flush=True)


def render(results):
    check = results.get("solver check", [])
    results = {k: v for k, v in results.items() if k != "solver check"}
    panels = []
    for name, rows in results.items():
        measured = [r for r in rows if "error" not in r]
        panels.append({"title": name, "xlabel": "step arena (MB, runtime)",
                       "ylabel": "step time (ms)",
                       "series": [{"name": r["config"], "points": [(r["arena_mb"], r["step_ms"], "")]}
                                  for r in measured]})
    (DOCS / "remat.svg").write_text(plot.chart(panels, "pith-remat: memory against time",
                                               columns=3, panel_width=360))
    table = ("| model | configuration | activation memory (pith-remat) | all intermediates "
             "(pith-remat) | step arena (runtime) | step time (training run) | step time "
             "(interleaved) | recomputed FLOPs | every loss equal |\n"
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
    for name, rows in results.items():
        kept_all = next((r["activation_memory_kept_all"] for r in rows
                         if r.get("activation_memory_kept_all")), None)
        for r in rows:
            if r["config"] == "keep everything" and kept_all:
                r["activation_memory"] = kept_all
            if "error" in r:
                table += f"| {name} | {r['config']} | infeasible: {r['error']} | | | | | | |\n"
                continue
            table += (f"| {name} | {r['config']} | {r['activation_memory'] or '(all kept)'} | "
                      + (f"{r['intermediates_mb']:.1f} MB" if "intermediates_mb" in r else "–")
                      + " | "
                      f"{r['arena_mb']:.1f} MB ({r['arena_ratio']:.2f}x) | {r['step_ms']:.0f} ms "
                      f"({r['time_ratio']:.2f}x) | "
                      + (f"{r['interleaved_step_ms']:.0f} ms ({r['interleaved_time_ratio']:.2f}x)"
                         if "interleaved_step_ms" in r else "–")
                      + f" | {r['recompute_flops']:.2e} | "
                      f"{'yes' if r['losses_equal'] else 'NO'} |\n")
    if check:
        table += ("\nGreedy against the optimum, recomputed FLOPs per step. The optimum is the "
                  f"integer program's (CBC, {ILP_SECONDS} s limit, started from greedy's choice) "
                  "where it proves optimality; on the CNN also every subset of producers "
                  "(exact). Infeasible budgets state the smallest reachable activation memory "
                  "(proven by the program).\n\n"
                  "| model | budget | greedy | optimum (ILP) | ILP status | ILP program | "
                  "exact | greedy / optimum |\n"
                  "| --- | --- | --- | --- | --- | --- | --- | --- |\n")
        for r in check:
            exact = r.get("exact", "–")
            if r["greedy"] is None and r.get("ilp") is None:
                table += (f"| {r['model']} | {r['budget']} | infeasible | infeasible: "
                          f"{r['ilp_memory']} | | | | – |\n")
                continue
            # The ILP run's own recompute FLOPs (the report's, unrounded).
            optimum = r.get("ilp") if r.get("ilp_status") == "proven optimal" else None
            greedy = f"{r['greedy']:.5g}" if r["greedy"] is not None else "did not reach it"
            ratio = (f"{r['greedy'] / optimum:.4f}" if optimum and r["greedy"] is not None
                     else ("1.000" if optimum == 0 and r["greedy"] == 0 else "–"))
            exact_text = f"{exact:.5g}" if isinstance(exact, float) else (
                "infeasible" if "exact" in r and exact is None else "–")
            table += (f"| {r['model']} | {r['budget']} | {greedy} | "
                      + (f"{r['ilp']:.5g}" if r.get("ilp") is not None else "infeasible")
                      + f" | {r.get('ilp_status', '')} ({r['ilp_seconds']:.0f} s) | "
                      f"{r.get('ilp_program', '')} | {exact_text} | {ratio} |\n")
    common.replace_marked(REPO / "docs" / "training.md", "remat table", table)
    print("wrote docs/training/remat.svg and the table in docs/training.md")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="steps per run (two epochs)")
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--timing-only", action="store_true",
                        help="only measure the interleaved step times again")
    parser.add_argument("--solvers-only", action="store_true",
                        help="only compare the greedy solver with the optimum again")
    args = parser.parse_args()
    if args.timing_only:
        results = json.loads(JSON_PATH.read_text())
        add_interleaved_times(results)
        common.write_json(JSON_PATH, results)
    elif args.solvers_only:
        results = json.loads(JSON_PATH.read_text())
        results["solver check"] = solver_check()
        add_intermediates(results)
        common.write_json(JSON_PATH, results)
    else:
        results = json.loads(JSON_PATH.read_text()) if args.render_only else run(args.steps)
    render(results)


if __name__ == "__main__":
    main()

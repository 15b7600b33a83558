#!/usr/bin/env python3
"""Speed and buffer memory of layers factored by pith-low-rank, on Pith's CPU backend.

Does a factored layer run faster in proportion to the FLOPs it removes,
without more buffer memory?

1. One linear layer y = x . W per ONNX model (x [256, K], W [K, N] random,
   LAYERS), factored by `pith optimize --pipeline 'pith-low-rank{rank=R
   min-size=0}'` at ranks R <= min(K, N) / 4. Dense and factored models are
   compiled with `pith compile` (which prints the planned peak buffer bytes)
   and timed through the C API (test/python/compiled_model.py) on the same
   input, 2 threads, the models' runs interleaved so that load from other
   processes on the shared machine falls on all of them alike; median of
   --repeat runs after a warm-up. Prints the FLOP ratio dense / factored,
   the speedup and speedup / FLOP ratio (acceptance: >= 0.8), and checks
   each factored model's Pith output against onnxruntime's.
2. MiniLM-L6 end to end, batch 8 x 128 tokens: the original, the factored
   model that met the cosine acceptance in docs/lowrank/curves.json, and the
   most compressed activation-aware target-params model there, each with its
   inputs fixed to that shape (Pith plans only statically shaped buffers);
   Pith compiled and onnxruntime (both 2 threads), interleaved likewise.

Run bench/lowrank/curves.py first (for part 2). Writes docs/lowrank/speed.json
and speed.md (its commentary block survives reruns).

Usage: .venv/bin/python bench/lowrank/speed.py [--repeat N] [--minilm-repeat N]
       [--render-only]
"""

import os

os.environ["OMP_NUM_THREADS"] = "2"  # before Pith's runtime loads libomp, which reads it once

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import curves  # noqa: E402  (paths, the Pith snapshot, harness)
from curves import DOCS, OUT, REPO, harness  # noqa: E402

sys.path.insert(0, str(REPO / "test" / "python"))
from compiled_model import CompiledModel  # noqa: E402

ROWS = 256
# (K, N, ranks): ranks at most min(K, N) / 4.
LAYERS = [(2048, 2048, [256, 512]), (4096, 1024, [128, 256])]
MINILM_SHAPE = (8, 128)
EFFICIENCY = 0.8  # acceptance: speedup >= 0.8 x FLOP reduction
JSON_PATH = DOCS / "speed.json"
MD_PATH = DOCS / "speed.md"
WORK = OUT / "speed"


def linear_model(path, k, n):
    """An ONNX model computing x [ROWS, k] . W [k, n] (W random, fixed seed)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(k * n)
    weight = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="linear")], "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, n])],
        [numpy_helper.from_array(weight, "w")])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def compile_model(pith, model, library):
    """`pith compile` into `library`: the loaded library and the peak buffer
    bytes it prints (None if it prints none)."""
    result = subprocess.run([str(pith), "compile", str(model), "-o", str(library)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pith compile {model} failed: {result.stderr.strip()}")
    peak = re.search(r"peak buffer bytes: (\d+)", result.stdout)
    return CompiledModel(library.resolve()), peak and int(peak.group(1))


def time_interleaved(runners, repeat, warmup=3):
    """Median seconds of each zero-argument callable, calling them in turn
    (order rotated every round) `repeat` times after `warmup` rounds."""
    for _ in range(warmup):
        for run in runners:
            run()
    times = [[] for _ in runners]
    for round_ in range(repeat):
        for i in np.roll(np.arange(len(runners)), round_):
            start = time.perf_counter()
            runners[i]()
            times[i].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def layer_benchmark(pith, repeat):
    rows = []
    for k, n, ranks in LAYERS:
        dense_path = linear_model(WORK / f"linear-{k}x{n}.onnx", k, n)
        x = np.random.default_rng(1).standard_normal((ROWS, k)).astype(np.float32)
        models = [("dense", dense_path, None)]
        for rank in ranks:
            out = WORK / f"linear-{k}x{n}-rank{rank}.onnx"
            report, _, command = harness.run_optimize(pith, dense_path, out, curves.PASS,
                                                      {"rank": rank, "min-size": 0})
            if report["layers_factored"] != 1:
                raise RuntimeError(f"{command} factored nothing: {report['lines']}")
            models.append((f"rank {rank}", out, rank))
        compiled = [compile_model(pith, path, path.with_suffix(".so")) for _, path, _ in models]
        seconds = time_interleaved([lambda m=m: m.run({"x": x}) for m, _ in compiled], repeat)
        dense_flops, dense_seconds, dense_peak = 2 * ROWS * k * n, seconds[0], compiled[0][1]
        for (label, path, rank), (model, peak), elapsed in zip(models, compiled, seconds):
            flops = dense_flops if rank is None else 2 * ROWS * rank * (k + n)
            row = {"layer": f"{k}x{n}", "model": label, "rank": rank, "flops": flops,
                   "seconds": elapsed, "gflops_per_s": flops / elapsed / 1e9,
                   "peak_buffer_bytes": peak, "weight_parameters":
                       harness.weight_parameters(path)["unique"]}
            if rank is not None:
                flop_ratio, speedup = dense_flops / flops, dense_seconds / elapsed
                reference = harness.ort_session(path).run(None, {"x": x})
                efficiency = speedup / flop_ratio
                row.update(flop_ratio=flop_ratio, speedup=speedup,
                           efficiency=efficiency, meets=efficiency >= EFFICIENCY,
                           peak_buffer_change=peak - dense_peak,
                           pith_vs_onnxruntime=harness.relative_error(reference,
                                                                      model.run({"x": x})))
            rows.append(row)
            print(row, flush=True)
    return rows


def minilm_models():
    """(label, path) of the MiniLM models to time: the original and curves.py's results."""
    models = [("original", harness.minilm.ensure_minilm_onnx())]
    if not curves.JSON_PATH.is_file():
        print(f"{curves.JSON_PATH} missing: run curves.py for the factored models",
              file=sys.stderr)
        return models
    result = json.loads(curves.JSON_PATH.read_text())["models"]["minilm"]
    if result.get("acceptance"):
        models.append(("cosine-acceptance: " + curves.option_text(result["acceptance"]["options"]),
                       REPO / result["acceptance"]["output"]))
    aware = [r for r in result["runs"] if r["series"] == "activation-aware, target-params"
             and "output" in r]
    if aware:
        smallest = min(aware, key=lambda r: r["options"]["target-params"])
        models.append(("most compressed: " + curves.option_text(smallest["options"]),
                       REPO / smallest["output"]))
    return models


def static_copy(path, shape, out):
    """The model with every input fixed to `shape`, so that Pith plans the
    intermediates (only statically shaped buffers are planned)."""
    import onnx
    model = onnx.load(str(path))
    for value in model.graph.input:
        for dim, size in zip(value.type.tensor_type.shape.dim, shape):
            dim.Clear()
            dim.dim_value = size
    onnx.save(model, str(out))
    return out


def minilm_benchmark(pith, repeat):
    batch, length = MINILM_SHAPE
    ids = np.random.default_rng(2).integers(1000, 30000, (batch, length), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    entries, runners = [], []
    for label, path in minilm_models():
        static = static_copy(path, MINILM_SHAPE, WORK / f"minilm-{len(entries)}.onnx")
        ort_path, _ = harness.for_onnxruntime(static)
        model, peak = compile_model(pith, static, static.with_suffix(".so"))
        session = harness.ort_session(ort_path)
        agreement = harness.relative_error(session.run(None, feeds), model.run(feeds))
        entries.append({"model": label, "path": str(path.relative_to(REPO)),
                        "weight_parameters": harness.weight_parameters(path)["unique"],
                        "linear_parameters": curves.linear_parameters(path),
                        "linear_gmac": batch * length * curves.linear_parameters(path) / 1e9,
                        "peak_buffer_bytes": peak, "pith_vs_onnxruntime": agreement})
        runners += [lambda m=model: m.run(feeds), lambda s=session: s.run(None, feeds)]
    seconds = time_interleaved(runners, repeat, warmup=2)
    for i, entry in enumerate(entries):
        entry.update(pith_seconds=seconds[2 * i], onnxruntime_seconds=seconds[2 * i + 1])
        print(entry, flush=True)
    return entries


def _count(value):
    return "–" if value is None else f"{value:,}"


def render_markdown(data):
    lines = ["<!-- Generated by bench/lowrank/speed.py from speed.json, except the commentary "
             "block. -->", "# Speed of factored layers on Pith's CPU backend", "",
             f"Median of {data['repeat']} runs (MiniLM: {data['minilm_repeat']}) after a "
             "warm-up, models interleaved, 2 threads (OMP_NUM_THREADS=2 for Pith, "
             "intra_op_num_threads=2 for onnxruntime), through the C API from Python "
             "(the times include copying the outputs into numpy). The machine is shared "
             f"with other work: read the ratios. Pith {data['git_head']} built "
             f"{data['pith_built']}.", "", "{commentary}", "",
             f"## One linear layer, x [{ROWS}, K] · W [K, N]", "",
             "| layer K x N | model | GFLOP | ms | GFLOP/s | FLOP ratio | speedup | "
             f"speedup / FLOP ratio (≥ {EFFICIENCY}) | peak buffer bytes | change | "
             "Pith vs ort |", "|" + " --- |" * 11]
    for row in data["layers"]:
        factored = row["rank"] is not None
        lines.append("| " + " | ".join([
            row["layer"], row["model"], f"{row['flops'] / 1e9:.3f}",
            f"{row['seconds'] * 1e3:.2f}", f"{row['gflops_per_s']:.1f}",
            f"{row['flop_ratio']:.2f}" if factored else "1",
            f"{row['speedup']:.2f}" if factored else "1",
            (f"{row['efficiency']:.2f} ({'met' if row['meets'] else '**not met**'})"
             if factored else "–"),
            f"{row['peak_buffer_bytes']:,}",
            f"{row['peak_buffer_change']:+,}" if factored else "–",
            f"{row['pith_vs_onnxruntime']:.1e}" if factored else "–"]) + " |")
    batch, length = MINILM_SHAPE
    lines += ["", f"## MiniLM-L6 end to end, batch {batch} x {length} tokens", "",
              "| model | weights | linear-layer params | linear-layer GMAC | peak buffer bytes | "
              "Pith ms | onnxruntime ms | Pith speedup vs original | onnxruntime speedup vs "
              "original | Pith vs ort |", "|" + " --- |" * 10]
    for entry in data["minilm"]:
        base = data["minilm"][0]
        lines.append(f"| {entry['model']} | {entry['weight_parameters']:,} | "
                     f"{entry['linear_parameters']:,} | {entry['linear_gmac']:.2f} | "
                     f"{_count(entry['peak_buffer_bytes'])} | "
                     f"{entry['pith_seconds'] * 1e3:.1f} | "
                     f"{entry['onnxruntime_seconds'] * 1e3:.1f} | "
                     f"{base['pith_seconds'] / entry['pith_seconds']:.2f} | "
                     f"{base['onnxruntime_seconds'] / entry['onnxruntime_seconds']:.2f} | "
                     f"{entry['pith_vs_onnxruntime']:.1e} |")
    lines.append("")
    return harness.keep_commentary(MD_PATH, "\n".join(lines),
                                   "_Commentary to be written after reading the results._")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--minilm-repeat", type=int, default=15)
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite speed.md from speed.json")
    args = parser.parse_args()
    if args.render_only:
        data = json.loads(JSON_PATH.read_text())
    else:
        pith = curves.snapshot_pith()
        data = {"git_head": curves.git_head(), "pith_built": time.strftime(
                    "%Y-%m-%d %H:%M:%S UTC", time.gmtime(pith.stat().st_mtime)),
                "repeat": args.repeat, "minilm_repeat": args.minilm_repeat,
                "layers": layer_benchmark(pith, args.repeat),
                "minilm": minilm_benchmark(pith, args.minilm_repeat)}
        harness.write_json(JSON_PATH, data)
    MD_PATH.write_text(render_markdown(data))
    print(f"wrote {MD_PATH.relative_to(REPO)}")


if __name__ == "__main__":
    main()

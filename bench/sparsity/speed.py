#!/usr/bin/env python3
"""Speed of pruned layers on Pith's CPU backend, against Pith's dense code.

1. One layer y = x . W, x [256, 3072], W [3072, 768] (random, fixed seed),
   pruned by `pith-sparsify` (magnitude) to unstructured 50/70/80/90%,
   2:4, block4x4 and block16x16 at 90%. Each model is compiled with the
   Python package and timed on the same input, 2 threads, models
   interleaved, median of --repeat runs after a warm-up. The sparse kernel
   measures itself against the dense one on its first call and keeps the
   faster (PITH_SPARSE_VERBOSE prints both times; they are captured here),
   so no layer may come out slower than dense beyond noise. Two timings:
   all eight models interleaved (each call finds the others' weights in
   the caches), and each pruned model interleaved with the dense one alone
   (the layer against Pith's dense code, as the acceptance compares them).
   Acceptance: 90% unstructured at least 3x faster than dense.
2. MiniLM-L6 end to end, inputs fixed to 8 x 128 tokens: the original and
   the model pruned to 80% unstructured (magnitude), Pith and onnxruntime
   (2 threads each), interleaved. Acceptance: the pruned model faster in
   Pith than the dense one.

Every pruned model is checked: onnx.checker, and Pith's outputs within 1e-4
relative of onnxruntime's on the same file.

Writes docs/sparsity/speed.json and speed.md (commentary kept).

Usage: .venv/bin/python bench/sparsity/speed.py [--repeat N] [--minilm-repeat N] [--render-only]
"""

import os

os.environ["OMP_NUM_THREADS"] = "2"  # before the kernels load libomp, which reads it once
os.environ["PITH_SPARSE_VERBOSE"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "lowrank"))
sys.path.insert(0, str(REPO / "bench" / "tying"))
sys.path.insert(0, str(REPO / "build" / "python"))
import harness  # noqa: E402
from speed import static_copy, time_interleaved  # noqa: E402  (bench/lowrank/speed.py)

import pith  # noqa: E402

OUT = REPO / "bench" / "out" / "sparsity" / "speed"
DOCS = REPO / "docs" / "sparsity"
JSON_PATH = DOCS / "speed.json"
MD_PATH = DOCS / "speed.md"
ROWS, K, N = 256, 3072, 768
PRUNINGS = [("unstructured 50%", "pattern=unstructured sparsity=0.5"),
            ("unstructured 70%", "pattern=unstructured sparsity=0.7"),
            ("unstructured 80%", "pattern=unstructured sparsity=0.8"),
            ("unstructured 90%", "pattern=unstructured sparsity=0.9"),
            ("2:4", "pattern=2:4"),
            ("block4x4 90%", "pattern=block4x4 sparsity=0.9"),
            ("block16x16 90%", "pattern=block16x16 sparsity=0.9")]
MINILM_SHAPE = (8, 128)


class CapturedStderr:
    """What C++ code writes to file descriptor 2 while in scope."""

    def __enter__(self):
        sys.stderr.flush()
        self.file = tempfile.TemporaryFile(mode="w+")
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        self.text = self.file.read()
        self.file.close()


def linear_model(path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = (np.random.default_rng(0).standard_normal((K, N)) / np.sqrt(K)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "layer",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, N])],
                              [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def compile_and_choose(path, feeds):
    """The compiled model after its first run, and the kernel choices printed."""
    compiled = pith.load(path).compile()
    with CapturedStderr() as captured:
        compiled(**feeds)
    choices = [{"shape": m[0], "dense_ms": float(m[1]), "sparse_ms": float(m[2])}
               for m in re.findall(r"sparse matmul (\S+): dense ([0-9.]+) ms, sparse ([0-9.]+) ms",
                                   captured.text)]
    return compiled, choices


def check(path, compiled, feeds):
    import onnx
    onnx.checker.check_model(str(path), full_check=True)
    reference = harness.ort_session(path).run(None, feeds)
    return harness.relative_error(reference, compiled(**feeds))


def layer_benchmark(repeat):
    OUT.mkdir(parents=True, exist_ok=True)
    dense_path = linear_model(OUT / "layer-dense.onnx")
    x = np.random.default_rng(1).standard_normal((ROWS, K)).astype(np.float32)
    feeds = {"x": x}
    models = [("dense", dense_path, None)]
    for label, options in PRUNINGS:
        out = OUT / f"layer-{label.replace(' ', '-').replace(':', '-').replace('%', '')}.onnx"
        model = pith.load(dense_path).optimize("pith-sparsify{" + options + " min-size=0}")
        model.save(out)
        models.append((label, out, model.report()["passes"][0]))
    compiled = [compile_and_choose(path, feeds) for _, path, _ in models]
    seconds = time_interleaved([lambda c=c: c(**feeds) for c, _ in compiled], repeat)
    dense = compiled[0][0]
    pairs = [None] + [time_interleaved([lambda: dense(**feeds), lambda c=c: c(**feeds)], repeat)
                      for c, _ in compiled[1:]]
    rows = []
    for (label, path, report), (model, choices), elapsed, pair in zip(models, compiled, seconds,
                                                                      pairs):
        row = {"model": label, "seconds": elapsed, "speedup": seconds[0] / elapsed,
               "kernel_choice": choices}
        if pair:
            row.update(pair_seconds=pair[1], pair_dense_seconds=pair[0],
                       pair_speedup=pair[0] / pair[1])
        if report:
            row.update(zeros=1 - report["nonzero_after"] / report["parameters"],
                       pith_vs_onnxruntime=check(path, model, feeds))
        rows.append(row)
        print(row, flush=True)
    return rows


def minilm_benchmark(repeat):
    batch, length = MINILM_SHAPE
    ids = np.random.default_rng(2).integers(1000, 30000, (batch, length), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    original = harness.minilm.ensure_minilm_onnx()
    pruned = OUT / "minilm-unstructured-80.onnx"
    model = pith.load(original).optimize("pith-sparsify{pattern=unstructured sparsity=0.8}")
    model.save(pruned)
    report = model.report()["passes"][0]
    entries, runners = [], []
    for label, path in (("original", original), ("unstructured 80% (magnitude)", pruned)):
        static = static_copy(path, MINILM_SHAPE, OUT / f"minilm-{len(entries)}.static.onnx")
        ort_path, _ = harness.for_onnxruntime(static)
        compiled, choices = compile_and_choose(static, feeds)
        session = harness.ort_session(ort_path)
        agreement = harness.relative_error(session.run(None, feeds), compiled(**feeds))
        entries.append({"model": label, "kernel_choice": choices,
                        "pith_vs_onnxruntime": agreement})
        runners += [lambda c=compiled: c(**feeds), lambda s=session: s.run(None, feeds)]
    seconds = time_interleaved(runners, repeat)
    for i, entry in enumerate(entries):
        entry.update(pith_seconds=seconds[2 * i], onnxruntime_seconds=seconds[2 * i + 1])
    entries[1]["zeros"] = 1 - report["nonzero_after"] / report["parameters"]
    entries[1]["layers_pruned"] = report["layers_pruned"]
    for entry in entries:
        entry.update(pith_speedup=entries[0]["pith_seconds"] / entry["pith_seconds"],
                     onnxruntime_speedup=entries[0]["onnxruntime_seconds"]
                     / entry["onnxruntime_seconds"])
        print({k: v for k, v in entry.items() if k != "kernel_choice"}, flush=True)
    return entries


def render(data):
    lines = ["<!-- Generated by bench/sparsity/speed.py from speed.json, except the "
             "commentary block. -->", "# Speed of pruned layers on Pith's CPU backend", "",
             f"Median of {data['repeat']} runs (MiniLM: {data['minilm_repeat']}) after a warm-up, "
             "models interleaved, 2 threads, through the Python package (times include "
             "returning the outputs as numpy arrays). The machine is shared: read the ratios. "
             f"Pith {data['git_head']}.", "", "{commentary}", "",
             f"## One layer, x [{ROWS}, {K}] · W [{K}, {N}]", "",
             "Two timings: all eight models interleaved, and each pruned model interleaved "
             "with the dense one alone (pair).", "",
             "| pruning | zeros | ms (all eight) | speedup vs dense | ms (pair) | speedup in the "
             "pair | kernel (first-call times, ms) | Pith vs ort |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in data["layer"]:
        choice = "dense (no sparse candidate)"
        if row["kernel_choice"]:
            c = row["kernel_choice"][0]
            kept = "sparse" if c["sparse_ms"] < c["dense_ms"] else "dense"
            choice = f"{kept} (dense {c['dense_ms']:.2f}, sparse {c['sparse_ms']:.2f})"
        zeros = f"{row['zeros']:.1%}" if "zeros" in row else "0"
        agree = f"{row['pith_vs_onnxruntime']:.1e}" if "pith_vs_onnxruntime" in row else "–"
        pair = (f"{row['pair_seconds'] * 1e3:.2f} | **{row['pair_speedup']:.2f}**"
                if "pair_seconds" in row else "– | –")
        lines.append(f"| {row['model']} | {zeros} | {row['seconds'] * 1e3:.2f} | "
                     f"{row['speedup']:.2f} | {pair} | {choice} | {agree} |")
    batch, length = MINILM_SHAPE
    lines += ["", f"## MiniLM-L6 end to end, {batch} x {length} tokens", "",
              "| model | layers pruned | zeros | Pith ms | onnxruntime ms | Pith speedup | "
              "onnxruntime speedup | matmuls on the sparse kernel | Pith vs ort |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in data["minilm"]:
        sparse = sum(1 for c in e["kernel_choice"] if c["sparse_ms"] < c["dense_ms"])
        lines.append(f"| {e['model']} | {e.get('layers_pruned', 0)} | "
                     f"{e.get('zeros', 0):.1%} | {e['pith_seconds'] * 1e3:.1f} | "
                     f"{e['onnxruntime_seconds'] * 1e3:.1f} | {e['pith_speedup']:.2f} | "
                     f"{e['onnxruntime_speedup']:.2f} | {sparse} of {len(e['kernel_choice'])} "
                     f"| {e['pith_vs_onnxruntime']:.1e} |")
    MD_PATH.write_text(harness.keep_commentary(MD_PATH, "\n".join(lines) + "\n",
                                               "(commentary to be written)"))
    print(f"wrote {MD_PATH.relative_to(REPO)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--minilm-repeat", type=int, default=15)
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    if args.render_only:
        data = json.loads(JSON_PATH.read_text())
    else:
        import subprocess
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        data = {"git_head": head, "repeat": args.repeat, "minilm_repeat": args.minilm_repeat,
                "layer": layer_benchmark(args.repeat),
                "minilm": minilm_benchmark(args.minilm_repeat)}
        harness.write_json(JSON_PATH, data)
    render(data)


if __name__ == "__main__":
    main()

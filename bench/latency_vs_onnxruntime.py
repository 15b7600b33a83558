#!/usr/bin/env python3
"""CPU latency of Pith against onnxruntime, side by side in one run.

For each corpus model (bench/models/make_models.py) at batch 1 and 8: the
same deterministic inputs go to `pith run --repeat N` (median of N runs after
a warm-up, compiled once) and to an onnxruntime session with the same number
of threads (median of N runs after a warm-up). Prints Pith's compile time,
both latencies and the ratio Pith / onnxruntime, and writes the table to
docs/benchmarks/cpu-latency.md. These machines are shared and noisy: read the
ratios, not the absolute times.

Usage: .venv/bin/python bench/latency_vs_onnxruntime.py [--models NAME...]
       [--repeat N] [--threads N]
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "models"))
from compare_with_ort import make_inputs  # noqa: E402  (shared input recipe)

MODELS = ["minilm_b1", "minilm_b8", "resnet50_b1", "resnet50_b8",
          "mobilenetv2_b1", "mobilenetv2_b8"]


def pith_latency(model_path, inputs, work, repeat, threads):
    args = []
    for name, value in inputs.items():
        path = os.path.join(work, f"{name}.npy")
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([os.path.join(ROOT, "build", "bin", "pith"), "run", model_path,
                           *args, "--output-dir", os.path.join(work, "out"),
                           "--repeat", str(repeat)],
                          capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[0])
    compile_s = float(re.search(r"compile time:\s*([0-9.]+)", proc.stdout).group(1))
    run_s = float(re.search(r"run time:\s*([0-9.]+)", proc.stdout).group(1))
    return compile_s, run_s


def ort_latency(model_path, inputs, repeat, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    session.run(None, inputs)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, inputs)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def ratio_chart(rows):
    """An SVG bar chart of Pith / onnxruntime per model, with the parity line
    (1.0) and the 2x bound of the CPU issue: plain SVG, no plotting library."""
    measured = [(name, pith_s / ort_s) for name, _, pith_s, ort_s in rows if pith_s]
    width, bar, gap, left, top = 640, 22, 10, 150, 30
    scale = (width - left - 40) / max([2.2] + [r for _, r in measured])
    height = top + len(measured) * (bar + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="18" font-weight="bold">Pith latency / onnxruntime latency '
             '(lower is better)</text>']
    for i, (name, r) in enumerate(measured):
        y = top + i * (bar + gap)
        parts.append(f'<text x="{left - 8}" y="{y + bar - 6}" text-anchor="end">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{r * scale:.1f}" height="{bar}" '
                     'fill="#4e79a7"/>')
        parts.append(f'<text x="{left + r * scale + 4:.1f}" y="{y + bar - 6}">{r:.2f}</text>')
    bottom = top + len(measured) * (bar + gap)
    for value, label, color in ((1.0, "parity", "#444"), (2.0, "2x", "#e15759")):
        x = left + value * scale
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{bottom}" '
                     f'stroke="{color}" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" '
                     f'fill="{color}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks",
                                                         "cpu-latency.md"))
    args = parser.parse_args()

    rows = []
    for name in args.models:
        path = os.path.join(HERE, "models", "out", f"{name}.onnx")
        if not os.path.exists(path):
            print(f"{name}: missing; run /usr/bin/python3 bench/models/make_models.py")
            continue
        work = os.path.join(HERE, "out", "latency", name)
        os.makedirs(work, exist_ok=True)
        inputs = make_inputs(onnx.load(path, load_external_data=False))
        try:
            compile_s, pith_s = pith_latency(path, inputs, work, args.repeat, args.threads)
        except Exception as e:  # report and go on with the other models
            print(f"{name}: pith failed: {e}")
            rows.append((name, None, None, None))
            continue
        ort_s = ort_latency(path, inputs, args.repeat, args.threads)
        rows.append((name, compile_s, pith_s, ort_s))
        print(f"{name:16} compile {compile_s:7.2f} s   pith {pith_s * 1e3:9.2f} ms   "
              f"onnxruntime {ort_s * 1e3:9.2f} ms   ratio {pith_s / ort_s:6.2f}")

    lines = ["<!-- Generated by bench/latency_vs_onnxruntime.py. -->",
             "# CPU latency: Pith vs onnxruntime", "",
             f"Median of {args.repeat} runs after a warm-up, {args.threads} threads each, "
             "same inputs, one run of the script on a shared 2-core machine "
             "(ratios are meaningful, absolute times less so).", "",
             "![Pith / onnxruntime latency per model](cpu-latency.svg)", "",
             "| model | Pith compile (s) | Pith (ms) | onnxruntime (ms) | Pith / onnxruntime |",
             "| --- | --- | --- | --- | --- |"]
    for name, compile_s, pith_s, ort_s in rows:
        if pith_s is None:
            lines.append(f"| {name} | failed | | | |")
        else:
            lines.append(f"| {name} | {compile_s:.2f} | {pith_s * 1e3:.2f} | "
                         f"{ort_s * 1e3:.2f} | {pith_s / ort_s:.2f} |")
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    chart = os.path.splitext(args.output)[0] + ".svg"
    with open(chart, "w") as f:
        f.write(ratio_chart(rows))
    print(f"wrote {os.path.relpath(args.output, ROOT)} and {os.path.relpath(chart, ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes docs/mixed-precision.md and docs/mixed_precision/speedup.svg from
the figures bench/mixed_precision/speed.py and accuracy.py left in
docs/mixed_precision/ (the hand-written commentary block is kept).

Usage: .venv/bin/python bench/mixed_precision/report.py
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "tying"))
from harness import keep_commentary  # noqa: E402

DOCS = REPO / "docs"
DATA = DOCS / "mixed_precision"
PAGE = DOCS / "mixed-precision.md"
COLORS = {"fp16": "#4e79a7", "bf16": "#f28e2b"}


def ms(seconds):
    return f"{seconds * 1e3:.2f}"


def peaks_section(peaks):
    g = peaks["gflops_one_core"]

    def cell(key):
        return "not on this CPU" if g.get(key) is None else f"{g[key]:.0f}"
    return [
        f"Measured on this machine ({peaks['cpu']}; flags {', '.join(peaks['flags'])}) by "
        "`bench/mixed_precision/peaks.cpp`: one core, 12 independent accumulators, GFLOP/s "
        "(an FMA is 2 flops).", "",
        "| instructions | GFLOP/s | vs fp32 |", "| --- | --- | --- |",
        f"| fp32 FMA (`vfmadd231ps` zmm) | {cell('fp32_fma')} | 1.00 |",
        f"| AVX512-BF16 dot product (`vdpbf16ps`) | {cell('bf16_dot')} | "
        f"{g['bf16_dot'] / g['fp32_fma']:.2f} |" if g.get("bf16_dot") else
        "| AVX512-BF16 dot product | not on this CPU | |",
        f"| fp16 widened by F16C, then fp32 FMA | {cell('fp16_convert_fma')} | "
        f"{g['fp16_convert_fma'] / g['fp32_fma']:.2f} |",
        f"| AVX512-FP16 FMA (`vfmadd231ph`) | {cell('fp16_fma')} | "
        + (f"{g['fp16_fma'] / g['fp32_fma']:.2f} |" if g.get("fp16_fma") else "|"), ""]


def layers_section(rows):
    lines = ["| M x K x N | kind | Pith fp32 ms | Pith fp16 ms | Pith bf16 ms | fp16 speedup | "
             "bf16 speedup | onnxruntime fp32 ms | onnxruntime fp16 ms | fp16 error | bf16 error |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(
            f"| {r['shape']} | {r['kind']} | {ms(r['pith_fp32_seconds'])} | "
            f"{ms(r['pith_fp16_seconds'])} | {ms(r['pith_bf16_seconds'])} | "
            f"**{r['pith_fp16_speedup']:.2f}** | **{r['pith_bf16_speedup']:.2f}** | "
            f"{ms(r['onnxruntime_fp32_seconds'])} | {ms(r['onnxruntime_fp16_seconds'])} | "
            f"{r['pith_fp16_error']:.1e} | {r['pith_bf16_error']:.1e} |")
    return lines + ["", "Speedups are Pith fp32 time / Pith low-precision time in the same run; "
                    "errors are relative L2 against the float64 product.", ""]


def minilm_section(m):
    lines = ["| | Pith ms | speedup over Pith fp32 | onnxruntime ms | error vs onnxruntime fp32 |",
             "| --- | --- | --- | --- | --- |"]
    for p in ("fp32", "fp16", "bf16"):
        ort = m.get(f"onnxruntime_{p}_seconds")
        speedup = m["pith_fp32_seconds"] / m[f"pith_{p}_seconds"]
        lines.append(f"| {p} | {ms(m[f'pith_{p}_seconds'])} | {speedup:.2f} | "
                     f"{ms(ort) if ort else 'no bf16 kernels'} | {m[f'pith_{p}_error']:.1e} |")
    return lines + [""]


def accuracy_section(acc):
    lines = ["| model | metric | fp32 | fp16 | bf16 | fp16 in onnxruntime | NaN/Inf |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    m = acc["minilm"]
    lines.append(f"| MiniLM-L6 | cosine vs fp32, mean / min | "
                 f"{m['fp32']['cosine_mean']:.6f} / {m['fp32']['cosine_min']:.6f} | "
                 f"{m['fp16']['cosine_mean']:.6f} / {m['fp16']['cosine_min']:.6f} | "
                 f"{m['bf16']['cosine_mean']:.6f} / {m['bf16']['cosine_min']:.6f} | "
                 f"min {m['fp16']['onnxruntime_cosine_min']:.6f} | "
                 f"{'none' if m['fp16']['finite'] and m['bf16']['finite'] else 'FOUND'} |")
    names = {"cnn": "Fashion-MNIST CNN", "mlp": "Fashion-MNIST MLP", "lm": "tiny_lm"}
    for task in ("cnn", "mlp", "lm"):
        t = acc[task]
        fmt = (lambda v: f"{100 * v:.2f}%") if t["metric"] == "top1" else (lambda v: f"{v:.4f}")
        change = (lambda e: f" ({100 * e['change']:+.2f} pt)") if t["metric"] == "top1" else \
            (lambda e: f" ({100 * e['relative_change']:+.3f}%)")
        lines.append(f"| {names[task]} | {t['metric']} | {fmt(t['fp32']['pith'])} | "
                     f"{fmt(t['fp16']['pith'])}{change(t['fp16'])} | "
                     f"{fmt(t['bf16']['pith'])}{change(t['bf16'])} | "
                     f"{fmt(t['fp16']['onnxruntime'])} | "
                     f"{'none' if t['fp16']['finite'] and t['bf16']['finite'] else 'FOUND'} |")
    lines += ["", "What the pass did (keep-io-types, range-checked on each model's calibration "
              "split):", "",
              "| model | precision | ops in low precision | float32 ops | casts | converted weights "
              "| bytes before -> after | kept float32 by range |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for task in ("minilm", "cnn", "mlp", "lm"):
        for p in ("fp16", "bf16"):
            r = acc[task][p]["report"]
            lines.append(f"| {task} | {p} | {r['low_ops']} | {r['float32_ops']} | {r['casts']} | "
                         f"{r['weights_converted']} | {r['converted_bytes_before']} -> "
                         f"{r['converted_bytes_after']} | {r['range_kept_float32']} |")
    return lines + [""]


def speedup_chart(rows, minilm):
    """Bars of Pith fp32 time / Pith fp16 and bf16 time per shape, the
    parity line at 1; plain SVG (the venv has no plotting library)."""
    cases = [(r["shape"], r["pith_fp16_speedup"], r["pith_bf16_speedup"]) for r in rows]
    cases.append(("MiniLM 8x128", minilm["pith_fp16_speedup"], minilm["pith_bf16_speedup"]))
    width, bar, gap, left, top = 640, 12, 10, 130, 46
    scale = (width - left - 60) / max([1.6] + [v for c in cases for v in c[1:]])
    bottom = top + len(cases) * (2 * bar + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{bottom + 30}" '
             'font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="18" font-weight="bold">Pith fp32 time / Pith low-precision '
             'time (above 1: faster)</text>']
    for i, (label, color) in enumerate(COLORS.items()):
        parts.append(f'<rect x="{left + 70 * i}" y="28" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + 70 * i + 14}" y="37">{label}</text>')
    for i, (label, *values) in enumerate(cases):
        y = top + i * (2 * bar + gap)
        parts.append(f'<text x="{left - 8}" y="{y + bar + 4}" text-anchor="end">{label}</text>')
        for j, (value, color) in enumerate(zip(values, COLORS.values())):
            length = value * scale
            parts.append(f'<rect x="{left}" y="{y + j * bar}" width="{length:.1f}" '
                         f'height="{bar - 1}" fill="{color}"/>'
                         f'<text x="{left + length + 4:.1f}" y="{y + j * bar + bar - 2}" '
                         f'font-size="10">{value:.2f}</text>')
    x = left + scale
    parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" stroke="#444" '
                 'stroke-dasharray="4 3"/>')
    return "\n".join(parts + ["</svg>"]) + "\n"


def markdown(speed, acc):
    lines = ["# Mixed precision (fp16, bf16) on the CPU", "",
             "`pith-mixed-precision{precision=fp16|bf16 keep-fp32=... low=... keep-io-types=...}` "
             "(see docs/passes) converts a model; Pith's CPU backend runs the result. Figures "
             "below are regenerated by `bench/mixed_precision/speed.py`, `accuracy.py` and "
             "`report.py`.", "", "{commentary}", "", "## This machine's arithmetic", ""]
    lines += peaks_section(speed["peaks"])
    lines += ["## One layer y = x . W (2 threads)", ""] + layers_section(speed["layers"])
    lines += ["![speedups](mixed_precision/speedup.svg)", ""]
    lines += [f"## MiniLM-L6 end to end ({speed['minilm']['shape'][0]} x "
              f"{speed['minilm']['shape'][1]} tokens, 2 threads)", ""]
    lines += minilm_section(speed["minilm"])
    lines += ["## Accuracy on real data", ""] + accuracy_section(acc)
    return "\n".join(lines)


def main():
    speed = json.loads((DATA / "speed.json").read_text())
    acc = json.loads((DATA / "accuracy.json").read_text())
    PAGE.write_text(keep_commentary(PAGE, markdown(speed, acc),
                                    "_Commentary to be written after reading the results._"))
    (DATA / "speedup.svg").write_text(speedup_chart(speed["layers"], speed["minilm"]))
    print(f"wrote {PAGE.relative_to(REPO)} and {(DATA / 'speedup.svg').relative_to(REPO)}")


if __name__ == "__main__":
    main()

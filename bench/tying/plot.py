#!/usr/bin/env python3
"""Draws the weight-tying charts from the sweeps' JSON results, so that the
SVGs can be redrawn (or restyled) without rerunning a sweep:

  docs/tying/tying.json        -> docs/tying/tying_minilm.svg, tying_lm.svg
  docs/tying/basis_vs_svd.json -> docs/tying/basis_vs_svd.svg

Plain SVG written by hand (the venv has no plotting library), like
bench/latency_vs_onnxruntime.py. Every chart puts the weight parameters of
the transformed model on x and a task metric on y. Metrics that approach a
perfect 1 (cosine, Spearman) are drawn as their distance from 1 on a log
axis, so that the points that matter (near 1) are not squashed against the
top of the chart by the few that are far off.

Usage: .venv/bin/python bench/tying/plot.py
"""

import json
import math

from harness import DOCS, REPO

COLORS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2"]
PANEL_W = 460
PANEL_H = 340
MARGIN = {"left": 70, "right": 20, "top": 40, "bottom": 70}


def _ticks(low, high, log):
    """Round tick values covering [low, high]: 1-2-5 steps (decades on a log axis)."""
    if log:
        ticks = []
        for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
            for mantissa in (1, 2, 5):
                value = mantissa * 10.0 ** exponent
                if low <= value <= high:
                    ticks.append(value)
        return ticks
    raw = (high - low) / 5 or 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(low / step), math.floor(high / step) + 1)]


def _label(value):
    return f"{value:g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.0e}"


def _panel(panel, ox, oy, panel_width):
    """One chart at offset (ox, oy): axes, ticks, reference lines, series."""
    log = panel.get("ylog", False)
    points = [p for s in panel["series"] for p in s["points"]]
    xs = [p[0] for p in points] + [x for x, _ in panel.get("vlines", [])]
    ys = [p[1] for p in points] + [y for y, _ in panel.get("hlines", [])]
    if log:
        ys = [y for y in ys if y > 0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = (x1 - x0) * 0.06 or abs(x0) * 0.1 or 1.0
    x0, x1 = x0 - pad, x1 + pad
    if log:
        y0, y1 = y0 / 1.6, y1 * 1.6
    else:
        pad = (y1 - y0) * 0.08 or abs(y0) * 0.1 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    left, top = ox + MARGIN["left"], oy + MARGIN["top"]
    width = panel_width - MARGIN["left"] - MARGIN["right"]
    height = PANEL_H - MARGIN["top"] - MARGIN["bottom"]

    def px(x):
        return left + (x - x0) / (x1 - x0) * width

    def py(y):
        if log:
            y = max(y, y0)
            return top + height - (math.log(y / y0) / math.log(y1 / y0)) * height
        return top + height - (y - y0) / (y1 - y0) * height

    parts = [f'<text x="{left + width / 2}" y="{oy + 22}" text-anchor="middle" '
             f'font-weight="bold">{panel["title"]}</text>',
             f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" '
             'stroke="#999"/>']
    for x in _ticks(x0, x1, False):
        parts.append(f'<line x1="{px(x):.1f}" y1="{top + height}" x2="{px(x):.1f}" '
                     f'y2="{top + height + 4}" stroke="#999"/>')
        parts.append(f'<text x="{px(x):.1f}" y="{top + height + 16}" '
                     f'text-anchor="middle">{_label(x)}</text>')
    for y in _ticks(y0, y1, log):
        parts.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{left + width}" y2="{py(y):.1f}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" '
                     f'text-anchor="end">{_label(y)}</text>')
    parts.append(f'<text x="{left + width / 2}" y="{top + height + 34}" '
                 f'text-anchor="middle">{panel["xlabel"]}</text>')
    parts.append(f'<text transform="translate({ox + 16},{top + height / 2}) rotate(-90)" '
                 f'text-anchor="middle">{panel["ylabel"]}</text>')
    for y, label in panel.get("hlines", []):
        parts.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{left + width}" y2="{py(y):.1f}" '
                     'stroke="#444" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{left + 4}" y="{py(y) - 4:.1f}" fill="#444">{label}</text>')
    for x, label in panel.get("vlines", []):
        parts.append(f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{top + height}" '
                     'stroke="#444" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{px(x) - 4:.1f}" y="{top + height - 6}" text-anchor="end" '
                     f'fill="#444">{label}</text>')
    for index, series in enumerate(panel["series"]):
        color = series.get("color", COLORS[index % len(COLORS)])
        shown = [(x, y, t) for x, y, t in series["points"] if not log or y > 0]
        if series.get("line") and len(shown) > 1:
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y, _ in sorted(shown))
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                         'stroke-width="1.5"/>')
        for x, y, text in shown:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{color}"/>')
            if text:
                parts.append(f'<text x="{px(x) + 5:.1f}" y="{py(y) - 5:.1f}" font-size="10" '
                             f'fill="{color}">{text}</text>')
    # Legend in one row under the x-axis label (6 px per character of 11 px text).
    x, y = left, top + height + 54
    for index, series in enumerate(panel["series"]):
        color = series.get("color", COLORS[index % len(COLORS)])
        parts.append(f'<circle cx="{x + 4}" cy="{y - 4}" r="3.5" fill="{color}"/>')
        parts.append(f'<text x="{x + 11}" y="{y}" font-size="11">{series["name"]}</text>')
        x += 24 + 6 * len(series["name"])
    return parts


def chart(panels, title, columns=2, panel_width=PANEL_W):
    """An SVG of several panels in a grid under one title."""
    rows = math.ceil(len(panels) / columns)
    width, height = panel_width * min(columns, len(panels)), 30 + PANEL_H * rows
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" '
             f'font-weight="bold">{title}</text>']
    for i, panel in enumerate(panels):
        parts += _panel(panel, panel_width * (i % columns), 30 + PANEL_H * (i // columns),
                        panel_width)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _millions(count):
    return count / 1e6


def _tying_series(runs, metric, transform):
    """One series per grouping (budgeted runs joined by a line, labelled with
    their budget) and one for the unbudgeted runs."""
    series = {}
    for run in runs:
        if "metrics" not in run:
            continue
        options = run["options"]
        unbudgeted = options.get("unbudgeted") == "true"
        name = f"groups={options['groups']}" + (" unbudgeted" if unbudgeted else "")
        key = "unbudgeted" if unbudgeted else name
        label = (f"{options['groups']}" if unbudgeted else f"{options['max-rel-error']}")
        entry = series.setdefault(key, {"name": "unbudgeted (mean)" if unbudgeted else name,
                                        "points": [], "line": not unbudgeted})
        entry["points"].append((_millions(run["parameters"]["unique"]),
                                transform(run["metrics"][metric]), label))
    return list(series.values())


def tying_charts(data):
    """{file name: svg} of tying.json."""
    charts = {}
    minilm = data["models"].get("minilm")
    if minilm:
        original = _millions(minilm["original"]["parameters"]["unique"])
        panels = []
        for metric, title in (("cosine_mean", "1 - mean cosine to the original"),
                              ("pairwise_spearman", "1 - Spearman of pairwise similarities")):
            panels.append({"title": title, "xlabel": "weight parameters (millions)",
                           "ylabel": title + " (log)", "ylog": True,
                           "series": _tying_series(minilm["runs"], metric, lambda v: 1.0 - v),
                           "vlines": [(original, "original size")]})
        charts["tying_minilm.svg"] = chart(
            panels, "MiniLM-L6: pith-tie-layers weights=all (labels: max-rel-error)")
    lm = data["models"].get("lm")
    if lm:
        original = lm["original"]
        panel = {"title": "perplexity on held-out windows", "ylog": True,
                 "xlabel": "weight parameters (millions)", "ylabel": "perplexity (log)",
                 "series": _tying_series(lm["runs"], "perplexity", lambda v: v),
                 "hlines": [(original["metrics"]["perplexity"], "original perplexity"),
                            (data["lm_unigram_perplexity"], "unigram baseline")],
                 "vlines": [(_millions(original["parameters"]["unique"]), "original size")]}
        charts["tying_lm.svg"] = chart([panel], "tiny LM: pith-tie-layers weights=all "
                                                "(labels: max-rel-error)", columns=1,
                                       panel_width=640)
    return charts


def basis_charts(data):
    """{file name: svg} of basis_vs_svd.json: one panel per (weights, metric)."""
    original = _millions(data["original"]["parameters"]["unique"])
    panels = []
    for metric, title in (("cosine_mean", "1 - mean cosine"),
                          ("pairwise_spearman", "1 - Spearman")):
        for weights in data["weights"]:
            series = {}
            for run in data["runs"]:
                if run["options"]["weights"] != weights or "metrics" not in run:
                    continue
                entry = series.setdefault(run["method"], {"name": run["method"], "points": [],
                                                          "line": True})
                entry["points"].append((_millions(run["parameters"]["unique"]),
                                        1.0 - run["metrics"][metric],
                                        str(run["options"]["param-fraction"])))
            panels.append({"title": f"weights={weights}: {title}", "ylog": True,
                           "xlabel": "weight parameters (millions)",
                           "ylabel": title + " (log)", "vlines": [(original, "original size")],
                           "series": [series[m] for m in data["methods"] if m in series]})
    return {"basis_vs_svd.svg": chart(panels, "MiniLM-L6: shared basis (pith-share-basis) vs "
                                              "per-layer SVD (labels: param-fraction)")}


def write_charts(charts):
    for name, svg in charts.items():
        path = DOCS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(svg)
        print(f"wrote {path}")


def main():
    for source, draw in (("tying.json", tying_charts), ("basis_vs_svd.json", basis_charts)):
        path = DOCS / source
        if path.is_file():
            write_charts(draw(json.loads(path.read_text())))
        else:
            print(f"{path.relative_to(REPO)} missing: run its sweep first")


if __name__ == "__main__":
    main()

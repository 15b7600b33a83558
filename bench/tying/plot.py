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


class _Axis:
    """Maps data values to pixels over [start, end] (pixels; end < start for
    y), linear or logarithmic, with some room around the data."""

    def __init__(self, values, start, end, log):
        self.start, self.end, self.log = start, end, log
        values = [v for v in values if v > 0] if log else list(values)
        low, high = min(values), max(values)
        if log:
            self.low, self.high = low / 1.6, high * 1.6
        else:
            pad = (high - low) * 0.07 or abs(low) * 0.1 or 1.0
            self.low, self.high = low - pad, high + pad

    def __call__(self, value):
        if self.log:
            share = math.log(max(value, self.low) / self.low) / math.log(self.high / self.low)
        else:
            share = (value - self.low) / (self.high - self.low)
        return self.start + share * (self.end - self.start)

    def ticks(self, max_decades=4):
        """Round values inside the axis: 1-2-5 steps (on a log axis 1-2-5 per
        decade, or decades alone when there are more than max_decades)."""
        if self.log:
            first = math.floor(math.log10(self.low))
            last = math.ceil(math.log10(self.high))
            mantissas = (1, 2, 5) if last - first <= max_decades else (1,)
            values = [m * 10.0 ** e for e in range(first, last + 1) for m in mantissas]
            return [v for v in values if self.low <= v <= self.high]
        raw = (self.high - self.low) / 5
        power = 10.0 ** math.floor(math.log10(raw))
        step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        return [i * step for i in range(math.ceil(self.low / step),
                                        math.floor(self.high / step) + 1)]


def _label(value):
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:g}"
    return f"{value:.0e}"


def _panel(panel, ox, oy, panel_width):
    """One chart at offset (ox, oy): axes, ticks, reference lines, series.
    On a log axis points at or below zero are left out."""
    xlog, ylog = panel.get("xlog", False), panel.get("ylog", False)
    series_points = [[(x, y, t) for x, y, t in s["points"]
                      if (not xlog or x > 0) and (not ylog or y > 0)] for s in panel["series"]]
    points = [p for shown in series_points for p in shown]
    left, top = ox + MARGIN["left"], oy + MARGIN["top"]
    width = panel_width - MARGIN["left"] - MARGIN["right"]
    height = PANEL_H - MARGIN["top"] - MARGIN["bottom"]
    px = _Axis([p[0] for p in points] + [x for x, _ in panel.get("vlines", [])],
               left, left + width, xlog)
    py = _Axis([p[1] for p in points] + [y for y, _ in panel.get("hlines", [])],
               top + height, top, ylog)

    parts = [f'<text x="{left + width / 2}" y="{oy + 22}" text-anchor="middle" '
             f'font-weight="bold">{panel["title"]}</text>',
             f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" '
             'stroke="#999"/>']
    for x in px.ticks(max_decades=2):  # labels side by side: fewer of them
        parts.append(f'<line x1="{px(x):.1f}" y1="{top + height}" x2="{px(x):.1f}" '
                     f'y2="{top + height + 4}" stroke="#999"/>')
        parts.append(f'<text x="{px(x):.1f}" y="{top + height + 16}" '
                     f'text-anchor="middle">{_label(x)}</text>')
    for y in py.ticks():
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
        parts.append(f'<text x="{left + width - 4}" y="{py(y) - 4:.1f}" text-anchor="end" '
                     f'fill="#444">{label}</text>')
    for x, label in panel.get("vlines", []):
        parts.append(f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{top + height}" '
                     'stroke="#444" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{px(x) - 4:.1f}" y="{top + height - 6}" text-anchor="end" '
                     f'fill="#444">{label}</text>')
    placed = []  # (x, y) of the labels drawn so far, to keep them apart
    for index, (series, shown) in enumerate(zip(panel["series"], series_points)):
        color = series.get("color", COLORS[index % len(COLORS)])
        if series.get("line") and len(shown) > 1:
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y, _ in sorted(shown))
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                         'stroke-width="1.5"/>')
        for x, y, text in shown:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{color}"/>')
            if not text:
                continue
            lx, ly = px(x) + 5, py(y) - 5
            while any(abs(lx - a) < 6 * len(text) + 4 and abs(ly - b) < 11 for a, b in placed):
                ly += 11
            placed.append((lx, ly))
            parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="10" '
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


def _tying_series(runs, original, metric, transform):
    """One series per grouping (budgeted runs joined by a line, labelled with
    their budget) and one for the unbudgeted runs; x is the number of weight
    parameters the tying saved."""
    series = {}
    for run in runs:
        if "metrics" not in run:
            continue
        options = run["options"]
        unbudgeted = options.get("unbudgeted") == "true"
        key = "unbudgeted" if unbudgeted else f"groups={options['groups']}"
        entry = series.setdefault(key, {"name": "unbudgeted (mean)" if unbudgeted else key,
                                        "points": [], "line": not unbudgeted})
        entry["points"].append((original - run["parameters"]["unique"],
                                transform(run["metrics"][metric]),
                                options["groups"] if unbudgeted else options["max-rel-error"]))
    return list(series.values())


def tying_charts(data):
    """{file name: svg} of tying.json. The savings span orders of magnitude,
    so both axes are logarithmic; a run that tied nothing has no point."""
    charts = {}
    xlabel = "weight parameters saved (log; runs that saved none not drawn)"
    minilm = data["models"].get("minilm")
    if minilm:
        original = minilm["original"]["parameters"]["unique"]
        panels = []
        for metric, title in (("cosine_mean", "1 - mean cosine to the original"),
                              ("pairwise_spearman", "1 - Spearman of pairwise similarities")):
            panels.append({"title": title, "xlabel": xlabel, "xlog": True, "ylog": True,
                           "ylabel": title + " (log)",
                           "series": _tying_series(minilm["runs"], original, metric,
                                                   lambda v: 1.0 - v)})
        charts["tying_minilm.svg"] = chart(
            panels, f"MiniLM-L6 ({original / 1e6:.2f} M weights): pith-tie-layers "
                    "weights=all (labels: max-rel-error)")
    lm = data["models"].get("lm")
    if lm:
        original = lm["original"]["parameters"]["unique"]
        panel = {"title": "perplexity on held-out windows", "xlabel": xlabel,
                 "xlog": True, "ylog": True, "ylabel": "perplexity (log)",
                 "series": _tying_series(lm["runs"], original, "perplexity", lambda v: v),
                 "hlines": [(lm["original"]["metrics"]["perplexity"], "original"),
                            (data["lm_unigram_perplexity"], "unigram baseline")]}
        charts["tying_lm.svg"] = chart([panel], f"tiny LM ({original / 1e6:.2f} M weights): "
                                                "pith-tie-layers weights=all "
                                                "(labels: max-rel-error)",
                                       columns=1, panel_width=640)
    return charts


def basis_charts(data):
    """{file name: svg} of basis_vs_svd.json: one panel per (metric, weights),
    metrics on linear axes (they stay far from 1 here)."""
    original = _millions(data["original"]["parameters"]["unique"])
    short = {"shared basis, groups=all": "shared, all 6 layers",
             "shared basis, adjacent pairs": "shared, pairs"}
    panels = []
    for metric, title in (("cosine_mean", "mean cosine to the original"),
                          ("pairwise_spearman", "Spearman of pairwise similarities")):
        for weights in data["weights"]:
            series = {}
            for run in data["runs"]:
                if run["options"]["weights"] != weights or "metrics" not in run:
                    continue
                method = run["method"]
                entry = series.setdefault(method, {"name": short.get(method, method),
                                                   "points": [], "line": True})
                entry["points"].append((_millions(run["parameters"]["unique"]),
                                        run["metrics"][metric],
                                        str(run["options"]["param-fraction"])))
            panels.append({"title": f"weights={weights}: {title}",
                           "xlabel": "weight parameters (millions)", "ylabel": title,
                           "vlines": [(original, "original size")],
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

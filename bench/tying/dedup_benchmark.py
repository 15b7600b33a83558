#!/usr/bin/env python3
"""Acceptance benchmark of `pith-dedup-weights`, the lossless weight
deduplication: does it remove exactly the duplicated bytes, keep the outputs
bit for bit, and does the saving reach the compiled model's resident memory?

For each model of make_duplicate_models.py (run it first) it runs
  pith optimize M.onnx -o M.dedup.onnx --pipeline pith-dedup-weights --report-json
and reports
  - ONNX file bytes and initializer bytes (every graph) before and after,
    against the duplicated bytes found from the tensors' values alone
    (make_duplicate_models.duplicate_groups), and the duplicates left after;
  - outputs: Pith's compiled original vs compiled deduped model on the same
    inputs (must be bit-identical), Pith vs onnxruntime on the deduped file
    (relative L2 difference, at most 1e-4), onnxruntime original vs deduped
    (at most 1e-6; for models with a bool input, both values of it);
  - memory: the .weights file sizes, and the resident memory a compiled model
    adds, measured in a fresh process (median of 3): VmRSS before
    CompiledModel(...) and after loading it and running it once, and the peak
    (VmHWM, reset before loading).
It prints markdown tables and, when run on every model, writes them into
docs/tying/dedup.md, keeping that file's hand-written notes. Exits 1 if an
output check fails.

Usage: .venv/bin/python bench/tying/dedup_benchmark.py [MODEL ...]
"""

import argparse
import json
import re
import shlex
import statistics
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

from make_duplicate_models import (MODELS, OUT, REPO, describe_duplicates, initializers,
                                   inputs_path, model_path)

PITH = REPO / "build" / "bin" / "pith"
COMPILED_MODEL = REPO / "test" / "python"  # compiled_model.py: the C API through ctypes
DOC = REPO / "docs" / "tying" / "dedup.md"
PIPELINE = "pith-dedup-weights"
PITH_VS_ORT = 1e-4  # relative L2 difference allowed between Pith and onnxruntime
ORT_ORIGINAL_VS_DEDUPED = 1e-6
MEASUREMENTS = 3  # fresh processes per compiled model; the median is reported
NOTES_BEGIN, NOTES_END = "<!-- notes -->", "<!-- end notes -->"


def run(args, timeout=600):
    """Runs a command; returns (ok, the command line, its output)."""
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=timeout)
    return result.returncode == 0, shlex.join(map(str, args)), result.stdout + result.stderr


def optimize(original, deduped):
    """Runs the pass; returns its report entry (`pass`, `lines`, `bytes_saved`)."""
    report = deduped.with_suffix(".report.json")
    ok, command, output = run([PITH, "optimize", original, "-o", deduped,
                               "--pipeline", PIPELINE, "--report-json", report])
    if not ok:
        raise SystemExit(f"error: {command} failed:\n{output}")
    entries = [e for e in json.loads(report.read_text())["passes"] if e.get("pass") == PIPELINE]
    if len(entries) != 1:
        raise SystemExit(f"error: {report} has {len(entries)} entries for {PIPELINE}")
    return entries[0]


def initializer_bytes(model):
    return sum(array.nbytes for _, array in initializers(model.graph))


def relative_difference(reference, other):
    """Worst output's ||other - reference||_2 / ||reference||_2 (float64)."""
    worst = 0.0
    for a, b in zip(reference, other):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        worst = max(worst, float(np.linalg.norm(b - a) / np.linalg.norm(a)))
    return worst


def bitwise_equal(first, second):
    return len(first) == len(second) and all(
        a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(first, second))


def feed_sets(feeds):
    """The inputs, then a copy with each bool scalar input flipped (so that
    both branches of an If on it run)."""
    sets = [feeds]
    for name, value in feeds.items():
        if value.dtype == np.bool_ and value.ndim == 0:
            sets.append({**feeds, name: np.array(np.logical_not(value))})
    return sets


def onnxruntime_outputs(path, feeds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


# --- Compiled models, measured in fresh processes ---------------------------

def memory_status():
    """VmRSS, RssAnon, RssFile and VmHWM of this process, in bytes."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
    return fields


def measure_in_this_process(library, inputs, outputs):
    """The --measure mode: loads `library`, runs it once on `inputs`, saves
    the outputs to `outputs` (.npz, in order) and prints the memory it took
    as JSON. The Pith runtime library is loaded before the baseline, so only
    the model's own library, weights and buffers count."""
    import ctypes
    sys.path.insert(0, str(COMPILED_MODEL))
    import compiled_model

    ctypes.CDLL(str(compiled_model.RUNTIME))
    with np.load(inputs) as data:
        feeds = {name: data[name] for name in data.files}
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current VmRSS
    before = memory_status()
    model = compiled_model.CompiledModel(library)
    results = model.run(feeds)
    after = memory_status()
    np.savez(outputs, *results)
    print(json.dumps({
        "rss": after["VmRSS"] - before["VmRSS"],
        "anon": after["RssAnon"] - before["RssAnon"],
        "file": after["RssFile"] - before["RssFile"],
        "peak": after["VmHWM"] - before["VmRSS"]}))


def compile_and_measure(onnx_path, inputs):
    """Compiles `onnx_path`; returns (None, why) if Pith cannot, else
    (figures, outputs): the memory figures of measure_in_this_process
    (medians), the .weights file size and the intermediate buffer bytes
    `pith compile` planned."""
    library = onnx_path.with_suffix(".so")
    ok, command, output = run([PITH, "compile", onnx_path, "-o", library])
    if not ok:
        return None, output.strip().splitlines()[-1].replace(f"{REPO}/", "")
    planned = re.search(r"peak buffer bytes: (\d+)", output)
    if not planned:
        raise SystemExit(f"error: no 'peak buffer bytes' in the output of {command}")
    outputs_path = onnx_path.with_suffix(".pith-outputs.npz")
    samples = []
    for _ in range(MEASUREMENTS):
        ok, command, output = run([sys.executable, __file__, "--measure", library, inputs,
                                   outputs_path])
        if not ok:
            raise SystemExit(f"error: {command} failed:\n{output}")
        samples.append(json.loads(output.strip().splitlines()[-1]))
    figures = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    figures["weights_file"] = library.with_name(library.name + ".weights").stat().st_size
    figures["planned_buffers"] = int(planned.group(1))
    with np.load(outputs_path) as data:
        results = [data[f"arr_{i}"] for i in range(len(data.files))]
    return figures, results


# --- One model --------------------------------------------------------------

def benchmark(name):
    original, deduped = model_path(name), OUT / f"{name}.dedup.onnx"
    entry = optimize(original, deduped)
    model, result = onnx.load(original), onnx.load(deduped)
    onnx.checker.check_model(result, full_check=True)
    duplicated, groups = describe_duplicates(model)
    left, left_groups = describe_duplicates(result)
    row = {"model": name, "duplicated": duplicated, "groups": groups,
           "left": left, "left_groups": left_groups,
           "reported": entry.get("bytes_saved"), "lines": entry.get("lines", []),
           "file_before": original.stat().st_size, "file_after": deduped.stat().st_size,
           "init_before": initializer_bytes(model), "init_after": initializer_bytes(result)}

    with np.load(inputs_path(name)) as data:
        feeds = {key: data[key] for key in data.files}
    ort_original = [onnxruntime_outputs(original, f) for f in feed_sets(feeds)]
    ort_deduped = [onnxruntime_outputs(deduped, f) for f in feed_sets(feeds)]
    row["ort_exact"] = all(bitwise_equal(a, b) for a, b in zip(ort_original, ort_deduped))
    row["ort_difference"] = max(relative_difference(a, b)
                                for a, b in zip(ort_original, ort_deduped))

    row["compiled"], pith_original = compile_and_measure(original, inputs_path(name))
    if row["compiled"] is None:
        row["not_compiled"] = pith_original
        return row
    row["compiled_deduped"], pith_deduped = compile_and_measure(deduped, inputs_path(name))
    if row["compiled_deduped"] is None:
        raise SystemExit(f"error: Pith compiles {original} but not {deduped}: {pith_deduped}")
    row["pith_exact"] = bitwise_equal(pith_original, pith_deduped)
    row["pith_vs_ort"] = relative_difference(ort_deduped[0], pith_deduped)
    return row


def failures(row):
    problems = []
    if row["ort_difference"] > ORT_ORIGINAL_VS_DEDUPED:
        problems.append(f"onnxruntime: deduped differs from original by {row['ort_difference']:.2e}")
    if row["compiled"] is not None:
        if not row["pith_exact"]:
            problems.append("Pith: compiled deduped outputs are not bit-identical to the original's")
        if row["pith_vs_ort"] > PITH_VS_ORT:
            problems.append(f"Pith vs onnxruntime on the deduped model: {row['pith_vs_ort']:.2e}")
    return problems


# --- Report -----------------------------------------------------------------

def kib(value):
    return f"{value / 1024:,.0f}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def tables(rows):
    storage = table(
        ["model", "duplicated bytes (from values)", "pass says saved", "ONNX file before",
         "after", "file saving − duplicated", "initializer bytes before", "after",
         "duplicated bytes left"],
        [[r["model"], f"{r['duplicated']:,}",
          "—" if r["reported"] is None else f"{r['reported']:,}",
          f"{r['file_before']:,}", f"{r['file_after']:,}",
          f"{r['file_before'] - r['file_after'] - r['duplicated']:+,}",
          f"{r['init_before']:,}", f"{r['init_after']:,}", f"{r['left']:,}"] for r in rows])
    outputs = table(
        ["model", "Pith compiled: original = deduped (bits)",
         "Pith vs onnxruntime, deduped (rel. L2)", "onnxruntime: original = deduped"],
        [[r["model"],
          "n/a" if r["compiled"] is None else ("yes" if r["pith_exact"] else "**NO**"),
          "n/a" if r["compiled"] is None else f"{r['pith_vs_ort']:.1e}",
          "yes (bits)" if r["ort_exact"] else f"{r['ort_difference']:.1e}"] for r in rows])
    compiled = [r for r in rows if r["compiled"] is not None]
    memory = table(
        ["model", ".weights original", ".weights deduped", "planned buffers original",
         "deduped", "ΔRSS original (KiB)",
         "ΔRSS deduped (KiB)", "RSS saving (KiB)", "saving / duplicated",
         "peak Δ original (KiB)", "peak Δ deduped (KiB)",
         "ΔRSS anon / file original (KiB)", "deduped"],
        [[r["model"], f"{r['compiled']['weights_file']:,}",
          f"{r['compiled_deduped']['weights_file']:,}",
          *(f"{r[k]['planned_buffers']:,}" for k in ("compiled", "compiled_deduped")),
          kib(r["compiled"]["rss"]), kib(r["compiled_deduped"]["rss"]),
          kib(r["compiled"]["rss"] - r["compiled_deduped"]["rss"]),
          f"{(r['compiled']['rss'] - r['compiled_deduped']['rss']) / r['duplicated']:.2f}"
          if r["duplicated"] else "—",
          kib(r["compiled"]["peak"]), kib(r["compiled_deduped"]["peak"]),
          *(f"{kib(r[k]['anon'])} / {kib(r[k]['file'])}" for k in ("compiled", "compiled_deduped"))]
         for r in compiled])
    skipped = [f"- {r['model']}: not compiled ({r['not_compiled']})"
               for r in rows if r["compiled"] is None]
    return "\n\n".join([
        "### Storage (bytes)", storage, "### Outputs", outputs,
        "### Compiled model: weights file and resident memory", memory, "\n".join(skipped)])


def pass_reports(rows):
    parts = []
    for r in rows:
        parts.append(f"**{r['model']}**: copies found from the values: "
                     + ("none" if not r["groups"] else "; ".join(f"{{{g}}}" for g in r["groups"]))
                     + (f"; left after the pass: {'; '.join(r['left_groups'])}"
                        if r["left_groups"] else ""))
        parts.append("```\n" + ("\n".join(r["lines"]) or "(no lines)") + "\n```")
    return "\n\n".join(parts)


def write_doc(rows):
    """docs/tying/dedup.md with fresh tables; the notes between NOTES_BEGIN
    and NOTES_END of the existing file are kept."""
    notes = f"{NOTES_BEGIN}\n(notes on these figures)\n{NOTES_END}"
    if DOC.is_file():
        old = DOC.read_text()
        if NOTES_BEGIN in old and NOTES_END in old:
            notes = old[old.index(NOTES_BEGIN):old.index(NOTES_END) + len(NOTES_END)]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(f"""# Weight deduplication (`pith-dedup-weights`): acceptance benchmark

Generated by `bench/tying/dedup_benchmark.py`. Reproduce with

```
.venv/bin/python bench/tying/make_duplicate_models.py
.venv/bin/python bench/tying/dedup_benchmark.py
```

(models, inputs and compiled libraries go to the git-ignored
`bench/out/tying/`). The models are described in
`bench/tying/make_duplicate_models.py`; "duplicated bytes" is what an ideal
deduplication removes (every copy but the narrowest of each set), found from
the initializers' values in Python, independently of Pith. ΔRSS is the
resident memory a compiled model adds in a fresh process when loaded and run
once (median of {MEASUREMENTS} processes); peak Δ is VmHWM over the same
baseline. The weights file is memory-mapped, so weights count in the
file-backed RSS once touched; ΔRSS also holds the compiled library and
the kernels library it loads (oneDNN), the same for both. "Planned
buffers" is the intermediate-buffer peak `pith compile` prints (buffers
allocated at run time, planned by liveness).

## Results

{tables(rows)}

## Notes

{notes}

## What the pass reported

{pass_reports(rows)}
""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", default=MODELS, help=f"of {', '.join(MODELS)}")
    parser.add_argument("--measure", nargs=3, metavar=("LIBRARY", "INPUTS", "OUTPUTS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_in_this_process(*args.measure)
        return 0
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        parser.error(f"unknown model {', '.join(unknown)} (models: {', '.join(MODELS)})")
    if not PITH.is_file():
        raise SystemExit(f"error: {PITH.relative_to(REPO)} is missing: build Pith first")
    missing = [m for m in args.models if not model_path(m).is_file()]
    if missing:
        raise SystemExit(f"error: {', '.join(missing)} missing: run make_duplicate_models.py")
    rows, problems = [], []
    for name in args.models:
        print(f"{name} ...", flush=True)
        row = benchmark(name)
        rows.append(row)
        problems += [f"{name}: {p}" for p in failures(row)]
    print(tables(rows))
    if args.models == MODELS:
        write_doc(rows)
        print(f"wrote {DOC.relative_to(REPO)}")
    for problem in problems:
        print(f"FAILED {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run corpus models through `pith run` and onnxruntime and compare outputs.

Run with the project's venv python (numpy, onnx, onnxruntime):

    .venv/bin/python bench/models/compare_with_ort.py [--models PATH...]

Default models: every static-shape model (*.onnx not ending in _dyn.onnx) in
bench/models/out/ (made by make_models.py). For each model: deterministic
inputs (seed 0; int64 token ids in [0, 30522); attention_mask of ones with the
last 16 positions zero in batch row 0; float inputs standard normal) are saved
as .npy, `pith run MODEL --input NAME=FILE ... --output-dir DIR` runs with a
timeout, onnxruntime (CPUExecutionProvider) runs on the same inputs, and the
report gives per model: pith status (ok / timed out / first error line), the
max relative error max|a-b| / max|b| over all outputs and whether it is within
--tol (1e-4), and pith's compile and run times.

Exits 1 if any model fails, times out, or exceeds the tolerance.
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VOCAB = 30522
MASKED_TAIL = 16

NP_TYPES = {
    onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float16, onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32, onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.UINT8: np.uint8, onnx.TensorProto.BOOL: np.bool_,
}


def graph_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def make_inputs(model, dyn_batch=2, dyn_seq=128):
    """Deterministic inputs for each graph input (seed 0, in graph order)."""
    rng = np.random.default_rng(0)
    feeds = {}
    for inp in graph_inputs(model):
        tt = inp.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        # Symbolic dims: first is batch, second (for rank-2 token inputs) is sequence.
        shape = [d if d is not None else (dyn_batch if i == 0 else dyn_seq) for i, d in enumerate(dims)]
        dtype = NP_TYPES[tt.elem_type]
        name = inp.name
        if name == "attention_mask" or "mask" in name:
            a = np.ones(shape, dtype=dtype)
            if a.ndim == 2 and a.shape[1] > MASKED_TAIL:
                a[0, -MASKED_TAIL:] = 0
        elif np.issubdtype(dtype, np.integer):
            hi = 2 if "token_type" in name else VOCAB
            a = rng.integers(0, hi, size=shape, dtype=dtype)
        elif dtype == np.bool_:
            a = np.ones(shape, dtype=dtype)
        else:
            a = rng.standard_normal(shape).astype(dtype)
        feeds[name] = a
    return feeds


def first_error_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower():
            return l
    return lines[0] if lines else "(no output)"


def run_pith(pith, model_path, input_files, out_dir, timeout):
    cmd = [pith, "run", model_path]
    for name, f in input_files.items():
        cmd += ["--input", f"{name}={f}"]
    cmd += ["--output-dir", out_dir]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return {"status": f"timed out after {timeout} s", "ok": False, "log": out,
                "wall": time.monotonic() - t0}
    wall = time.monotonic() - t0
    res = {"log": p.stdout, "wall": wall}
    if p.returncode != 0:
        res.update(status=f"exit {p.returncode}: {first_error_line(p.stdout)}", ok=False)
        return res
    res.update(status="ok", ok=True)
    m = re.search(r"compile time:\s*([\d.]+)", p.stdout)
    res["compile_s"] = float(m.group(1)) if m else None
    m = re.search(r"run time:\s*([\d.]+)", p.stdout)
    res["run_s"] = float(m.group(1)) if m else None
    return res


def op_histogram(model):
    c = collections.Counter()
    def walk(g):
        for n in g.node:
            c[n.op_type if not n.domain or n.domain == "ai.onnx" else f"{n.domain}.{n.op_type}"] += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for sg in a.graphs:
                    walk(sg)
    walk(model.graph)
    return c


def compare(model_path, args):
    name = os.path.splitext(os.path.basename(model_path))[0]
    work = os.path.join(args.work_dir, name)
    os.makedirs(os.path.join(work, "pith_out"), exist_ok=True)
    model = onnx.load(model_path, load_external_data=False)
    feeds = make_inputs(model)
    files = {}
    for k, v in feeds.items():
        f = os.path.join(work, re.sub(r"[^A-Za-z0-9_.-]", "_", k) + ".npy")
        np.save(f, v)
        files[k] = f
    out_names = [o.name for o in model.graph.output]
    row = {"model": name, "ops": op_histogram(model)}

    for f in glob.glob(os.path.join(work, "pith_out", "*.npy")):
        os.remove(f)
    row.update(run_pith(args.pith, model_path, files, os.path.join(work, "pith_out"), args.timeout))

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.ort_threads
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    t0 = time.monotonic()
    ref = sess.run(out_names, feeds)
    row["ort_s"] = time.monotonic() - t0

    if row["ok"]:
        worst = 0.0
        for oname, b in zip(out_names, ref):
            f = os.path.join(work, "pith_out", re.sub(r"[^A-Za-z0-9_.-]", "_", oname) + ".npy")
            if not os.path.exists(f):
                row.update(ok=False, status=f"pith wrote no {os.path.basename(f)}")
                break
            a = np.load(f)
            if a.shape != b.shape:
                row.update(ok=False, status=f"output {oname}: shape {a.shape} != ort {b.shape}")
                break
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            if not np.all(np.isfinite(a64)):
                row.update(ok=False, status=f"output {oname}: non-finite values")
                break
            denom = np.max(np.abs(b64)) or 1.0
            worst = max(worst, float(np.max(np.abs(a64 - b64)) / denom))
        row["rel_err"] = worst
        if row["ok"] and worst > args.tol:
            row["ok"] = False
            row["status"] = f"mismatch: rel err {worst:.3g} > {args.tol:g}"
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", help="ONNX files (default: static models in bench/models/out)")
    ap.add_argument("--pith", default=os.path.join(ROOT, "build", "bin", "pith"))
    ap.add_argument("--timeout", type=float, default=600, help="seconds per pith run (default 600)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max relative error (default 1e-4)")
    ap.add_argument("--work-dir", default=os.path.join(HERE, "out", "compare"),
                    help="inputs and pith outputs go here (default bench/models/out/compare)")
    ap.add_argument("--ort-threads", type=int, default=1)
    ap.add_argument("--ops", action="store_true", help="also print each model's op-type histogram")
    args = ap.parse_args()

    models = args.models or sorted(p for p in glob.glob(os.path.join(HERE, "out", "*.onnx"))
                                   if not p.endswith("_dyn.onnx"))
    if not models:
        sys.exit("no models: run `/usr/bin/python3 bench/models/make_models.py` first")
    if not os.access(args.pith, os.X_OK):
        sys.exit(f"no pith binary at {args.pith}")

    rows = []
    for m in models:
        print(f"== {m}", flush=True)
        r = compare(m, args)
        rows.append(r)
        err = f"{r['rel_err']:.3g}" if "rel_err" in r else "-"
        within = ("yes" if r["rel_err"] <= args.tol else "NO") if "rel_err" in r else "-"
        times = (f"compile {r.get('compile_s')} s, run {r.get('run_s')} s"
                 if r["status"] == "ok" or "rel_err" in r else f"wall {r['wall']:.1f} s")
        print(f"   pith: {r['status']}\n   rel err: {err} (within {args.tol:g}: {within})\n"
              f"   {times}; ort run {r['ort_s']:.3f} s", flush=True)
        if args.ops:
            print("   ops: " + ", ".join(f"{k} {v}" for k, v in sorted(r["ops"].items(), key=lambda kv: -kv[1])))

    print("\nsummary:")
    w = max(len(r["model"]) for r in rows)
    for r in rows:
        err = f"{r['rel_err']:.2e}" if "rel_err" in r else "-"
        print(f"  {r['model']:{w}s}  {'PASS' if r['ok'] else 'FAIL'}  rel_err {err:>9s}  "
              f"compile {r.get('compile_s') if r.get('compile_s') is not None else '-'}  "
              f"run {r.get('run_s') if r.get('run_s') is not None else '-'}  {'' if r['ok'] else r['status']}")
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Speed of pith-mixed-precision's fp16 and bf16 code on Pith's CPU backend,
against Pith's fp32 code and onnxruntime, in one run (ratios mean something
on a shared machine; absolute times little).

1. Peaks of one core (bench/mixed_precision/peaks.cpp, compiled here with
   g++ -O3): fp32 FMA, AVX512-BF16 dot product, fp16 widened by F16C then
   fp32 FMA, AVX512-FP16 FMA where the CPU has it.
2. One layer y = x . W at compute-bound (M = 1024..2048) and memory-bound
   (M = 1, 4: GEMV-like) shapes: the fp32 model and its conversions by
   `pith-mixed-precision{precision=fp16|bf16}` (inputs and outputs in the low
   type, so that the layer alone is timed), each compiled by Pith; the fp32
   and fp16 files in onnxruntime. 2 threads each, models interleaved, median
   of --repeat runs. Error: relative L2 against the float64 product.
3. MiniLM-L6 end to end at 8 x 128 tokens (static shapes): fp32, fp16 and
   bf16 (keep-io-types, range-checked on bench/out/tying's calibration
   sentences) in Pith; fp32 and the exported fp16 model in onnxruntime.

Writes docs/mixed_precision/speed.json; bench/mixed_precision/report.py
renders docs/mixed-precision.md.

Usage: .venv/bin/python bench/mixed_precision/speed.py [--repeat N] [--minilm-repeat N]
"""

import os

os.environ["OMP_NUM_THREADS"] = "2"  # before the kernels load libomp, which reads it once
# Pith and onnxruntime take turns on the same two cores: neither's idle
# threads may spin into the other's time (libomp's and onnxruntime's pools
# both spin after a run by default, which made a 0.2 ms layer take 6 ms).
os.environ["KMP_BLOCKTIME"] = "0"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "bench" / "lowrank"))
sys.path.insert(0, str(REPO / "bench" / "tying"))
sys.path.insert(0, str(REPO / "build" / "python"))
import harness  # noqa: E402
from speed import static_copy, time_interleaved  # noqa: E402  (bench/lowrank/speed.py)

import pith  # noqa: E402

OUT = REPO / "bench" / "out" / "mixed_precision"
JSON_PATH = REPO / "docs" / "mixed_precision" / "speed.json"
# (M, K, N): compute-bound GEMMs of 1024 and larger, then memory-bound ones.
LAYERS = [(1024, 1024, 1024), (2048, 2048, 2048), (1024, 4096, 1024),
          (1, 768, 3072), (1, 3072, 768), (1, 4096, 4096), (4, 4096, 4096)]
PRECISIONS = ["fp16", "bf16"]
NUMPY_TYPES = {"fp32": np.float32, "fp16": np.float16, "bf16": ml_dtypes.bfloat16}
MINILM_SHAPE = (8, 128)


def measure_peaks():
    binary = OUT / "peaks"
    subprocess.run(["g++", "-O3", str(HERE / "peaks.cpp"), "-o", str(binary)], check=True)
    lines = subprocess.run([str(binary)], check=True, capture_output=True,
                           text=True).stdout.split()[1:]
    peaks = {}
    for line in lines:
        family, value = line.split(",")
        peaks[family] = None if value == "unsupported" else float(value)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo")
                  if line.startswith("flags")), [])
    return {"cpu": cpu, "gflops_one_core": peaks,
            "flags": [f for f in ("avx512f", "avx512_bf16", "avx512_fp16", "f16c", "amx_bf16")
                      if f in flags]}


def ort_session(path):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def layer_model(path, m, k, n):
    w = (np.random.default_rng(k * n).standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
    graph = h.make_graph([h.make_node("MatMul", ["x", "w"], ["y"], name="layer")], "layer",
                         [h.make_tensor_value_info("x", T.FLOAT, [m, k])],
                         [h.make_tensor_value_info("y", T.FLOAT, [m, n])], [nh.from_array(w, "w")])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]), path)
    return w


def convert(path, out, precision, keep_io_types, calibration=None):
    model = pith.load(path).optimize("pith-mixed-precision", precision=precision,
                                     keep_io_types=keep_io_types, calibration=calibration)
    model.save(out)
    return model.report()["passes"][0]


def layer_benchmark(repeat):
    rows = []
    for m, k, n in LAYERS:
        name = f"{m}x{k}x{n}"
        path = OUT / f"layer-{name}.onnx"
        w = layer_model(path, m, k, n)
        x = np.random.default_rng(m + k).standard_normal((m, k)).astype(np.float32)
        exact = x.astype(np.float64) @ w.astype(np.float64)
        paths = {"fp32": path}
        for precision in PRECISIONS:
            paths[precision] = OUT / f"layer-{name}.{precision}.onnx"
            convert(path, paths[precision], precision, keep_io_types=False)
        compiled = {p: pith.load(paths[p]).compile() for p in paths}
        feeds = {p: {"x": x.astype(NUMPY_TYPES[p])} for p in paths}
        sessions = {p: ort_session(paths[p]) for p in ("fp32", "fp16")}
        runners = [lambda p=p: compiled[p](**feeds[p]) for p in paths]
        runners += [lambda p=p: sessions[p].run(None, feeds[p]) for p in sessions]
        seconds = time_interleaved(runners, repeat)
        row = {"shape": name, "m": m, "k": k, "n": n,
               "kind": "compute-bound" if m >= 1024 else "memory-bound"}
        for i, p in enumerate(paths):
            y = np.asarray(compiled[p](**feeds[p])[0], np.float64)
            row[f"pith_{p}_seconds"] = seconds[i]
            row[f"pith_{p}_error"] = float(np.linalg.norm(y - exact) / np.linalg.norm(exact))
        for i, p in enumerate(sessions):
            row[f"onnxruntime_{p}_seconds"] = seconds[len(paths) + i]
        for p in PRECISIONS:
            row[f"pith_{p}_speedup"] = row["pith_fp32_seconds"] / row[f"pith_{p}_seconds"]
        row["onnxruntime_fp16_over_pith_fp16"] = (row["onnxruntime_fp16_seconds"]
                                                 / row["pith_fp16_seconds"])
        row["gflops_pith"] = {p: 2 * m * k * n / row[f"pith_{p}_seconds"] / 1e9 for p in paths}
        rows.append(row)
        print({k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()},
              flush=True)
    return rows


def minilm_benchmark(repeat):
    import calibration as tying_calibration  # bench/tying/calibration.py
    calibration, _ = tying_calibration.write_minilm()
    batch, length = MINILM_SHAPE
    ids = np.random.default_rng(2).integers(1000, 30000, (batch, length), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    original = harness.minilm.ensure_minilm_onnx()
    paths, reports = {"fp32": original}, {}
    for precision in PRECISIONS:
        paths[precision] = OUT / f"minilm.{precision}.onnx"
        reports[precision] = convert(original, paths[precision], precision, True, calibration)
    compiled, sessions = {}, {}
    for p, path in paths.items():
        static = static_copy(path, MINILM_SHAPE, OUT / f"minilm.{p}.static.onnx")
        compiled[p] = pith.load(static).compile()
        if p != "bf16":  # onnxruntime's CPU provider has no bf16 Add, MatMul, ...
            sessions[p] = ort_session(harness.for_onnxruntime(static)[0])
    reference = sessions["fp32"].run(None, feeds)
    runners = [lambda p=p: compiled[p](**feeds) for p in compiled]
    runners += [lambda p=p: sessions[p].run(None, feeds) for p in sessions]
    seconds = time_interleaved(runners, repeat)
    result = {"shape": list(MINILM_SHAPE)}
    for i, p in enumerate(compiled):
        outputs = compiled[p](**feeds)
        result[f"pith_{p}_seconds"] = seconds[i]
        result[f"pith_{p}_error"] = harness.relative_error(reference, outputs)
    for i, p in enumerate(sessions):
        result[f"onnxruntime_{p}_seconds"] = seconds[len(compiled) + i]
    for p in PRECISIONS:
        result[f"pith_{p}_speedup"] = result["pith_fp32_seconds"] / result[f"pith_{p}_seconds"]
        result[f"{p}_report"] = {k: v for k, v in reports[p].items() if k != "lines"}
    print({k: v for k, v in result.items() if not k.endswith("_report")}, flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--minilm-repeat", type=int, default=10)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = {"threads": 2, "peaks": measure_peaks()}
    print(data["peaks"], flush=True)
    data["layers"] = layer_benchmark(args.repeat)
    data["minilm"] = minilm_benchmark(args.minilm_repeat)
    JSON_PATH.parent.mkdir(parents=True, exist_ok=True)
    JSON_PATH.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {JSON_PATH.relative_to(REPO)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times pith-translate importing and exporting a ~1 GB ONNX model.

Generates (once) a chain of Gemm layers with 4096x2560 fp32 random weights
stored inline as raw_data, then measures wall time and peak RSS of

  pith-translate --import-onnx model.onnx --emit-bytecode -o model.mlirbc
  pith-translate --export-onnx model.mlirbc -o exported.onnx

separately, checks that the exported initializers are byte-identical to the
original's, and reports against the targets: total time < 10 s and peak RSS
< 2x model size. Misses are reported, not failed: the exit status is non-zero
only when a step fails or the weights do not survive.

Usage: bench/import_export_large_model.py [--layers N] [--pith-translate PATH]
"""

import argparse
import hashlib
import mmap
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "bench" / "out"  # git-ignored
DEFAULT_TRANSLATOR = REPO / "build" / "bin" / "pith-translate"
WIDE, NARROW = 4096, 2560  # Every weight is stored as [WIDE, NARROW].
WEIGHT_BYTES = WIDE * NARROW * 4
TARGET_TOTAL_S = 10.0
TARGET_RSS_RATIO = 2.0
GB = 1e9


# ---------------------------------------------------------------------------
# Model generation


def build_model(layers):
    """X[1,4096] -> Gemm -> [1,2560] -> Gemm(transB) -> [1,4096] -> ...

    Odd layers multiply by the transposed weight, so every weight has the same
    [4096, 2560] shape and the activations alternate between the two widths.
    Weights are generated one layer at a time: only the proto holds them all.
    """
    rng = np.random.default_rng(0)
    nodes, initializers = [], []
    activation, width = "X", WIDE
    for layer in range(layers):
        weight = f"W{layer}"
        initializers.append(numpy_helper.from_array(
            rng.standard_normal((WIDE, NARROW), dtype=np.float32), weight))
        output = "Y" if layer == layers - 1 else f"A{layer}"
        transposed = layer % 2 == 1
        nodes.append(helper.make_node("Gemm", [activation, weight], [output], name=f"gemm{layer}",
                                      transB=int(transposed)))
        activation, width = output, WIDE if transposed else NARROW
    graph = helper.make_graph(
        nodes, "gemm_chain",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, WIDE])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, width])],
        initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8,
                             producer_name="pith-bench")


def has_expected_size(path, layers):
    """A complete model is its weights plus well under 1 MiB of graph."""
    weights = layers * WEIGHT_BYTES
    return path.exists() and weights <= path.stat().st_size <= weights + (1 << 20)


def ensure_model(path, layers):
    if has_expected_size(path, layers):
        print(f"reusing {path.relative_to(REPO)}")
        return
    print(f"generating {path.relative_to(REPO)} ({layers} layers)...", flush=True)
    partial = path.with_suffix(".partial")
    onnx.save(build_model(layers), partial, save_as_external_data=False)
    partial.rename(path)  # Never leave a truncated model under the final name.


# ---------------------------------------------------------------------------
# Measuring pith-translate


# The kernel carries a process's peak RSS across fork and exec, so a child
# forked from this (large) process would report this process's peak as its own.
# Children are therefore launched from a minimal Python (about 5 MB), which
# times one child and prints "<seconds> <peak RSS KiB> <exit status>".
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def measure(command):
    """Runs command; returns (wall seconds, peak RSS bytes), or exits on failure."""
    launched = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *map(str, command)],
                              capture_output=True, text=True)
    seconds, peak_kib, status = launched.stdout.split()
    if int(status) != 0:
        sys.stderr.write(launched.stderr)
        sys.exit(f"bench: {' '.join(map(str, command))} failed with status {status}")
    return float(seconds), int(peak_kib) * 1024


# ---------------------------------------------------------------------------
# Streaming initializer comparison: walks the protobuf wire format of an mmap'd
# file, so that neither 1 GB model is ever parsed into memory.

MODEL_GRAPH, GRAPH_INITIALIZER = 7, 5
TENSOR_DIMS, TENSOR_DATA_TYPE, TENSOR_FLOAT_DATA, TENSOR_NAME, TENSOR_RAW_DATA = 1, 2, 4, 8, 9
TENSOR_DATA_LOCATION = 14
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def read_varint(buf, pos):
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def fields(buf, start, end):
    """Yields (field number, wire type, value) of the message in buf[start:end].

    Varint values are ints; length-delimited values are (begin, end) offsets.
    """
    pos = start
    while pos < end:
        key, pos = read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire_type == LENGTH_DELIMITED:
            length, pos = read_varint(buf, pos)
            value, pos = (pos, pos + length), pos + length
        elif wire_type in (FIXED32, FIXED64):
            size = 4 if wire_type == FIXED32 else 8
            value, pos = bytes(buf[pos:pos + size]), pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type} at offset {pos}")
        yield number, wire_type, value


def packed_varints(buf, begin, end):
    values, pos = [], begin
    while pos < end:
        value, pos = read_varint(buf, pos)
        values.append(value)
    return values


def tensor_digest(buf, begin, end):
    """Returns (name, (data type, dims, sha256 of the little-endian data))."""
    name, data_type, dims = "", 0, []
    digest = hashlib.sha256()
    for number, wire_type, value in fields(buf, begin, end):
        if number == TENSOR_NAME:
            name = bytes(buf[value[0]:value[1]]).decode()
        elif number == TENSOR_DATA_TYPE:
            data_type = value
        elif number == TENSOR_DIMS:
            dims += [value] if wire_type == VARINT else packed_varints(buf, *value)
        elif number in (TENSOR_RAW_DATA, TENSOR_FLOAT_DATA):
            # Packed float_data holds the same little-endian bytes as raw_data.
            if number == TENSOR_FLOAT_DATA and wire_type != LENGTH_DELIMITED:
                raise ValueError(f"initializer {name!r}: unpacked float_data is not supported")
            digest.update(memoryview(buf)[value[0]:value[1]])
        elif number == TENSOR_DATA_LOCATION and value == TensorProto.EXTERNAL:
            raise ValueError(f"initializer {name!r} uses external data")
    return name, (data_type, dims, digest.hexdigest())


def initializer_digests(path):
    """{initializer name: (data type, dims, data sha256)} of a binary ONNX model."""
    digests = {}
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        for number, _, graph in fields(buf, 0, len(buf)):
            if number != MODEL_GRAPH:
                continue
            for graph_number, _, tensor in fields(buf, *graph):
                if graph_number == GRAPH_INITIALIZER:
                    name, digest = tensor_digest(buf, *tensor)
                    digests[name] = digest
    return digests


def compare_initializers(original, exported):
    """Returns the names of initializers that differ or are missing."""
    want, got = initializer_digests(original), initializer_digests(exported)
    return sorted(name for name in want.keys() | got.keys() if want.get(name) != got.get(name))


# ---------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=24,
                        help="Gemm layers, 42 MB of weights each (default: 24, ~1 GB)")
    parser.add_argument("--pith-translate", type=Path, default=DEFAULT_TRANSLATOR,
                        help="translator binary (default: %(default)s)")
    return parser.parse_args()


def verdict(met):
    return "PASS" if met else "MISS"


def main():
    args = parse_args()
    if not args.pith_translate.is_file():
        sys.exit(f"bench: {args.pith_translate} not found; build it or pass --pith-translate")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    model = OUT_DIR / f"gemm{args.layers}.onnx"
    bytecode = OUT_DIR / f"gemm{args.layers}.mlirbc"
    exported = OUT_DIR / f"gemm{args.layers}.exported.onnx"
    ensure_model(model, args.layers)
    for stale in (bytecode, exported):
        stale.unlink(missing_ok=True)

    translator = str(args.pith_translate)
    _, launcher_rss = measure(["/bin/true"])
    import_s, import_rss = measure([translator, "--import-onnx", model, "--emit-bytecode",
                                    "-o", bytecode])
    export_s, export_rss = measure([translator, "--export-onnx", bytecode, "-o", exported])
    differing = compare_initializers(model, exported)

    size = model.stat().st_size
    total_s = import_s + export_s
    peak_ratio = max(import_rss, export_rss) / size
    print(f"model:  {size / GB:.3f} GB, {args.layers} Gemm layers "
          f"({model.relative_to(REPO)}; bytecode {bytecode.stat().st_size / GB:.3f} GB)")
    print(f"import: {import_s:6.2f} s, peak RSS {import_rss / GB:.3f} GB "
          f"({import_rss / size:.2f}x model size)")
    print(f"export: {export_s:6.2f} s, peak RSS {export_rss / GB:.3f} GB "
          f"({export_rss / size:.2f}x model size)")
    print(f"total:  {total_s:6.2f} s "
          f"(peak RSS figures include up to {launcher_rss / 1e6:.0f} MB of launcher overhead)")
    print(f"target total time < {TARGET_TOTAL_S:g} s: {verdict(total_s < TARGET_TOTAL_S)}")
    print(f"target peak RSS < {TARGET_RSS_RATIO:g}x model size: "
          f"{verdict(peak_ratio < TARGET_RSS_RATIO)} ({peak_ratio:.2f}x)")
    if differing:
        print(f"FAIL: exported initializers differ from the original: {', '.join(differing)}")
        return 1
    print("initializers: identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())

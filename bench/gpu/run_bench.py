#!/usr/bin/env python3
"""Runs the GPU benchmark staged by bench/gpu/prepare.py, on the GPU machine:
Pith's compiled libraries against PyTorch eager on the same GPU.

Needs numpy and torch (with torchvision), not onnx or onnxruntime: the
machine's onnxruntime has no CUDA provider, and the accuracy reference
(onnxruntime CPU fp32 on the same quantized ONNX) was computed at staging.

For each staged case (model, batch, math):
- pith-run-compiled runs the library with --repeat N (50 at batch 1, 20 at
  batch 32): the median of N runs after a warm-up, host-to-device copies of
  the inputs and device-to-host copies of the outputs included. Its outputs
  are compared with the reference: max|a-r| / max|r| and the elementwise
  max |a-r| / (|r| + 1e-3 max|r|), and NaN/Inf are counted.
- PyTorch eager runs the same architecture (bench/models/make_models.py,
  or the micro-benchmarks' chains; random weights: the values do not change
  the time) on the same inputs, timed the same way: median of N after
  warm-ups, the copies of inputs and outputs between host and device inside
  the timed region. fp32 is strict (no TF32), as Pith's fp32; tf32 turns
  TF32 on in cuBLAS and cuDNN; fp16 and bf16 convert the model and its
  float inputs. The low-rank MiniLM's peer is the dense MiniLM.
  cudnn.benchmark is on: the fastest convolutions eager PyTorch has.
ratio = PyTorch time / Pith time: above 1, Pith is faster.

A failing case records its error and the others still run; the JSON is
rewritten after every case, so a run cut short keeps what it measured.

Usage: python3 bench/gpu/run_bench.py --stage DIR --runner PATH --out FILE.json
         [--repeat N] [--work DIR]
"""

import argparse
import json
import lzma
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from staging import MICRO, output_file_name, sha256

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "models"))

REPEAT = {1: 50, 32: 20}
TORCH_WARMUP = 3  # the first runs autotune cuDNN and create cuBLAS handles
RUN_TIMEOUT_S = 120
# make_models.py's forward() argument order, by staged input name.
PEER_INPUTS = {"minilm": ["input_ids", "attention_mask"], "resnet50": ["input"],
               **{name: ["x"] for name in MICRO}}


class Stage:
    """The staged files, each decompressed into `work` on first use and
    checked against the manifest's sha256."""

    def __init__(self, root, work):
        self.root, self.work = root, work
        self.manifest = json.loads((root / "manifest.json").read_text())

    def path(self, relative):
        target = self.work / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            with lzma.open(self.root / f"{relative}.xz") as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 24)
            if sha256(partial) != self.manifest["files"][relative]["sha256"]:
                raise RuntimeError(f"{relative}: sha256 differs from the manifest's")
            partial.rename(target)
        return target


def compare(actual, reference):
    """Error metrics of one output against its reference."""
    a, r = actual.astype(np.float64), reference.astype(np.float64)
    result = {"nan": int(np.isnan(a).sum()), "inf": int(np.isinf(a).sum()),
              "max_abs_reference": float(np.abs(r).max())}
    if a.shape != r.shape:
        result["error"] = f"shape {list(a.shape)}, expected {list(r.shape)}"
    elif not (result["nan"] or result["inf"]):  # else the errors are undefined
        scale = result["max_abs_reference"] or 1.0  # an all-zero reference: absolute error
        diff = np.abs(a - r)
        result["max_rel_error"] = float(diff.max() / scale)
        result["max_elementwise_rel_error"] = float((diff / (np.abs(r) + 1e-3 * scale)).max())
    return result


def first_error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    return (lines[0] if lines else f"exit status {proc.returncode}")[:300]


def run_pith(runner, stage, case, repeat, out_dir):
    """Runs one case with pith-run-compiled; returns its entries for the JSON."""
    inputs = [a for name, relative in case["inputs"].items()
              for a in ("--input", f"{name}={stage.path(relative)}")]
    command = [str(runner), str(stage.path(case["library"])),
               "--weights", str(stage.path(case["weights"])), *inputs,
               "--output-dir", str(out_dir), "--repeat", str(repeat)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"pith_error": f"timed out after {RUN_TIMEOUT_S} s"}
    entry = {"pith_process_s": time.perf_counter() - start}
    if proc.returncode != 0:
        entry["pith_error"] = first_error_line(proc).replace(f"{stage.work}/", "")
        return entry
    run_time = re.search(r"^run time:\s*(\S+) s", proc.stdout, re.M)
    device = re.search(r"^device:\s*(.+?)\s*$", proc.stdout, re.M)
    if not run_time:
        entry["pith_error"] = "the runner printed no 'run time: X s'"
        return entry
    entry["pith_ms"] = float(run_time.group(1)) * 1e3
    entry["pith_device"] = device.group(1) if device else None
    entry["outputs"] = []
    for output in case["outputs"]:
        actual = out_dir / (output_file_name(output["name"]) + ".npy")
        if not actual.exists():
            entry["outputs"].append({"name": output["name"], "error": "not written"})
            continue
        metrics = compare(np.load(actual), np.load(stage.path(output["reference"])))
        entry["outputs"].append({"name": output["name"], **metrics})
    problems = [f"{o['name']}: {o['error']}" for o in entry["outputs"] if "error" in o]
    if problems:
        entry["pith_error"] = "; ".join(problems)
    # The case's accuracy is its worst output's.
    for key in ("max_rel_error", "max_elementwise_rel_error"):
        values = [o.get(key) for o in entry["outputs"]]
        entry[key] = None if None in values else max(values)
    entry["nonfinite"] = sum(o.get("nan", 0) + o.get("inf", 0) for o in entry["outputs"])
    return entry


def micro_model(torch, name):
    """The micro-benchmark's chain in PyTorch (random weights)."""
    nn, spec = torch.nn, MICRO[name]

    class Chain(nn.Module):
        def __init__(self):
            super().__init__()
            if name == "gemm_chain":
                k = spec["width"]
                self.layers = nn.Sequential(
                    *[nn.Linear(k, k, bias=False) for _ in range(spec["layers"])])
            else:
                c = spec["channels"]
                self.layers = nn.Sequential(*[m for _ in range(spec["layers"]) for m in (
                    nn.Conv2d(c, c, 3, padding=1, bias=False), nn.ReLU())])

        def forward(self, x):
            y = self.layers(x)
            return (y.sum(-1, keepdim=True) if name == "gemm_chain"
                    else y.mean((2, 3), keepdim=True))

    return Chain().eval()


def set_tf32(torch, allowed):
    """TF32 in cuBLAS and cuDNN on or off (off: strict fp32; cuDNN allows it
    by default). torch 2.9 on has per-backend settings, beside them
    cudnn.conv and cudnn.rnn; it deprecates the allow_tf32 flags and raises
    when the two are mixed, so the flags only serve an older torch."""
    precision = "tf32" if allowed else "ieee"
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is None:
        torch.backends.cuda.matmul.allow_tf32 = allowed
        torch.backends.cudnn.allow_tf32 = allowed
        return
    torch.backends.cuda.matmul.fp32_precision = precision
    conv.fp32_precision = precision
    rnn = getattr(torch.backends.cudnn, "rnn", None)
    if rnn is not None:  # kept equal to conv's: differing flags make generic checks raise
        rnn.fp32_precision = precision


class Peer:
    """PyTorch eager models of the benchmark's architectures, built on first
    use per (model, math)."""

    def __init__(self, device):
        import torch

        self.torch = torch
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("torch sees no CUDA device")
        set_tf32(torch, False)
        torch.backends.cudnn.benchmark = True
        self.models = {}

    def describe(self):
        torch = self.torch
        cuda = self.device.type == "cuda"
        return {"device": torch.cuda.get_device_name(self.device) if cuda else "cpu",
                "torch": torch.__version__, "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version() if cuda else None,
                "settings": {"mode": "eager", "fp32_allow_tf32": False,
                             "cudnn_benchmark": True, "timed": "host->device inputs, "
                             "forward, device->host outputs"}}

    def synchronize(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def model(self, name, math):
        if (name, math) not in self.models:
            import make_models

            if name in MICRO:
                model = micro_model(self.torch, name)
            elif name == "minilm":
                model = make_models.make_minilm()
            else:
                model = make_models.make_torchvision(name)
            model = model.to(self.device)
            half = {"fp16": self.torch.float16, "bf16": self.torch.bfloat16}.get(math)
            self.models[(name, math)] = model.to(half) if half else model
        return self.models[(name, math)]
        return self.models[(name, math)]

    def measure(self, case, arrays, repeat):
        """(median ms, whether the last output was finite)."""
        torch = self.torch
        model = self.model(case.get("peer_model", case["model"]), case["math"])
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(case["math"], torch.float32)
        # tf32: fp32 tensors, tensor-core math in cuBLAS and cuDNN.
        set_tf32(torch, case["math"] == "tf32")

        def once():
            args = [torch.from_numpy(a).to(self.device) for a in arrays]
            args = [a.to(dtype) if a.is_floating_point() else a for a in args]
            return model(*args).float().cpu()

        times = []
        with torch.inference_mode():
            for _ in range(TORCH_WARMUP):
                once()
            for _ in range(repeat):
                self.synchronize()
                start = time.perf_counter()
                output = once()
                self.synchronize()
                times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e3, bool(torch.isfinite(output).all())


def run_case(case, stage, runner, peer, peer_error, repeat, work):
    entry = {k: case[k] for k in ("name", "model", "batch", "math")}
    entry["contractions"] = case.get("contractions", "library")
    entry["repeat"] = repeat
    if case.get("error"):
        entry["pith_error"] = case["error"]
    else:
        out_dir = work / "outputs" / case["name"]
        out_dir.mkdir(parents=True)
        try:
            entry.update(run_pith(runner, stage, case, repeat, out_dir))
        except Exception as e:  # a broken staged file: record it, go on
            entry["pith_error"] = f"{type(e).__name__}: {e}"
        shutil.rmtree(out_dir)
    if peer is None:
        entry["torch_error"] = peer_error
    else:
        try:
            arrays = [np.load(stage.path(case["inputs"][name]))
                      for name in PEER_INPUTS[case.get("peer_model", case["model"])]]
            entry["torch_ms"], entry["torch_finite"] = peer.measure(case, arrays, repeat)
        except Exception as e:  # e.g. out of memory, an unsupported dtype
            entry["torch_error"] = f"{type(e).__name__}: {e}"
    if entry.get("pith_ms") and entry.get("torch_ms"):
        entry["ratio"] = entry["torch_ms"] / entry["pith_ms"]
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=Path, required=True, help="prepare.py's stage folder")
    parser.add_argument("--runner", type=Path, required=True, help="pith-run-compiled")
    parser.add_argument("--out", type=Path, required=True, help="results JSON to write")
    parser.add_argument("--repeat", type=int,
                        help="timed runs per case (default: 50 at batch 1, 20 at batch 32)")
    parser.add_argument("--work", type=Path, help="where to decompress (default: a temporary "
                        "folder in bench/gpu/out/, on a file system that allows dlopen)")
    # Exercises the PyTorch path without a GPU (tests).
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    args = parser.parse_args()

    runner = args.runner.resolve()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    else:
        (HERE / "out").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="run_bench-", dir=args.work or HERE / "out") as tmp:
        work = Path(tmp)
        stage = Stage(args.stage, work)
        result = {"python": platform.python_version(), "numpy": np.__version__,
                  "quantization": stage.manifest["quantization"],
                  "reference": stage.manifest["reference"], "cases": []}
        try:
            peer, peer_error = Peer(args.device), None
            result["peer"] = peer.describe()
            result["device"] = result["peer"]["device"]
        except Exception as e:  # Pith's cases still run
            peer, peer_error = None, f"PyTorch unavailable: {type(e).__name__}: {e}"
            print(peer_error, file=sys.stderr)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        for case in stage.manifest["cases"]:
            repeat = args.repeat or REPEAT.get(case["batch"], 20)
            entry = run_case(case, stage, runner, peer, peer_error, repeat, work)
            result["cases"].append(entry)
            if entry.get("pith_device") and "pith_device" not in result:
                result["pith_device"] = entry["pith_device"]
            args.out.write_text(json.dumps(result, indent=1) + "\n")
            print(summary_line(entry), flush=True)
    failed = [e["name"] for e in result["cases"] if "pith_error" in e or "torch_error" in e]
    print(f"run_bench: {len(result['cases']) - len(failed)} of {len(result['cases'])} cases "
          f"ran on both; results in {args.out}")
    return 1 if failed else 0


def summary_line(entry):
    def ms(key):
        return f"{entry[key]:9.3f} ms" if key in entry else "   failed  "

    line = f"{entry['name']:20s} pith {ms('pith_ms')}  torch {ms('torch_ms')}"
    if "ratio" in entry:
        line += f"  torch/pith {entry['ratio']:5.2f}"
    if entry.get("max_rel_error") is not None:
        line += (f"  max rel err {entry['max_rel_error']:.2e}"
                 f" (elementwise {entry['max_elementwise_rel_error']:.2e})")
    elif entry.get("nonfinite"):
        line += f"  {entry['nonfinite']} NaN/Inf"
    for key in ("pith_error", "torch_error"):
        if key in entry:
            line += f"\n    {key}: {entry[key]}"
    return line


if __name__ == "__main__":
    sys.exit(main())

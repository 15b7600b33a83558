#!/usr/bin/env python3
"""Prepares the GPU benchmark here, for bench/gpu/run_bench.py on a lent GPU
machine (which has no MLIR, no onnx and no onnxruntime with CUDA).

1. Quantizes the float32 initializers (>= 256 elements) of MiniLM-L6 and
   ResNet-50 (bench/models/out/{minilm,resnet50}_dyn.onnx) to 15 values per
   tensor, k * max|x| / 7 for k in -7..7, so that the weights compress about
   10x with xz and fit the transfer to the GPU machine; writes
   bench/gpu/out/minilm.onnx and resnet50.onnx. Latency does not depend on
   the values, and the accuracy reference runs on the same quantized file.
2. Deterministic inputs at batch 1 and 32: MiniLM 128 token ids per row with
   trailing padding in the attention mask of some rows; ResNet-50 standard
   normal images on an 8-bit grid (like normalized camera pixels; it also
   makes the 19 MB batch-32 input compress about 4x).
3. Reference outputs from onnxruntime CPU fp32 on the quantized models.
4. Compiles each model x batch x {fp32, fp16} with `pith compile --target
   cuda --gpu-math M --input-shape ...` (8 libraries).
5. Stages into --stage (default .gpu-carry/bench): manifest.json and every
   file it names, each xz-compressed (FILE.xz, with the uncompressed size and
   sha256 in the manifest); a model's libraries share one weights file when
   their weights files are identical, as they are expected to be. Fails when
   the stage exceeds 40 MiB. A library that does not compile is left out and
   its case records the compiler's error.

--no-compile stops after step 3 (for a pith without --target cuda).

Usage: .venv/bin/python bench/gpu/prepare.py [--stage DIR] [--no-compile]
"""

import argparse
import json
import lzma
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from staging import MICRO, output_file_name, sha256

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SOURCES = REPO / "bench" / "models" / "out"
OUT = HERE / "out"
MODELS = {"minilm": "minilm_dyn.onnx", "resnet50": "resnet50_dyn.onnx"}
# A transform carried onto the GPU: MiniLM with its linear layers factored
# by pith-low-rank to rank 96 (the 384x384 maps keep half their parameters,
# the 384x1536 ones 31%; no fine-tuning: for speed, not accuracy), timed
# against the dense model; the peer runs the dense MiniLM.
LOW_RANK = {"name": "minilm_lowrank", "from": "minilm", "math": "fp32",
            "pipeline": "pith-low-rank{rank=96}"}
BATCHES = (1, 32)
MATHS = ("fp32", "fp16")
SEQ = 128
VOCAB = 30522
LEVELS = 7  # quantized values k * scale / LEVELS, k in -LEVELS..LEVELS
MIN_QUANTIZED = 256  # smaller tensors (biases, norms of small layers) stay exact
# The transfer to the GPU machine holds at most 64 MiB: this stage, the
# conformance archive (about 5 MiB) and the working tree (about 10 MiB).
MAX_STAGED_BYTES = 46 * 2**20
COMPILE_TIMEOUT_S = 1800
QUANTIZATION = (f"float32 initializers with >= {MIN_QUANTIZED} elements: "
                f"round(x / max|x| * {LEVELS}) * max|x| / {LEVELS} per tensor")


def quantize(source, target):
    """Writes `source` with its large float32 initializers quantized; returns
    (bytes of those initializers, their xz -1 size): the staged weights, at
    xz -6, come out smaller than the second number."""
    model = onnx.load(str(source))
    blobs = []
    for init in model.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        x = numpy_helper.to_array(init)
        scale = float(np.abs(x).max()) if x.size else 0.0
        if x.size < MIN_QUANTIZED or scale == 0.0:
            continue
        q = (np.round(x / scale * LEVELS) * (scale / LEVELS)).astype(np.float32)
        init.CopyFrom(numpy_helper.from_array(q, init.name))
        blobs.append(q.tobytes())
    onnx.save(model, str(target))
    blob = b"".join(blobs)
    return len(blob), len(lzma.compress(blob, preset=1))


def tiled(rng, shape, scale):
    block = rng.standard_normal((64, 64)).astype(np.float32) * scale
    reps = [-(-d // 64) for d in shape[-2:]]
    full = np.tile(block, reps)[: shape[-2], : shape[-1]]
    return np.broadcast_to(full, shape).astype(np.float32)


def make_micro(name, path):
    """Writes the micro-benchmark model `name` to `path`."""
    from onnx import TensorProto, helper

    spec, rng = MICRO[name], np.random.default_rng(7)
    nodes, inits, x = [], [], "x"
    if name == "gemm_chain":
        k = spec["width"]
        input_shape = ["batch", k]
        for i in range(spec["layers"]):
            # Tiled rows add up coherently (k / 64 copies of each): scaled
            # so that values neither grow nor vanish along the chain (fp16).
            w = tiled(rng, (k, k), 64 ** -0.5 * 64 / k)
            inits.append(numpy_helper.from_array(w, f"w{i}"))
            nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"h{i}"], name=f"gemm{i}"))
            x = f"h{i}"
        nodes.append(helper.make_node("ReduceSum", [x, "last"], ["y"], name="sum"))
        inits.append(numpy_helper.from_array(np.array([-1], np.int64), "last"))
        output_shape = ["batch", 1]
    else:
        c, size = spec["channels"], spec["size"]
        input_shape = ["batch", c, size, size]
        for i in range(spec["layers"]):
            w = tiled(rng, (c, c, 3, 3), (9 * c) ** -0.5 * 1.4)
            inits.append(numpy_helper.from_array(np.ascontiguousarray(w), f"w{i}"))
            nodes += [helper.make_node("Conv", [x, f"w{i}"], [f"c{i}"], name=f"conv{i}",
                                       pads=[1, 1, 1, 1]),
                      helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}")]
            x = f"r{i}"
        nodes.append(helper.make_node("GlobalAveragePool", [x], ["y"], name="pool"))
        output_shape = ["batch", c, 1, 1]
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def make_inputs(model, batch):
    rng = np.random.default_rng(batch)
    if model in MICRO:
        spec = MICRO[model]
        shape = ((batch, spec["width"]) if model == "gemm_chain"
                 else (batch, spec["channels"], spec["size"], spec["size"]))
        return {"x": np.ascontiguousarray(tiled(rng, shape, 1.0))}
    if model == "minilm":
        ids = rng.integers(0, VOCAB, size=(batch, SEQ), dtype=np.int64)
        mask = np.ones((batch, SEQ), dtype=np.int64)
        # Rows past the first half of the batch end in padding: the masked
        # attention path must be exercised, not only full rows.
        for row in range(batch // 2 + 1, batch):
            mask[row, int(rng.integers(SEQ // 4, SEQ)):] = 0
        return {"input_ids": ids, "attention_mask": mask}
    pixels = np.clip(np.round(rng.standard_normal((batch, 3, 224, 224)) * 32), -128, 127)
    return {"input": (pixels / 32).astype(np.float32)}


def cuda_compiler_problem(pith):
    """Why `pith compile --target cuda` cannot run here, or None. Probed with
    no model: a pith without the option rejects it before anything else."""
    if not pith.is_file():
        return f"{pith} does not exist: build the project first"
    proc = subprocess.run([str(pith), "compile", "--target", "cuda"],
                          capture_output=True, text=True, timeout=60)
    if "unknown option" in proc.stderr:
        return f"{pith} has no `compile --target cuda` yet ({proc.stderr.strip()})"
    return None


def compile_library(pith, model_path, library, math, contractions, shapes):
    """Returns (compile seconds, None) or (None, the compiler's error)."""
    shape_args = [a for name, shape in shapes.items()
                  for a in ("--input-shape", f"{name}={'x'.join(map(str, shape))}")]
    command = [str(pith), "compile", str(model_path), "-o", str(library),
               "--target", "cuda", "--gpu-math", math, "--gpu-contractions", contractions,
               *shape_args]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=COMPILE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"compile timed out after {COMPILE_TIMEOUT_S} s"
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        line = lines[0].replace(f"{OUT}/", "") if lines else f"exit status {proc.returncode}"
        return None, f"compile: {line}"
    match = re.search(r"compile time:\s*([0-9.]+)", proc.stdout)
    return (float(match.group(1)) if match else None), None


def stage_file(source, stage, relative, files):
    """Compresses `source` to stage/relative.xz and records it in `files`."""
    target = stage / f"{relative}.xz"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, lzma.open(target, "wb", preset=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 24)
    files[relative] = {"bytes": source.stat().st_size, "sha256": sha256(source),
                       "staged_bytes": target.stat().st_size}


def clear_stage(stage):
    """Empties the stage, refusing a non-empty folder that is not a stage."""
    if stage.exists() and any(stage.iterdir()):
        if not (stage / "manifest.json").exists():
            sys.exit(f"--stage {stage} is not empty and holds no manifest.json: not clearing it")
        shutil.rmtree(stage)
    stage.mkdir(parents=True, exist_ok=True)


def factor_low_rank(pith):
    """Writes the low-rank variant of the quantized MiniLM; returns its
    source (to quantize again: SVD factors are not on the grid)."""
    source = OUT / f"{LOW_RANK['from']}.onnx"
    factored = OUT / f"{LOW_RANK['name']}_factored.onnx"
    proc = subprocess.run([str(pith), "optimize", str(source), "-o", str(factored),
                           "--pipeline", LOW_RANK["pipeline"]],
                          capture_output=True, text=True, errors="replace",
                          timeout=COMPILE_TIMEOUT_S)
    if proc.returncode != 0:
        sys.exit(f"pith optimize for {LOW_RANK['name']} failed: {proc.stderr.strip()}")
    return factored


def prepare_cases(pith=None, only=None):
    """Quantized models, inputs and references; returns the cases. With
    `pith`, also the low-rank MiniLM; with `only`, just those models."""
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    sources = {model: SOURCES / source for model, source in MODELS.items()}
    if pith:
        sources[LOW_RANK["name"]] = None  # made from the quantized MiniLM, below
    sources.update({name: "micro" for name in MICRO})
    if only:
        unknown = sorted(set(only) - set(sources))
        if unknown:
            sys.exit(f"--models: unknown {', '.join(unknown)} (known: {', '.join(sources)})")
        sources = {model: source for model, source in sources.items() if model in only}
    for model, source in sources.items():
        path = OUT / f"{model}.onnx"
        if source == "micro":
            make_micro(model, path)
            source = path
        elif source is None:
            source = factor_low_rank(pith)
        raw, packed = quantize(source, path)
        print(f"{model}: {raw / 2**20:.1f} MiB of float32 initializers quantized to "
              f"{2 * LEVELS + 1} values per tensor, xz -1: {packed / 2**20:.1f} MiB "
              f"-> {path.relative_to(REPO)}", flush=True)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        peer = LOW_RANK["from"] if model == LOW_RANK["name"] else model
        if model in MICRO:
            variants = MICRO[model]["variants"]
        elif model == LOW_RANK["name"]:
            variants = [(LOW_RANK["math"], "library")]
        else:
            variants = [(math, "library") for math in MATHS]
        for batch in MICRO[model]["batches"] if model in MICRO else BATCHES:
            data = OUT / "data" / f"{model}_b{batch}"
            data.mkdir(parents=True, exist_ok=True)
            inputs = make_inputs(peer, batch)
            for name, value in inputs.items():
                np.save(data / f"{name}.npy", value)
            outputs = []
            for spec, value in zip(session.get_outputs(), session.run(None, inputs)):
                file = data / f"reference_{output_file_name(spec.name)}.npy"
                np.save(file, value)
                outputs.append({"name": spec.name, "reference": file})
                if not np.isfinite(value).all():
                    print(f"  warning: the reference {spec.name} has NaN or Inf", file=sys.stderr)
                print(f"  b{batch}: reference {spec.name} {list(value.shape)}, "
                      f"max|r| {np.abs(value).max():.4g}", flush=True)
            for math, contractions in variants:
                suffix = "" if contractions == "library" else f"_{contractions}"
                cases.append({"name": f"{model}_b{batch}_{math}{suffix}", "model": model,
                              "peer_model": peer, "contractions": contractions,
                              "batch": batch, "math": math, "onnx": path,
                              "inputs": {n: data / f"{n}.npy" for n in inputs},
                              "shapes": {n: v.shape for n, v in inputs.items()},
                              "outputs": outputs})
    return cases


def write_stage(cases, stage):
    """Stages the cases' files and manifest.json; returns the stage's bytes."""
    clear_stage(stage)
    files, entries = {}, []
    weights_by_hash = {}  # (model, sha256) -> staged path

    def staged(path):
        relative = path.relative_to(OUT).as_posix()
        if relative not in files:
            stage_file(path, stage, relative, files)
        return relative

    for case in cases:
        entry = {k: case[k] for k in ("name", "model", "peer_model", "contractions", "batch",
                                      "math", "compile_s", "error")}
        entry["inputs"] = {name: staged(path) for name, path in case["inputs"].items()}
        entry["outputs"] = [{"name": o["name"], "reference": staged(o["reference"])}
                            for o in case["outputs"]]
        if not case["error"]:
            entry["library"] = staged(case["library"])
            weights = Path(f"{case['library']}.weights")
            key = (case["model"], sha256(weights))
            if key not in weights_by_hash:
                count = sum(1 for model, _ in weights_by_hash if model == case["model"])
                name = case["model"]
                if count:
                    print(f"warning: {case['name']}'s weights differ from those of another "
                          f"{name} library: staging another weights file", file=sys.stderr)
                    name += f"-{count + 1}"
                weights_by_hash[key] = f"weights/{name}.weights"
                stage_file(weights, stage, weights_by_hash[key], files)
            entry["weights"] = weights_by_hash[key]
        entries.append(entry)

    manifest = {"quantization": QUANTIZATION,
                "reference": f"onnxruntime {ort.__version__} CPU fp32 on the quantized ONNX",
                "sources": {m: f"bench/models/out/{s}" for m, s in MODELS.items()},
                "files": files, "cases": entries}
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for relative, info in sorted(files.items()):
        print(f"  {relative + '.xz':52s} {info['staged_bytes'] / 2**20:7.2f} MiB "
              f"(of {info['bytes'] / 2**20:.2f})")
    return sum(f.stat().st_size for f in stage.rglob("*") if f.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=Path, default=Path(".gpu-carry") / "bench",
                        help="stage folder, relative to the repository root (default: %(default)s)")
    parser.add_argument("--no-compile", action="store_true",
                        help="only quantize, make inputs and references")
    parser.add_argument("--pith", type=Path, default=REPO / "build" / "bin" / "pith",
                        help="the pith driver (default: %(default)s)")
    parser.add_argument("--models", nargs="+", metavar="NAME",
                        help="only these models (e.g. gemm_chain; default: all)")
    args = parser.parse_args()

    missing = [name for name in MODELS.values() if not (SOURCES / name).exists()]
    if missing:
        print(f"missing {', '.join(missing)} in {SOURCES.relative_to(REPO)}: run\n"
              "  /usr/bin/python3 bench/models/make_models.py minilm_dyn resnet50_dyn",
              file=sys.stderr)
        return 1
    if not args.no_compile:
        problem = cuda_compiler_problem(args.pith)
        if problem:
            print(f"{problem}\nrerun with --no-compile to prepare everything but the "
                  "libraries", file=sys.stderr)
            return 1

    cases = prepare_cases(None if args.no_compile else args.pith, args.models)
    if args.no_compile:
        print("--no-compile: libraries not compiled, nothing staged")
        return 0
    (OUT / "lib").mkdir(exist_ok=True)
    for case in cases:
        case["library"] = OUT / "lib" / f"{case['name']}.so"
        for stale in (case["library"], Path(f"{case['library']}.weights")):
            stale.unlink(missing_ok=True)
        case["compile_s"], case["error"] = compile_library(
            args.pith, case["onnx"], case["library"], case["math"], case["contractions"],
            case["shapes"])
        print(f"{case['name']}: " + (case["error"] or f"compiled in {case['compile_s']} s"),
              flush=True)

    stage = REPO / args.stage
    total = write_stage(cases, stage)
    compiled = sum(1 for c in cases if not c["error"])
    print(f"staged {compiled} of {len(cases)} cases in {stage}: {total / 2**20:.1f} MiB")
    if total > MAX_STAGED_BYTES:
        print(f"the stage exceeds {MAX_STAGED_BYTES // 2**20} MiB", file=sys.stderr)
        return 1
    return 0 if compiled else 1


if __name__ == "__main__":
    sys.exit(main())

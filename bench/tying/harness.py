"""Shared pieces of the weight-tying benchmarks (tying_curves.py,
basis_vs_svd.py): running `pith optimize`, counting a model's weight
parameters, measuring the calibration error independently of Pith, the task
metrics of MiniLM and the tiny LM with onnxruntime, and the check that
onnxruntime and Pith's compiled code agree on a transformed model.

Every metric sweep runs onnxruntime (fast on the 2-core machine); Pith's
compiled code is run on the few models checked with `check_against_pith`.
"""

import hashlib
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = REPO / "bench" / "corpus"
sys.path.insert(0, str(CORPUS))
import common  # noqa: E402  (tiny LM data and perplexity)
import minilm  # noqa: E402  (MiniLM model, tokenizer, sentences, metrics)

PITH = REPO / "build" / "bin" / "pith"
PITH_OPT = REPO / "build" / "bin" / "pith-opt"
OUT = REPO / "bench" / "out" / "tying"
SNAPSHOT = OUT / "pith-snapshot"
DOCS = REPO / "docs" / "tying"
# Weight transforms edit pith parameters: pith-prepare lifts the
# initializers into them first (lib/Pipelines/TransformPipelines.cpp).
PIPELINE_PREFIX = "pith-prepare,"
# Pith and onnxruntime must agree on a transformed model to this relative
# output difference (||pith - ort||_2 / ||ort||_2, worst output).
AGREEMENT = 1e-4


def passes_available(*names):
    """Whether pith-opt registers every pass in `names`."""
    if not PITH_OPT.is_file():
        return False
    text = subprocess.run([str(PITH_OPT), "--help"], capture_output=True, text=True).stdout
    return all(f"--{name}" in text for name in names)


def pass_spec(name, options):
    """'name{k=v k=v}' in MLIR's textual pipeline syntax (options in the given order)."""
    if not options:
        return name
    return name + "{" + " ".join(f"{k}={v}" for k, v in options.items()) + "}"


def snapshot_pith(settle_seconds=30):
    """Copies build/bin/pith and its kernel library into bench/out/tying/
    once the build has left them alone for `settle_seconds`, and returns the
    copy: a sweep then runs one binary throughout even while Pith is being
    rebuilt (a relink mid-sweep otherwise fails or mixes two versions)."""
    library = REPO / "build" / "lib" / "libpith_kernels.so"
    while True:
        stamps = [(p.stat().st_mtime, p.stat().st_size) if p.is_file() else None
                  for p in (PITH, library)]
        time.sleep(settle_seconds)
        again = [(p.stat().st_mtime, p.stat().st_size) if p.is_file() else None
                 for p in (PITH, library)]
        if stamps == again and all(s and s[1] > 0 for s in stamps):
            break
        print("waiting for the Pith build to settle", file=sys.stderr, flush=True)
    SNAPSHOT.mkdir(parents=True, exist_ok=True)
    for source in (PITH, library):
        shutil.copy2(source, SNAPSHOT / source.name)
    pith = SNAPSHOT / PITH.name
    # The Pith checks compile with the same binary (bench/corpus's helpers).
    import evaluate as corpus_evaluate
    minilm.PITH = corpus_evaluate.PITH = pith
    return pith


class OptimizeError(RuntimeError):
    """`pith optimize` failed; carries the command line to reproduce it."""

    def __init__(self, command, returncode, output):
        self.command, self.returncode, self.output = command, returncode, output
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"exit {returncode}: {command}\n{tail}")


def run_optimize(pith, model, output, pass_name, options, calibration=None, timeout=3600):
    """Runs `pith optimize` (the binary `pith`, e.g. from snapshot_pith) with
    one weight pass after pith-prepare. Returns (the report entry of that
    pass, its seconds, the command line)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    report_path = output.with_suffix(".report.json")
    report_path.unlink(missing_ok=True)
    args = [str(pith), "optimize", str(model), "-o", str(output),
            "--pipeline", PIPELINE_PREFIX + pass_spec(pass_name, options),
            "--report-json", str(report_path)]
    if calibration:
        args += ["--calibration", str(calibration)]
    command = shlex.join([str(PITH.relative_to(REPO))] + args[1:])  # to reproduce with
    start = time.perf_counter()
    # The copied kernel library beside a snapshot comes before the build's.
    env = dict(os.environ, LD_LIBRARY_PATH=str(Path(pith).parent))
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0 or not output.is_file():
        raise OptimizeError(command, result.returncode, result.stdout + result.stderr)
    report = json.loads(report_path.read_text())["passes"]
    entries = [e for e in report if e.get("pass") == pass_name]
    if len(entries) != 1:
        raise OptimizeError(command, 0, f"report has {len(entries)} entries of {pass_name}: "
                                        f"{json.dumps(report)[:2000]}")
    return entries[0], seconds, command


def weight_parameters(path):
    """Float weight elements stored in an ONNX file: initializers and the
    tensors of Constant nodes. `unique` counts each distinct tensor (same type,
    shape and bytes) once, which is what a tied weight costs; `stored` counts
    every tensor the file holds. They differ only if the file repeats a value."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(str(path))
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        if node.op_type == "Constant":
            tensors += [a.t for a in node.attribute if a.name == "value"]
    unique, stored, seen = 0, 0, set()
    for tensor in tensors:
        array = numpy_helper.to_array(tensor)
        if array.dtype.kind != "f":
            continue
        stored += array.size
        key = (array.dtype.str, array.shape, hashlib.sha256(array.tobytes()).digest())
        if key not in seen:
            seen.add(key)
            unique += array.size
    return {"unique": unique, "stored": stored}


def ort_session(path, threads=2):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def relative_error(reference, other):
    """Worst output's ||other - reference||_2 / ||reference||_2 (float64)."""
    worst = 0.0
    for a, b in zip(reference, other):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        worst = max(worst, float(np.linalg.norm(b - a) / np.linalg.norm(a)))
    return worst


class CalibrationError:
    """The pass's error measure, recomputed with onnxruntime: max over outputs
    of ||y' - y||_2 / ||y||_2 over all calibration inputs at once."""

    def __init__(self, original_model, calibration_npz):
        with np.load(calibration_npz) as data:
            self.feeds = {name: data[name] for name in data.files}
        self.reference = ort_session(original_model).run(None, self.feeds)

    def __call__(self, model):
        return relative_error(self.reference, ort_session(model).run(None, self.feeds))


class MiniLMTask:
    """Sentence-embedding agreement with the original MiniLM on the committed
    evaluation sentences (minilm.compare_embeddings: mean and minimum cosine,
    Spearman of the pairwise similarities). The original's embeddings come from
    the independent numpy reference once, as in minilm.evaluate."""

    name = "minilm"

    def __init__(self, limit=None):
        self.model = minilm.ensure_minilm_onnx()
        self.limit = limit
        self.sentences = minilm.evaluation_sentences()[:limit]
        self.tokenizer = minilm.load_tokenizer()
        self.original = minilm.embed(minilm.reference_run, self.sentences, self.tokenizer)

    def metrics(self, path, runtime="onnxruntime"):
        runner = minilm.Runner(path, runtime, threads=2)
        found = minilm.compare_embeddings(minilm.embed(runner.run, self.sentences,
                                                       self.tokenizer), self.original)
        return {k: found[k] for k in ("cosine_mean", "cosine_min", "pairwise_spearman")}

    def compare_runtimes(self, path, ort_path, count=32):
        """Relative output difference Pith (on `path`) vs onnxruntime (on
        `ort_path`, see for_onnxruntime) on `count` evaluation sentences padded
        to one length (every output)."""
        feeds = minilm.tokenize(self.sentences[:count], self.tokenizer)
        ort = minilm.Runner(ort_path, "onnxruntime").run(feeds)
        pith = minilm.Runner(path, "pith").run(feeds)
        return relative_error([ort[n] for n in sorted(ort)], [pith[n] for n in sorted(ort)])


class LMTask:
    """Perplexity of the tiny character LM on the held-out windows
    (models/tiny_lm_eval.npz), each window scored from its own start
    (common.sequence_nll), as bench/corpus/evaluate.py computes it."""

    name = "lm"

    def __init__(self, limit=None, batch=32):
        self.model = common.ensure_lm_model()
        self.limit = limit
        self.windows = common.load_tokens(common.LM_EVAL)[:limit]
        self.batch = batch
        self._pith = {}  # model path -> compiled model (compiling takes a while)

    def _perplexity(self, run):
        total, count = 0.0, 0
        for start in range(0, len(self.windows), self.batch):
            tokens = self.windows[start:start + self.batch]
            nll, n = common.sequence_nll(run(tokens), tokens)
            total, count = total + nll, count + n
        return math.exp(total / count)

    def _runner(self, path, runtime):
        """tokens -> logits with onnxruntime or Pith's compiled code."""
        if runtime == "onnxruntime":
            session = ort_session(path)
            return lambda tokens: session.run(None, {"tokens": tokens})[0]
        if path not in self._pith:
            import evaluate as corpus_evaluate  # bench/corpus/evaluate.py: pith compile + C API
            self._pith[path] = corpus_evaluate.Pith(path, threads=2)
        return lambda tokens: self._pith[path]({"tokens": tokens})

    def metrics(self, path, runtime="onnxruntime"):
        return {"perplexity": self._perplexity(self._runner(path, runtime))}

    def compare_runtimes(self, path, ort_path, count=8):
        tokens = self.windows[:count]
        ort = self._runner(ort_path, "onnxruntime")(tokens)
        pith = self._runner(path, "pith")(tokens)
        return relative_error([ort], [pith])


def for_onnxruntime(path):
    """A file onnxruntime loads, and the node names that were duplicated.

    ONNX wants node names unique and onnxruntime refuses a model that repeats
    one ("two nodes with same node name"); onnx.checker does not check it.
    Names carry no meaning, so a repeated one gets a suffix in a copy
    (OUT.ort.onnx) that onnxruntime runs; the file Pith wrote stays as it is
    and the duplicates are reported."""
    import onnx
    model = onnx.load(str(path))
    seen, duplicates = set(), []
    for node in model.graph.node:
        if node.name and node.name in seen:
            duplicates.append(node.name)
            suffix = 1
            while f"{node.name}_{suffix}" in seen:
                suffix += 1
            node.name = f"{node.name}_{suffix}"
        seen.add(node.name)
    if not duplicates:
        return Path(path), []
    copy = Path(path).with_suffix(".ort.onnx")
    onnx.save(model, str(copy))
    return copy, duplicates


def duplicate_names_note(runs):
    """A markdown paragraph on the written files that repeat node names
    (for_onnxruntime), or '' when none does."""
    affected = [r for r in runs if r.get("duplicate_node_names")]
    if not affected:
        return ""
    example = affected[0]
    return (f"**{len(affected)} of {len([r for r in runs if 'metrics' in r])} written files "
            f"repeat node names** (e.g. {', '.join(example['duplicate_node_names'][:3])} in "
            f"`{example['output']}`): onnx.checker "
            "accepts them but onnxruntime refuses to load them (\"two nodes with same node "
            "name\"). Their metrics were measured on a copy with the repeated names "
            "suffixed (`*.ort.onnx`, same graph otherwise).")


def check_against_pith(task, path, ort_path):
    """onnx.checker on the file, then onnxruntime (on ort_path, from
    for_onnxruntime) vs Pith's compiled code (on the file): the relative
    output difference and the task metric under both (or what failed)."""
    import onnx
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as error:
        return {"onnx_checker": f"failed: {error}", "agrees": False}
    try:
        difference = task.compare_runtimes(path, ort_path)
        metrics_pith = task.metrics(path, "pith")
    except (RuntimeError, OSError, SystemExit) as error:
        return {"onnx_checker": "passed", "pith_failure": str(error), "agrees": False}
    return {"onnx_checker": "passed", "relative_output_difference": difference,
            "agrees": difference <= AGREEMENT,
            "metrics_onnxruntime": task.metrics(ort_path, "onnxruntime"),
            "metrics_pith": metrics_pith}


def describe_check(label, check):
    """One markdown line for a check_against_pith result."""
    line = f"Pith check, {label}: onnx.checker {check['onnx_checker']}"
    if "pith_failure" in check:
        return line + f"; **Pith failed**: {check['pith_failure']}"
    if "relative_output_difference" not in check:
        return line + "."

    def metrics(values):
        return ", ".join(f"{k} {v:.6f}" for k, v in values.items())
    return (line + f"; relative output difference Pith vs onnxruntime "
            f"{check['relative_output_difference']:.2e} "
            f"({'within' if check['agrees'] else '**NOT within**'} {AGREEMENT:g}); "
            f"onnxruntime {metrics(check['metrics_onnxruntime'])}; "
            f"Pith {metrics(check['metrics_pith'])}.")


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO)}", flush=True)


def keep_commentary(path, generated, placeholder):
    """The generated markdown with the hand-written block between
    '<!-- commentary -->' and '<!-- end commentary -->' of the existing file
    kept (or `placeholder` there on the first run), so that rerunning a sweep
    refreshes the tables without erasing the analysis."""
    begin, end = "<!-- commentary -->", "<!-- end commentary -->"
    block = f"{begin}\n{placeholder}\n{end}"
    if path.is_file():
        old = path.read_text()
        if begin in old and end in old:
            block = old[old.index(begin):old.index(end) + len(end)]
    return generated.replace("{commentary}", block)

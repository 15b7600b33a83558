"""The corpus's trained models (bench/corpus/models) give the same task metric
with Pith as with onnxruntime, and a sensible one, on a subset of their
held-out data (the full evaluation is bench/corpus/evaluate.py)."""

import json
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench" / "corpus"))
import common  # noqa: E402
import evaluate  # noqa: E402

# Subsets small enough for the whole file to run in under a minute on two
# shared cores, large enough that the metrics mean something: 2,000 test
# images; 256 windows of 128 tokens (32,512 predicted characters; Pith runs
# the LM ~10x slower than onnxruntime, see bench/corpus/README.md).
LIMITS = {"cnn": 2000, "mlp": 2000, "lm": 256}
# Lowest acceptable quality on the subset (the full-set figures are in
# bench/corpus/README.md: CNN ~0.91, MLP ~0.88).
MIN_TOP1 = {"cnn": 0.85, "mlp": 0.80}


@pytest.mark.parametrize("task", ["cnn", "mlp", "lm"])
def test_pith_metric_matches_onnxruntime(pith, task):
    if task == "lm":
        common.ensure_lm_model()  # rebuilt from its compact committed form
    if not evaluate.TASKS[task]["model"].exists():
        pytest.skip(f"{evaluate.TASKS[task]['model']} is missing")
    if task != "lm" and not common.FASHION_DIR.exists():
        pytest.skip(f"{common.FASHION_DIR} is missing (dataset-fashion-mnist)")
    result = evaluate.evaluate(task, limit=LIMITS[task])
    assert result["examples"] == LIMITS[task]
    assert result["relative_difference"] <= 1e-3, result
    if task == "lm":
        baseline = json.loads(common.LM_TRAINING.read_text())["unigram_eval_perplexity"]
        assert result["pith"] < baseline, result
    else:
        assert result["pith"] >= MIN_TOP1[task], result

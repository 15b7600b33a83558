"""`pith report`: the HTML page renders in a real browser (Debian's
chromium, headless) with the totals the cost model computes; bad input
gives one clear error line."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SMALL_CNN = HERE.parent / "Analysis" / "make_small_cnn.py"


@pytest.fixture
def small_cnn(tmp_path):
    path = tmp_path / "small.onnx"
    subprocess.run([sys.executable, str(SMALL_CNN), str(path)], check=True)
    return path


def render(html):
    browser = shutil.which("chromium")
    if not browser:
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         html.as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_html_report_renders_totals(pith, small_cnn, tmp_path):
    html = tmp_path / "report.html"
    result = pith.pith("report", str(small_cnn), "--compare", str(small_cnn),
                       "--html", str(html))
    assert result.returncode == 0, result.stderr
    dom = render(html)
    # The script ran: it marks the body and fills in the totals and charts.
    assert 'data-rendered="yes"' in dom
    assert dom.count('<span class="parameters">139</span>') == 2
    assert dom.count('<span class="flops">29274</span>') == 2
    assert dom.count('<span class="macs">13864</span>') == 2
    # Two models, two layers each: four bars per chart, two charts (drawn
    # bars have numeric coordinates; the script's template does not).
    assert len(re.findall(r'<rect class="bar" x="\d', dom)) == 8


@pytest.mark.parametrize("args, message", [
    (["missing.onnx"], "missing.onnx: no such file"),
    (["--bogus"], "unknown option '--bogus'"),
    ([], "usage: pith report"),
])
def test_report_bad_input(pith, args, message):
    result = pith.pith("report", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("model", ["fashion_mnist_cnn.onnx", "fashion_mnist_mlp.onnx",
                                   "tiny_lm.onnx"])
def test_parameters_equal_initializer_sizes(pith, model):
    """The report's parameter count is the sum of the initializers' sizes."""
    import json

    import numpy as np
    import onnx

    corpus = HERE.parents[1] / "bench" / "corpus"
    path = corpus / "models" / model
    if model == "tiny_lm.onnx":
        sys.path.insert(0, str(corpus))
        import common  # the LM is rebuilt from its compact committed form
        path = common.ensure_lm_model()
    if not path.exists():
        pytest.skip(f"{path} is missing")
    result = pith.pith("report", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    graph = onnx.load(path).graph
    sizes = sum(int(np.prod(t.dims, dtype=np.int64)) for t in graph.initializer)
    assert report["total"]["parameters"] == sizes
    assert report["total"]["parameters"] == sum(l["parameters"] for l in report["layers"])

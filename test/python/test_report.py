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

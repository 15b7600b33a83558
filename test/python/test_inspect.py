"""`pith inspect`: what a model contains."""

from conftest import EXAMPLES


def test_inspect_tiny_cnn(pith):
    result = pith.pith("inspect", EXAMPLES / "tiny_cnn.onnx")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Header, opsets and interface.
    assert "graph:        tiny_cnn" in out
    assert "opsets:       ai.onnx 17" in out
    assert "input:        image : tensor<?x1x28x28xf32>" in out
    assert "output:       probs : tensor<?x10xf32>" in out
    # One line per op type with its count.
    counts = {}
    for line in out.splitlines():
        if line.startswith("  "):
            op, count = line.split()
            counts[op] = int(count)
    assert counts == {"Conv": 2, "Flatten": 1, "Gemm": 1, "GlobalAveragePool": 1,
                      "MaxPool": 1, "Relu": 2, "Softmax": 1}
    assert "nodes:        9 (7 op types)" in out
    # 8*1*3*3 + 8 + 16*8*3*3 + 16 + 10*16 + 10 parameters, as float32.
    assert "parameters:   1418 in 6 initializers, 5672 bytes" in out


def test_inspect_missing_model(pith, tmp_path, one_line_error):
    missing = tmp_path / "missing.onnx"
    one_line_error(pith.pith("inspect", missing), "missing.onnx", "no such file")


def test_inspect_without_model_is_a_usage_error(pith):
    result = pith.pith("inspect")
    assert result.returncode != 0
    assert "usage: pith inspect MODEL.onnx" in result.stderr


def test_unknown_command(pith):
    result = pith.pith("frobnicate")
    assert result.returncode != 0
    assert "unknown command 'frobnicate'" in result.stderr

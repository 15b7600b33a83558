"""Training: pith-autodiff's gradients and Model.train.

- Every gradient rule against finite differences: for each op, a small
  model whose float initializer feeds the op, the mean-squared-error step
  with optimizer=none compiled by Pith, and the directional derivative
  grad . v against (L(w + eps v) - L(w - eps v)) / (2 eps) from the forward
  model in onnxruntime (float64 inputs where the op allows, else float32
  with a wider step).
- The corpus CNN's gradients against torch's autograd (Debian's
  python3-torch, in a subprocess), and Pith's compiled AdamW step against
  onnxruntime running the same exported step.
- Model.train: the loss falls, the weights change, the saved model runs;
  bad data and options are one-line errors that leave the model as it was.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

pith = None  # the package built in build/python (conftest's pith_package)


@pytest.fixture(autouse=True)
def _pith(pith_package):
    global pith
    pith = pith_package


REPO = Path(__file__).resolve().parents[2]
CNN = REPO / "bench" / "corpus" / "models" / "fashion_mnist_cnn.onnx"


def make_model(nodes, inputs, output_shape, initializers, opset=17):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
        [numpy_helper.from_array(v, k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def ort_forward(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0].astype(np.float64)


def with_weights(model, weights):
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for tensor in copy.graph.initializer:
        if tensor.name in weights:
            tensor.CopyFrom(numpy_helper.from_array(weights[tensor.name].astype(np.float32),
                                                    tensor.name))
    return copy


def check_gradients(model, feeds, trained, tmp_path, eps=1e-3, rtol=2e-2):
    """Pith's gradient of mean((y - t)^2) against central differences."""
    rng = np.random.default_rng(1)
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64)
               for t in model.graph.initializer if t.name in trained}
    y0 = ort_forward(model, feeds)
    targets = (y0 + rng.standard_normal(y0.shape)).astype(np.float32)
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    step = pith.load(path).optimize("pith-autodiff{loss=mse optimizer=none}")
    compiled = step.compile()
    names = [o["name"] for o in compiled.outputs]
    values = {**feeds, "targets": targets, **{k: v.astype(np.float32) for k, v in weights.items()}}
    outputs = dict(zip(names, compiled(**{i["name"]: values[i["name"]]
                                          for i in compiled.inputs})))

    def loss(w):
        y = ort_forward(with_weights(model, w), feeds)
        return float(np.mean((y - targets) ** 2))

    assert abs(outputs["loss"] - loss(weights)) <= 1e-4 * max(1.0, abs(loss(weights)))
    for name in trained:
        direction = rng.standard_normal(weights[name].shape)
        direction /= np.linalg.norm(direction)
        plus = {**weights, name: weights[name] + eps * direction}
        minus = {**weights, name: weights[name] - eps * direction}
        numeric = (loss(plus) - loss(minus)) / (2 * eps)
        analytic = float(np.sum(outputs[name + ".grad"] * direction))
        scale = max(abs(numeric), abs(analytic), 1e-3)
        assert abs(numeric - analytic) <= rtol * scale, (name, numeric, analytic)


rng = np.random.default_rng(0)


def r(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def unary_case(op, positive=False, **attrs):
    """op(x * w); `positive`: x and w above 0.5 (for Log)."""
    x, w = (np.abs(r(3, 4)) + 0.5, np.abs(r(3, 4)) + 0.5) if positive else (r(3, 4), r(3, 4))
    return ([helper.make_node("Mul", ["x", "w"], ["h"]), helper.make_node(op, ["h"], ["y"], **attrs)],
            [("x", [3, 4])], [3, 4], {"w": w}, {"x": x}, ["w"])


CASES = {
    "Gemm": ([helper.make_node("Gemm", ["x", "w", "b"], ["y"], alpha=0.5, beta=2.0)],
             [("x", [3, 4])], [3, 5], {"w": r(4, 5), "b": r(5)}, {"x": r(3, 4)}, ["w", "b"]),
    "Gemm transposed": ([helper.make_node("Gemm", ["w", "x", "b"], ["y"], transA=1, transB=1)],
                        [("x", [5, 4])], [3, 5], {"w": r(4, 3), "b": r(3, 1)}, {"x": r(5, 4)},
                        ["w", "b"]),
    "MatMul batched": ([helper.make_node("MatMul", ["x", "w"], ["y"])],
                       [("x", [2, 3, 4])], [2, 3, 5], {"w": r(4, 5)}, {"x": r(2, 3, 4)}, ["w"]),
    "Conv": ([helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 0, 1, 1],
                               strides=[2, 1], dilations=[1, 2])],
             [("x", [2, 3, 7, 6])], [2, 4, 4, 5], {"w": r(4, 3, 3, 2), "b": r(4)},
             {"x": r(2, 3, 7, 6)}, ["w", "b"]),
    "Conv uneven": ([helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2])],
                    [("x", [1, 2, 6, 6])], [1, 3, 2, 2], {"w": r(3, 2, 3, 3)},
                    {"x": r(1, 2, 6, 6)}, ["w"]),
    "Conv grouped": ([helper.make_node("Conv", ["x", "w", "b"], ["y"], group=2, pads=[1, 1, 0, 1])],
                     [("x", [2, 4, 6, 5])], [2, 6, 5, 5], {"w": r(6, 2, 3, 3), "b": r(6)},
                     {"x": r(2, 4, 6, 5)}, ["w", "b"]),
    # The input's gradient too (through v), by a grouped ConvTranspose.
    "Conv depthwise": ([helper.make_node("Mul", ["x", "v"], ["h"]),
                        helper.make_node("Conv", ["h", "w"], ["y"], group=3, strides=[2, 2],
                                         pads=[1, 1, 1, 1])],
                       [("x", [2, 3, 5, 5])], [2, 3, 3, 3], {"w": r(3, 1, 3, 3),
                                                            "v": r(2, 3, 5, 5)},
                       {"x": r(2, 3, 5, 5)}, ["w", "v"]),
    "AveragePool": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                     helper.make_node("AveragePool", ["h"], ["y"], kernel_shape=[3, 2],
                                      strides=[2, 1])],
                    [("x", [1, 2, 5, 4])], [1, 2, 2, 3], {"w": r(1, 2, 5, 4)},
                    {"x": r(1, 2, 5, 4)}, ["w"]),
    "AveragePool padded": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                            helper.make_node("AveragePool", ["h"], ["y"], kernel_shape=[3, 3],
                                             strides=[2, 2], pads=[1, 1, 1, 1])],
                           [("x", [1, 2, 5, 5])], [1, 2, 3, 3], {"w": r(1, 2, 5, 5)},
                           {"x": r(1, 2, 5, 5)}, ["w"]),
    "AveragePool padded counted": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                                    helper.make_node("AveragePool", ["h"], ["y"],
                                                     kernel_shape=[2, 2], pads=[1, 0, 0, 1],
                                                     count_include_pad=1)],
                                   [("x", [1, 1, 4, 4])], [1, 1, 4, 4], {"w": r(1, 1, 4, 4)},
                                   {"x": r(1, 1, 4, 4)}, ["w"]),
    "MaxPool": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("MaxPool", ["h"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
                [("x", [1, 2, 4, 4])], [1, 2, 2, 2], {"w": r(1, 2, 4, 4)}, {"x": r(1, 2, 4, 4)},
                ["w"]),
    "MaxPool overlapping": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                             helper.make_node("MaxPool", ["h"], ["y"], kernel_shape=[3, 3],
                                              strides=[1, 1], pads=[1, 1, 1, 1])],
                            [("x", [1, 1, 4, 4])], [1, 1, 4, 4], {"w": r(1, 1, 4, 4)},
                            {"x": r(1, 1, 4, 4)}, ["w"]),
    "Relu": unary_case("Relu"), "Sigmoid": unary_case("Sigmoid"), "Tanh": unary_case("Tanh"),
    "Exp": unary_case("Exp"), "Erf": unary_case("Erf"), "Neg": unary_case("Neg"),
    "LeakyRelu": unary_case("LeakyRelu", alpha=0.2),
    "Softmax": unary_case("Softmax", axis=0), "LogSoftmax": unary_case("LogSoftmax"),
    "Log": unary_case("Log", positive=True),
    "Abs": unary_case("Abs"), "Reciprocal": unary_case("Reciprocal", positive=True),
    "Identity": unary_case("Identity"),
    "Gelu": unary_case("Gelu") + (20,),
    "Gelu tanh": unary_case("Gelu", approximate="tanh") + (20,),
    "Sum Cast": ([helper.make_node("Sum", ["x", "w", "v"], ["s"]),
                  helper.make_node("Cast", ["s"], ["y"], to=TensorProto.FLOAT)],
                 [("x", [3, 4])], [3, 4], {"w": r(3, 4), "v": r(1, 4)}, {"x": r(3, 4)}, ["w", "v"]),
    "Squeeze Unsqueeze": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                           helper.make_node("Unsqueeze", ["h", "axes"], ["u"]),
                           helper.make_node("Squeeze", ["u", "axes"], ["y"])],
                          [("x", [3, 4])], [3, 4], {"w": r(3, 4), "axes": np.array([1], np.int64)},
                          {"x": r(3, 4)}, ["w"]),
    "Sqrt": ([helper.make_node("Mul", ["x", "w"], ["h"]), helper.make_node("Sqrt", ["h"], ["y"])],
             [("x", [3, 4])], [3, 4], {"w": np.abs(r(3, 4)) + 0.5},
             {"x": np.abs(r(3, 4)) + 0.5}, ["w"]),
    "Add Sub Div broadcast": ([helper.make_node("Add", ["x", "a"], ["p"]),
                               helper.make_node("Sub", ["p", "b"], ["q"]),
                               helper.make_node("Div", ["q", "c"], ["y"])],
                              [("x", [2, 3, 4])], [2, 3, 4],
                              {"a": r(4), "b": r(3, 1), "c": np.abs(r(1, 4)) + 1.0},
                              {"x": r(2, 3, 4)}, ["a", "b", "c"]),
    "Pow": ([helper.make_node("Pow", ["w", "x"], ["y"])], [("x", [3])], [2, 3],
            {"w": np.abs(r(2, 3)) + 0.5}, {"x": r(3)}, ["w"]),
    "LayerNormalization": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                            helper.make_node("LayerNormalization", ["h", "s", "b"], ["y"],
                                             axis=-1, epsilon=1e-5)],
                           [("x", [2, 3, 6])], [2, 3, 6],
                           {"w": r(2, 3, 6), "s": r(6), "b": r(6)}, {"x": r(2, 3, 6)},
                           ["w", "s", "b"]),
    "Transpose Reshape Flatten": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                                   helper.make_node("Transpose", ["h"], ["t"], perm=[2, 0, 1]),
                                   helper.make_node("Reshape", ["t", "shape"], ["u"]),
                                   helper.make_node("Flatten", ["u"], ["y"], axis=1)],
                                  [("x", [2, 3, 4])], [4, 6],
                                  {"w": r(2, 3, 4), "shape": np.array([4, 3, 2], np.int64)},
                                  {"x": r(2, 3, 4)}, ["w"]),
    "Concat Split Slice": ([helper.make_node("Concat", ["x", "w"], ["c"], axis=1),
                            helper.make_node("Split", ["c", "sizes"], ["s0", "s1"], axis=1),
                            helper.make_node("Slice", ["s1", "starts", "ends", "axes"], ["t"]),
                            helper.make_node("Mul", ["s0", "t"], ["y"])],
                           [("x", [2, 3])], [2, 2],
                           {"w": r(2, 4), "sizes": np.array([2, 5], np.int64),
                            "starts": np.array([1], np.int64), "ends": np.array([3], np.int64),
                            "axes": np.array([1], np.int64)},
                           {"x": r(2, 3)}, ["w"]),
    "Gather embedding": ([helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT64),
                          helper.make_node("Gather", ["w", "i"], ["y"], axis=0)],
                         [("x", [2, 3])], [2, 3, 4], {"w": r(5, 4)},
                         {"x": np.array([[0, 2, 2], [4, 1, 0]], np.float32)}, ["w"]),
    "ReduceMean ReduceSum": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                              helper.make_node("ReduceMean", ["h"], ["m"], axes=[1], keepdims=1),
                              helper.make_node("ReduceSum", ["m", "axes"], ["y"], keepdims=0)],
                             [("x", [2, 3, 4])], [2, 1], {"w": r(2, 3, 4),
                                                       "axes": np.array([2], np.int64)},
                             {"x": r(2, 3, 4)}, ["w"]),
    "Where Expand": ([helper.make_node("Greater", ["x", "zero"], ["c"]),
                      helper.make_node("Expand", ["w", "shape"], ["e"]),
                      helper.make_node("Where", ["c", "e", "x"], ["y"])],
                     [("x", [3, 4])], [3, 4], {"w": r(1, 4), "zero": np.zeros((), np.float32),
                                               "shape": np.array([3, 4], np.int64)},
                     {"x": r(3, 4)}, ["w"]),
    "GlobalAveragePool": ([helper.make_node("Mul", ["x", "w"], ["h"]),
                           helper.make_node("GlobalAveragePool", ["h"], ["y"])],
                          [("x", [2, 3, 4, 4])], [2, 3, 1, 1], {"w": r(1, 3, 4, 4)},
                          {"x": r(2, 3, 4, 4)}, ["w"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_rule_matches_finite_differences(case, tmp_path):
    nodes, inputs, output_shape, initializers, feeds, trained, *opset = CASES[case]
    model = make_model(nodes, inputs, output_shape, initializers, *opset)
    onnx.checker.check_model(model, full_check=True)
    check_gradients(model, feeds, trained, tmp_path)


def fixed_batch(path, batch, out):
    model = onnx.load(path)
    for value in list(model.graph.input) + list(model.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_param")
        dim.dim_value = batch
    onnx.save(model, out)
    return model


TORCH_GRADIENTS = r"""
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
import fashion_mnist
data = np.load(sys.argv[2])
model = fashion_mnist.cnn()
model.load_state_dict({k[2:]: torch.from_numpy(data[k].copy()) for k in data.files if k.startswith("w:")})
model.eval()
loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(data["image"])),
                                         torch.from_numpy(data["labels"]))
loss.backward()
np.savez(sys.argv[3], loss=np.float32(loss.item()),
         **{n: p.grad.numpy() for n, p in model.named_parameters()})
"""


def debian_torch():
    python = shutil.which("python3", path="/usr/bin")
    if not python:
        return None
    probe = subprocess.run([python, "-c", "import torch"], capture_output=True)
    return python if probe.returncode == 0 else None


def cnn_step(tmp_path, optimizer):
    fixed_batch(CNN, 4, tmp_path / "cnn4.onnx")
    model = pith.load(tmp_path / "cnn4.onnx").optimize(f"pith-autodiff{{optimizer={optimizer}}}")
    model.save(tmp_path / f"step_{optimizer}.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / f"step_{optimizer}.onnx"), full_check=True)
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(CNN).graph.initializer}
    data = np.random.default_rng(0)
    feeds = {"image": data.standard_normal((4, 1, 28, 28)).astype(np.float32),
             "labels": np.array([3, 1, 4, 1], np.int64), **weights}
    return model, feeds, weights


def test_cnn_gradients_match_torch_autograd(tmp_path):
    python = debian_torch()
    if not python:
        pytest.skip("Debian's python3-torch is not installed (scripts/setup.sh installs it)")
    model, feeds, weights = cnn_step(tmp_path, "none")
    compiled = model.compile()
    names = [o["name"] for o in compiled.outputs]
    ours = dict(zip(names, compiled(**{i["name"]: feeds[i["name"]] for i in compiled.inputs})))
    np.savez(tmp_path / "case.npz", image=feeds["image"], labels=feeds["labels"],
             **{"w:" + k: v for k, v in weights.items()})
    subprocess.run([python, "-c", TORCH_GRADIENTS, str(REPO / "bench" / "corpus"),
                    str(tmp_path / "case.npz"), str(tmp_path / "torch.npz")], check=True)
    theirs = np.load(tmp_path / "torch.npz")
    assert abs(float(ours["loss"]) - float(theirs["loss"])) <= 1e-5 * abs(float(theirs["loss"]))
    for name in weights:
        g, t = ours[name + ".grad"], theirs[name]
        assert np.abs(g - t).max() <= 1e-5 * np.abs(t).max(), name


def test_compiled_adamw_step_matches_onnxruntime(tmp_path):
    model, feeds, weights = cnn_step(tmp_path, "adamw")
    compiled = model.compile()
    feeds = {**feeds, "learning_rate": np.array(1e-3, np.float32),
             "step": np.array(3.0, np.float32)}
    for i in compiled.inputs:
        if i["name"].endswith((".adam_m", ".adam_v")):
            feeds[i["name"]] = np.full(i["shape"], 0.01, np.float32)
    inputs = {i["name"]: feeds[i["name"]] for i in compiled.inputs}
    ours = compiled(**inputs)
    session = ort.InferenceSession(str(tmp_path / "step_adamw.onnx"),
                                   providers=["CPUExecutionProvider"])
    theirs = session.run(None, inputs)
    for info, a, b in zip(compiled.outputs, ours, theirs):
        assert np.abs(a - b).max() <= 1e-5 * max(np.abs(b).max(), 1e-6), info["name"]


def mlp(tmp_path):
    rng = np.random.default_rng(0)
    model = make_model([helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
                        helper.make_node("Relu", ["h"], ["r"]),
                        helper.make_node("Gemm", ["r", "w2", "b2"], ["y"])],
                       [("x", ["batch", 2])], ["batch", 3],
                       {"w1": r(2, 16, scale=0.5), "b1": np.zeros(16, np.float32),
                        "w2": r(16, 3, scale=0.5), "b2": np.zeros(3, np.float32)})
    path = tmp_path / "mlp.onnx"
    onnx.save(model, path)
    x = rng.standard_normal((600, 2)).astype(np.float32)
    labels = (np.arctan2(x[:, 1], x[:, 0]) > 0).astype(np.int64) + (x[:, 0] > 1)
    return path, x, labels


def test_train_lowers_the_loss_and_saves_the_trained_weights(tmp_path):
    path, x, labels = mlp(tmp_path)
    model = pith.load(path)
    seen = []
    run = model.train({"x": x, "labels": labels}, epochs=30, batch_size=50,
                      learning_rate=0.05, schedule="cosine", on_epoch=seen.append)
    assert [e["epoch"] for e in seen] == list(range(1, 31))
    assert len(run["losses"]) == 30 * 12
    assert run["epochs"][-1]["loss"] < 0.5 * run["epochs"][0]["loss"]
    assert run["arena_bytes"] > 0 and run["step_bytes"] > run["arena_bytes"]
    model.save(tmp_path / "trained.onnx")
    trained = onnx.load(tmp_path / "trained.onnx")
    onnx.checker.check_model(trained, full_check=True)
    assert trained.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(str(tmp_path / "trained.onnx"),
                                   providers=["CPUExecutionProvider"])
    accuracy = (session.run(None, {"x": x})[0].argmax(1) == labels).mean()
    assert accuracy > 0.9


def test_sgd_matches_its_definition(tmp_path):
    """One SGD step with momentum from zero state: w - lr (g + decay w)."""
    path, x, labels = mlp(tmp_path)
    before = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    grads_model = pith.load(path)
    grads_model.train({"x": x[:50], "labels": labels[:50]}, epochs=1, batch_size=50,
                      optimizer="sgd", learning_rate=0.1, weight_decay=0.01, momentum=0.9,
                      seed=3)
    grads_model.save(tmp_path / "sgd.onnx")
    after = {t.name: numpy_helper.to_array(t) for t in onnx.load(tmp_path / "sgd.onnx").graph.initializer}
    fixed_batch(path, 50, tmp_path / "mlp50.onnx")
    step = pith.load(tmp_path / "mlp50.onnx").optimize("pith-autodiff{optimizer=none}").compile()
    names = [o["name"] for o in step.outputs]
    order = np.random.default_rng(3)  # the batch is the whole data: order does not matter
    out = dict(zip(names, step(x=x[:50], labels=labels[:50], **before)))
    for name, w in before.items():
        expected = w - 0.1 * (out[name + ".grad"] + 0.01 * w)
        assert np.allclose(after[name], expected, rtol=1e-4, atol=1e-6), name


@pytest.mark.parametrize("data_change,message", [
    (lambda d: d.update(labels=d["labels"].astype(np.float32)),
     "data 'labels': float32, expected int64 class indices for loss=cross-entropy"),
    (lambda d: d["labels"].__setitem__(5, 7),
     "data 'labels': value 7 at index 5 is not a class of output 'y' (0 to 2)"),
    (lambda d: d.pop("labels"), "data: no array 'labels' (the loss's labels)"),
    (lambda d: d.update(x=d["x"][:, :1].copy()),
     "data 'x' has shape 600x1; one sample must be 2"),
    (lambda d: d.update(labels=d["labels"][:10].copy()),
     "data 'labels' has 10 samples, 'x' 600"),
    (lambda d: d.update(extra=d["x"]), "data: 'extra' is neither an input of the model"),
])
def test_bad_data_is_a_one_line_error(tmp_path, data_change, message):
    path, x, labels = mlp(tmp_path)
    data = {"x": x, "labels": labels.copy()}
    data_change(data)
    model = pith.load(path)
    before = model.to_bytes()
    with pytest.raises(pith.PithError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model.train(data, epochs=1, batch_size=50)
    assert model.to_bytes() == before


@pytest.mark.parametrize("options,message", [
    (dict(loss="output"), "loss=output needs a scalar loss; output 'y' has shape 50x3"),
    (dict(batch_size=1000), "600 samples, fewer than one batch of 1000"),
    (dict(schedule="step"), "schedule: expected 'constant', 'cosine' or 'one-cycle'"),
    (dict(learning_rate=1e6), "training diverged at epoch 1"),
])
def test_bad_options_are_one_line_errors(tmp_path, options, message):
    path, x, labels = mlp(tmp_path)
    data = {"x": x} if options.get("loss") == "output" else {"x": x, "labels": labels}
    settings = {"epochs": 1, "batch_size": 50, **options}
    with pytest.raises(pith.PithError, match=message):
        pith.load(path).train(data, **settings)


def test_convolution_weight_input_changed_in_place_is_read_again(tmp_path):
    """A training step's weights are inputs whose buffers the runtime reuses:
    the convolution kernels must not keep a reordered copy of them (they do
    for stored weights) and read it on the next call."""
    model = helper.make_model(helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16, 8, 8]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [32, 16, 3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 32, 8, 8])]),
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "conv.onnx")
    compiled = pith.load(tmp_path / "conv.onnx").compile()
    session = ort.InferenceSession(str(tmp_path / "conv.onnx"), providers=["CPUExecutionProvider"])
    x, w = r(2, 16, 8, 8), r(32, 16, 3, 3)
    for _ in range(3):
        ours = compiled(x=x, w=w)[0]
        theirs = session.run(None, {"x": x, "w": w})[0]
        assert np.abs(ours - theirs).max() <= 1e-4 * np.abs(theirs).max()
        w *= -0.5  # the same buffer, new values


TORCH_LM_GRADIENTS = r"""
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
import tiny_lm
data = np.load(sys.argv[2])
weights = {k[2:]: torch.from_numpy(data[k].copy()) for k in data.files if k.startswith("w:")}
model = tiny_lm.TinyLM(weights["embed.weight"].shape[0])
model.load_state_dict(weights)
model.eval()
logits = model(torch.from_numpy(data["tokens"]))
loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                         torch.from_numpy(data["labels"]).reshape(-1))
loss.backward()
np.savez(sys.argv[3], loss=np.float32(loss.item()),
         **{n: p.grad.numpy() for n, p in model.named_parameters()})
"""


def test_lm_gradients_match_torch_autograd(tmp_path):
    """The corpus transformer LM (embedding tied to the output layer, which
    the export stores twice: as embed.weight and as a transposed copy),
    mask frozen: every gradient equals torch's."""
    python = debian_torch()
    if not python:
        pytest.skip("Debian's python3-torch is not installed (scripts/setup.sh installs it)")
    sys.path.insert(0, str(REPO / "bench" / "corpus"))
    import common
    source = common.ensure_lm_model()
    model = onnx.load(source)
    for value in list(model.graph.input) + list(model.graph.output):
        for d, size in zip(value.type.tensor_type.shape.dim, (2, 16)):
            d.ClearField("dim_param")
            d.dim_value = size
    onnx.save(model, tmp_path / "lm.onnx")
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    # The corpus stores each copy quantized on its own: make the copies equal.
    tied = [k for k in weights if k.startswith("onnx::")]
    assert len(tied) == 1
    weights[tied[0]] = np.ascontiguousarray(weights["embed.weight"].T)
    step = pith.load(tmp_path / "lm.onnx").optimize("pith-autodiff{optimizer=none freeze=mask}")
    compiled = step.compile()
    rng = np.random.default_rng(0)
    vocab = weights["embed.weight"].shape[0]
    tokens = rng.integers(0, vocab, (2, 16)).astype(np.int64)
    labels = rng.integers(0, vocab, (2, 16)).astype(np.int64)
    feeds = {"tokens": tokens, "labels": labels, **weights}
    names = [o["name"] for o in compiled.outputs]
    ours = dict(zip(names, compiled(**{i["name"]: feeds[i["name"]] for i in compiled.inputs})))
    assert "mask.grad" not in ours
    torch_weights = {k: v for k, v in weights.items() if not k.startswith("onnx::")}
    np.savez(tmp_path / "case.npz", tokens=tokens, labels=labels,
             **{"w:" + k: v for k, v in torch_weights.items()})
    subprocess.run([python, "-c", TORCH_LM_GRADIENTS, str(REPO / "bench" / "corpus"),
                    str(tmp_path / "case.npz"), str(tmp_path / "torch.npz")], check=True)
    theirs = np.load(tmp_path / "torch.npz")
    assert abs(float(ours["loss"]) - float(theirs["loss"])) <= 1e-5 * abs(float(theirs["loss"]))
    for name in theirs.files:
        if name == "loss":
            continue
        g = ours[name + ".grad"]
        if name == "embed.weight":
            g = g + ours[tied[0] + ".grad"].T
        t = theirs[name]
        assert np.abs(g - t).max() <= 2e-4 * np.abs(t).max(), name


def tanh_mlp(tmp_path, layers=4, width=128):
    nodes, inits, previous = [], {}, "x"
    sizes = [32] + [width] * layers
    for i in range(layers):
        inits[f"w{i}"] = r(sizes[i], sizes[i + 1], scale=1 / np.sqrt(sizes[i]))
        nodes += [helper.make_node("MatMul", [previous, f"w{i}"], [f"h{i}"], name=f"mm{i}"),
                  helper.make_node("Tanh", [f"h{i}"], [f"t{i}"], name=f"tanh{i}")]
        previous = f"t{i}"
    inits["out"] = r(width, 10, scale=1 / np.sqrt(width))
    nodes.append(helper.make_node("MatMul", [previous, "out"], ["y"], name="logits"))
    model = make_model(nodes, [("x", ["batch", 32])], ["batch", 10], inits)
    path = tmp_path / "tanh_mlp.onnx"
    onnx.save(model, path)
    data = np.random.default_rng(2)
    x = data.standard_normal((640, 32)).astype(np.float32)
    return path, {"x": x, "labels": (x[:, :10].argmax(1)).astype(np.int64)}


@pytest.mark.parametrize("remat", [dict(memory_budget="0.75"), dict(remat_solver="sqrt"),
                                   dict(memory_budget="100kB"),
                                   dict(memory_budget="0.6", remat_solver="ilp"),
                                   dict(memory_budget="0.6", remat_solver="chain")])
def test_recomputation_leaves_every_loss_unchanged(tmp_path, remat):
    """Recomputed activations are the same numbers: every step's loss
    equals the run that keeps everything, and the report says what went."""
    path, data = tanh_mlp(tmp_path)
    settings = dict(epochs=2, batch_size=64, learning_rate=0.01, seed=5)
    kept = pith.load(path).train(data, **settings)
    recomputed = pith.load(path).train(data, **settings, **remat)
    assert len(kept["losses"]) == len(recomputed["losses"]) == 20
    np.testing.assert_allclose(recomputed["losses"], kept["losses"], rtol=1e-5)
    line = [l for l in recomputed["report"] if l.startswith("pith-remat:")]
    assert line and " activations recomputed (" in line[0]
    assert not [l for l in kept["report"] if l.startswith("pith-remat:")]


def test_memory_budget_below_the_reachable_minimum_is_an_error(tmp_path):
    path, data = tanh_mlp(tmp_path)
    with pytest.raises(pith.PithError, match=r"budget: 1.0 kB is below the smallest activation "
                                             r"memory the solver reaches for this step, [0-9.]+ kB"):
        pith.load(path).train(data, epochs=1, batch_size=64, memory_budget="1kB")


def test_corpus_cnn_at_half_the_activation_memory(tmp_path):
    """The acceptance case: the Fashion-MNIST CNN at 50% of keep-everything
    activation memory (the integer program's choice, proven optimal), every
    step's loss equal to keeping everything. ReLU masks and int32 pooling
    indices are what make 50% reachable."""
    rng = np.random.default_rng(4)
    data = {"image": rng.standard_normal((256, 1, 28, 28)).astype(np.float32),
            "labels": rng.integers(0, 10, 256).astype(np.int64)}
    settings = dict(epochs=1, batch_size=128, learning_rate=1e-3, seed=0)
    kept = pith.load(CNN).train(data, **settings)
    half = pith.load(CNN).train(data, **settings, memory_budget="0.5", remat_solver="ilp")
    np.testing.assert_allclose(half["losses"], kept["losses"], rtol=1e-5)
    line = next(l for l in half["report"] if l.startswith("pith-remat:"))
    before, after, budget = re.search(
        r"activation memory ([\d.]+) MB -> ([\d.]+) MB \(budget ([\d.]+) MB\)", line).groups()
    assert float(after) <= float(budget) == pytest.approx(float(before) / 2, abs=0.01)
    assert any("ilp: proven optimal" in l for l in half["report"])


def test_unknown_recompute_solver_is_an_error(tmp_path):
    path, data = tanh_mlp(tmp_path)
    with pytest.raises(pith.PithError, match="recompute solver: expected 'greedy', 'ilp', 'chain' "
                                             "or 'sqrt', got 'magic'"):
        pith.load(path).train(data, epochs=1, batch_size=64, remat_solver="magic")


@pytest.mark.parametrize("clip", [0.05, 1e6])
def test_gradient_clipping_is_torchs_clip_grad_norm(tmp_path, clip):
    """clip-norm scales every gradient by min(1, clip / (global norm + 1e-6)):
    at 0.05 the gradients shrink to that norm, at 1e6 they are unchanged."""
    path, data = tanh_mlp(tmp_path)
    fixed_batch(path, 64, tmp_path / "tanh_mlp_64.onnx")
    path = tmp_path / "tanh_mlp_64.onnx"
    feeds = {"x": data["x"][:64], "labels": data["labels"][:64]}

    def gradients(options):
        compiled = pith.load(path).optimize(
            "pith-autodiff{optimizer=none" + options + "}").compile()
        names = [o["name"] for o in compiled.outputs]
        weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
        values = {**feeds, **weights}
        out = dict(zip(names, compiled(**{i["name"]: values[i["name"]] for i in compiled.inputs})))
        return {k: v for k, v in out.items() if k.endswith(".grad")}

    plain, clipped = gradients(""), gradients(f" clip-norm={clip}")
    norm = np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in plain.values()))
    scale = min(1.0, clip / (norm + 1e-6))
    assert norm > 0.05  # the small clip is active
    for name, g in plain.items():
        np.testing.assert_allclose(clipped[name], g * scale, rtol=1e-5, atol=1e-9)


def test_negative_clip_norm_is_an_error(tmp_path):
    path, data = tanh_mlp(tmp_path)
    with pytest.raises(pith.PithError, match="gradient clipping norm: expected 0 \\(off\\) or a "
                                             "positive number, got -1"):
        pith.load(path).train(data, epochs=1, batch_size=64, clip_norm=-1.0)

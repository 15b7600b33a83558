"""The cuda target through the Python package: compile(target="cuda") builds
a library here; where a GPU is, it runs and matches the CPU, else the test
skips with the runtime's reason. The failures that need no GPU are checked
everywhere."""


import numpy as np
import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def pith(pith_package):
    return pith_package

MODEL = REPO / "test" / "Inputs" / "mlp-batch.onnxtxt"
CUDA_BUILT = (REPO / "build" / "lib" / "libpith_cuda_runtime.so").exists()
NO_GPU = ("no CUDA driver", "no usable CUDA device", "built without the CUDA toolkit")


@pytest.mark.parametrize("gpu_math", ["fp32", "tf32"])
def test_cuda_matches_cpu_or_says_why_not(pith, gpu_math):
    model = pith.load(MODEL)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    try:
        gpu = model.compile("cuda", gpu_math=gpu_math, input_shapes={"x": [4, 3]})
    except pith.PithError as error:
        if any(reason in str(error) for reason in NO_GPU):
            pytest.skip(f"no GPU here: {error}")
        raise
    cpu = model.compile("cpu", input_shapes={"x": [4, 3]})
    # tf32 rounds GEMM inputs to 10 mantissa bits.
    tolerance = 1e-6 if gpu_math == "fp32" else 2e-3
    np.testing.assert_allclose(gpu(x)[0], cpu(x)[0], rtol=tolerance, atol=tolerance)


@pytest.mark.skipif(not CUDA_BUILT, reason="Pith was built without the CUDA toolkit")
def test_cuda_needs_every_shape(pith):
    model = pith.load(MODEL)
    with pytest.raises(pith.PithError, match="--target cuda needs static shapes; 'x'"):
        model.compile("cuda")


@pytest.mark.parametrize("target, gpu_math, message", [
    ("tpu", "fp32", "unknown target 'tpu'"),
    ("cuda", "fp8", "unknown GPU math 'fp8'"),
    ("cpu", "fp16", "--gpu-math applies to --target cuda only"),
])
def test_bad_targets_are_named(pith, target, gpu_math, message):
    model = pith.load(MODEL)
    with pytest.raises(pith.PithError, match=message):
        model.compile(target, gpu_math=gpu_math, input_shapes={"x": [4, 3]})

"""What bench/gpu/prepare.py (here) and run_bench.py (on the GPU machine)
both need of the staged files: checksums and output file names. Only the
standard library, so that it imports anywhere."""

import hashlib
import re

# Micro-benchmarks that decide between cuBLAS/cuDNN and Pith's generated
# kernels, and show what tensor-core math gives: chains of 8 GEMMs and of 4
# convolutions ending in a reduction, so that the boundary copies (inside
# every timed run) weigh little. Weights and inputs tile one random 64 x 64
# block: random-looking to the hardware, but they compress to nothing for
# the transfer.
MICRO = {
    "gemm_chain": {"batches": (1, 4096), "width": 2048, "layers": 8,
                   "variants": [("fp32", "library"), ("tf32", "library"),
                                ("fp16", "library"), ("bf16", "library"),
                                ("fp32", "generated")]},
    "conv_chain": {"batches": (1, 32), "channels": 64, "size": 56, "layers": 4,
                   "variants": [("fp32", "library"), ("tf32", "library"),
                                ("fp16", "library"), ("fp32", "generated")]},
}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            digest.update(chunk)
    return digest.hexdigest()


def output_file_name(name):
    """The file pith-run-compiled writes for an output name."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "output"

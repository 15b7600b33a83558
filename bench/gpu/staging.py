"""What bench/gpu/prepare.py (here) and run_bench.py (on the GPU machine)
both need of the staged files: checksums and output file names. Only the
standard library, so that it imports anywhere."""

import hashlib
import re


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            digest.update(chunk)
    return digest.hexdigest()


def output_file_name(name):
    """The file pith-run-compiled writes for an output name."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "output"

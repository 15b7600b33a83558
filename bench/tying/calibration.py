#!/usr/bin/env python3
"""Writes the calibration inputs of the weight-tying benchmarks into
bench/out/tying/ (`pith optimize --calibration`: arrays named after the
model's inputs).

Calibration data is never evaluation data, so that the error budget the
passes enforce on it is tested on inputs they did not see:
  minilm_calibration.npz  the first N sentences of
                          bench/corpus/data/minilm_calibration.txt (disjoint
                          from the evaluation sentences), tokenized and padded
                          to the longest of them: input_ids, attention_mask
                          int64 [N, length]
  lm_calibration.npz      the first N windows of 128 tokens of
                          bench/corpus/models/tiny_lm_calibration.npz
                          (fortunes held out from training and evaluation):
                          tokens int64 [N, 128]
Small sets on purpose: tie-layers runs the model on them for every tying it
tries.

Usage: .venv/bin/python bench/tying/calibration.py [--minilm-sentences N]
       [--lm-windows N]
"""

import argparse

import numpy as np

from harness import OUT, REPO, common, minilm

MINILM_CALIBRATION = OUT / "minilm_calibration.npz"
LM_CALIBRATION = OUT / "lm_calibration.npz"


def write_minilm(count=32):
    sentences = minilm.calibration_sentences()[:count]
    feeds = minilm.tokenize(sentences)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(MINILM_CALIBRATION, **feeds)
    return MINILM_CALIBRATION, feeds


def write_lm(count=8):
    feeds = {"tokens": common.load_tokens(common.LM_CALIBRATION)[:count]}
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(LM_CALIBRATION, **feeds)
    return LM_CALIBRATION, feeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minilm-sentences", type=int, default=32)
    parser.add_argument("--lm-windows", type=int, default=8)
    args = parser.parse_args()
    for path, feeds in (write_minilm(args.minilm_sentences), write_lm(args.lm_windows)):
        shapes = ", ".join(f"{k} {v.dtype} {list(v.shape)}" for k, v in feeds.items())
        print(f"wrote {path.relative_to(REPO)}: {shapes}")


if __name__ == "__main__":
    main()

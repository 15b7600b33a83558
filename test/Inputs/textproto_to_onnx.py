"""Writes a ModelProto given in protobuf text format as a binary ONNX file.

  textproto_to_onnx.py IN.test OUT.onnx

Lit tests keep binary-only model details (node names, doc strings, attribute
kinds the ONNX text syntax cannot express) readable this way; their RUN and
CHECK lines are '#' comments, which protobuf's text format skips.
"""

import sys

import onnx
from google.protobuf import text_format


def main():
    source, target = sys.argv[1:3]
    with open(source, encoding="utf-8") as f:
        model = text_format.Parse(f.read(), onnx.ModelProto())
    with open(target, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main()

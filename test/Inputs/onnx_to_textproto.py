"""Prints a binary ONNX model in protobuf text format, one line per entry.

  onnx_to_textproto.py MODEL.onnx

For FileCheck: shows what ONNX's own text syntax leaves out (node names and
domains, doc strings, value_info, external-data entries). The output is
  model: <ModelProto fields but the graph>
  graph: <GraphProto fields but its lists below>
  input: / output: / initializer: / value_info: / node: <one entry>
each in one-line text format; raw_data is shown as hex.
"""

import sys

import onnx
from google.protobuf import text_format
from google.protobuf.message import Message

GRAPH_LISTS = ("input", "output", "initializer", "value_info", "node")


def hex_raw_data(message):
    """Replaces raw_data bytes in every TensorProto by their hex string."""
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        for item in [value] if isinstance(value, Message) else value:
            if isinstance(item, onnx.TensorProto) and item.HasField("raw_data"):
                item.raw_data = item.raw_data.hex().encode()
            hex_raw_data(item)


def one_line(message):
    return text_format.MessageToString(message, as_one_line=True)


def main():
    model = onnx.load(sys.argv[1], load_external_data=False)
    hex_raw_data(model)
    graph = onnx.GraphProto()
    graph.CopyFrom(model.graph)
    model.ClearField("graph")
    print("model:", one_line(model))
    header = onnx.GraphProto()
    header.CopyFrom(graph)
    for name in GRAPH_LISTS:
        header.ClearField(name)
    print("graph:", one_line(header))
    for name in GRAPH_LISTS:
        for entry in getattr(graph, name):
            print(f"{name}:", one_line(entry))


if __name__ == "__main__":
    main()

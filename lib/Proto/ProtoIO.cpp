//===- ProtoIO.cpp - libonnx calls that may throw, made safe -------------===//
//
// libonnx's parser, printer and shape inference report errors by throwing
// C++ exceptions, while LLVM and Pith are built without them. This file alone
// is compiled with -fexceptions; every exception is caught here and returned
// as an error message.
//
//===----------------------------------------------------------------------===//

#include "pith/Proto/ONNXProto.h"

#include "onnx/defs/parser.h"
#include "onnx/defs/printer.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <type_traits>
#include <cstring>
#include <map>
#include <stdexcept>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>

std::string pith::proto::parseBinaryModelFile(llvm::StringRef path,
                                              onnx::ModelProto &model) {
  std::string pathString = path.str();
  int fd = path == "-" ? STDIN_FILENO : ::open(pathString.c_str(), O_RDONLY);
  if (fd < 0)
    return "cannot open file";
  bool parsed = false;
  try {
    google::protobuf::io::FileInputStream fileStream(fd);
    google::protobuf::io::CodedInputStream coded(&fileStream);
    coded.SetTotalBytesLimit(INT_MAX);
    parsed = model.ParseFromCodedStream(&coded) &&
             coded.ConsumedEntireMessage();
  } catch (...) {
    parsed = false;
  }
  if (fd != STDIN_FILENO)
    ::close(fd);
  if (!parsed)
    return "not a valid ONNX protobuf (truncated or corrupt file)";
  return "";
}

std::string pith::proto::parseTextModel(llvm::StringRef text,
                                        onnx::ModelProto &model) {
  try {
    std::string buffer = text.str();
    onnx::OnnxParser parser(buffer.c_str());
    onnx::Status status = parser.Parse(model);
    if (!status.IsOK()) {
      // libonnx spreads the message, context and expectation over lines.
      std::string message = status.ErrorMessage();
      std::replace(message.begin(), message.end(), '\n', ' ');
      return "ONNX text format: " + message;
    }
  } catch (const std::exception &e) {
    return std::string("ONNX text format: ") + e.what();
  } catch (...) {
    return "ONNX text format: unknown parse error";
  }
  return "";
}

namespace {
/// Writes ONNX's text format in the syntax libonnx 1.12's parser reads back.
/// libonnx's own printer is not used for nodes and tensors: it drops node
/// domains, subgraph initializers, and writes 1.0 as the INT 1. What the
/// syntax cannot hold (non-finite floats, 16-bit floats, empty lists) is an
/// error rather than a silently different model.
class TextPrinter {
public:
  explicit TextPrinter(std::ostream &os) : os(os) {}

  void model(const onnx::ModelProto &model) {
    os << "<\n  ir_version: " << model.ir_version() << ",\n  opset_import: [";
    for (int i = 0; i < model.opset_import_size(); ++i)
      os << (i ? ", " : "") << quoted(model.opset_import(i).domain()) << " : "
         << model.opset_import(i).version();
    os << "]";
    if (!model.producer_name().empty())
      os << ",\n  producer_name: " << quoted(model.producer_name());
    if (!model.producer_version().empty())
      os << ",\n  producer_version: " << quoted(model.producer_version());
    if (!model.domain().empty())
      os << ",\n  domain: " << quoted(model.domain());
    if (model.model_version())
      os << ",\n  model_version: " << model.model_version();
    if (!model.doc_string().empty())
      os << ",\n  doc_string: " << quoted(model.doc_string());
    os << "\n>\n";
    graph(model.graph(), "");
    os << "\n";
    if (model.functions_size())
      fail("model-local functions");
  }

private:
  [[noreturn]] void fail(const std::string &what) {
    throw std::runtime_error("the ONNX text format cannot hold " + what +
                             "; export binary ONNX instead");
  }

  static std::string quoted(const std::string &text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    return out + "\"";
  }

  void graph(const onnx::GraphProto &graph, const std::string &indent) {
    os << graph.name() << " " << graph.input() << " => " << graph.output();
    if (graph.initializer_size()) {
      os << "\n" << indent << "   <";
      for (int i = 0; i < graph.initializer_size(); ++i) {
        os << (i ? ", " : "");
        tensor(graph.initializer(i), /*withName=*/true);
      }
      os << ">";
    }
    if (graph.sparse_initializer_size())
      fail("sparse initializers");
    os << "\n" << indent << "{\n";
    for (const onnx::NodeProto &n : graph.node())
      node(n, indent + "   ");
    os << indent << "}";
  }

  void node(const onnx::NodeProto &node, const std::string &indent) {
    os << indent;
    for (int i = 0; i < node.output_size(); ++i)
      os << (i ? ", " : "") << node.output(i);
    os << " = ";
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      os << node.domain() << ".";
    os << node.op_type();
    if (node.attribute_size()) {
      os << " <";
      for (int i = 0; i < node.attribute_size(); ++i) {
        os << (i ? ", " : "");
        attribute(node.attribute(i), indent);
      }
      os << ">";
    }
    os << " (";
    for (int i = 0; i < node.input_size(); ++i)
      os << (i ? ", " : "") << node.input(i);
    os << ")\n";
  }

  void floatValue(double value, int digits) {
    if (!std::isfinite(value))
      fail("non-finite float values");
    std::ostringstream text;
    text.precision(digits);
    text << value;
    std::string out = text.str();
    // A float needs a '.' or an exponent, or the parser reads an integer.
    if (out.find_first_of(".e") == std::string::npos)
      out += ".0";
    os << out;
  }

  template <typename T, typename Field>
  void values(const onnx::TensorProto &t, const Field &typed, int digits = 0) {
    const std::string &raw = t.raw_data();
    size_t count = t.has_raw_data() ? raw.size() / sizeof(T) : typed.size();
    for (size_t i = 0; i < count; ++i) {
      T value;
      if (t.has_raw_data())
        std::memcpy(&value, raw.data() + i * sizeof(T), sizeof(T));
      else
        value = static_cast<T>(typed.Get(i));
      os << (i ? ", " : "");
      if constexpr (std::is_floating_point_v<T>)
        floatValue(value, digits);
      else
        os << +value;
    }
  }

  /// `float[2] name = {1.0, 2.0}` (initializers) or `float[2] {1.0, 2.0}`.
  void tensor(const onnx::TensorProto &t, bool withName) {
    using T = onnx::TensorProto;
    static const std::map<int, const char *> names = {
        {T::FLOAT, "float"},   {T::DOUBLE, "double"}, {T::INT8, "int8"},
        {T::INT16, "int16"},   {T::INT32, "int32"},   {T::INT64, "int64"},
        {T::UINT8, "uint8"},   {T::UINT16, "uint16"}, {T::UINT32, "uint32"},
        {T::UINT64, "uint64"}, {T::BOOL, "bool"},     {T::STRING, "string"}};
    auto name = names.find(t.data_type());
    if (name == names.end())
      fail("tensors of data type " + std::to_string(t.data_type()) + " ('" +
           t.name() + "')");
    if (t.data_location() == T::EXTERNAL)
      fail("external data ('" + t.name() + "')");
    os << name->second << "[";
    for (int i = 0; i < t.dims_size(); ++i)
      os << (i ? "," : "") << t.dims(i);
    os << "] ";
    if (withName)
      os << t.name() << " = ";
    os << "{";
    switch (t.data_type()) {
    case T::FLOAT: values<float>(t, t.float_data(), 9); break;
    case T::DOUBLE: values<double>(t, t.double_data(), 17); break;
    case T::INT64: values<int64_t>(t, t.int64_data()); break;
    case T::UINT32: values<uint32_t>(t, t.uint64_data()); break;
    case T::UINT64: values<uint64_t>(t, t.uint64_data()); break;
    case T::INT8: values<int8_t>(t, t.int32_data()); break;
    case T::INT16: values<int16_t>(t, t.int32_data()); break;
    case T::UINT8: case T::BOOL: values<uint8_t>(t, t.int32_data()); break;
    case T::UINT16: values<uint16_t>(t, t.int32_data()); break;
    case T::INT32: values<int32_t>(t, t.int32_data()); break;
    default:
      for (int i = 0; i < t.string_data_size(); ++i)
        os << (i ? ", " : "") << quoted(t.string_data(i));
    }
    os << "}";
  }

  template <typename List, typename Print>
  void list(const List &items, const std::string &what, Print print) {
    if (items.empty())
      fail("empty " + what + " lists");
    os << "[";
    for (int i = 0; i < items.size(); ++i) {
      os << (i ? ", " : "");
      print(items.Get(i));
    }
    os << "]";
  }

  void attribute(const onnx::AttributeProto &a, const std::string &indent) {
    using A = onnx::AttributeProto;
    os << a.name() << " = ";
    switch (a.type()) {
    case A::INT: os << a.i(); break;
    case A::FLOAT: floatValue(a.f(), 9); break;
    case A::STRING: os << quoted(a.s()); break;
    case A::TENSOR: tensor(a.t(), /*withName=*/false); break;
    case A::GRAPH: graph(a.g(), indent); break;
    case A::INTS: list(a.ints(), "INTS", [&](int64_t v) { os << v; }); break;
    case A::FLOATS:
      list(a.floats(), "FLOATS", [&](float v) { floatValue(v, 9); });
      break;
    case A::STRINGS:
      list(a.strings(), "STRINGS", [&](const std::string &v) { os << quoted(v); });
      break;
    default:
      fail("attributes of kind " + std::to_string(a.type()) + " ('" + a.name() +
           "')");
    }
  }

  std::ostream &os;
};
} // namespace

std::string pith::proto::printTextModel(const onnx::ModelProto &model,
                                       std::string &problem) {
  try {
    std::ostringstream os;
    TextPrinter(os).model(model);
    return os.str();
  } catch (const std::exception &e) {
    problem = e.what();
  } catch (...) {
    problem = "cannot print the model in ONNX text format";
  }
  return "";
}

std::string pith::proto::inferShapes(onnx::ModelProto &model) {
  try {
    onnx::ShapeInferenceOptions options;
    options.check_type = false;
    options.error_mode = 0;
    options.enable_data_propagation = true;
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       options);
  } catch (const std::exception &e) {
    return std::string("shape inference: ") + e.what();
  } catch (...) {
    return "shape inference failed";
  }
  return "";
}

std::optional<bool> pith::proto::operatorAcceptsType(llvm::StringRef opType, int64_t opset,
                                                     unsigned input,
                                                     llvm::StringRef typeString) {
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(opType.str(), static_cast<int>(opset), "");
  if (!schema || schema->inputs().empty())
    return std::nullopt;
  const auto &inputs = schema->inputs();
  // A variadic last input covers every index from it on.
  const auto &formal = inputs[std::min<size_t>(input, inputs.size() - 1)];
  const std::string &type = formal.GetTypeStr();
  for (const auto &constraint : schema->typeConstraintParams())
    if (constraint.type_param_str == type)
      return llvm::is_contained(constraint.allowed_type_strs, typeString.str());
  return type == typeString;
}

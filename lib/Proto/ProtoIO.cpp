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

#include <climits>
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
    if (!status.IsOK())
      return "ONNX text format: " + status.ErrorMessage();
  } catch (const std::exception &e) {
    return std::string("ONNX text format: ") + e.what();
  } catch (...) {
    return "ONNX text format: unknown parse error";
  }
  return "";
}

namespace {
template <typename T>
void printValues(std::ostream &os, const onnx::TensorProto &tensor,
                 const google::protobuf::RepeatedField<T> &typed) {
  const std::string &raw = tensor.raw_data();
  size_t count = tensor.has_raw_data() ? raw.size() / sizeof(T) : typed.size();
  for (size_t i = 0; i < count; ++i) {
    T value;
    if (tensor.has_raw_data())
      std::memcpy(&value, raw.data() + i * sizeof(T), sizeof(T));
    else
      value = typed.Get(i);
    os << (i ? ", " : "") << +value;
  }
}

/// `float[2] w = {1, 2}`, as libonnx's text parser reads initializers.
std::string initializerText(const onnx::TensorProto &tensor) {
  using T = onnx::TensorProto;
  static const std::map<int, const char *> names = {
      {T::FLOAT, "float"}, {T::DOUBLE, "double"}, {T::INT32, "int32"},
      {T::INT64, "int64"}, {T::STRING, "string"}};
  auto name = names.find(tensor.data_type());
  if (name == names.end())
    throw std::runtime_error("initializer '" + tensor.name() +
                             "' has a type the ONNX text format cannot hold");
  std::ostringstream os;
  os.precision(9);
  os << name->second << "[";
  for (int i = 0; i < tensor.dims_size(); ++i)
    os << (i ? "," : "") << tensor.dims(i);
  os << "] " << tensor.name() << " = {";
  switch (tensor.data_type()) {
  case T::FLOAT: printValues<float>(os, tensor, tensor.float_data()); break;
  case T::DOUBLE: printValues<double>(os, tensor, tensor.double_data()); break;
  case T::INT32: printValues<int32_t>(os, tensor, tensor.int32_data()); break;
  case T::INT64: printValues<int64_t>(os, tensor, tensor.int64_data()); break;
  default:
    for (int i = 0; i < tensor.string_data_size(); ++i)
      os << (i ? ", " : "") << "\"" << tensor.string_data(i) << "\"";
  }
  os << "}";
  return os.str();
}
} // namespace

std::string pith::proto::printTextModel(const onnx::ModelProto &model,
                                       std::string &problem) {
  try {
    // libonnx 1.12 prints graphs but not the model header; write it in the
    // syntax its parser reads.
    std::ostringstream os;
    os << "<\n  ir_version: " << model.ir_version() << ",\n  opset_import: [";
    for (int i = 0; i < model.opset_import_size(); ++i)
      os << (i ? ", " : "") << "\"" << model.opset_import(i).domain()
         << "\" : " << model.opset_import(i).version();
    os << "]";
    if (!model.producer_name().empty())
      os << ",\n  producer_name: \"" << model.producer_name() << "\"";
    // Nor does it print initializers, which its parser reads as a
    // `<type name = {values}, ...>` list between signature and body.
    const onnx::GraphProto &graph = model.graph();
    os << "\n>\n" << graph.name() << " " << graph.input() << " => "
       << graph.output() << "\n";
    if (graph.initializer_size()) {
      os << "<";
      for (int i = 0; i < graph.initializer_size(); ++i)
        os << (i ? ", " : "") << initializerText(graph.initializer(i));
      os << ">\n";
    }
    os << graph.node() << "\n";
    for (const onnx::FunctionProto &function : model.functions())
      os << function << "\n";
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
    options.enable_data_propagation = false;
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       options);
  } catch (const std::exception &e) {
    return std::string("shape inference: ") + e.what();
  } catch (...) {
    return "shape inference failed";
  }
  return "";
}

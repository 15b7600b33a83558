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

std::string pith::proto::printTextModel(const onnx::ModelProto &model) {
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
    os << "\n>\n" << model.graph() << "\n";
    for (const onnx::FunctionProto &function : model.functions())
      os << function << "\n";
    return os.str();
  } catch (...) {
    return "";
  }
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

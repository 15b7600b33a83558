//===- ONNXProto.h - Reading, writing and mapping ONNX protobufs -*- C++ -*-===//
//
// What both directions of the ONNX <-> MLIR translation share: the mapping
// between ONNX element types and MLIR types, and the calls into libonnx that
// can throw (text parser, printer, shape inference), each caught and turned
// into an error message.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_PROTO_ONNXPROTO_H
#define PITH_PROTO_ONNXPROTO_H

#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"
#include <cstdint>
#include <optional>
#include <string>

namespace onnx {
class ModelProto;
class TensorProto;
class TypeProto;
} // namespace onnx

namespace pith::proto {

/// The MLIR element type of an ONNX TensorProto.DataType, or null.
mlir::Type elementTypeFromONNX(int32_t dataType, mlir::MLIRContext *context);

/// The ONNX TensorProto.DataType of an MLIR element type, if ONNX has one.
std::optional<int32_t> elementTypeToONNX(mlir::Type type);

/// Bits one element occupies in ONNX raw_data (4 for the packed 4-bit types).
unsigned storageBitsOf(int32_t dataType);

/// The raw little-endian bytes of a tensor held in typed fields
/// (float_data, int32_data, ...).
std::string typedFieldsToBytes(const onnx::TensorProto &tensor);

/// The raw bytes of a tensor stored in the proto (raw_data or typed fields),
/// checked against its shape. Returns an error message or "".
std::string tensorBytes(const onnx::TensorProto &tensor, std::string &bytes);

/// Parses a binary ModelProto from a file, streaming (large initializers are
/// read straight into their own buffers). Returns an error message or "".
std::string parseBinaryModelFile(llvm::StringRef path, onnx::ModelProto &model);

/// Parses ONNX's text format (onnx/defs/parser.h).
std::string parseTextModel(llvm::StringRef text, onnx::ModelProto &model);

/// Prints a model in ONNX's text format; on failure returns "" and sets
/// `problem`.
std::string printTextModel(const onnx::ModelProto &model, std::string &problem);

/// Runs ONNX shape inference on `model` in place (non-strict: operators it
/// cannot infer are skipped). Returns an error message or "".
std::string inferShapes(onnx::ModelProto &model);

/// Whether operator `opType` of the default domain, in the version `opset`
/// uses, takes `typeString` (e.g. "tensor(bfloat16)") at input `input` by
/// its type constraints; nullopt when libonnx does not define it.
std::optional<bool> operatorAcceptsType(llvm::StringRef opType, int64_t opset, unsigned input,
                                        llvm::StringRef typeString);

} // namespace pith::proto

#endif // PITH_PROTO_ONNXPROTO_H

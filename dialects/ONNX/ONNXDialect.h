//===- ONNXDialect.h - The onnx dialect -----------------------*- C++ -*-===//
//
// Declares the onnx dialect, its types (!onnx.string, !onnx.seq, !onnx.opt,
// !onnx.unknown) and attributes (#onnx.proto).
//
//===----------------------------------------------------------------------===//

#ifndef PITH_DIALECTS_ONNX_ONNXDIALECT_H
#define PITH_DIALECTS_ONNX_ONNXDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "ONNX/ONNXDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "ONNX/ONNXTypes.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ONNX/ONNXAttrs.h.inc"

namespace pith::ONNX {

/// Module attribute names for the ONNX model header.
namespace attrs {
inline constexpr llvm::StringLiteral kOpsetImport = "onnx.opset_import";
inline constexpr llvm::StringLiteral kIrVersion = "onnx.ir_version";
/// Result names of a node, one string per result ("" for an absent one).
inline constexpr llvm::StringLiteral kNames = "onnx.names";
/// Name of a graph input or output (function argument / result attribute).
inline constexpr llvm::StringLiteral kName = "onnx.name";
/// Symbolic dimension names of a graph input or output ("" = none).
inline constexpr llvm::StringLiteral kDimParams = "onnx.dim_params";
} // namespace attrs

/// The name ONNX gives the default operator domain in `onnx.opset_import`.
inline constexpr llvm::StringLiteral kDefaultDomain = "ai.onnx";

} // namespace pith::ONNX

#endif // PITH_DIALECTS_ONNX_ONNXDIALECT_H

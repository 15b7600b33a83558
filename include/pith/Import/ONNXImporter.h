//===- ONNXImporter.h - ONNX ModelProto -> onnx dialect ---------*- C++ -*-===//
//
// Imports an ONNX model (binary protobuf or ONNX text format) into a module
// holding one func.func per graph, in the onnx dialect. Initializers become
// dense_resource blobs that own the bytes read from the file (or map the
// external-data file), so a model is never held twice in memory.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_IMPORT_ONNXIMPORTER_H
#define PITH_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace pith {

struct ImportOptions {
  /// Run ONNX shape inference to type intermediate values that the model
  /// leaves untyped (models of opsets libonnx knows, <= 17).
  bool inferShapes = true;
  /// Tensors with more elements than this become dense_resource blobs even
  /// when they are node attributes (initializers always are).
  int64_t inlineTensorElementLimit = 64;
  /// Concrete shapes for graph inputs, by name, replacing the model's
  /// (symbolic) dimensions before shape inference: compiling for known
  /// input sizes.
  std::map<std::string, std::vector<int64_t>> inputShapes;
};

/// Imports the model at `path`: binary ONNX, or ONNX text format when the
/// name ends in ".onnxtxt" or ".txt". "-" reads binary ONNX from stdin.
/// Errors are one line: "<path>: node 'name' (OpType): what is wrong".
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importONNXFile(llvm::StringRef path, mlir::MLIRContext *context,
               const ImportOptions &options = {});

/// Imports a model from memory (binary protobuf, or ONNX text when `isText`).
/// External data is resolved relative to `baseDirectory` when given, and
/// rejected otherwise.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importONNXBuffer(llvm::StringRef bytes, bool isText, llvm::StringRef displayName,
                 llvm::StringRef baseDirectory, mlir::MLIRContext *context,
                 const ImportOptions &options = {});

} // namespace pith

#endif // PITH_IMPORT_ONNXIMPORTER_H

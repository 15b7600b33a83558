//===- ONNXExporter.h - onnx dialect -> ONNX ModelProto ---------*- C++ -*-===//
//
// Writes a module in the onnx dialect back as a standard ONNX model: the
// module's graph function becomes the GraphProto, onnx ops become nodes,
// onnx.Initializer ops become initializers. Large initializers are streamed
// from their blobs to the file without an in-memory copy of the model.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_EXPORT_ONNXEXPORTER_H
#define PITH_EXPORT_ONNXEXPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace pith {

struct ExportOptions {
  /// Write ONNX's text format instead of binary protobuf.
  bool textFormat = false;
  /// Store initializers of at least `externalDataThreshold` bytes in this
  /// file, next to the model (a name, not a path). Empty: only when the
  /// model would exceed protobuf's 2 GB limit, then "<model name>.data".
  std::string externalDataFile;
  int64_t externalDataThreshold = 1024;
  /// Write float initializers that are mostly zeros as ONNX sparse
  /// initializers (values and int64 linear indices) where that is smaller
  /// than dense: fewer than a third of the elements nonzero.
  bool sparseInitializers = false;
};

/// Writes `module` to `path` ("-" for stdout). The file appears only when
/// complete: it is written to a temporary name and renamed.
llvm::Error exportONNXFile(mlir::ModuleOp module, llvm::StringRef path,
                           const ExportOptions &options = {});

/// Serializes `module` to binary ONNX in memory (no external data).
llvm::Expected<std::string> exportONNXBytes(mlir::ModuleOp module);

} // namespace pith

#endif // PITH_EXPORT_ONNXEXPORTER_H

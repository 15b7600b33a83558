//===- TensorImport.h - ONNX TensorProto -> MLIR attribute -----*- C++ -*-===//
//
// Internal to the importer.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_IMPORT_TENSORIMPORT_H
#define PITH_LIB_IMPORT_TENSORIMPORT_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Error.h"

namespace onnx {
class TensorProto;
} // namespace onnx

namespace pith {

struct TensorImportContext {
  mlir::MLIRContext *context;
  /// Directory external data is resolved against; empty rejects it.
  llvm::StringRef baseDirectory;
  /// Node attribute tensors up to this many elements stay DenseElementsAttr.
  int64_t inlineElementLimit;
  /// Resource key for an unnamed tensor.
  std::string fallbackName;
};

/// The tensor type of a TensorProto (element type and dims).
llvm::Expected<mlir::ShapedType> importTensorType(const onnx::TensorProto &tensor,
                                                  mlir::MLIRContext *context);

/// Converts a tensor, taking over its raw_data buffer. `forceResource` makes
/// a dense_resource blob whatever the size (initializers).
llvm::Expected<mlir::ElementsAttr> importTensor(onnx::TensorProto &tensor,
                                                const TensorImportContext &ctx,
                                                bool forceResource);

} // namespace pith

#endif // PITH_LIB_IMPORT_TENSORIMPORT_H

//===- ShapeRules.h - Result shapes of ONNX ops -----------------*- C++ -*-===//
//
// Internal to lib/Transforms (pith-refine-shapes). The per-operator shape
// rules: for one ONNX op, the element type and dimensions of each result as
// far as its operands' types and tracked integer contents (ShapeValues.h)
// tell them.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_TRANSFORMS_SHAPERULES_H
#define PITH_LIB_TRANSFORMS_SHAPERULES_H

#include "ShapeValues.h"

namespace pith::shapes {

/// What a shape rule says about one result: its element type and its
/// dimensions (kUnknown where not known), each possibly unknown.
struct TypeInfo {
  mlir::Type element;
  std::optional<Dims> dims;
};

/// The shape rule of ONNX op type `type`: one entry per result of `op`.
llvm::SmallVector<TypeInfo> inferTypes(mlir::Operation *op,
                                       llvm::StringRef type,
                                       const ONNX::OpSchema *schema,
                                       const ShapeValues &values);

} // namespace pith::shapes

#endif // PITH_LIB_TRANSFORMS_SHAPERULES_H

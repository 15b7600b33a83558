//===- LoweringUtils.h - Helpers shared by the onnx lowerings ---*- C++ -*-===//
//
// Internal to lib/Conversion/ONNXToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H
#define PITH_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace pith::lowering {

/// The converted (signless) ranked type of result `index`, or failure with
/// an error on `op` when the type is unknown or unranked.
llvm::FailureOr<mlir::RankedTensorType> resultType(mlir::Operation *op,
                                                   unsigned index);

/// Whether the ONNX element type of `value` (before conversion) is unsigned.
bool isUnsigned(mlir::Value original);

/// A tensor.empty of `type`, taking dynamic sizes from `sizeSources`: for
/// each dynamic dimension, the first source whose same (right-aligned)
/// dimension is not a static 1.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        mlir::ValueRange sizeSources);

/// A linalg.generic computing `body` elementwise over `inputs`, broadcast
/// numpy-style to `resultType` (right-aligned; static size-1 dimensions
/// broadcast).
using ScalarBody = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange args)>;
mlir::Value elementwise(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType resultType,
                        mlir::ValueRange inputs, ScalarBody body);

/// Loops and operand indexing of a numpy matmul over loops (batch..., m?,
/// n?, k): 1-D operands gain and then lose a dimension (no m or no n), and
/// static size-1 batch dimensions broadcast.
struct MatMulIndexing {
  unsigned numLoops;
  mlir::AffineExpr m, n, k;
  llvm::SmallVector<mlir::AffineExpr> lhs, rhs, out;
};
/// Nullopt when the result's rank does not fit the operands'.
std::optional<MatMulIndexing> matmulIndexing(mlir::OpBuilder &b,
                                             mlir::RankedTensorType lhs,
                                             mlir::RankedTensorType rhs,
                                             mlir::RankedTensorType result);

/// A scalar constant of an integer or float type.
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type type, double value);

/// Converts a scalar between element types (int <-> float, widths), with
/// the signedness of the ONNX types.
mlir::Value castScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                       mlir::Type to, bool fromUnsigned, bool toUnsigned);

/// The values of an integer tensor known at compile time (a constant, such
/// as a shape or axes input), or nullopt.
std::optional<llvm::SmallVector<int64_t>> constantInts(mlir::Value value);

/// The attribute of `op` as an integer, or `fallback`.
int64_t intAttr(mlir::Operation *op, llvm::StringRef name, int64_t fallback);
/// The attribute of `op` as a float, or `fallback`.
double floatAttr(mlir::Operation *op, llvm::StringRef name, double fallback);

/// The string attribute of `op`, or `fallback`.
llvm::StringRef stringAttr(mlir::Operation *op, llvm::StringRef name,
                           llvm::StringRef fallback);

/// A ranked input whose dimensions after the first are static, or failure
/// with an error naming `what` on `op`.
llvm::FailureOr<mlir::RankedTensorType> staticSpatialType(mlir::Operation *op,
                                                          mlir::Value value,
                                                          llvm::StringRef what,
                                                          int64_t minRank = 3);

/// A tensor.empty of `type` whose dynamic dimension 0 (the batch) comes
/// from dimension 0 of `batchSource`.
mlir::Value emptyBatched(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::RankedTensorType type, mlir::Value batchSource);

/// `parallel` parallel iterators followed by `reduction` reduction ones.
llvm::SmallVector<mlir::utils::IteratorType> iteratorTypes(int64_t parallel,
                                                           int64_t reduction);

} // namespace pith::lowering

#endif // PITH_LIB_CONVERSION_ONNXTOLINALG_LOWERINGUTILS_H

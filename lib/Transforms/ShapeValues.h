//===- ShapeValues.h - Integer contents of shape tensors --------*- C++ -*-===//
//
// Internal to lib/Transforms (pith-refine-shapes). The integer contents of
// small tensors of rank 0 or 1 (shapes, axes, indices), tracked from
// constants, initializers and Shape/Size of ranked tensors through the ops
// that compute shapes (Gather, Concat, Unsqueeze, Slice, Cast, arithmetic,
// ...), with the helpers for reading types, attributes and shape arithmetic
// that the shape rules (ShapeRules.h) share.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_TRANSFORMS_SHAPEVALUES_H
#define PITH_LIB_TRANSFORMS_SHAPEVALUES_H

#include "ONNX/ONNXSchema.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <utility>

namespace pith::shapes {

/// An unknown dimension, or an unknown entry of a tracked integer tensor.
constexpr int64_t kUnknown = mlir::ShapedType::kDynamic;
/// Integer tensors with more elements are not tracked.
constexpr size_t kMaxTracked = 1024;

using Dims = llvm::SmallVector<int64_t>;

/// The contents of an integer tensor of rank 0 (one value) or rank 1.
struct Known {
  bool scalar = false;
  llvm::SmallVector<int64_t> values;

  bool complete() const {
    return llvm::none_of(values, [](int64_t v) { return v == kUnknown; });
  }
};

//===----------------------------------------------------------------------===//
// Reading types and attributes
//===----------------------------------------------------------------------===//

/// Whether `v` is missing (null or an optional input left out).
bool isAbsent(mlir::Value v);
/// The element type of a tensor value, or null.
mlir::Type elementOf(mlir::Value v);
/// The dimensions of a ranked tensor value (kUnknown where dynamic).
std::optional<Dims> dimsOf(mlir::Value v);
bool isStatic(llvm::ArrayRef<int64_t> dims);
/// The number of elements, or nullopt when unknown or on overflow.
std::optional<int64_t> product(llvm::ArrayRef<int64_t> dims);
mlir::Attribute attrOf(mlir::Operation *op, llvm::StringRef name);
std::optional<int64_t> intAttr(mlir::Operation *op, llvm::StringRef name);
int64_t intAttr(mlir::Operation *op, llvm::StringRef name, int64_t fallback);
std::optional<llvm::SmallVector<int64_t>> intsAttr(mlir::Operation *op,
                                                   llvm::StringRef name);
/// Whether the op's schema declares attribute `name`.
bool hasAttribute(const ONNX::OpSchema *schema, llvm::StringRef name);
/// `axis` in [-rank, rank) as a non-negative index, or nullopt.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);
/// The element type of ONNX TensorProto.DataType `code` (Cast's `to`).
mlir::Type elementTypeOf(int64_t code, mlir::MLIRContext *ctx);
/// The values of an integer ElementsAttr of rank <= 1, or nullopt.
std::optional<Known> readInts(mlir::Attribute attribute);
/// A scalar (or one-element) floating-point or integer constant as a double.
std::optional<double> readScalar(mlir::Attribute attribute);

//===----------------------------------------------------------------------===//
// Shape arithmetic
//===----------------------------------------------------------------------===//

/// Numpy broadcasting of ranked shapes, or nullopt when two static sizes
/// disagree.
std::optional<Dims> broadcast(llvm::ArrayRef<Dims> shapes);
/// Reshape's output for `shape` of an input with `input` dimensions (if
/// ranked), or nullopt for an invalid shape.
std::optional<Dims> reshapeDims(llvm::ArrayRef<int64_t> shape,
                                std::optional<Dims> input, bool allowZero);
/// The size of a slice [start, end) by step of a dimension of size `dim`.
std::optional<int64_t> sliceSize(int64_t dim, int64_t start, int64_t end,
                                 int64_t step);
/// Shape's [start, end) for an input of rank `rank`.
std::pair<int64_t, int64_t> shapeRange(mlir::Operation *op, int64_t rank);

//===----------------------------------------------------------------------===//
// Tracked values
//===----------------------------------------------------------------------===//

/// The known integer contents of the values seen so far in one walk.
class ShapeValues {
public:
  const Known *lookup(mlir::Value v) const;
  /// The entries of a tracked value, all of them known.
  std::optional<llvm::SmallVector<int64_t>> ints(mlir::Value v) const;
  std::optional<int64_t> scalarInt(mlir::Value v) const;
  /// A constant scalar (float or integer) as a double.
  std::optional<double> scalarNumber(mlir::Value v) const;
  /// Records `k` as the contents of `v` if `v` is an integer tensor whose
  /// type agrees.
  void record(mlir::Value v, std::optional<Known> k);
  /// The contents of the first result of `op` (ONNX op type `type`), from
  /// its operands' tracked contents and types.
  std::optional<Known> inferValues(mlir::Operation *op, llvm::StringRef type,
                                   const ONNX::OpSchema *schema);

private:
  /// Elementwise `fn` over tracked values, broadcast (rank <= 1).
  std::optional<Known>
  zip(mlir::ValueRange inputs,
      llvm::function_ref<std::optional<int64_t>(llvm::ArrayRef<int64_t>)> fn,
      bool unknownPropagates = true);
  /// Values of an integer result type: a value that does not fit becomes
  /// unknown.
  static std::optional<Known> fitTo(std::optional<Known> k, mlir::Type element);

  llvm::DenseMap<mlir::Value, Known> known;
};

} // namespace pith::shapes

#endif // PITH_LIB_TRANSFORMS_SHAPEVALUES_H

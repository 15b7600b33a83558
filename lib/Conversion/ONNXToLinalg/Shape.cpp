//===- Shape.cpp - Lower shape and data-movement operators ----------------===//
//
// Operators that move data without arithmetic: reshapes (Reshape, Flatten,
// Squeeze, Unsqueeze), shape queries (Shape, Size), Transpose, Concat,
// Split, Slice, gathers (Gather, GatherElements, GatherND), Expand, Tile,
// Pad, DepthToSpace, SpaceToDepth, and generators (ConstantOfShape, Range,
// EyeLike, OneHot, Trilu, CumSum).
//
// Result types are static in most models after shape inference, so
// lowerings follow the result type wherever it decides the answer: a
// Reshape's or Unsqueeze's shape input, a Split's sizes or a Slice's ends
// need not be known at compile time. Runtime values are read only where
// the type leaves them open (a Slice's starts, a Pad's pads, a CumSum's
// axis). Reshapes become tensor.collapse_shape/expand_shape, slices
// tensor.extract_slice/insert_slice, and index computations a
// linalg.generic that reads its input with tensor.extract.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

using Lowered = FailureOr<SmallVector<Value>>;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// The INTS attribute `name` of `op`, or nullopt.
std::optional<SmallVector<int64_t>> intsAttr(Operation *op, StringRef name) {
  if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(
          op->getAttrDictionary().get(name)))
    return SmallVector<int64_t>(attr.asArrayRef());
  return std::nullopt;
}

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value i64Constant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
}

/// A scalar (integer, index or float) as i64.
Value toI64(OpBuilder &b, Location loc, Value v, bool isUnsignedValue = false) {
  Type type = v.getType();
  if (type.isIndex())
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  if (isa<FloatType>(type))
    return arith::FPToSIOp::create(b, loc, b.getI64Type(), v);
  return castScalar(b, loc, v, b.getI64Type(), isUnsignedValue, false);
}

Value toIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), toI64(b, loc, v));
}

/// Element `pos` of a 0-D or 1-D tensor.
Value extractAt(OpBuilder &b, Location loc, Value tensor, int64_t pos) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices;
  for (int64_t d = 0; d < type.getRank(); ++d)
    indices.push_back(indexConstant(b, loc, d == type.getRank() - 1 ? pos : 0));
  return tensor::ExtractOp::create(b, loc, tensor, indices);
}

Value dimIndex(OpBuilder &b, Location loc, Value tensor, int64_t d) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(d))
    return indexConstant(b, loc, type.getDimSize(d));
  return tensor::DimOp::create(b, loc, tensor, d);
}

Value dimI64(OpBuilder &b, Location loc, Value tensor, int64_t d) {
  return toI64(b, loc, dimIndex(b, loc, tensor, d));
}

/// `v` as `type`, through a tensor.cast when only static information
/// differs.
Value castTo(OpBuilder &b, Location loc, Value v, RankedTensorType type) {
  if (v.getType() == type)
    return v;
  return tensor::CastOp::create(b, loc, type, v);
}

/// A tensor.empty of `type` whose dynamic sizes `dynamicSize(d)` gives.
Value emptyOf(OpBuilder &b, Location loc, RankedTensorType type,
              function_ref<Value(int64_t)> dynamicSize) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(dynamicSize(d));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 sizes);
}

/// A linalg.generic writing every element of `init` (identity map) from the
/// loop indices and the scalars of `inputs`, read through `inputMaps`.
using IndexedBody = function_ref<Value(OpBuilder &b, Location loc,
                                       ArrayRef<Value> ivs, ValueRange args)>;
Value indexedGeneric(OpBuilder &b, Location loc, Value init, ValueRange inputs,
                     ArrayRef<AffineMap> inputMaps, IndexedBody body) {
  auto type = cast<RankedTensorType>(init.getType());
  int64_t rank = type.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{init}, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               SmallVector<Value> ivs;
               for (int64_t d = 0; d < rank; ++d)
                 ivs.push_back(linalg::IndexOp::create(nb, nloc, d));
               linalg::YieldOp::create(nb, nloc,
                                       body(nb, nloc, ivs, args.drop_back()));
             })
      .getResult(0);
}

/// Whether `type` has a static size 0 (no elements: slicing it is
/// pointless and its offsets are out of bounds).
bool isStaticallyEmpty(Type type) {
  return llvm::is_contained(cast<RankedTensorType>(type).getShape(), 0);
}

SmallVector<ReassociationIndices> allInOneGroup(int64_t rank) {
  ReassociationIndices group;
  for (int64_t d = 0; d < rank; ++d)
    group.push_back(d);
  return {group};
}

/// `input` with its elements, in row-major order, in the static shape of
/// `type`: a tensor.collapse_shape or expand_shape where the shapes line up,
/// else a collapse to 1-D and an expand. Null when either shape is dynamic
/// (the grouping of dimensions is then not known).
Value reshapeTo(OpBuilder &b, Location loc, Value input,
                RankedTensorType type) {
  auto source = cast<RankedTensorType>(input.getType());
  if (source == type)
    return input;
  if (!source.hasStaticShape() || !type.hasStaticShape())
    return {};
  if (source.getRank() > type.getRank()) {
    if (auto groups = getReassociationIndicesForReshape(source, type))
      return tensor::CollapseShapeOp::create(b, loc, type, input, *groups);
  } else if (source.getRank() < type.getRank()) {
    if (auto groups = getReassociationIndicesForReshape(source, type))
      return tensor::ExpandShapeOp::create(b, loc, type, input, *groups);
  }
  auto flat =
      RankedTensorType::get({type.getNumElements()}, type.getElementType());
  Value v = input;
  if (source.getRank() == 0)
    v = tensor::ExpandShapeOp::create(b, loc, flat, input,
                                      SmallVector<ReassociationIndices>{});
  else if (source.getRank() > 1)
    v = tensor::CollapseShapeOp::create(b, loc, flat, input,
                                        allInOneGroup(source.getRank()));
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, v,
                                           SmallVector<ReassociationIndices>{});
  if (type.getRank() == 1)
    return v;
  return tensor::ExpandShapeOp::create(b, loc, type, v,
                                       allInOneGroup(type.getRank()));
}

/// The reassociation between a shape of `rank` dimensions and the same
/// shape without its `unitAxes`: each unit axis joins the group of the next
/// kept dimension (trailing ones the last group).
SmallVector<ReassociationIndices> unitAxisGroups(int64_t rank,
                                                 ArrayRef<int64_t> unitAxes) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t d = 0; d < rank; ++d) {
    pending.push_back(d);
    if (!llvm::is_contained(unitAxes, d)) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!groups.empty())
    llvm::append_range(groups.back(), pending);
  return groups;
}

OpFoldResult addSizes(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx + *cy);
  return arith::AddIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, x),
                               getValueOrCreateConstantIndexOp(b, loc, y))
      .getResult();
}

Value selectI64(OpBuilder &b, Location loc, arith::CmpIPredicate pred, Value x,
                Value y, Value ifTrue, Value ifFalse) {
  Value cond = arith::CmpIOp::create(b, loc, pred, x, y);
  return arith::SelectOp::create(b, loc, cond, ifTrue, ifFalse);
}

/// A negative index counted from the end: `index + size` when below zero.
Value wrapNegative(OpBuilder &b, Location loc, Value index, Value size) {
  Value zero = i64Constant(b, loc, 0);
  Value wrapped = arith::AddIOp::create(b, loc, index, size);
  return selectI64(b, loc, arith::CmpIPredicate::slt, index, zero, wrapped,
                   index);
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

/// Reshape's target shape computed at run time (0 copies the input's size
/// unless allowzero, -1 takes the remaining elements).
Value runtimeReshape(OpBuilder &b, Location loc, Value input, Value shape,
                     RankedTensorType type, bool allowZero) {
  auto inputType = cast<RankedTensorType>(input.getType());
  Value total = i64Constant(b, loc, 1);
  for (int64_t d = 0; d < inputType.getRank(); ++d)
    total = arith::MulIOp::create(b, loc, total, dimI64(b, loc, input, d));
  Value zero = i64Constant(b, loc, 0), one = i64Constant(b, loc, 1),
        minusOne = i64Constant(b, loc, -1);
  SmallVector<Value> sizes;
  Value known = one;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    Value size = toI64(b, loc, extractAt(b, loc, shape, i));
    if (!allowZero && i < inputType.getRank())
      size = selectI64(b, loc, arith::CmpIPredicate::eq, size, zero,
                       dimI64(b, loc, input, i), size);
    sizes.push_back(size);
    known = arith::MulIOp::create(
        b, loc, known,
        selectI64(b, loc, arith::CmpIPredicate::eq, size, minusOne, one, size));
  }
  Value safeKnown =
      selectI64(b, loc, arith::CmpIPredicate::eq, known, zero, one, known);
  Value missing = arith::DivSIOp::create(b, loc, total, safeKnown);
  for (Value &size : sizes)
    size = selectI64(b, loc, arith::CmpIPredicate::eq, size, minusOne, missing,
                     size);
  auto shapeType = RankedTensorType::get({type.getRank()}, b.getI64Type());
  Value shapeTensor = tensor::FromElementsOp::create(b, loc, shapeType, sizes);
  return tensor::ReshapeOp::create(b, loc, type, input, shapeTensor);
}

// Pattern: Reshape(X, shape) -> tensor.collapse_shape / expand_shape to the
// result type [static shapes], else tensor.reshape with the shape computed
// at run time.
Lowered lowerReshape(Operation *op, ArrayRef<Value> operands,
                     ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  if (Value v = reshapeTo(rewriter, loc, operands[0], *result))
    return SmallVector<Value>{v};
  if (operands.size() < 2 || !operands[1])
    return op->emitError("Reshape to a dynamic shape needs the shape input"),
           failure();
  return SmallVector<Value>{runtimeReshape(rewriter, loc, operands[0],
                                           operands[1], *result,
                                           intAttr(op, "allowzero", 0) != 0)};
}

// Pattern: Flatten(X) {axis} -> tensor.collapse_shape of the dimensions
// before and after axis (expand_shape adds the unit one for axis 0 or rank).
Lowered lowerFlatten(Operation *op, ArrayRef<Value> operands,
                     ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  if (Value v = reshapeTo(rewriter, loc, input, *result))
    return SmallVector<Value>{v};
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  int64_t axis = normalizeAxis(intAttr(op, "axis", 1), rank);
  if (axis > 0 && axis < rank) {
    ReassociationIndices outer, inner;
    for (int64_t d = 0; d < rank; ++d)
      (d < axis ? outer : inner).push_back(d);
    Value v = tensor::CollapseShapeOp::create(
        rewriter, loc, input, SmallVector<ReassociationIndices>{outer, inner});
    return SmallVector<Value>{castTo(rewriter, loc, v, *result)};
  }
  Value flat = rank == 1 ? input
                         : tensor::CollapseShapeOp::create(rewriter, loc, input,
                                                           allInOneGroup(rank))
                               .getResult();
  auto type = RankedTensorType::get(
      axis == 0 ? SmallVector<int64_t>{1, ShapedType::kDynamic}
                : SmallVector<int64_t>{ShapedType::kDynamic, 1},
      result->getElementType());
  Value v = tensor::ExpandShapeOp::create(rewriter, loc, type, flat,
                                          allInOneGroup(2));
  return SmallVector<Value>{castTo(rewriter, loc, v, *result)};
}

/// The axes of Squeeze/Unsqueeze: the attribute (old opsets) or the
/// constant input; nullopt when only known at run time.
std::optional<SmallVector<int64_t>> squeezeAxes(Operation *op,
                                                ArrayRef<Value> operands) {
  if (auto attr = intsAttr(op, "axes"))
    return attr;
  if (operands.size() > 1 && operands[1])
    return constantInts(operands[1]);
  return SmallVector<int64_t>();
}

// Pattern: Squeeze(X, axes) -> tensor.collapse_shape folding each removed
// unit dimension into a neighbour.
Lowered lowerSqueeze(Operation *op, ArrayRef<Value> operands,
                     ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  if (Value v = reshapeTo(rewriter, loc, input, *result))
    return SmallVector<Value>{v};
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  std::optional<SmallVector<int64_t>> axes = squeezeAxes(op, operands);
  if (!axes)
    return op->emitError("Squeeze of dynamic shapes needs constant axes"),
           failure();
  if (axes->empty()) {
    for (int64_t d = 0; d < rank; ++d)
      if (inputType.getDimSize(d) == 1)
        axes->push_back(d);
  }
  for (int64_t &a : *axes)
    a = normalizeAxis(a, rank);
  if (rank - static_cast<int64_t>(axes->size()) != result->getRank())
    return op->emitError("Squeeze axes do not match the result rank"),
           failure();
  Value v = tensor::CollapseShapeOp::create(rewriter, loc, input,
                                            unitAxisGroups(rank, *axes));
  return SmallVector<Value>{castTo(rewriter, loc, v, *result)};
}

// Pattern: Unsqueeze(X, axes) -> tensor.expand_shape inserting the unit
// dimensions.
Lowered lowerUnsqueeze(Operation *op, ArrayRef<Value> operands,
                       ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  if (Value v = reshapeTo(rewriter, loc, input, *result))
    return SmallVector<Value>{v};
  int64_t rank = result->getRank();
  std::optional<SmallVector<int64_t>> axes = squeezeAxes(op, operands);
  if (!axes || axes->empty())
    return op->emitError("Unsqueeze of dynamic shapes needs constant axes"),
           failure();
  for (int64_t &a : *axes)
    a = normalizeAxis(a, rank);
  auto inputType = cast<RankedTensorType>(input.getType());
  if (inputType.getRank() + static_cast<int64_t>(axes->size()) != rank)
    return op->emitError("Unsqueeze axes do not match the result rank"),
           failure();
  SmallVector<int64_t> shape;
  for (int64_t d = 0, i = 0; d < rank; ++d)
    shape.push_back(llvm::is_contained(*axes, d) ? 1
                                                 : inputType.getDimSize(i++));
  auto type = RankedTensorType::get(shape, result->getElementType());
  Value v = tensor::ExpandShapeOp::create(rewriter, loc, type, input,
                                          unitAxisGroups(rank, *axes));
  return SmallVector<Value>{castTo(rewriter, loc, v, *result)};
}

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

// Pattern: Shape(X) -> arith.constant [static dims], else
// tensor.from_elements of tensor.dim.
Lowered lowerShape(Operation *op, ArrayRef<Value> operands,
                   ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  auto clampAxis = [&](int64_t axis) {
    return std::clamp<int64_t>(normalizeAxis(axis, rank), 0, rank);
  };
  int64_t start = clampAxis(intAttr(op, "start", 0));
  int64_t end = std::max(start, clampAxis(intAttr(op, "end", rank)));
  auto shapeType = RankedTensorType::get({end - start}, rewriter.getI64Type());
  Value shape;
  ArrayRef<int64_t> dims = type.getShape().slice(start, end - start);
  if (!ShapedType::isDynamicShape(dims)) {
    shape = arith::ConstantOp::create(
        rewriter, loc, DenseIntElementsAttr::get(shapeType, dims));
  } else {
    SmallVector<Value> sizes;
    for (int64_t d = start; d < end; ++d)
      sizes.push_back(dimI64(rewriter, loc, input, d));
    shape = tensor::FromElementsOp::create(rewriter, loc, shapeType, sizes);
  }
  return SmallVector<Value>{castTo(rewriter, loc, shape, *result)};
}

// Pattern: Size(X) -> arith.constant [static shape], else the product of
// tensor.dim.
Lowered lowerSize(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  auto type = cast<RankedTensorType>(input.getType());
  auto scalarType = RankedTensorType::get({}, rewriter.getI64Type());
  Value size;
  if (type.hasStaticShape()) {
    size = arith::ConstantOp::create(
        rewriter, loc,
        DenseIntElementsAttr::get(scalarType, {type.getNumElements()}));
  } else {
    Value product = i64Constant(rewriter, loc, 1);
    for (int64_t d = 0; d < type.getRank(); ++d)
      product = arith::MulIOp::create(rewriter, loc, product,
                                      dimI64(rewriter, loc, input, d));
    size = tensor::FromElementsOp::create(rewriter, loc, scalarType,
                                          ValueRange{product});
  }
  return SmallVector<Value>{castTo(rewriter, loc, size, *result)};
}

//===----------------------------------------------------------------------===//
// Transpose, Concat, Split, Slice
//===----------------------------------------------------------------------===//

// Pattern: Transpose(X) {perm} -> linalg.transpose (perm defaults to the
// reversed dimensions).
Lowered lowerTranspose(Operation *op, ArrayRef<Value> operands,
                       ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  int64_t rank = result->getRank();
  SmallVector<int64_t> perm;
  if (auto attr = intsAttr(op, "perm"); attr && !attr->empty())
    perm = *attr;
  else
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  for (int64_t &p : perm)
    p = normalizeAxis(p, rank);
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) {
    return dimIndex(rewriter, loc, input, perm[d]);
  });
  auto transpose =
      linalg::TransposeOp::create(rewriter, loc, input, init, perm);
  return SmallVector<Value>{transpose->getResult(0)};
}

// Pattern: Concat(X1, ..., Xn) {axis} -> tensor.empty + one
// tensor.insert_slice per input.
Lowered lowerConcat(Operation *op, ArrayRef<Value> operands,
                    ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  int64_t rank = result->getRank();
  int64_t axis = normalizeAxis(intAttr(op, "axis", 0), rank);
  SmallVector<Value> inputs;
  for (Value v : operands)
    if (v)
      inputs.push_back(v);
  if (isStaticallyEmpty(*result))
    return SmallVector<Value>{tensor::EmptyOp::create(
        rewriter, loc, result->getShape(), result->getElementType())};
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) -> Value {
    if (d != axis)
      return dimIndex(rewriter, loc, inputs[0], d);
    Value total = indexConstant(rewriter, loc, 0);
    for (Value v : inputs)
      total = arith::AddIOp::create(rewriter, loc, total,
                                    dimIndex(rewriter, loc, v, d));
    return total;
  });
  OpFoldResult offset = rewriter.getIndexAttr(0);
  for (Value v : inputs) {
    if (isStaticallyEmpty(v.getType()))
      continue;
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    offsets[axis] = offset;
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, v);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    init = tensor::InsertSliceOp::create(rewriter, loc, v, init, offsets, sizes,
                                         strides);
    offset = addSizes(rewriter, loc, offset, sizes[axis]);
  }
  return SmallVector<Value>{init};
}

// Pattern: Split(X) {axis} -> one tensor.extract_slice per output, sized by
// the result types (else by split, else equal parts).
Lowered lowerSplit(Operation *op, ArrayRef<Value> operands,
                   ConversionPatternRewriter &rewriter) {
  Location loc = op->getLoc();
  Value input = operands[0];
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  int64_t axis = normalizeAxis(intAttr(op, "axis", 0), rank);
  unsigned numResults = op->getNumResults();
  Value splitInput = operands.size() > 1 ? operands[1] : Value();
  std::optional<SmallVector<int64_t>> splitAttr = intsAttr(op, "split");
  Value axisSize = dimIndex(rewriter, loc, input, axis);
  SmallVector<Value> results;
  OpFoldResult offset = rewriter.getIndexAttr(0);
  for (unsigned i = 0; i < numResults; ++i) {
    FailureOr<RankedTensorType> type = resultType(op, i);
    if (failed(type))
      return failure();
    OpFoldResult size;
    if (!type->isDynamicDim(axis)) {
      size = rewriter.getIndexAttr(type->getDimSize(axis));
    } else if (splitAttr && splitAttr->size() == numResults) {
      size = rewriter.getIndexAttr((*splitAttr)[i]);
    } else if (splitInput) {
      size = toIndex(rewriter, loc, extractAt(rewriter, loc, splitInput, i));
    } else {
      // Equal parts; the last one takes what remains.
      Value n = indexConstant(rewriter, loc, numResults);
      Value part = arith::CeilDivUIOp::create(rewriter, loc, axisSize, n);
      if (i + 1 < numResults)
        size = part;
      else
        size = arith::SubIOp::create(
                   rewriter, loc, axisSize,
                   getValueOrCreateConstantIndexOp(rewriter, loc, offset))
                   .getResult();
    }
    if (isStaticallyEmpty(*type)) {
      results.push_back(tensor::EmptyOp::create(rewriter, loc, type->getShape(),
                                                type->getElementType()));
      offset = addSizes(rewriter, loc, offset, size);
      continue;
    }
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    offsets[axis] = offset;
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    sizes[axis] = size;
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(rewriter, loc, input, offsets,
                                                 sizes, strides);
    results.push_back(castTo(rewriter, loc, slice, *type));
    offset = addSizes(rewriter, loc, offset, size);
  }
  return results;
}

// Pattern: Slice(X, starts, ends, axes, steps) -> tensor.extract_slice
// [constant parameters, positive steps], else a linalg.generic reading
// X[start + i * step] with starts and steps evaluated at run time (sizes
// from the result type).
Lowered lowerSlice(Operation *op, ArrayRef<Value> operands,
                   ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  auto operand = [&](unsigned i) {
    return i < operands.size() ? operands[i] : Value();
  };
  // Opset 1 has attributes; later opsets inputs.
  bool fromAttributes = operands.size() == 1;
  std::optional<SmallVector<int64_t>> starts, ends, axes, steps;
  int64_t count;
  if (fromAttributes) {
    starts = intsAttr(op, "starts");
    ends = intsAttr(op, "ends");
    axes = intsAttr(op, "axes");
    if (!starts || !ends)
      return op->emitError("Slice needs 'starts' and 'ends'"), failure();
    count = starts->size();
  } else {
    auto startsType = cast<RankedTensorType>(operand(1).getType());
    if (startsType.getRank() != 1 || startsType.isDynamicDim(0))
      return op->emitError("Slice needs 'starts' of static length"), failure();
    count = startsType.getDimSize(0);
    starts = constantInts(operand(1));
    ends = constantInts(operand(2));
    if (operand(3))
      axes = constantInts(operand(3));
    if (operand(4))
      steps = constantInts(operand(4));
  }
  if (!axes && !operand(3)) {
    axes = SmallVector<int64_t>();
    for (int64_t j = 0; j < count; ++j)
      axes->push_back(j);
  }
  if (!steps && !operand(4))
    steps = SmallVector<int64_t>(count, 1);

  if (isStaticallyEmpty(*result))
    return SmallVector<Value>{tensor::EmptyOp::create(
        rewriter, loc, result->getShape(), result->getElementType())};
  // All parameters known: offsets, sizes and strides at compile time.
  bool staticDims = true;
  if (axes)
    for (int64_t a : *axes)
      staticDims &= !inputType.isDynamicDim(normalizeAxis(a, rank));
  if (starts && ends && axes && steps && staticDims) {
    SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    bool positive = true;
    for (int64_t j = 0; j < count; ++j) {
      int64_t a = normalizeAxis((*axes)[j], rank);
      int64_t dim = inputType.getDimSize(a);
      int64_t start = (*starts)[j], end = (*ends)[j], step = (*steps)[j];
      if (step == 0)
        return op->emitError("Slice step must not be 0"), failure();
      if (start < 0)
        start += dim;
      if (end < 0)
        end += dim;
      int64_t size;
      if (step > 0) {
        start = std::clamp<int64_t>(start, 0, dim);
        end = std::clamp<int64_t>(end, 0, dim);
        size = end > start ? (end - start + step - 1) / step : 0;
      } else {
        start = std::clamp<int64_t>(start, 0, dim - 1);
        end = std::clamp<int64_t>(end, -1, dim - 1);
        size = start > end ? (start - end - step - 1) / -step : 0;
        positive = false;
      }
      offsets[a] = start;
      strides[a] = step;
      sizes[a] = rewriter.getIndexAttr(size);
    }
    if (positive) {
      Value slice = tensor::ExtractSliceOp::create(
          rewriter, loc, input,
          getAsIndexOpFoldResult(op->getContext(), offsets), sizes,
          getAsIndexOpFoldResult(op->getContext(), strides));
      return SmallVector<Value>{castTo(rewriter, loc, slice, *result)};
    }
    auto type = RankedTensorType::get(
        llvm::map_to_vector(sizes,
                            [](OpFoldResult s) {
                              return getConstantIntValue(s).value_or(
                                  ShapedType::kDynamic);
                            }),
        inputType.getElementType());
    Value init = emptyOf(rewriter, loc, type, [&](int64_t d) {
      return getValueOrCreateConstantIndexOp(rewriter, loc, sizes[d]);
    });
    Value v = indexedGeneric(
        rewriter, loc, init, {}, {},
        [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) {
          SmallVector<Value> indices;
          for (int64_t d = 0; d < rank; ++d)
            indices.push_back(arith::AddIOp::create(
                b, l, indexConstant(b, l, offsets[d]),
                arith::MulIOp::create(b, l, ivs[d],
                                      indexConstant(b, l, strides[d]))));
          return tensor::ExtractOp::create(b, l, input, indices);
        });
    return SmallVector<Value>{castTo(rewriter, loc, v, *result)};
  }

  // Parameters known at run time only: per dimension, the start, end and
  // step of the last entry naming it; the result's symbolic sizes follow.
  if (fromAttributes)
    return op->emitError("Slice (opset 1) of a symbolic dimension is not "
                         "supported"),
           failure();
  SmallVector<Value> dimStarts, dimSteps, dimSizes;
  Value zero = i64Constant(rewriter, loc, 0),
        one = i64Constant(rewriter, loc, 1);
  for (int64_t d = 0; d < rank; ++d) {
    Value dim = dimI64(rewriter, loc, input, d);
    Value start = zero, step = one, end = dim;
    for (int64_t j = 0; j < count; ++j) {
      Value a =
          axes ? i64Constant(rewriter, loc, (*axes)[j])
               : toI64(rewriter, loc, extractAt(rewriter, loc, operand(3), j));
      a = wrapNegative(rewriter, loc, a, i64Constant(rewriter, loc, rank));
      Value names =
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, a,
                                i64Constant(rewriter, loc, d));
      Value st = toI64(rewriter, loc, extractAt(rewriter, loc, operand(1), j));
      Value en = toI64(rewriter, loc, extractAt(rewriter, loc, operand(2), j));
      Value sp =
          steps ? i64Constant(rewriter, loc, (*steps)[j])
                : toI64(rewriter, loc, extractAt(rewriter, loc, operand(4), j));
      start = arith::SelectOp::create(rewriter, loc, names, st, start);
      end = arith::SelectOp::create(rewriter, loc, names, en, end);
      step = arith::SelectOp::create(rewriter, loc, names, sp, step);
    }
    auto clamp = [&](Value v, Value lo, Value hi) {
      return arith::MinSIOp::create(rewriter, loc,
                                    arith::MaxSIOp::create(rewriter, loc, v, lo), hi);
    };
    Value positive = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::sgt, step, zero);
    Value last = arith::SubIOp::create(rewriter, loc, dim, one);
    Value minusOne = i64Constant(rewriter, loc, -1);
    // Forward: start and end in [0, dim]; backward: start in [0, dim - 1],
    // end in [-1, dim - 1].
    start = clamp(wrapNegative(rewriter, loc, start, dim), zero,
                  arith::SelectOp::create(rewriter, loc, positive, dim, last));
    end = wrapNegative(rewriter, loc, end, dim);
    end = arith::SelectOp::create(rewriter, loc, positive, clamp(end, zero, dim),
                                  clamp(end, minusOne, last));
    // Elements: ceil(distance / |step|), at least 0.
    Value distance = arith::SelectOp::create(
        rewriter, loc, positive, arith::SubIOp::create(rewriter, loc, end, start),
        arith::SubIOp::create(rewriter, loc, start, end));
    Value magnitude = arith::SelectOp::create(
        rewriter, loc, positive, step, arith::SubIOp::create(rewriter, loc, zero, step));
    Value size = arith::MaxSIOp::create(
        rewriter, loc, zero,
        arith::CeilDivSIOp::create(rewriter, loc, distance, magnitude));
    dimStarts.push_back(toIndex(rewriter, loc, start));
    dimSteps.push_back(toIndex(rewriter, loc, step));
    dimSizes.push_back(toIndex(rewriter, loc, size));
  }
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) { return dimSizes[d]; });
  Value v = indexedGeneric(
      rewriter, loc, init, {}, {},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < rank; ++d)
          indices.push_back(arith::AddIOp::create(
              b, l, dimStarts[d],
              arith::MulIOp::create(b, l, ivs[d], dimSteps[d])));
        return tensor::ExtractOp::create(b, l, input, indices);
      });
  return SmallVector<Value>{v};
}

//===----------------------------------------------------------------------===//
// Gathers
//===----------------------------------------------------------------------===//

// Pattern: Gather(data, indices) {axis} -> linalg.generic over the result
// reading data[i.., indices[j..], k..] with tensor.extract.
Lowered lowerGather(Operation *op, ArrayRef<Value> operands,
                    ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value data = operands[0], indices = operands[1];
  auto dataType = cast<RankedTensorType>(data.getType());
  auto indicesType = cast<RankedTensorType>(indices.getType());
  int64_t r = dataType.getRank(), q = indicesType.getRank();
  int64_t axis = normalizeAxis(intAttr(op, "axis", 0), r);
  bool unsignedIndices = isUnsigned(op->getOperand(1));
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) {
    if (d < axis)
      return dimIndex(rewriter, loc, data, d);
    if (d < axis + q)
      return dimIndex(rewriter, loc, indices, d - axis);
    return dimIndex(rewriter, loc, data, d - q + 1);
  });
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < q; ++d)
    exprs.push_back(rewriter.getAffineDimExpr(axis + d));
  AffineMap map = AffineMap::get(result->getRank(), 0, exprs, op->getContext());
  Value axisSize = dimI64(rewriter, loc, data, axis);
  Value v = indexedGeneric(
      rewriter, loc, init, {indices}, {map},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange args) {
        Value index =
            wrapNegative(b, l, toI64(b, l, args[0], unsignedIndices), axisSize);
        SmallVector<Value> coords(ivs.take_front(axis));
        coords.push_back(toIndex(b, l, index));
        llvm::append_range(coords, ivs.drop_front(axis + q));
        return tensor::ExtractOp::create(b, l, data, coords);
      });
  return SmallVector<Value>{v};
}

// Pattern: GatherElements(data, indices) {axis} -> linalg.generic reading
// data[i.., indices[i..], i..].
Lowered lowerGatherElements(Operation *op, ArrayRef<Value> operands,
                            ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value data = operands[0], indices = operands[1];
  int64_t rank = result->getRank();
  int64_t axis = normalizeAxis(intAttr(op, "axis", 0), rank);
  bool unsignedIndices = isUnsigned(op->getOperand(1));
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) {
    return dimIndex(rewriter, loc, indices, d);
  });
  Value axisSize = dimI64(rewriter, loc, data, axis);
  Value v = indexedGeneric(
      rewriter, loc, init, {indices}, {rewriter.getMultiDimIdentityMap(rank)},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange args) {
        Value index =
            wrapNegative(b, l, toI64(b, l, args[0], unsignedIndices), axisSize);
        SmallVector<Value> coords(ivs);
        coords[axis] = toIndex(b, l, index);
        return tensor::ExtractOp::create(b, l, data, coords);
      });
  return SmallVector<Value>{v};
}

// Pattern: GatherND(data, indices) {batch_dims} -> linalg.generic reading
// data[batch.., indices[j.., 0..k-1], rest..].
Lowered lowerGatherND(Operation *op, ArrayRef<Value> operands,
                      ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value data = operands[0], indices = operands[1];
  auto indicesType = cast<RankedTensorType>(indices.getType());
  int64_t q = indicesType.getRank();
  int64_t batch = intAttr(op, "batch_dims", 0);
  if (indicesType.isDynamicDim(q - 1))
    return op->emitError("GatherND needs a static last indices dimension"),
           failure();
  int64_t k = indicesType.getDimSize(q - 1);
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) {
    if (d < q - 1)
      return dimIndex(rewriter, loc, indices, d);
    return dimIndex(rewriter, loc, data, d - (q - 1) + batch + k);
  });
  SmallVector<Value> sizes;
  for (int64_t j = 0; j < k; ++j)
    sizes.push_back(dimI64(rewriter, loc, data, batch + j));
  Value v = indexedGeneric(
      rewriter, loc, init, {}, {},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) {
        SmallVector<Value> coords(ivs.take_front(batch));
        for (int64_t j = 0; j < k; ++j) {
          SmallVector<Value> at(ivs.take_front(q - 1));
          at.push_back(indexConstant(b, l, j));
          Value index =
              toI64(b, l, tensor::ExtractOp::create(b, l, indices, at));
          coords.push_back(toIndex(b, l, wrapNegative(b, l, index, sizes[j])));
        }
        llvm::append_range(coords, ivs.drop_front(q - 1));
        return tensor::ExtractOp::create(b, l, data, coords);
      });
  return SmallVector<Value>{v};
}

//===----------------------------------------------------------------------===//
// Broadcasting and padding
//===----------------------------------------------------------------------===//

// Pattern: Expand(X, shape) -> linalg.generic broadcasting X to the result
// type.
Lowered lowerExpand(Operation *op, ArrayRef<Value> operands,
                    ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  auto inputType = cast<RankedTensorType>(operands[0].getType());
  int64_t offset = result->getRank() - inputType.getRank();
  for (int64_t d = 0; d < result->getRank(); ++d)
    if (result->isDynamicDim(d) &&
        (d < offset || !inputType.isDynamicDim(d - offset)))
      return op->emitError("Expand to a dynamic size is not supported"),
             failure();
  return SmallVector<Value>{elementwise(
      rewriter, op->getLoc(), *result, {operands[0]},
      [](OpBuilder &, Location, ValueRange args) { return args[0]; })};
}

// Pattern: Tile(X, repeats) -> linalg.generic reading X[i mod dim].
Lowered lowerTile(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  int64_t rank = result->getRank();
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) -> Value {
    return arith::MulIOp::create(
        rewriter, loc, dimIndex(rewriter, loc, input, d),
        toIndex(rewriter, loc, extractAt(rewriter, loc, operands[1], d)));
  });
  SmallVector<Value> dims;
  for (int64_t d = 0; d < rank; ++d)
    dims.push_back(dimIndex(rewriter, loc, input, d));
  Value v = indexedGeneric(
      rewriter, loc, init, {}, {},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) {
        SmallVector<Value> coords;
        for (int64_t d = 0; d < rank; ++d)
          coords.push_back(arith::RemUIOp::create(b, l, ivs[d], dims[d]));
        return tensor::ExtractOp::create(b, l, input, coords);
      });
  return SmallVector<Value>{v};
}

// Pattern: Pad(X, pads, value) {mode} -> linalg.fill + tensor.insert_slice
// [constant mode, constant non-negative pads], else linalg.generic reading X
// at the reflected / clamped / wrapped / masked source index.
Lowered lowerPad(Operation *op, ArrayRef<Value> operands,
                 ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  Type element = result->getElementType();
  StringRef mode = "constant";
  if (auto attr =
          dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get("mode")))
    mode = attr.getValue();
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return op->emitError() << "Pad mode '" << mode << "' is not supported",
           failure();
  auto operand = [&](unsigned i) {
    return i < operands.size() ? operands[i] : Value();
  };

  // Low pads per dimension, as constants where known.
  SmallVector<std::optional<int64_t>> lowConst(rank, 0);
  SmallVector<Value> low(rank);
  Value padValue;
  std::optional<SmallVector<int64_t>> pads;
  Value padsInput = operand(1);
  if (!padsInput) {
    pads = intsAttr(op, "pads");
    if (!pads)
      return op->emitError("Pad needs 'pads'"), failure();
    padValue =
        scalarConstant(rewriter, loc, element, floatAttr(op, "value", 0));
  } else {
    pads = constantInts(padsInput);
    if (Value v = operand(2))
      padValue = extractAt(rewriter, loc, v, 0);
    else
      padValue = scalarConstant(rewriter, loc, element, 0);
  }
  SmallVector<int64_t> axes;
  if (Value axesInput = operand(3)) {
    std::optional<SmallVector<int64_t>> known = constantInts(axesInput);
    if (!known)
      return op->emitError("Pad with run-time 'axes' is not supported"),
             failure();
    for (int64_t a : *known)
      axes.push_back(normalizeAxis(a, rank));
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  for (auto [j, a] : llvm::enumerate(axes)) {
    if (pads) {
      lowConst[a] = (*pads)[j];
    } else {
      lowConst[a] = std::nullopt;
      low[a] = toIndex(rewriter, loc, extractAt(rewriter, loc, padsInput, j));
    }
  }
  for (int64_t d = 0; d < rank; ++d)
    if (lowConst[d])
      low[d] = indexConstant(rewriter, loc, *lowConst[d]);
  if (!result->hasStaticShape())
    return op->emitError("Pad needs a static result shape"), failure();
  Value init =
      tensor::EmptyOp::create(rewriter, loc, result->getShape(), element);

  bool emptyInput = llvm::is_contained(inputType.getShape(), 0);
  if (mode == "constant" || emptyInput) {
    Value filled =
        linalg::FillOp::create(rewriter, loc, padValue, init).getResult(0);
    if (emptyInput)
      return SmallVector<Value>{filled};
    bool simple = pads && llvm::all_of(*pads, [](int64_t p) { return p >= 0; });
    if (simple) {
      SmallVector<OpFoldResult> offsets;
      for (int64_t d = 0; d < rank; ++d)
        offsets.push_back(rewriter.getIndexAttr(*lowConst[d]));
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      Value v = tensor::InsertSliceOp::create(
          rewriter, loc, input, filled, offsets,
          tensor::getMixedSizes(rewriter, loc, input), strides);
      return SmallVector<Value>{v};
    }
  }
  SmallVector<Value> dims;
  for (int64_t d = 0; d < rank; ++d)
    dims.push_back(dimIndex(rewriter, loc, input, d));
  Value v = indexedGeneric(
      rewriter, loc, init, {}, {},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) -> Value {
        Value zero = indexConstant(b, l, 0), one = indexConstant(b, l, 1);
        Value inBounds = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
        SmallVector<Value> coords;
        for (int64_t d = 0; d < rank; ++d) {
          Value dim = dims[d];
          Value last = arith::SubIOp::create(b, l, dim, one);
          Value src = arith::SubIOp::create(b, l, ivs[d], low[d]);
          Value below =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, src, zero);
          if (mode == "reflect") {
            src = arith::SelectOp::create(
                b, l, below, arith::SubIOp::create(b, l, zero, src), src);
            Value over = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt,
                                               src, last);
            Value mirrored = arith::SubIOp::create(
                b, l, arith::AddIOp::create(b, l, last, last), src);
            src = arith::SelectOp::create(b, l, over, mirrored, src);
          } else if (mode == "wrap") {
            Value rem = arith::RemSIOp::create(b, l, src, dim);
            src = arith::RemSIOp::create(
                b, l, arith::AddIOp::create(b, l, rem, dim), dim);
          } else {
            Value above = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt,
                                                src, last);
            Value outside = arith::OrIOp::create(b, l, below, above);
            inBounds = arith::AndIOp::create(
                b, l, inBounds,
                arith::XOrIOp::create(
                    b, l, outside,
                    arith::ConstantOp::create(b, l, b.getBoolAttr(true))));
            src = arith::MinSIOp::create(
                b, l, arith::MaxSIOp::create(b, l, src, zero), last);
          }
          coords.push_back(src);
        }
        Value x = tensor::ExtractOp::create(b, l, input, coords);
        if (mode != "constant")
          return x;
        return arith::SelectOp::create(b, l, inBounds, x, padValue);
      });
  return SmallVector<Value>{v};
}

// Pattern: DepthToSpace / SpaceToDepth(X) {blocksize, mode} ->
// linalg.generic reading X at the rearranged index.
Lowered lowerDepthSpace(Operation *op, ArrayRef<Value> operands,
                        ConversionPatternRewriter &rewriter, bool toSpace) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  auto inputType = cast<RankedTensorType>(input.getType());
  if (inputType.getRank() != 4 || !result->hasStaticShape())
    return op->emitError("needs a static 4-D result"), failure();
  int64_t block = intAttr(op, "blocksize", 1);
  bool crd = false;
  if (auto attr =
          dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get("mode")))
    crd = attr.getValue() == "CRD";
  int64_t outC = result->getDimSize(1), inC = inputType.getDimSize(1);
  Value init = tensor::EmptyOp::create(rewriter, loc, result->getShape(),
                                       result->getElementType());
  Value v = indexedGeneric(
      rewriter, loc, init, {}, {},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) {
        Value bs = indexConstant(b, l, block);
        auto mul = [&](Value x, Value y) {
          return arith::MulIOp::create(b, l, x, y);
        };
        auto add = [&](Value x, Value y) {
          return arith::AddIOp::create(b, l, x, y);
        };
        auto div = [&](Value x, Value y) {
          return arith::DivUIOp::create(b, l, x, y);
        };
        auto rem = [&](Value x, Value y) {
          return arith::RemUIOp::create(b, l, x, y);
        };
        SmallVector<Value> coords{ivs[0]};
        if (toSpace) {
          // out[n, c, h*bs + bh, w*bs + bw] = in[n, channel(c, bh, bw), h, w]
          Value bh = rem(ivs[2], bs), bw = rem(ivs[3], bs);
          Value channel =
              crd ? add(mul(ivs[1], indexConstant(b, l, block * block)),
                        add(mul(bh, bs), bw))
                  : add(mul(add(mul(bh, bs), bw), indexConstant(b, l, outC)),
                        ivs[1]);
          coords.append({channel, div(ivs[2], bs), div(ivs[3], bs)});
        } else {
          // out[n, (bh*bs + bw)*C + c, h, w] = in[n, c, h*bs + bh, w*bs + bw]
          Value c = indexConstant(b, l, inC);
          Value blk = div(ivs[1], c);
          coords.append({rem(ivs[1], c), add(mul(ivs[2], bs), div(blk, bs)),
                         add(mul(ivs[3], bs), rem(blk, bs))});
        }
        return tensor::ExtractOp::create(b, l, input, coords);
      });
  return SmallVector<Value>{v};
}

//===----------------------------------------------------------------------===//
// Generators
//===----------------------------------------------------------------------===//

/// The scalar of a one-element TENSOR attribute as a constant of `type`.
Value attributeScalar(OpBuilder &b, Location loc, Attribute attr, Type type) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() != 1)
    return scalarConstant(b, loc, type, 0);
  if (isa<FloatType>(type)) {
    APFloat value = dense.getSplatValue<APFloat>();
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  }
  APInt value = dense.getSplatValue<APInt>();
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

// Pattern: ConstantOfShape(shape) {value} -> linalg.fill of a tensor.empty.
Lowered lowerConstantOfShape(Operation *op, ArrayRef<Value> operands,
                             ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) {
    return toIndex(rewriter, loc, extractAt(rewriter, loc, operands[0], d));
  });
  Value value =
      attributeScalar(rewriter, loc, op->getAttrDictionary().get("value"),
                      result->getElementType());
  return SmallVector<Value>{
      linalg::FillOp::create(rewriter, loc, value, init).getResult(0)};
}

// Pattern: Range(start, limit, delta) -> linalg.generic computing
// start + i * delta.
Lowered lowerRange(Operation *op, ArrayRef<Value> operands,
                   ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Type element = result->getElementType();
  Value start = extractAt(rewriter, loc, operands[0], 0);
  Value limit = extractAt(rewriter, loc, operands[1], 0);
  Value delta = extractAt(rewriter, loc, operands[2], 0);
  bool isFloat = isa<FloatType>(element);
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t) -> Value {
    Value count;
    if (isFloat)
      count = toI64(
          rewriter, loc,
          math::CeilOp::create(
              rewriter, loc,
              arith::DivFOp::create(
                  rewriter, loc,
                  arith::SubFOp::create(rewriter, loc, limit, start), delta)));
    else
      count =
          toI64(rewriter, loc,
                arith::CeilDivSIOp::create(
                    rewriter, loc,
                    arith::SubIOp::create(rewriter, loc, limit, start), delta));
    return toIndex(rewriter, loc,
                   arith::MaxSIOp::create(rewriter, loc, count,
                                          i64Constant(rewriter, loc, 0)));
  });
  Value v = indexedGeneric(
      rewriter, loc, init, {}, {},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) -> Value {
        Value i = toI64(b, l, ivs[0]);
        if (isFloat) {
          Value fi = arith::SIToFPOp::create(b, l, element, i);
          return arith::AddFOp::create(b, l, start,
                                       arith::MulFOp::create(b, l, fi, delta));
        }
        Value ii = castScalar(b, l, i, element, false, false);
        return arith::AddIOp::create(b, l, start,
                                     arith::MulIOp::create(b, l, ii, delta));
      });
  return SmallVector<Value>{v};
}

// Pattern: EyeLike(X) {k} -> linalg.generic writing (j - i == k) ? 1 : 0.
Lowered lowerEyeLike(Operation *op, ArrayRef<Value> operands,
                     ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  if (result->getRank() != 2)
    return op->emitError("EyeLike needs a 2-D tensor"), failure();
  int64_t k = intAttr(op, "k", 0);
  Type element = result->getElementType();
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) {
    return dimIndex(rewriter, loc, operands[0], d);
  });
  Value v = indexedGeneric(
      rewriter, loc, init, {}, {},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs, ValueRange) -> Value {
        Value diff = arith::SubIOp::create(b, l, toI64(b, l, ivs[1]),
                                           toI64(b, l, ivs[0]));
        Value on = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, diff,
                                         i64Constant(b, l, k));
        return arith::SelectOp::create(b, l, on,
                                       scalarConstant(b, l, element, 1),
                                       scalarConstant(b, l, element, 0));
      });
  return SmallVector<Value>{v};
}

// Pattern: Trilu(X, k) {upper} -> linalg.generic keeping X where
// j - i >= k (upper) or j - i <= k (lower), else 0.
Lowered lowerTrilu(Operation *op, ArrayRef<Value> operands,
                   ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  int64_t rank = result->getRank();
  if (rank < 2)
    return op->emitError("Trilu needs at least 2 dimensions"), failure();
  bool upper = intAttr(op, "upper", 1) != 0;
  Value k = operands.size() > 1 && operands[1]
                ? toI64(rewriter, loc, extractAt(rewriter, loc, operands[1], 0))
                : i64Constant(rewriter, loc, 0);
  Value init = emptyOf(rewriter, loc, *result, [&](int64_t d) {
    return dimIndex(rewriter, loc, input, d);
  });
  Value v = indexedGeneric(
      rewriter, loc, init, {input}, {rewriter.getMultiDimIdentityMap(rank)},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs,
          ValueRange args) -> Value {
        Value diff = arith::SubIOp::create(b, l, toI64(b, l, ivs[rank - 1]),
                                           toI64(b, l, ivs[rank - 2]));
        Value keep = arith::CmpIOp::create(
            b, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
            diff, k);
        return arith::SelectOp::create(
            b, l, keep, args[0],
            scalarConstant(b, l, result->getElementType(), 0));
      });
  return SmallVector<Value>{v};
}

// Pattern: OneHot(indices, depth, values) {axis} -> linalg.generic writing
// values[1] where the index along axis equals indices[...], else values[0].
Lowered lowerOneHot(Operation *op, ArrayRef<Value> operands,
                    ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value indices = operands[0];
  int64_t rank = result->getRank();
  int64_t axis = normalizeAxis(intAttr(op, "axis", -1), rank);
  if (!result->hasStaticShape())
    return op->emitError("OneHot needs a static result shape"), failure();
  Value depth = toI64(rewriter, loc, extractAt(rewriter, loc, operands[1], 0),
                      isUnsigned(op->getOperand(1)));
  Value off = extractAt(rewriter, loc, operands[2], 0);
  Value on = extractAt(rewriter, loc, operands[2], 1);
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis)
      exprs.push_back(rewriter.getAffineDimExpr(d));
  AffineMap map = AffineMap::get(rank, 0, exprs, op->getContext());
  bool unsignedIndices = isUnsigned(op->getOperand(0));
  Value init = tensor::EmptyOp::create(rewriter, loc, result->getShape(),
                                       result->getElementType());
  Value v = indexedGeneric(
      rewriter, loc, init, {indices}, {map},
      [&](OpBuilder &b, Location l, ArrayRef<Value> ivs,
          ValueRange args) -> Value {
        Value index =
            wrapNegative(b, l, toI64(b, l, args[0], unsignedIndices), depth);
        Value hot = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, index,
                                          toI64(b, l, ivs[axis]));
        return arith::SelectOp::create(b, l, hot, on, off);
      });
  return SmallVector<Value>{v};
}

/// CumSum along a compile-time axis: a linalg.generic with a reduction loop
/// k over the axis, adding X[.., k, ..] to out[.., i, ..] where k precedes
/// (or follows, reversed) i.
Value cumSumAlong(OpBuilder &b, Location loc, Value input,
                  RankedTensorType type, int64_t axis, bool exclusive,
                  bool reverse) {
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> inExprs, outExprs;
  for (int64_t d = 0; d < rank; ++d) {
    inExprs.push_back(b.getAffineDimExpr(d == axis ? rank : d));
    outExprs.push_back(b.getAffineDimExpr(d));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, inExprs, ctx),
                                 AffineMap::get(rank + 1, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value empty = emptyOf(b, loc, type,
                        [&](int64_t d) { return dimIndex(b, loc, input, d); });
  Value zero = scalarConstant(b, loc, type.getElementType(), 0);
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  arith::CmpIPredicate pred =
      reverse
          ? (exclusive ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::uge)
          : (exclusive ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{input}, ValueRange{init}, maps,
             iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value i = linalg::IndexOp::create(nb, l, axis);
               Value k = linalg::IndexOp::create(nb, l, rank);
               Value take = arith::CmpIOp::create(nb, l, pred, k, i);
               Value zeroElem = scalarConstant(nb, l, args[0].getType(), 0);
               Value x =
                   arith::SelectOp::create(nb, l, take, args[0], zeroElem);
               Value sum =
                   isa<FloatType>(x.getType())
                       ? arith::AddFOp::create(nb, l, args[1], x).getResult()
                       : arith::AddIOp::create(nb, l, args[1], x).getResult();
               linalg::YieldOp::create(nb, l, sum);
             })
      .getResult(0);
}

// Pattern: CumSum(X, axis) {exclusive, reverse} -> one reduction
// linalg.generic [constant axis or rank 1], else one per possible axis
// chosen by arith.select on the run-time axis.
Lowered lowerCumSum(Operation *op, ArrayRef<Value> operands,
                    ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value input = operands[0];
  int64_t rank = result->getRank();
  bool exclusive = intAttr(op, "exclusive", 0) != 0;
  bool reverse = intAttr(op, "reverse", 0) != 0;
  if (rank == 0)
    return SmallVector<Value>{input};
  std::optional<SmallVector<int64_t>> axis = constantInts(operands[1]);
  if (axis || rank == 1) {
    int64_t a = axis ? normalizeAxis((*axis)[0], rank) : 0;
    return SmallVector<Value>{
        cumSumAlong(rewriter, loc, input, *result, a, exclusive, reverse)};
  }
  Value runtimeAxis = wrapNegative(
      rewriter, loc,
      toI64(rewriter, loc, extractAt(rewriter, loc, operands[1], 0)),
      i64Constant(rewriter, loc, rank));
  Value chosen =
      cumSumAlong(rewriter, loc, input, *result, rank - 1, exclusive, reverse);
  for (int64_t a = rank - 2; a >= 0; --a) {
    Value candidate =
        cumSumAlong(rewriter, loc, input, *result, a, exclusive, reverse);
    Value isAxis =
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                              runtimeAxis, i64Constant(rewriter, loc, a));
    chosen = arith::SelectOp::create(rewriter, loc, isAxis, candidate, chosen);
  }
  return SmallVector<Value>{chosen};
}

} // namespace

void pith::populateShapeLowerings(ONNXLoweringTable &table) {
  table.add("Reshape", lowerReshape);
  table.add("Flatten", lowerFlatten);
  table.add("Squeeze", lowerSqueeze);
  table.add("Unsqueeze", lowerUnsqueeze);
  table.add("Shape", lowerShape);
  table.add("Size", lowerSize);
  table.add("Transpose", lowerTranspose);
  table.add("Concat", lowerConcat);
  table.add("Split", lowerSplit);
  table.add("Slice", lowerSlice);
  table.add("Gather", lowerGather);
  table.add("GatherElements", lowerGatherElements);
  table.add("GatherND", lowerGatherND);
  table.add("Expand", lowerExpand);
  table.add("Tile", lowerTile);
  table.add("Pad", lowerPad);
  table.add("DepthToSpace", [](Operation *op, ArrayRef<Value> operands,
                               ConversionPatternRewriter &rewriter) {
    return lowerDepthSpace(op, operands, rewriter, /*toSpace=*/true);
  });
  table.add("SpaceToDepth", [](Operation *op, ArrayRef<Value> operands,
                               ConversionPatternRewriter &rewriter) {
    return lowerDepthSpace(op, operands, rewriter, /*toSpace=*/false);
  });
  table.add("ConstantOfShape", lowerConstantOfShape);
  table.add("Range", lowerRange);
  table.add("EyeLike", lowerEyeLike);
  table.add("Trilu", lowerTrilu);
  table.add("OneHot", lowerOneHot);
  table.add("CumSum", lowerCumSum);
}

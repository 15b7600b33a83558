//===- Reduction.cpp - Lower reductions, Softmax and normalizations -------===//
//
// Reduce*, ArgMax/ArgMin, TopK, the Softmax family, the normalizations and
// the losses. Every reduction is a linalg.generic over the input's loops
// whose reduced loops are `reduction` iterators; its output either keeps the
// reduced dimensions with size 1 ("kept" shape, which the elementwise helper
// broadcasts back over the input) or drops them. Softmax-like operators
// subtract the maximum before exponentiating, so large inputs do not
// overflow.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <limits>

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers
//===----------------------------------------------------------------------===//

bool isFloat(Type type) { return isa<FloatType>(type); }

Value add(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x.getType()))
    return arith::AddFOp::create(b, loc, x, y);
  return arith::AddIOp::create(b, loc, x, y);
}

Value sub(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x.getType()))
    return arith::SubFOp::create(b, loc, x, y);
  return arith::SubIOp::create(b, loc, x, y);
}

Value mul(OpBuilder &b, Location loc, Value x, Value y) {
  if (isFloat(x.getType()))
    return arith::MulFOp::create(b, loc, x, y);
  return arith::MulIOp::create(b, loc, x, y);
}

Value div(OpBuilder &b, Location loc, Value x, Value y, bool isUnsignedInt) {
  if (isFloat(x.getType()))
    return arith::DivFOp::create(b, loc, x, y);
  if (isUnsignedInt)
    return arith::DivUIOp::create(b, loc, x, y);
  return arith::DivSIOp::create(b, loc, x, y);
}

Value maxOf(OpBuilder &b, Location loc, Value x, Value y, bool isUnsignedInt) {
  if (isFloat(x.getType()))
    return arith::MaximumFOp::create(b, loc, x, y);
  if (isUnsignedInt)
    return arith::MaxUIOp::create(b, loc, x, y);
  return arith::MaxSIOp::create(b, loc, x, y);
}

Value minOf(OpBuilder &b, Location loc, Value x, Value y, bool isUnsignedInt) {
  if (isFloat(x.getType()))
    return arith::MinimumFOp::create(b, loc, x, y);
  if (isUnsignedInt)
    return arith::MinUIOp::create(b, loc, x, y);
  return arith::MinSIOp::create(b, loc, x, y);
}

/// x > y (or x >= y when `orEqual`), with the ONNX signedness.
Value greater(OpBuilder &b, Location loc, Value x, Value y, bool orEqual,
              bool isUnsignedInt) {
  if (isFloat(x.getType()))
    return arith::CmpFOp::create(b, loc,
                                 orEqual ? arith::CmpFPredicate::OGE
                                         : arith::CmpFPredicate::OGT,
                                 x, y);
  arith::CmpIPredicate predicate =
      isUnsignedInt ? (orEqual ? arith::CmpIPredicate::uge : arith::CmpIPredicate::ugt)
                    : (orEqual ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sgt);
  return arith::CmpIOp::create(b, loc, predicate, x, y);
}

/// The lowest (`highest` false) or highest value of a type: -inf/+inf for
/// floats, the extreme integers otherwise.
Value extremeConstant(OpBuilder &b, Location loc, Type type, bool highest,
                      bool isUnsignedInt) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(type, APFloat::getInf(floatType.getFloatSemantics(),
                                             /*Negative=*/!highest)));
  unsigned width = type.getIntOrFloatBitWidth();
  APInt value = isUnsignedInt
                    ? (highest ? APInt::getMaxValue(width) : APInt::getZero(width))
                    : (highest ? APInt::getSignedMaxValue(width)
                               : APInt::getSignedMinValue(width));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

Value indexToI64(OpBuilder &b, Location loc, Value index) {
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
}

//===----------------------------------------------------------------------===//
// Reduction building blocks
//===----------------------------------------------------------------------===//

/// Which input dimensions a reduction folds.
using DimMask = SmallVector<bool>;

DimMask maskOfRange(int64_t rank, int64_t from, int64_t to) {
  DimMask mask(rank, false);
  for (int64_t d = from; d < to; ++d)
    mask[d] = true;
  return mask;
}

/// The map from the input loops to a reduction output: reduced dimensions
/// become the constant 0 (`keep`) or disappear.
AffineMap outputMap(MLIRContext *ctx, ArrayRef<bool> reduced, bool keep) {
  SmallVector<AffineExpr> exprs;
  for (auto [d, isReduced] : llvm::enumerate(reduced)) {
    if (!isReduced)
      exprs.push_back(getAffineDimExpr(d, ctx));
    else if (keep)
      exprs.push_back(getAffineConstantExpr(0, ctx));
  }
  return AffineMap::get(reduced.size(), 0, exprs, ctx);
}

/// The type of `input` reduced over `reduced` with element type `element`.
RankedTensorType reducedType(RankedTensorType input, ArrayRef<bool> reduced,
                             bool keep, Type element) {
  SmallVector<int64_t> shape;
  for (auto [d, isReduced] : llvm::enumerate(reduced)) {
    if (!isReduced)
      shape.push_back(input.getDimSize(d));
    else if (keep)
      shape.push_back(1);
  }
  return RankedTensorType::get(shape, element);
}

/// A tensor of `type` (reduced from `input`) filled with `value`.
Value filledLike(OpBuilder &b, Location loc, Value input, ArrayRef<bool> reduced,
                 RankedTensorType type, Value value) {
  auto inputType = cast<RankedTensorType>(input.getType());
  SmallVector<Value> sizes;
  for (auto [d, isReduced] : llvm::enumerate(reduced))
    if (!isReduced && inputType.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, input, d));
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        type.getElementType(), sizes);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

using ReductionBody = function_ref<SmallVector<Value>(
    OpBuilder &b, Location loc, ValueRange inputs, ValueRange accumulators)>;

/// One linalg.generic over the loops of `full` that folds the `reduced`
/// loops: `full` and `fullInputs` are read at every point, `keptInputs`
/// (kept-shape tensors) at the point's reduced position, and one output per
/// initial scalar in `inits` accumulates `body`.
SmallVector<Value> reduce(OpBuilder &b, Location loc, Value full,
                          ArrayRef<bool> reduced, bool keep,
                          ValueRange fullInputs, ValueRange keptInputs,
                          ValueRange inits, ReductionBody body) {
  MLIRContext *ctx = b.getContext();
  auto fullType = cast<RankedTensorType>(full.getType());
  int64_t rank = fullType.getRank();
  SmallVector<Value> inputs{full};
  llvm::append_range(inputs, fullInputs);
  SmallVector<AffineMap> maps(inputs.size(), b.getMultiDimIdentityMap(rank));
  for (Value kept : keptInputs) {
    inputs.push_back(kept);
    maps.push_back(outputMap(ctx, reduced, /*keep=*/true));
  }
  SmallVector<Value> outputs;
  SmallVector<Type> types;
  for (Value init : inits) {
    auto type = reducedType(fullType, reduced, keep, init.getType());
    outputs.push_back(filledLike(b, loc, full, reduced, type, init));
    types.push_back(type);
    maps.push_back(outputMap(ctx, reduced, keep));
  }
  SmallVector<utils::IteratorType> iterators;
  for (bool isReduced : reduced)
    iterators.push_back(isReduced ? utils::IteratorType::reduction
                                  : utils::IteratorType::parallel);
  unsigned numInputs = inputs.size();
  auto generic = linalg::GenericOp::create(
      b, loc, types, inputs, outputs, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(
            nb, nloc, body(nb, nloc, args.take_front(numInputs),
                           args.drop_front(numInputs)));
      });
  return SmallVector<Value>(generic.getResults().begin(), generic.getResults().end());
}

/// The number of elements the `reduced` dimensions of `input` hold, as a
/// scalar of `type`.
Value reducedCount(OpBuilder &b, Location loc, Value input,
                   ArrayRef<bool> reduced, Type type) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t staticCount = 1;
  Value dynamicCount;
  for (auto [d, isReduced] : llvm::enumerate(reduced)) {
    if (!isReduced)
      continue;
    if (!inputType.isDynamicDim(d)) {
      staticCount *= inputType.getDimSize(d);
      continue;
    }
    Value size = tensor::DimOp::create(b, loc, input, d);
    dynamicCount = dynamicCount
                       ? arith::MulIOp::create(b, loc, dynamicCount, size).getResult()
                       : size;
  }
  if (!dynamicCount)
    return scalarConstant(b, loc, type, static_cast<double>(staticCount));
  Value count = arith::MulIOp::create(
      b, loc, dynamicCount, arith::ConstantIndexOp::create(b, loc, staticCount));
  Value asInt = indexToI64(b, loc, count);
  return castScalar(b, loc, asInt, type, /*fromUnsigned=*/true, false);
}

/// `value` as `type` when they differ only in static information.
Value castTo(OpBuilder &b, Location loc, Value value, RankedTensorType type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(b, loc, type, value);
}

/// Whether result `index` is an absent optional output.
bool resultAbsent(Operation *op, unsigned index) {
  return index >= op->getNumResults() ||
         isa<NoneType>(op->getResult(index).getType());
}

/// The ai.onnx opset of the model holding `op` (its module's
/// `onnx.opset_import`); the newest when unknown. Operators whose versions
/// differ only in semantics (Softmax's axis) share one op.
int64_t modelOpset(Operation *op) {
  auto module = op->getParentOfType<ModuleOp>();
  auto imports = module ? dyn_cast_or_null<DictionaryAttr>(
                              module->getAttr("onnx.opset_import"))
                        : DictionaryAttr();
  if (imports)
    for (StringRef domain : {"ai.onnx", ""})
      if (auto version = dyn_cast_or_null<IntegerAttr>(imports.get(domain)))
        return version.getInt();
  return std::numeric_limits<int64_t>::max();
}

/// `axis` in [0, rank), or failure with an error.
FailureOr<int64_t> normalizeAxis(Operation *op, int64_t axis, int64_t rank) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= std::max<int64_t>(rank, 1)) {
    op->emitError() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  return normalized;
}

FailureOr<RankedTensorType> rankedOperand(Operation *op, Value value,
                                          StringRef what) {
  auto type = dyn_cast_or_null<RankedTensorType>(value ? value.getType() : Type());
  if (!type) {
    op->emitError() << what << " must be a ranked tensor";
    return failure();
  }
  return type;
}

//===----------------------------------------------------------------------===//
// Reduce*
//===----------------------------------------------------------------------===//

/// At most this many reductions are built for axes known only at run time.
constexpr size_t kMaxAxesCandidates = 4;

/// What distinguishes one Reduce* operator: the value mapped over the
/// elements first, how they combine, and the map of the combined value.
struct ReduceKind {
  enum Combine { Sum, Prod, Max, Min } combine;
  enum Pre { None, Abs, Square } pre = None;
  enum Post { Identity, Mean, Sqrt, Log } post = Identity;
  /// ReduceLogSumExp: log(sum(exp(x - max))) + max.
  bool logSumExp = false;
  /// Whether the post map needs floats.
  bool needsFloat() const { return post == Sqrt || post == Log || logSumExp; }
};

/// The axes a Reduce* op reduces, from its `axes` attribute (old opsets) or
/// input (ReduceSum 13+, every Reduce* 18+). An empty list means "all",
/// unless `noop_with_empty_axes`. Axes given as a run-time input are
/// recovered from the input and result shapes when that is unambiguous.
/// Returns an empty optional for the no-op case.
FailureOr<std::optional<SmallVector<DimMask>>> reductionAxes(Operation *op,
                ArrayRef<Value> operands, RankedTensorType input,
                RankedTensorType result, bool keep) {
  using Masks = SmallVector<DimMask>;
  int64_t rank = input.getRank();
  std::optional<SmallVector<int64_t>> axes;
  if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(
          op->getAttrDictionary().get("axes")))
    axes = llvm::to_vector(attr.asArrayRef());
  else if (operands.size() < 2 || !operands[1])
    axes = SmallVector<int64_t>{};
  else if ((axes = constantInts(operands[1])))
    ;
  else if ((axes = constantInts(op->getOperand(1))))
    ;
  else {
    auto axesType = cast<RankedTensorType>(operands[1].getType());
    if (axesType.getRank() == 1 && axesType.getDimSize(0) == 0)
      axes = SmallVector<int64_t>{};
  }
  if (axes && axes->empty()) {
    if (intAttr(op, "noop_with_empty_axes", 0))
      return std::optional<Masks>();
    return std::optional<Masks>(Masks{DimMask(rank, true)});
  }
  if (axes) {
    DimMask mask(rank, false);
    for (int64_t axis : *axes) {
      FailureOr<int64_t> d = normalizeAxis(op, axis, rank);
      if (failed(d))
        return failure();
      mask[*d] = true;
    }
    return std::optional<Masks>(Masks{mask});
  }

  // Axes known only at run time: the static shapes say which dimensions
  // shrink. Reducing a size-1 dimension or not gives the same values, so
  // only dimensions of other sizes must be told apart.
  if (!input.hasStaticShape() || !result.hasStaticShape())
    return op->emitError("axes known only at run time need static input and "
                         "result shapes"),
           failure();
  if (keep) {
    if (result.getRank() != rank)
      return op->emitError("result rank does not match keepdims"), failure();
    DimMask mask(rank, false);
    for (int64_t d = 0; d < rank; ++d)
      mask[d] = input.getDimSize(d) != result.getDimSize(d) ||
                input.getDimSize(d) == 1;
    return std::optional<Masks>(Masks{mask});
  }
  // Without keepdims, find the dimensions whose removal leaves the result
  // shape. Choices that reduce the same non-trivial dimensions agree; when
  // several disagree, each is a candidate the run-time axes pick from.
  Masks candidates;
  int64_t dropCount = rank - result.getRank();
  if (dropCount < 0 || rank > 16)
    return op->emitError("cannot match the result shape to the input shape"),
           failure();
  for (uint32_t bits = 0; bits < (1u << rank); ++bits) {
    if (llvm::popcount(bits) != dropCount)
      continue;
    DimMask mask(rank, false);
    SmallVector<int64_t> kept;
    for (int64_t d = 0; d < rank; ++d) {
      mask[d] = bits & (1u << d);
      if (!mask[d])
        kept.push_back(input.getDimSize(d));
    }
    if (ArrayRef<int64_t>(kept) != result.getShape())
      continue;
    bool known = llvm::any_of(candidates, [&](const DimMask &other) {
      for (int64_t d = 0; d < rank; ++d)
        if (input.getDimSize(d) != 1 && other[d] != mask[d])
          return false;
      return true;
    });
    if (!known)
      candidates.push_back(mask);
  }
  if (candidates.empty())
    return op->emitError("cannot match the result shape to the input shape"),
           failure();
  if (candidates.size() > kMaxAxesCandidates)
    return op->emitError("axes known only at run time are ambiguous for these "
                         "shapes; give axes as a constant"),
           failure();
  return std::optional<Masks>(candidates);
}

/// Whether the run-time `axes` name every dimension of `mask` whose size is
/// not 1 (the test that picks a candidate reduction).
Value axesSelect(OpBuilder &b, Location loc, Value axes, ArrayRef<bool> mask,
                 RankedTensorType input) {
  auto axesType = cast<RankedTensorType>(axes.getType());
  int64_t rank = input.getRank();
  Value all = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (int64_t d = 0; d < rank; ++d) {
    if (!mask[d] || input.getDimSize(d) == 1)
      continue;
    Value named = arith::ConstantIntOp::create(b, loc, 0, 1);
    for (int64_t j = 0; j < axesType.getDimSize(0); ++j) {
      Value index = arith::ConstantIndexOp::create(b, loc, j);
      Value axis = tensor::ExtractOp::create(b, loc, axes, ValueRange{index});
      Type type = axis.getType();
      for (int64_t value : {d, d - rank}) {
        Value match = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::eq, axis,
            arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value)));
        named = arith::OrIOp::create(b, loc, named, match);
      }
    }
    all = arith::AndIOp::create(b, loc, all, named);
  }
  return all;
}

// Pattern: Reduce<Kind>(X, axes) -> post(fold(pre(X))) over `axes`, as one
//   linalg.generic with reduction iterators (LogSumExp: max first).
ONNXLowering reduceLowering(ReduceKind kind) {
  return [kind](Operation *op, ArrayRef<Value> operands,
                ConversionPatternRewriter &rewriter)
             -> FailureOr<SmallVector<Value>> {
    FailureOr<RankedTensorType> result = resultType(op, 0);
    FailureOr<RankedTensorType> inputType =
        rankedOperand(op, operands[0], "the data input");
    if (failed(result) || failed(inputType))
      return failure();
    Location loc = op->getLoc();
    Value x = operands[0];
    Type element = inputType->getElementType();
    bool isUnsignedInt = isUnsigned(op->getOperand(0));
    if (!element.isIntOrFloat() || element.isInteger(1))
      return op->emitError("reductions of this element type are not supported"),
             failure();
    if (kind.needsFloat() && !isFloat(element))
      return op->emitError("this reduction of integers is not supported"),
             failure();
    bool keep = intAttr(op, "keepdims", 1) != 0;
    FailureOr<std::optional<SmallVector<DimMask>>> axes =
        reductionAxes(op, operands, *inputType, *result, keep);
    if (failed(axes))
      return failure();
    if (!*axes)
      return SmallVector<Value>{castTo(rewriter, loc, x, *result)};

    auto lower = [&](const DimMask &reduced) -> Value {
      Value maxValue;
      if (kind.logSumExp)
        maxValue = reduce(rewriter, loc, x, reduced, /*keep=*/true, {}, {},
                          {extremeConstant(rewriter, loc, element, false, false)},
                          [](OpBuilder &b, Location l, ValueRange in,
                             ValueRange acc) -> SmallVector<Value> {
                            return {maxOf(b, l, in[0], acc[0], false)};
                          })[0];

      Value init;
      switch (kind.combine) {
      case ReduceKind::Sum:
        init = scalarConstant(rewriter, loc, element, 0);
        break;
      case ReduceKind::Prod:
        init = scalarConstant(rewriter, loc, element, 1);
        break;
      case ReduceKind::Max:
        init = extremeConstant(rewriter, loc, element, false, isUnsignedInt);
        break;
      case ReduceKind::Min:
        init = extremeConstant(rewriter, loc, element, true, isUnsignedInt);
        break;
      }
      SmallVector<Value> kept;
      if (maxValue)
        kept.push_back(maxValue);
      Value reducedValue =
          reduce(rewriter, loc, x, reduced, /*keep=*/kind.logSumExp || keep, {},
                 kept, {init},
                 [&](OpBuilder &b, Location l, ValueRange in,
                     ValueRange acc) -> SmallVector<Value> {
                   Value v = in[0];
                   if (kind.logSumExp)
                     v = math::ExpOp::create(b, l, sub(b, l, v, in[1]));
                   if (kind.pre == ReduceKind::Abs)
                     v = isFloat(v.getType())
                             ? math::AbsFOp::create(b, l, v).getResult()
                             : (isUnsignedInt ? v
                                              : math::AbsIOp::create(b, l, v).getResult());
                   else if (kind.pre == ReduceKind::Square)
                     v = mul(b, l, v, v);
                   switch (kind.combine) {
                   case ReduceKind::Sum:
                     return {add(b, l, v, acc[0])};
                   case ReduceKind::Prod:
                     return {mul(b, l, v, acc[0])};
                   case ReduceKind::Max:
                     return {maxOf(b, l, v, acc[0], isUnsignedInt)};
                   case ReduceKind::Min:
                     return {minOf(b, l, v, acc[0], isUnsignedInt)};
                   }
                   llvm_unreachable("unknown combination");
                 })[0];

      if (kind.logSumExp) {
        auto keptType = cast<RankedTensorType>(reducedValue.getType());
        Value logSum = elementwise(
            rewriter, loc, keptType, {reducedValue, maxValue},
            [](OpBuilder &b, Location l, ValueRange args) -> Value {
              return arith::AddFOp::create(b, l, math::LogOp::create(b, l, args[0]),
                                           args[1]);
            });
        if (keep)
          return castTo(rewriter, loc, logSum, *result);
        // Drop the kept dimensions with one more (trivial) reduction.
        DimMask ones(reduced);
        Value dropped =
            reduce(rewriter, loc, logSum, ones, /*keep=*/false, {}, {},
                   {scalarConstant(rewriter, loc, element, 0)},
                   [](OpBuilder &b, Location l, ValueRange in,
                      ValueRange acc) -> SmallVector<Value> {
                     return {arith::AddFOp::create(b, l, in[0], acc[0])};
                   })[0];
        return castTo(rewriter, loc, dropped, *result);
      }

      if (kind.post != ReduceKind::Identity) {
        auto type = cast<RankedTensorType>(reducedValue.getType());
        Value count = kind.post == ReduceKind::Mean
                          ? reducedCount(rewriter, loc, x, reduced, element)
                          : Value();
        ReduceKind::Post post = kind.post;
        reducedValue = elementwise(
            rewriter, loc, type, {reducedValue},
            [&](OpBuilder &b, Location l, ValueRange args) -> Value {
              switch (post) {
              case ReduceKind::Mean:
                return div(b, l, args[0], count, isUnsignedInt);
              case ReduceKind::Sqrt:
                return math::SqrtOp::create(b, l, args[0]);
              case ReduceKind::Log:
                return math::LogOp::create(b, l, args[0]);
              case ReduceKind::Identity:
                break;
              }
              return args[0];
            });
      }
      return castTo(rewriter, loc, reducedValue, *result);
    };

    ArrayRef<DimMask> candidates = **axes;
    if (candidates.size() == 1)
      return SmallVector<Value>{lower(candidates.front())};
    // Axes known only at run time, several readings of the shapes: build
    // each reduction and select the one the axes name.
    SmallVector<Value> values, picks;
    for (const DimMask &mask : candidates) {
      values.push_back(lower(mask));
      picks.push_back(axesSelect(rewriter, loc, operands[1], mask, *inputType));
    }
    Value selected = elementwise(
        rewriter, loc, *result, values,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value value = args.back();
          for (int64_t i = args.size() - 2; i >= 0; --i)
            value = arith::SelectOp::create(b, l, picks[i], args[i], value);
          return value;
        });
    return SmallVector<Value>{selected};
  };
}

//===----------------------------------------------------------------------===//
// ArgMax, ArgMin, Hardmax, TopK
//===----------------------------------------------------------------------===//

// Pattern: ArgMax/ArgMin(X) -> one reduction carrying (best value, its index) along
//   `axis`; ties keep the first index, or the last with select_last_index.
ONNXLowering argLowering(bool isMax) {
  return [isMax](Operation *op, ArrayRef<Value> operands,
                 ConversionPatternRewriter &rewriter)
             -> FailureOr<SmallVector<Value>> {
    FailureOr<RankedTensorType> result = resultType(op, 0);
    FailureOr<RankedTensorType> inputType =
        rankedOperand(op, operands[0], "the data input");
    if (failed(result) || failed(inputType))
      return failure();
    Location loc = op->getLoc();
    Type element = inputType->getElementType();
    if (!element.isIntOrFloat() || element.isInteger(1))
      return op->emitError("this element type is not supported"), failure();
    bool isUnsignedInt = isUnsigned(op->getOperand(0));
    int64_t rank = inputType->getRank();
    FailureOr<int64_t> axis = normalizeAxis(op, intAttr(op, "axis", 0), rank);
    if (failed(axis))
      return failure();
    bool keep = intAttr(op, "keepdims", 1) != 0;
    bool last = intAttr(op, "select_last_index", 0) != 0;
    DimMask reduced = maskOfRange(rank, *axis, *axis + 1);
    int64_t axisDim = *axis;
    Value initValue = extremeConstant(rewriter, loc, element, !isMax, isUnsignedInt);
    Value initIndex = scalarConstant(rewriter, loc, rewriter.getI64Type(), 0);
    SmallVector<Value> outs = reduce(
        rewriter, loc, operands[0], reduced, keep, {}, {}, {initValue, initIndex},
        [&](OpBuilder &b, Location l, ValueRange in,
            ValueRange acc) -> SmallVector<Value> {
          Value index = indexToI64(b, l, linalg::IndexOp::create(b, l, axisDim));
          Value better = isMax ? greater(b, l, in[0], acc[0], last, isUnsignedInt)
                               : greater(b, l, acc[0], in[0], last, isUnsignedInt);
          return {arith::SelectOp::create(b, l, better, in[0], acc[0]),
                  arith::SelectOp::create(b, l, better, index, acc[1])};
        });
    return SmallVector<Value>{castTo(rewriter, loc, outs[1], *result)};
  };
}

/// The row-major position of a point among the `reduced` dimensions of
/// `input`, inside a linalg.generic over the input's loops; `strides` are
/// those dimensions' strides.
Value linearIndex(OpBuilder &b, Location loc, ArrayRef<bool> reduced,
                  ArrayRef<Value> strides) {
  Value linear = arith::ConstantIndexOp::create(b, loc, 0);
  for (auto [d, isReduced] : llvm::enumerate(reduced)) {
    if (!isReduced)
      continue;
    Value index = linalg::IndexOp::create(b, loc, d);
    linear = arith::AddIOp::create(
        b, loc, linear, arith::MulIOp::create(b, loc, index, strides[d]));
  }
  return indexToI64(b, loc, linear);
}

SmallVector<Value> reducedStrides(OpBuilder &b, Location loc, Value input,
                                  ArrayRef<bool> reduced) {
  int64_t rank = reduced.size();
  SmallVector<Value> strides(rank);
  Value stride = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t d = rank - 1; d >= 0; --d) {
    if (!reduced[d])
      continue;
    strides[d] = stride;
    stride = arith::MulIOp::create(b, loc, stride,
                                   tensor::DimOp::create(b, loc, input, d));
  }
  return strides;
}

/// The dimensions Softmax, LogSoftmax and Hardmax normalize over: `axis`
/// alone from opset 13, else every dimension from `axis` on (the input
/// coerced to 2-D).
FailureOr<DimMask> softmaxDims(Operation *op, int64_t rank) {
  bool perAxis = modelOpset(op) >= 13;
  FailureOr<int64_t> axis =
      normalizeAxis(op, intAttr(op, "axis", perAxis ? -1 : 1), rank);
  if (failed(axis))
    return failure();
  return maskOfRange(rank, *axis, perAxis ? *axis + 1 : rank);
}

// Pattern: Hardmax(X) -> 1 at the first maximum of each row, 0 elsewhere.
FailureOr<SmallVector<Value>> lowerHardmax(Operation *op, ArrayRef<Value> operands,
                                           ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  Type element = result->getElementType();
  if (!isFloat(element))
    return op->emitError("Hardmax needs a float input"), failure();
  FailureOr<DimMask> reduced = softmaxDims(op, result->getRank());
  if (failed(reduced))
    return failure();
  SmallVector<Value> strides = reducedStrides(rewriter, loc, x, *reduced);
  Value maxValue =
      reduce(rewriter, loc, x, *reduced, true, {}, {},
             {extremeConstant(rewriter, loc, element, false, false)},
             [](OpBuilder &b, Location l, ValueRange in,
                ValueRange acc) -> SmallVector<Value> {
               return {maxOf(b, l, in[0], acc[0], false)};
             })[0];
  Value first = reduce(
      rewriter, loc, x, *reduced, true, {}, {maxValue},
      {arith::ConstantOp::create(
          rewriter, loc,
          rewriter.getI64IntegerAttr(std::numeric_limits<int64_t>::max()))},
      [&](OpBuilder &b, Location l, ValueRange in,
          ValueRange acc) -> SmallVector<Value> {
        Value isMax = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                            in[0], in[1]);
        Value index = linearIndex(b, l, *reduced, strides);
        Value candidate = arith::SelectOp::create(b, l, isMax, index, acc[0]);
        return {arith::MinSIOp::create(b, l, candidate, acc[0])};
      })[0];
  Value y = elementwise(
      rewriter, loc, *result, {x, first},
      [&](OpBuilder &b, Location l, ValueRange args) -> Value {
        Value index = linearIndex(b, l, *reduced, strides);
        Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, index,
                                          args[1]);
        return arith::SelectOp::create(b, l, hit, scalarConstant(b, l, element, 1),
                                       scalarConstant(b, l, element, 0));
      });
  return SmallVector<Value>{y};
}

// Pattern: TopK(X, k) -> ranking: an element's rank along the axis is the
//   number of elements ordered before it (larger, or equal with a smaller
//   index, for largest=1); output slot r takes the element of rank r.
//   Quadratic in the axis length, which suits the small axes TopK sees.
FailureOr<SmallVector<Value>> lowerTopK(Operation *op, ArrayRef<Value> operands,
                                        ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> valuesType = resultType(op, 0);
  FailureOr<RankedTensorType> indicesType = resultType(op, 1);
  FailureOr<RankedTensorType> inputType =
      rankedOperand(op, operands[0], "the data input");
  if (failed(valuesType) || failed(indicesType) || failed(inputType))
    return failure();
  Location loc = op->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Value x = operands[0];
  Type element = inputType->getElementType();
  bool isUnsignedInt = isUnsigned(op->getOperand(0));
  int64_t rank = inputType->getRank();
  FailureOr<int64_t> axis = normalizeAxis(op, intAttr(op, "axis", -1), rank);
  if (failed(axis))
    return failure();
  bool largest = intAttr(op, "largest", 1) != 0;
  if (valuesType->isDynamicDim(*axis))
    return op->emitError("TopK needs k known at compile time"), failure();
  int64_t a = *axis;

  // rank[..., i, ...] over loops (..., i, ..., j) with j last and reduced.
  SmallVector<AffineExpr> iExprs, jExprs;
  for (int64_t d = 0; d < rank; ++d) {
    iExprs.push_back(getAffineDimExpr(d, ctx));
    jExprs.push_back(getAffineDimExpr(d == a ? rank : d, ctx));
  }
  AffineMap iMap = AffineMap::get(rank + 1, 0, iExprs, ctx);
  AffineMap jMap = AffineMap::get(rank + 1, 0, jExprs, ctx);
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  auto rankType = RankedTensorType::get(inputType->getShape(), rewriter.getI64Type());
  Value rankInit = linalg::FillOp::create(
                       rewriter, loc,
                       scalarConstant(rewriter, loc, rewriter.getI64Type(), 0),
                       emptyTensor(rewriter, loc, rankType, {x}))
                       .getResult(0);
  Value ranks =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{rankType}, ValueRange{x, x},
          ValueRange{rankInit}, {iMap, jMap, iMap}, iterators,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value i = linalg::IndexOp::create(b, l, a);
            Value j = linalg::IndexOp::create(b, l, rank);
            Value before =
                largest ? greater(b, l, args[1], args[0], false, isUnsignedInt)
                        : greater(b, l, args[0], args[1], false, isUnsignedInt);
            Value equal = isFloat(element)
                              ? arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                                      args[0], args[1])
                                    .getResult()
                              : arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                                      args[0], args[1])
                                    .getResult();
            Value earlier =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, j, i);
            Value tieBefore = arith::AndIOp::create(b, l, equal, earlier);
            Value counts = arith::OrIOp::create(b, l, before, tieBefore);
            Value one = arith::ExtUIOp::create(b, l, b.getI64Type(), counts);
            linalg::YieldOp::create(b, l,
                                    ValueRange{arith::AddIOp::create(b, l, args[2], one)});
          })
          .getResult(0);

  // out[..., r, ...] over loops (..., r, ..., i) with i last and reduced.
  SmallVector<AffineExpr> rExprs;
  for (int64_t d = 0; d < rank; ++d)
    rExprs.push_back(getAffineDimExpr(d, ctx));
  AffineMap rMap = AffineMap::get(rank + 1, 0, rExprs, ctx);
  Value valuesInit = linalg::FillOp::create(
                         rewriter, loc, scalarConstant(rewriter, loc, element, 0),
                         emptyTensor(rewriter, loc, *valuesType, {x}))
                         .getResult(0);
  Value indicesInit =
      linalg::FillOp::create(rewriter, loc,
                             scalarConstant(rewriter, loc, rewriter.getI64Type(), 0),
                             emptyTensor(rewriter, loc, *indicesType, {x}))
          .getResult(0);
  auto gather = linalg::GenericOp::create(
      rewriter, loc, TypeRange{*valuesType, *indicesType}, ValueRange{x, ranks},
      ValueRange{valuesInit, indicesInit}, {jMap, jMap, rMap, rMap}, iterators,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value r = indexToI64(b, l, linalg::IndexOp::create(b, l, a));
        Value i = indexToI64(b, l, linalg::IndexOp::create(b, l, rank));
        Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, args[1], r);
        linalg::YieldOp::create(
            b, l,
            ValueRange{arith::SelectOp::create(b, l, hit, args[0], args[2]),
                       arith::SelectOp::create(b, l, hit, i, args[3])});
      });
  return SmallVector<Value>{gather.getResult(0), gather.getResult(1)};
}

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

/// log(sum(exp(x - max))) pieces: the kept max and the kept sum.
std::pair<Value, Value> softmaxParts(OpBuilder &b, Location loc, Value x,
                                     ArrayRef<bool> reduced) {
  Type element = cast<RankedTensorType>(x.getType()).getElementType();
  Value maxValue = reduce(b, loc, x, reduced, true, {}, {},
                          {extremeConstant(b, loc, element, false, false)},
                          [](OpBuilder &nb, Location l, ValueRange in,
                             ValueRange acc) -> SmallVector<Value> {
                            return {maxOf(nb, l, in[0], acc[0], false)};
                          })[0];
  Value sum = reduce(b, loc, x, reduced, true, {}, {maxValue},
                     {scalarConstant(b, loc, element, 0)},
                     [](OpBuilder &nb, Location l, ValueRange in,
                        ValueRange acc) -> SmallVector<Value> {
                       Value e = math::ExpOp::create(
                           nb, l, arith::SubFOp::create(nb, l, in[0], in[1]));
                       return {arith::AddFOp::create(nb, l, e, acc[0])};
                     })[0];
  return {maxValue, sum};
}

/// log_softmax(x) = x - max - log(sum(exp(x - max))).
Value logSoftmax(OpBuilder &b, Location loc, Value x, ArrayRef<bool> reduced) {
  auto [maxValue, sum] = softmaxParts(b, loc, x, reduced);
  return elementwise(b, loc, cast<RankedTensorType>(x.getType()),
                     {x, maxValue, sum},
                     [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       Value shifted = arith::SubFOp::create(nb, l, args[0], args[1]);
                       return arith::SubFOp::create(
                           nb, l, shifted, math::LogOp::create(nb, l, args[2]));
                     });
}

// Pattern: Softmax(x) -> exp(x - max(x)) / sum(exp(x - max(x)))
// Pattern: LogSoftmax(x) -> x - max(x) - log(sum(exp(x - max(x))))
ONNXLowering softmaxLowering(bool isLog) {
  return [isLog](Operation *op, ArrayRef<Value> operands,
                 ConversionPatternRewriter &rewriter)
             -> FailureOr<SmallVector<Value>> {
    FailureOr<RankedTensorType> result = resultType(op, 0);
    if (failed(result))
      return failure();
    if (!isFloat(result->getElementType()))
      return op->emitError("softmax needs a float input"), failure();
    FailureOr<DimMask> reduced = softmaxDims(op, result->getRank());
    if (failed(reduced))
      return failure();
    Location loc = op->getLoc();
    Value x = operands[0];
    if (isLog)
      return SmallVector<Value>{
          castTo(rewriter, loc, logSoftmax(rewriter, loc, x, *reduced), *result)};
    auto [maxValue, sum] = softmaxParts(rewriter, loc, x, *reduced);
    Value y = elementwise(
        rewriter, loc, *result, {x, maxValue, sum},
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value e = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, args[0], args[1]));
          return arith::DivFOp::create(b, l, e, args[2]);
        });
    return SmallVector<Value>{y};
  };
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// The kept mean and the kept biased variance of `x` over `reduced`.
std::pair<Value, Value> meanAndVariance(OpBuilder &b, Location loc, Value x,
                                        ArrayRef<bool> reduced) {
  Type element = cast<RankedTensorType>(x.getType()).getElementType();
  Value count = reducedCount(b, loc, x, reduced, element);
  Value zero = scalarConstant(b, loc, element, 0);
  Value sum = reduce(b, loc, x, reduced, true, {}, {}, {zero},
                     [](OpBuilder &nb, Location l, ValueRange in,
                        ValueRange acc) -> SmallVector<Value> {
                       return {arith::AddFOp::create(nb, l, in[0], acc[0])};
                     })[0];
  auto keptType = cast<RankedTensorType>(sum.getType());
  auto divideByCount = [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
    return arith::DivFOp::create(nb, l, args[0], count);
  };
  Value mean = elementwise(b, loc, keptType, {sum}, divideByCount);
  Value squares = reduce(b, loc, x, reduced, true, {}, {mean}, {zero},
                         [](OpBuilder &nb, Location l, ValueRange in,
                            ValueRange acc) -> SmallVector<Value> {
                           Value d = arith::SubFOp::create(nb, l, in[0], in[1]);
                           Value sq = arith::MulFOp::create(nb, l, d, d);
                           return {arith::AddFOp::create(nb, l, sq, acc[0])};
                         })[0];
  Value variance = elementwise(b, loc, keptType, {squares}, divideByCount);
  return {mean, variance};
}

/// 1 / sqrt(variance + epsilon), elementwise on a kept tensor.
Value inverseStdDev(OpBuilder &b, Location loc, Value variance, double epsilon) {
  auto type = cast<RankedTensorType>(variance.getType());
  return elementwise(b, loc, type, {variance},
                     [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       Value eps = scalarConstant(nb, l, args[0].getType(), epsilon);
                       Value one = scalarConstant(nb, l, args[0].getType(), 1.0);
                       Value std = math::SqrtOp::create(
                           nb, l, arith::AddFOp::create(nb, l, args[0], eps));
                       return arith::DivFOp::create(nb, l, one, std);
                     });
}

/// A tensor converted elementwise to element type `to`.
Value convertElements(OpBuilder &b, Location loc, Value v, Type to) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getElementType() == to)
    return v;
  return elementwise(b, loc, type.clone(to), {v},
                     [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                       return castScalar(nb, l, args[0], to, false, false);
                     });
}

// Pattern: LayerNormalization(X, Scale, B) ->
//   (X - mean) * rsqrt(var + epsilon) * Scale + B, over the dimensions from
//   `axis` on, computed in the stash type (f32 by default).
FailureOr<SmallVector<Value>> lowerLayerNorm(Operation *op, ArrayRef<Value> operands,
                                             ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  if (!isFloat(result->getElementType()))
    return op->emitError("LayerNormalization needs a float input"), failure();
  Location loc = op->getLoc();
  int64_t rank = result->getRank();
  FailureOr<int64_t> axis = normalizeAxis(op, intAttr(op, "axis", -1), rank);
  if (failed(axis))
    return failure();
  double epsilon = floatAttr(op, "epsilon", 1e-5);
  Type element = result->getElementType();
  Type compute = intAttr(op, "stash_type", 1) == 1 ? rewriter.getF32Type() : element;
  if (compute.getIntOrFloatBitWidth() < element.getIntOrFloatBitWidth())
    compute = element;
  DimMask reduced = maskOfRange(rank, *axis, rank);
  Value x = convertElements(rewriter, loc, operands[0], compute);
  auto [mean, variance] = meanAndVariance(rewriter, loc, x, reduced);
  Value inv = inverseStdDev(rewriter, loc, variance, epsilon);
  SmallVector<Value> inputs{x, mean, inv,
                            convertElements(rewriter, loc, operands[1], compute)};
  if (operands.size() > 2 && operands[2])
    inputs.push_back(convertElements(rewriter, loc, operands[2], compute));
  Value y = elementwise(
      rewriter, loc, result->clone(compute), inputs,
      [](OpBuilder &b, Location l, ValueRange args) -> Value {
        Value centered = arith::SubFOp::create(b, l, args[0], args[1]);
        Value normalized = arith::MulFOp::create(b, l, centered, args[2]);
        Value scaled = arith::MulFOp::create(b, l, normalized, args[3]);
        return args.size() > 4 ? arith::AddFOp::create(b, l, scaled, args[4]).getResult()
                               : scaled;
      });
  SmallVector<Value> results{
      castTo(rewriter, loc, convertElements(rewriter, loc, y, element), *result)};
  SmallVector<Value> statistics{mean, inv};
  for (auto [index, value] : llvm::enumerate(statistics)) {
    if (resultAbsent(op, index + 1)) {
      results.push_back(Value());
      continue;
    }
    FailureOr<RankedTensorType> type = resultType(op, index + 1);
    if (failed(type))
      return failure();
    Value converted = convertElements(rewriter, loc, value, type->getElementType());
    results.push_back(castTo(rewriter, loc, converted, *type));
  }
  return results;
}

/// A linalg.generic over the loops of `resultType` reading each input
/// through its own map.
Value mapped(OpBuilder &b, Location loc, RankedTensorType resultType,
             Value sizeSource, ValueRange inputs, ArrayRef<AffineMap> maps,
             ScalarBody body) {
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(b, loc, resultType, {sizeSource});
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, inputs, ValueRange{init}, allMaps,
             iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

// Pattern: InstanceNormalization(X, scale, B) ->
//   (X - mean) * rsqrt(var + epsilon) * scale[c] + B[c], over the spatial
//   dimensions of each (n, c).
FailureOr<SmallVector<Value>> lowerInstanceNorm(Operation *op,
                                                ArrayRef<Value> operands,
                                                ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  int64_t rank = result->getRank();
  if (rank < 3 || !isFloat(result->getElementType()))
    return op->emitError("InstanceNormalization needs a float input of rank 3 or more"),
           failure();
  Location loc = op->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Value x = operands[0];
  DimMask reduced = maskOfRange(rank, 2, rank);
  auto [mean, variance] = meanAndVariance(rewriter, loc, x, reduced);
  Value inv = inverseStdDev(rewriter, loc, variance, floatAttr(op, "epsilon", 1e-5));
  AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
  AffineMap kept = outputMap(ctx, reduced, true);
  AffineMap channel = AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
  Value y = mapped(rewriter, loc, *result, x,
                   {x, mean, inv, operands[1], operands[2]},
                   {identity, kept, kept, channel, channel},
                   [](OpBuilder &b, Location l, ValueRange args) -> Value {
                     Value centered = arith::SubFOp::create(b, l, args[0], args[1]);
                     Value normalized = arith::MulFOp::create(b, l, centered, args[2]);
                     return arith::AddFOp::create(
                         b, l, arith::MulFOp::create(b, l, normalized, args[3]),
                         args[4]);
                   });
  return SmallVector<Value>{y};
}

// Pattern: GroupNormalization(X, scale, bias) ->
//   (X - mean) * rsqrt(var + epsilon) * scale + bias, the statistics over
//   each group of C / num_groups channels and the spatial dimensions; scale
//   and bias per channel (opset 21) or per group (opset 18).
FailureOr<SmallVector<Value>> lowerGroupNorm(Operation *op, ArrayRef<Value> operands,
                                             ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  int64_t rank = result->getRank();
  int64_t groups = intAttr(op, "num_groups", 0);
  int64_t channels = rank >= 2 ? result->getDimSize(1) : ShapedType::kDynamic;
  if (rank < 3 || !isFloat(result->getElementType()) || groups <= 0 ||
      ShapedType::isDynamic(channels) || channels % groups != 0 ||
      !result->hasStaticShape())
    return op->emitError("GroupNormalization needs a float input of static "
                         "shape, rank 3 or more, and channels divisible by "
                         "num_groups"),
           failure();
  Location loc = op->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Type element = result->getElementType();
  // X as (N, G, C/G, spatial...).
  SmallVector<int64_t> groupedShape{result->getDimSize(0), groups,
                                    channels / groups};
  llvm::append_range(groupedShape, result->getShape().drop_front(2));
  auto groupedType = RankedTensorType::get(groupedShape, element);
  SmallVector<ReassociationIndices> reassociation{{0}, {1, 2}};
  for (int64_t d = 2; d < rank; ++d)
    reassociation.push_back({d + 1});
  Value grouped = tensor::ExpandShapeOp::create(rewriter, loc, groupedType,
                                                operands[0], reassociation);
  DimMask reduced = maskOfRange(rank + 1, 2, rank + 1);
  auto [mean, variance] = meanAndVariance(rewriter, loc, grouped, reduced);
  Value inv = inverseStdDev(rewriter, loc, variance, floatAttr(op, "epsilon", 1e-5));
  AffineMap identity = rewriter.getMultiDimIdentityMap(rank + 1);
  AffineMap kept = outputMap(ctx, reduced, true);
  auto scaleType = cast<RankedTensorType>(operands[1].getType());
  bool perGroup = scaleType.getRank() == 1 && scaleType.getDimSize(0) == groups &&
                  groups != channels;
  // Channel c = g * (C/G) + i.
  AffineExpr channel = perGroup ? getAffineDimExpr(1, ctx)
                                : getAffineDimExpr(1, ctx) * (channels / groups) +
                                      getAffineDimExpr(2, ctx);
  AffineMap affine = AffineMap::get(rank + 1, 0, {channel}, ctx);
  Value y = mapped(rewriter, loc, groupedType, grouped,
                   {grouped, mean, inv, operands[1], operands[2]},
                   {identity, kept, kept, affine, affine},
                   [](OpBuilder &b, Location l, ValueRange args) -> Value {
                     Value centered = arith::SubFOp::create(b, l, args[0], args[1]);
                     Value normalized = arith::MulFOp::create(b, l, centered, args[2]);
                     return arith::AddFOp::create(
                         b, l, arith::MulFOp::create(b, l, normalized, args[3]),
                         args[4]);
                   });
  Value collapsed = tensor::CollapseShapeOp::create(rewriter, loc, *result, y,
                                                    reassociation);
  return SmallVector<Value>{collapsed};
}

// Pattern: MeanVarianceNormalization(X) ->
//   (X - mean) / (sqrt(var) + 1e-9) over `axes` (default 0, 2, 3).
FailureOr<SmallVector<Value>> lowerMVN(Operation *op, ArrayRef<Value> operands,
                                       ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  if (!isFloat(result->getElementType()))
    return op->emitError("MeanVarianceNormalization needs a float input"),
           failure();
  int64_t rank = result->getRank();
  SmallVector<int64_t> axes{0, 2, 3};
  if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(
          op->getAttrDictionary().get("axes")))
    axes = llvm::to_vector(attr.asArrayRef());
  DimMask reduced(rank, false);
  for (int64_t axis : axes) {
    FailureOr<int64_t> d = normalizeAxis(op, axis, rank);
    if (failed(d))
      return failure();
    reduced[*d] = true;
  }
  Location loc = op->getLoc();
  Value x = operands[0];
  auto [mean, variance] = meanAndVariance(rewriter, loc, x, reduced);
  Value y = elementwise(
      rewriter, loc, *result, {x, mean, variance},
      [](OpBuilder &b, Location l, ValueRange args) -> Value {
        Value eps = scalarConstant(b, l, args[0].getType(), 1e-9);
        Value std = arith::AddFOp::create(b, l, math::SqrtOp::create(b, l, args[2]), eps);
        return arith::DivFOp::create(b, l, arith::SubFOp::create(b, l, args[0], args[1]),
                                     std);
      });
  return SmallVector<Value>{y};
}

// Pattern: LpNormalization(X) -> X / norm_p(X) along `axis`, p in {1, 2};
//   0 where the norm is 0.
FailureOr<SmallVector<Value>> lowerLpNorm(Operation *op, ArrayRef<Value> operands,
                                          ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  int64_t p = intAttr(op, "p", 2);
  if (!isFloat(result->getElementType()) || (p != 1 && p != 2))
    return op->emitError("LpNormalization needs a float input and p of 1 or 2"),
           failure();
  int64_t rank = result->getRank();
  FailureOr<int64_t> axis = normalizeAxis(op, intAttr(op, "axis", -1), rank);
  if (failed(axis))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  DimMask reduced = maskOfRange(rank, *axis, *axis + 1);
  Value norm = reduce(rewriter, loc, x, reduced, true, {}, {},
                      {scalarConstant(rewriter, loc, result->getElementType(), 0)},
                      [&](OpBuilder &b, Location l, ValueRange in,
                          ValueRange acc) -> SmallVector<Value> {
                        Value v = p == 1 ? math::AbsFOp::create(b, l, in[0]).getResult()
                                         : arith::MulFOp::create(b, l, in[0], in[0])
                                               .getResult();
                        return {arith::AddFOp::create(b, l, v, acc[0])};
                      })[0];
  Value y = elementwise(rewriter, loc, *result, {x, norm},
                        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                          Value n = p == 1 ? args[1]
                                           : math::SqrtOp::create(b, l, args[1]).getResult();
                          // A zero norm gives 0, not NaN (as ONNX's reference).
                          Value zero = scalarConstant(b, l, n.getType(), 0);
                          Value isZero = arith::CmpFOp::create(
                              b, l, arith::CmpFPredicate::OEQ, n, zero);
                          return arith::SelectOp::create(
                              b, l, isZero, zero,
                              arith::DivFOp::create(b, l, args[0], n));
                        });
  return SmallVector<Value>{y};
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// NegativeLogLikelihoodLoss on log-probabilities `input` (N, C, d...):
/// per element -input[n, t, d...] * weight[t] with t = target[n, d...], 0
/// where t is ignore_index; then none, sum, or the sum divided by the sum of
/// the weights used (mean). The class is matched by a reduction over C, so
/// no target is ever used as an address.
FailureOr<Value> negativeLogLikelihood(Operation *op, OpBuilder &b, Location loc,
                                       Value input, Value target, Value weight,
                                       RankedTensorType result) {
  MLIRContext *ctx = b.getContext();
  auto inputType = cast<RankedTensorType>(input.getType());
  auto targetType = cast<RankedTensorType>(target.getType());
  int64_t rank = inputType.getRank();
  Type element = inputType.getElementType();
  if (rank < 2 || targetType.getRank() != rank - 1 || !isFloat(element) ||
      !isa<IntegerType>(targetType.getElementType())) {
    op->emitError("the input must be float (N, C, ...) and the target integer "
                  "(N, ...)");
    return failure();
  }
  StringRef reduction = "mean";
  if (auto attr = dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get("reduction")))
    reduction = attr.getValue();
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    op->emitError() << "unknown reduction '" << reduction << "'";
    return failure();
  }
  std::optional<int64_t> ignoreIndex;
  if (auto attr = dyn_cast_or_null<IntegerAttr>(op->getAttrDictionary().get("ignore_index")))
    ignoreIndex = attr.getInt();

  // Loops (n, c, d...), c reduced.
  DimMask overClasses = maskOfRange(rank, 1, 2);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              outputMap(ctx, overClasses, false)};
  SmallVector<Value> inputs{input, target};
  if (weight) {
    inputs.push_back(weight);
    maps.push_back(AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx));
  }
  Value zero = scalarConstant(b, loc, element, 0);
  auto lossType = reducedType(inputType, overClasses, false, element);
  Value lossInit = filledLike(b, loc, input, overClasses, lossType, zero);
  Value weightInit = filledLike(b, loc, input, overClasses, lossType, zero);
  maps.push_back(outputMap(ctx, overClasses, false));
  maps.push_back(outputMap(ctx, overClasses, false));
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
  iterators[1] = utils::IteratorType::reduction;
  Type targetElement = targetType.getElementType();
  auto perElement = linalg::GenericOp::create(
      b, loc, TypeRange{lossType, lossType}, inputs, ValueRange{lossInit, weightInit},
      maps, iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value t = args[1];
        Value c = arith::IndexCastOp::create(nb, l, targetElement,
                                             linalg::IndexOp::create(nb, l, 1));
        Value match = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, t, c);
        if (ignoreIndex) {
          Value ignored = scalarConstant(nb, l, targetElement,
                                         static_cast<double>(*ignoreIndex));
          Value kept = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ne, t, ignored);
          match = arith::AndIOp::create(nb, l, match, kept);
        }
        Value w = weight ? args[2] : scalarConstant(nb, l, element, 1);
        Value loss = arith::NegFOp::create(nb, l, arith::MulFOp::create(nb, l, args[0], w));
        Value z = scalarConstant(nb, l, element, 0);
        ValueRange accs = args.take_back(2);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::AddFOp::create(nb, l, accs[0],
                                             arith::SelectOp::create(nb, l, match, loss, z)),
                       arith::AddFOp::create(nb, l, accs[1],
                                             arith::SelectOp::create(nb, l, match, w, z))});
      });
  Value loss = perElement.getResult(0), weights = perElement.getResult(1);
  if (reduction == "none")
    return castTo(b, loc, loss, result);
  DimMask all(rank - 1, true);
  auto sumAll = [&](Value v) {
    return reduce(b, loc, v, all, false, {}, {}, {zero},
                  [](OpBuilder &nb, Location l, ValueRange in,
                     ValueRange acc) -> SmallVector<Value> {
                    return {arith::AddFOp::create(nb, l, in[0], acc[0])};
                  })[0];
  };
  Value total = sumAll(loss);
  if (reduction == "mean") {
    Value weightTotal = sumAll(weights);
    total = elementwise(b, loc, cast<RankedTensorType>(total.getType()),
                        {total, weightTotal},
                        [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                          return arith::DivFOp::create(nb, l, args[0], args[1]);
                        });
  }
  return castTo(b, loc, total, result);
}

// Pattern: NegativeLogLikelihoodLoss(input, target, weight) -> the loss above.
FailureOr<SmallVector<Value>> lowerNLLLoss(Operation *op, ArrayRef<Value> operands,
                                           ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Value weight = operands.size() > 2 ? operands[2] : Value();
  FailureOr<Value> loss = negativeLogLikelihood(op, rewriter, op->getLoc(), operands[0],
                                                operands[1], weight, *result);
  if (failed(loss))
    return failure();
  return SmallVector<Value>{*loss};
}

// Pattern: SoftmaxCrossEntropyLoss(scores, labels, weights) ->
//   NegativeLogLikelihoodLoss(LogSoftmax(scores, axis=1), labels, weights),
//   with the log-probabilities as the optional second result.
FailureOr<SmallVector<Value>> lowerSCELoss(Operation *op, ArrayRef<Value> operands,
                                           ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  FailureOr<RankedTensorType> scoresType =
      rankedOperand(op, operands[0], "the scores");
  if (failed(result) || failed(scoresType))
    return failure();
  if (scoresType->getRank() < 2 || !isFloat(scoresType->getElementType()))
    return op->emitError("the scores must be float (N, C, ...)"), failure();
  Location loc = op->getLoc();
  DimMask overClasses = maskOfRange(scoresType->getRank(), 1, 2);
  Value logProb = logSoftmax(rewriter, loc, operands[0], overClasses);
  Value weight = operands.size() > 2 ? operands[2] : Value();
  FailureOr<Value> loss =
      negativeLogLikelihood(op, rewriter, loc, logProb, operands[1], weight, *result);
  if (failed(loss))
    return failure();
  SmallVector<Value> results{*loss};
  if (!resultAbsent(op, 1)) {
    FailureOr<RankedTensorType> type = resultType(op, 1);
    if (failed(type))
      return failure();
    results.push_back(castTo(rewriter, loc, logProb, *type));
  }
  return results;
}

} // namespace

void pith::populateReductionLowerings(ONNXLoweringTable &table) {
  using K = ReduceKind;
  table.add("ReduceSum", reduceLowering({K::Sum}));
  table.add("ReduceMean", reduceLowering({K::Sum, K::None, K::Mean}));
  table.add("ReduceProd", reduceLowering({K::Prod}));
  table.add("ReduceMax", reduceLowering({K::Max}));
  table.add("ReduceMin", reduceLowering({K::Min}));
  table.add("ReduceSumSquare", reduceLowering({K::Sum, K::Square}));
  table.add("ReduceL1", reduceLowering({K::Sum, K::Abs}));
  table.add("ReduceL2", reduceLowering({K::Sum, K::Square, K::Sqrt}));
  table.add("ReduceLogSum", reduceLowering({K::Sum, K::None, K::Log}));
  table.add("ReduceLogSumExp",
            reduceLowering({K::Sum, K::None, K::Identity, /*logSumExp=*/true}));
  table.add("ArgMax", argLowering(/*isMax=*/true));
  table.add("ArgMin", argLowering(/*isMax=*/false));
  table.add("Hardmax", lowerHardmax);
  table.add("TopK", lowerTopK);
  table.add("Softmax", softmaxLowering(/*isLog=*/false));
  table.add("LogSoftmax", softmaxLowering(/*isLog=*/true));
  table.add("LayerNormalization", lowerLayerNorm);
  table.add("InstanceNormalization", lowerInstanceNorm);
  table.add("GroupNormalization", lowerGroupNorm);
  table.add("MeanVarianceNormalization", lowerMVN);
  table.add("LpNormalization", lowerLpNorm);
  table.add("NegativeLogLikelihoodLoss", lowerNLLLoss);
  table.add("SoftmaxCrossEntropyLoss", lowerSCELoss);
}

//===- Quantization.cpp - Lower quantization, scatter and misc operators --===//
//
// - Linear quantization: QuantizeLinear, DequantizeLinear and
//   DynamicQuantizeLinear are elementwise linalg.generics (scales and zero
//   points per tensor, per axis or per block, read through their indexing
//   maps); quantizing rounds half to even and saturates to the integer type.
// - Integer products: MatMulInteger, QLinearMatMul and QLinearConv are
//   linalg.generic contractions of zero-point-shifted operands accumulated
//   in i32; the QLinear forms requantize the i32 result (in f64, as the ONNX
//   reference does).
// - Scatters (ScatterElements, Scatter, ScatterND) write updates in order:
//   an scf.for nest over the updates carries the data tensor and applies
//   each update (or reduction) with tensor.extract/tensor.insert.
// - ReverseSequence is a gather (linalg.generic reading with
//   tensor.extract), LRN a channel-window sum of squares, and Det a Gaussian
//   elimination with partial pivoting in scf.for loops per matrix.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

using Lowered = FailureOr<SmallVector<Value>>;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Dimension `d` of a ranked tensor as an index value.
Value dimIndex(OpBuilder &b, Location loc, Value tensor, int64_t d) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(d))
    return indexConstant(b, loc, type.getDimSize(d));
  return tensor::DimOp::create(b, loc, tensor, d);
}

/// A tensor.empty of `type` whose dynamic dimensions are those of `like`
/// (same rank).
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type, Value like) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(dimIndex(b, loc, like, d));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 sizes);
}

/// Whether `type` statically holds exactly one element.
bool isSingleElement(RankedTensorType type) {
  return type.hasStaticShape() && type.getNumElements() == 1;
}

/// The element of a one-element tensor.
Value extractSingle(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> zeros(type.getRank(), indexConstant(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, zeros);
}

/// An integer scalar (any width, or index) as an index, sign-extended.
Value toIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  if (v.getType().getIntOrFloatBitWidth() < 64)
    v = arith::ExtSIOp::create(b, loc, b.getI64Type(), v);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// A (possibly negative) index counted from the end when below zero.
Value wrapNegative(OpBuilder &b, Location loc, Value index, Value size) {
  Value zero = indexConstant(b, loc, 0);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, zero);
  Value wrapped = arith::AddIOp::create(b, loc, index, size);
  return arith::SelectOp::create(b, loc, negative, wrapped, index);
}

/// `value` padded by static `low`/`high` amounts with `padValue`.
Value padStatic(OpBuilder &b, Location loc, RankedTensorType type, Value value,
                ArrayRef<int64_t> low, ArrayRef<int64_t> high, Value padValue) {
  SmallVector<OpFoldResult> lo, hi;
  for (auto [l, h] : llvm::zip(low, high)) {
    lo.push_back(b.getIndexAttr(l));
    hi.push_back(b.getIndexAttr(h));
  }
  return tensor::PadOp::create(b, loc, type, value, lo, hi, padValue)
      .getResult();
}

/// A linalg.generic with parallel loops over `init`'s shape: `maps` index
/// `inputs`, the output map is the identity.
Value parallelGeneric(OpBuilder &b, Location loc, RankedTensorType type,
                      ValueRange inputs, ArrayRef<AffineMap> maps, Value init,
                      ScalarBody body) {
  SmallVector<AffineMap> all(maps);
  all.push_back(b.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, inputs, ValueRange{init}, all, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc,
                                       body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

/// The smallest and largest values of an integer type of `width` bits.
std::pair<double, double> integerRange(unsigned width, bool isUnsignedInt) {
  if (isUnsignedInt)
    return {0.0, std::ldexp(1.0, width) - 1.0};
  return {-std::ldexp(1.0, width - 1), std::ldexp(1.0, width - 1) - 1.0};
}

/// roundeven(v) + zeroPoint, saturated to `to` (signed or unsigned), for a
/// float `v` and an integer (or absent) `zeroPoint`.
Value quantizeScalar(OpBuilder &b, Location loc, Value v, Value zeroPoint,
                     bool zeroPointUnsigned, IntegerType to, bool toUnsigned) {
  // Rounding and saturation are exact in f32 (or wider) for <= 16 bits.
  Type f = v.getType();
  if (cast<FloatType>(f).getWidth() < 32) {
    f = b.getF32Type();
    v = arith::ExtFOp::create(b, loc, f, v);
  }
  v = math::RoundEvenOp::create(b, loc, v);
  if (zeroPoint)
    v = arith::AddFOp::create(
        b, loc, v, castScalar(b, loc, zeroPoint, f, zeroPointUnsigned, false));
  auto [lo, hi] = integerRange(to.getWidth(), toUnsigned);
  v = arith::MaximumFOp::create(b, loc, v, scalarConstant(b, loc, f, lo));
  v = arith::MinimumFOp::create(b, loc, v, scalarConstant(b, loc, f, hi));
  return toUnsigned ? arith::FPToUIOp::create(b, loc, to, v).getResult()
                    : arith::FPToSIOp::create(b, loc, to, v).getResult();
}

/// The element type of a quantized integer result (8 or 16 bits: 4-bit and
/// float8 types have no lowering), or failure.
FailureOr<IntegerType> quantizedType(Operation *op, Type type) {
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer || (integer.getWidth() != 8 && integer.getWidth() != 16))
    return op->emitError("only quantization to 8- and 16-bit integers is "
                         "supported"),
           failure();
  return integer;
}

/// The indexing map (over `rank` loops) of a quantization parameter of type
/// `param`: one element for the whole tensor, a 1-D tensor along `axis`, or
/// (blockSize > 0) one element per block of `blockSize` along `axis`.
FailureOr<AffineMap> parameterMap(Operation *op, OpBuilder &b,
                                  RankedTensorType xType,
                                  RankedTensorType param, int64_t axis,
                                  int64_t blockSize) {
  int64_t rank = xType.getRank();
  MLIRContext *ctx = b.getContext();
  if (isSingleElement(param)) {
    SmallVector<AffineExpr> zeros(param.getRank(), b.getAffineConstantExpr(0));
    return AffineMap::get(rank, 0, zeros, ctx);
  }
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return op->emitError("axis out of range"), failure();
  if (blockSize > 0) {
    if (param.getRank() != rank)
      return op->emitError("blocked quantization needs scales of the input's "
                           "rank"),
             failure();
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < rank; ++d)
      exprs.push_back(d == axis ? b.getAffineDimExpr(d).floorDiv(blockSize)
                                : b.getAffineDimExpr(d));
    return AffineMap::get(rank, 0, exprs, ctx);
  }
  if (param.getRank() != 1)
    return op->emitError("scales and zero points must be scalars or 1-D "
                         "tensors along the axis"),
           failure();
  if (!param.isDynamicDim(0) && !xType.isDynamicDim(axis) &&
      param.getDimSize(0) != xType.getDimSize(axis))
    return op->emitError("the length of the scales differs from the size of "
                         "the axis"),
           failure();
  return AffineMap::get(rank, 0, b.getAffineDimExpr(axis), ctx);
}

//===----------------------------------------------------------------------===//
// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear
//===----------------------------------------------------------------------===//

/// QuantizeLinear: y = saturate(roundeven(x / scale) + zero_point), the
/// division in the scale's type; zero point absent = 0 (uint8 unless the
/// result type says otherwise).
Lowered lowerQuantizeLinear(Operation *op, ArrayRef<Value> operands,
                            ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  FailureOr<IntegerType> outType = quantizedType(op, result->getElementType());
  if (failed(outType))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], scale = operands[1];
  Value zeroPoint = operands.size() > 2 ? operands[2] : Value();
  auto xType = cast<RankedTensorType>(x.getType());
  auto scaleType = cast<RankedTensorType>(scale.getType());
  if (!isa<FloatType>(xType.getElementType()) ||
      !isa<FloatType>(scaleType.getElementType()))
    return op->emitError("QuantizeLinear needs float inputs and scales"),
           failure();
  int64_t axis = intAttr(op, "axis", 1), block = intAttr(op, "block_size", 0);
  SmallVector<Value> inputs = {x, scale};
  SmallVector<AffineMap> maps = {
      rewriter.getMultiDimIdentityMap(xType.getRank())};
  FailureOr<AffineMap> scaleMap =
      parameterMap(op, rewriter, xType, scaleType, axis, block);
  if (failed(scaleMap))
    return failure();
  maps.push_back(*scaleMap);
  bool zeroPointUnsigned = false;
  if (zeroPoint) {
    FailureOr<AffineMap> zeroMap =
        parameterMap(op, rewriter, xType,
                     cast<RankedTensorType>(zeroPoint.getType()), axis, block);
    if (failed(zeroMap))
      return failure();
    inputs.push_back(zeroPoint);
    maps.push_back(*zeroMap);
    zeroPointUnsigned = isUnsigned(op->getOperand(2));
  }
  bool outUnsigned = isUnsigned(op->getResult(0));
  Value init = emptyLike(rewriter, loc, *result, x);
  Value y = parallelGeneric(
      rewriter, loc, *result, inputs, maps, init,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Type f = args[1].getType();
        Value v = castScalar(b, l, args[0], f, false, false);
        v = arith::DivFOp::create(b, l, v, args[1]);
        return quantizeScalar(b, l, v, args.size() > 2 ? args[2] : Value(),
                              zeroPointUnsigned, *outType, outUnsigned);
      });
  return SmallVector<Value>{y};
}

/// DequantizeLinear: y = (x - zero_point) * scale; the difference is exact
/// in a wider integer, the product in the scale's type.
Lowered lowerDequantizeLinear(Operation *op, ArrayRef<Value> operands,
                              ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], scale = operands[1];
  Value zeroPoint = operands.size() > 2 ? operands[2] : Value();
  auto xType = cast<RankedTensorType>(x.getType());
  auto scaleType = cast<RankedTensorType>(scale.getType());
  auto xElement = dyn_cast<IntegerType>(xType.getElementType());
  if (!xElement || (xElement.getWidth() != 8 && xElement.getWidth() != 16 &&
                    xElement.getWidth() != 32))
    return op->emitError("DequantizeLinear supports 8-, 16- and 32-bit integer "
                         "inputs"),
           failure();
  if (!isa<FloatType>(scaleType.getElementType()) ||
      !isa<FloatType>(result->getElementType()))
    return op->emitError("DequantizeLinear needs float scales and results"),
           failure();
  int64_t axis = intAttr(op, "axis", 1), block = intAttr(op, "block_size", 0);
  SmallVector<Value> inputs = {x, scale};
  SmallVector<AffineMap> maps = {
      rewriter.getMultiDimIdentityMap(xType.getRank())};
  FailureOr<AffineMap> scaleMap =
      parameterMap(op, rewriter, xType, scaleType, axis, block);
  if (failed(scaleMap))
    return failure();
  maps.push_back(*scaleMap);
  if (zeroPoint) {
    FailureOr<AffineMap> zeroMap =
        parameterMap(op, rewriter, xType,
                     cast<RankedTensorType>(zeroPoint.getType()), axis, block);
    if (failed(zeroMap))
      return failure();
    inputs.push_back(zeroPoint);
    maps.push_back(*zeroMap);
  }
  bool xUnsigned = isUnsigned(op->getOperand(0));
  bool zeroUnsigned = zeroPoint && isUnsigned(op->getOperand(2));
  Type wide = rewriter.getI64Type();
  Value init = emptyLike(rewriter, loc, *result, x);
  Value y = parallelGeneric(
      rewriter, loc, *result, inputs, maps, init,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value v = castScalar(b, l, args[0], wide, xUnsigned, false);
        if (args.size() > 2)
          v = arith::SubIOp::create(
              b, l, v, castScalar(b, l, args[2], wide, zeroUnsigned, false));
        Type f = args[1].getType();
        v = arith::SIToFPOp::create(b, l, f, v);
        v = arith::MulFOp::create(b, l, v, args[1]);
        return castScalar(b, l, v, result->getElementType(), false, false);
      });
  return SmallVector<Value>{y};
}

/// DynamicQuantizeLinear (uint8): lo = min(0, min(x)), hi = max(0, max(x)),
/// scale = (hi - lo) / 255 (1/255 when hi == lo), zero_point =
/// roundeven(clamp(-lo / scale, 0, 255)), y = QuantizeLinear(x, scale,
/// zero_point). One generic reduces both extremes.
Lowered lowerDynamicQuantizeLinear(Operation *op, ArrayRef<Value> operands,
                                   ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> yType = resultType(op, 0);
  if (failed(yType))
    return failure();
  FailureOr<RankedTensorType> scaleType = resultType(op, 1);
  if (failed(scaleType))
    return failure();
  FailureOr<RankedTensorType> zeroType = resultType(op, 2);
  if (failed(zeroType))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  auto xType = cast<RankedTensorType>(x.getType());
  auto f = dyn_cast<FloatType>(xType.getElementType());
  if (!f || !yType->getElementType().isInteger(8))
    return op->emitError("DynamicQuantizeLinear needs a float input and a "
                         "uint8 result"),
           failure();
  int64_t rank = xType.getRank();
  MLIRContext *ctx = rewriter.getContext();
  auto scalarType = RankedTensorType::get({}, f);
  Value zero = scalarConstant(rewriter, loc, f, 0.0);
  Value init = linalg::FillOp::create(rewriter, loc, zero,
                                      tensor::EmptyOp::create(
                                          rewriter, loc, ArrayRef<int64_t>{}, f)
                                          .getResult())
                   .getResult(0);
  SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank),
                                 AffineMap::get(rank, 0, {}, ctx),
                                 AffineMap::get(rank, 0, {}, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  auto extremes = linalg::GenericOp::create(
      rewriter, loc, TypeRange{scalarType, scalarType}, ValueRange{x},
      ValueRange{init, init}, maps, iterators,
      [](OpBuilder &b, Location l, ValueRange args) {
        Value lo = arith::MinimumFOp::create(b, l, args[0], args[1]);
        Value hi = arith::MaximumFOp::create(b, l, args[0], args[2]);
        linalg::YieldOp::create(b, l, ValueRange{lo, hi});
      });
  Value lo = tensor::ExtractOp::create(rewriter, loc, extremes.getResult(0),
                                       ValueRange{});
  Value hi = tensor::ExtractOp::create(rewriter, loc, extremes.getResult(1),
                                       ValueRange{});
  Value range = arith::SubFOp::create(rewriter, loc, hi, lo);
  Value equal =
      arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OEQ, hi, lo);
  range = arith::SelectOp::create(rewriter, loc, equal,
                                  scalarConstant(rewriter, loc, f, 1.0), range);
  Value scale = arith::DivFOp::create(rewriter, loc, range,
                                      scalarConstant(rewriter, loc, f, 255.0));
  Value zeroPoint = arith::NegFOp::create(
      rewriter, loc, arith::DivFOp::create(rewriter, loc, lo, scale));
  zeroPoint = arith::MaximumFOp::create(rewriter, loc, zeroPoint, zero);
  zeroPoint = arith::MinimumFOp::create(
      rewriter, loc, zeroPoint, scalarConstant(rewriter, loc, f, 255.0));
  zeroPoint = math::RoundEvenOp::create(rewriter, loc, zeroPoint);
  auto u8 = cast<IntegerType>(yType->getElementType());
  Value zeroPointInt = arith::FPToUIOp::create(rewriter, loc, u8, zeroPoint);
  Value y = parallelGeneric(
      rewriter, loc, *yType, ValueRange{x},
      {rewriter.getMultiDimIdentityMap(rank)},
      emptyLike(rewriter, loc, *yType, x),
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value v = arith::DivFOp::create(b, l, args[0], scale);
        return quantizeScalar(b, l, v, zeroPointInt, true, u8, true);
      });
  Value scaleOut = tensor::FromElementsOp::create(
      rewriter, loc, *scaleType,
      ValueRange{castScalar(rewriter, loc, scale, scaleType->getElementType(),
                            false, false)});
  Value zeroOut = tensor::FromElementsOp::create(rewriter, loc, *zeroType,
                                                 ValueRange{zeroPointInt});
  return SmallVector<Value>{y, scaleOut, zeroOut};
}

//===----------------------------------------------------------------------===//
// MatMulInteger, QLinearMatMul, QLinearConv
//===----------------------------------------------------------------------===//

/// An integer operand with its zero point, as the ONNX integer products take
/// them (operand and zero point share a signedness).
struct QuantizedOperand {
  Value value;
  Value zeroPoint; // may be null
  bool isUnsignedInt;
};

/// (v - zeroPoint) in i32.
Value shifted(OpBuilder &b, Location loc, Value v, Value zeroPoint,
              bool isUnsignedInt) {
  Type i32 = b.getI32Type();
  v = castScalar(b, loc, v, i32, isUnsignedInt, false);
  if (!zeroPoint)
    return v;
  return arith::SubIOp::create(
      b, loc, v, castScalar(b, loc, zeroPoint, i32, isUnsignedInt, false));
}

/// numpy matmul of (a - a_zero_point) and (b - b_zero_point) accumulated in
/// `resultType` (i32): batch dimensions broadcast, 1-D operands gain and
/// lose a dimension; a's zero point is a scalar or per row (M), b's a scalar
/// or per column (N).
FailureOr<Value> integerMatMul(Operation *op, OpBuilder &b, Location loc,
                               RankedTensorType resultType,
                               const QuantizedOperand &lhs,
                               const QuantizedOperand &rhs) {
  MLIRContext *ctx = b.getContext();
  auto aType = cast<RankedTensorType>(lhs.value.getType());
  auto bType = cast<RankedTensorType>(rhs.value.getType());
  std::optional<MatMulIndexing> ix = matmulIndexing(b, aType, bType, resultType);
  if (!ix)
    return op->emitError("result rank does not match the operands"), failure();
  unsigned numLoops = ix->numLoops;
  AffineExpr m = ix->m, n = ix->n;
  bool hasM = aType.getRank() >= 2, hasN = bType.getRank() >= 2;
  SmallVector<AffineExpr> aExprs = ix->lhs, bExprs = ix->rhs, outExprs = ix->out;

  SmallVector<Value> inputs = {lhs.value, rhs.value};
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, aExprs, ctx),
                                 AffineMap::get(numLoops, 0, bExprs, ctx)};
  // Zero points: one element, or one per row of a / column of b.
  auto zeroPointMap = [&](Value zp, bool along, AffineExpr dim,
                          StringRef what) -> LogicalResult {
    auto type = cast<RankedTensorType>(zp.getType());
    if (isSingleElement(type)) {
      SmallVector<AffineExpr> zeros(type.getRank(), b.getAffineConstantExpr(0));
      maps.push_back(AffineMap::get(numLoops, 0, zeros, ctx));
    } else if (type.getRank() == 1 && along) {
      maps.push_back(AffineMap::get(numLoops, 0, dim, ctx));
    } else {
      return op->emitError() << what
                             << " must be a scalar or a 1-D tensor along its "
                                "matrix dimension";
    }
    inputs.push_back(zp);
    return success();
  };
  if (lhs.zeroPoint &&
      failed(zeroPointMap(lhs.zeroPoint, hasM, m, "a's zero point")))
    return failure();
  if (rhs.zeroPoint &&
      failed(zeroPointMap(rhs.zeroPoint, hasN, n, "b's zero point")))
    return failure();
  maps.push_back(AffineMap::get(numLoops, 0, outExprs, ctx));

  Value empty = emptyTensor(b, loc, resultType, {lhs.value, rhs.value});
  Value init =
      linalg::FillOp::create(
          b, loc, scalarConstant(b, loc, resultType.getElementType(), 0), empty)
          .getResult(0);
  SmallVector<utils::IteratorType> iterators(numLoops - 1,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  bool hasAZero = bool(lhs.zeroPoint), hasBZero = bool(rhs.zeroPoint);
  return linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
             iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               unsigned next = 2;
               Value aZero = hasAZero ? args[next++] : Value();
               Value bZero = hasBZero ? args[next++] : Value();
               Value x = shifted(nb, l, args[0], aZero, lhs.isUnsignedInt);
               Value y = shifted(nb, l, args[1], bZero, rhs.isUnsignedInt);
               Value acc = args.back();
               Value product = arith::MulIOp::create(nb, l, x, y);
               if (acc.getType() != product.getType())
                 product =
                     castScalar(nb, l, product, acc.getType(), false, false);
               linalg::YieldOp::create(
                   nb, l, Value(arith::AddIOp::create(nb, l, acc, product)));
             })
      .getResult(0);
}

/// The operand `index` of `op` (null when absent) as a QuantizedOperand
/// with the zero point operand `zeroIndex`.
QuantizedOperand quantizedOperand(Operation *op, ArrayRef<Value> operands,
                                  unsigned index, unsigned zeroIndex) {
  Value zp = zeroIndex < operands.size() ? operands[zeroIndex] : Value();
  return {operands[index], zp, isUnsigned(op->getOperand(index))};
}

/// MatMulInteger: sum_k (a - a_zero_point) * (b - b_zero_point) in i32.
Lowered lowerMatMulInteger(Operation *op, ArrayRef<Value> operands,
                           ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  FailureOr<Value> product = integerMatMul(
      op, rewriter, op->getLoc(), *result, quantizedOperand(op, operands, 0, 2),
      quantizedOperand(op, operands, 1, 3));
  if (failed(product))
    return failure();
  return SmallVector<Value>{*product};
}

/// Requantizes an i32 accumulator `acc` (float64 math, as the ONNX
/// reference): saturate(roundeven(acc * (inScale * wScale / outScale)) +
/// outZero), the scale product in f32.
Value requantize(OpBuilder &b, Location loc, Value acc, Value inScale,
                 Value wScale, Value outScale, Value outZero,
                 bool outZeroUnsigned, IntegerType to, bool toUnsigned) {
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  auto asF32 = [&](Value v) {
    return castScalar(b, loc, v, f32, false, false);
  };
  Value multiplier =
      arith::MulFOp::create(b, loc, asF32(inScale), asF32(wScale));
  multiplier = arith::DivFOp::create(b, loc, multiplier, asF32(outScale));
  Value v = arith::SIToFPOp::create(b, loc, f64, acc);
  v = arith::MulFOp::create(b, loc, v,
                            arith::ExtFOp::create(b, loc, f64, multiplier));
  return quantizeScalar(b, loc, v, outZero, outZeroUnsigned, to, toUnsigned);
}

/// A 1-D per-row parameter [M] of a matrix product, reshaped [M, 1] so that
/// it broadcasts along rows; other parameters are returned as they are.
Value perRow(OpBuilder &b, Location loc, Value param) {
  auto type = cast<RankedTensorType>(param.getType());
  if (type.getRank() != 1 || isSingleElement(type))
    return param;
  return tensor::ExpandShapeOp::create(
      b, loc,
      RankedTensorType::get({type.getDimSize(0), 1}, type.getElementType()),
      param, SmallVector<ReassociationIndices>{{0, 1}});
}

/// QLinearMatMul: requantize(MatMulInteger(a, b, a_zero_point,
/// b_zero_point), a_scale * b_scale / y_scale, y_zero_point).
Lowered lowerQLinearMatMul(Operation *op, ArrayRef<Value> operands,
                           ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  FailureOr<IntegerType> outType = quantizedType(op, result->getElementType());
  if (failed(outType))
    return failure();
  Location loc = op->getLoc();
  auto accType = result->clone(rewriter.getI32Type());
  FailureOr<Value> product = integerMatMul(
      op, rewriter, loc, accType, quantizedOperand(op, operands, 0, 2),
      quantizedOperand(op, operands, 3, 5));
  if (failed(product))
    return failure();
  // Scales: a's scalar or per row, b's scalar or per column (broadcast
  // numpy-style against the product), y's scalar.
  Value aScale = perRow(rewriter, loc, operands[1]);
  SmallVector<Value> inputs = {*product, aScale, operands[4], operands[6]};
  Value yZero = operands.size() > 7 ? operands[7] : Value();
  if (yZero)
    inputs.push_back(yZero);
  for (Value v : ArrayRef<Value>(inputs).drop_front())
    if (cast<RankedTensorType>(v.getType()).getRank() > result->getRank())
      return op->emitError("scales and zero points must not have more "
                           "dimensions than the result"),
             failure();
  bool yZeroUnsigned = yZero && isUnsigned(op->getOperand(7));
  bool outUnsigned = isUnsigned(op->getResult(0));
  Value y =
      elementwise(rewriter, loc, *result, inputs,
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    return requantize(b, l, args[0], args[1], args[2], args[3],
                                      args.size() > 4 ? args[4] : Value(),
                                      yZeroUnsigned, *outType, outUnsigned);
                  });
  return SmallVector<Value>{y};
}

/// The map of a per-output-channel parameter over loops whose dimension 1
/// is the channel: one element, or one per channel.
FailureOr<AffineMap> perChannelMap(Operation *op, OpBuilder &b,
                                   unsigned numLoops, Value param,
                                   int64_t channels) {
  auto type = cast<RankedTensorType>(param.getType());
  if (isSingleElement(type)) {
    SmallVector<AffineExpr> zeros(type.getRank(), b.getAffineConstantExpr(0));
    return AffineMap::get(numLoops, 0, zeros, b.getContext());
  }
  if (type.getRank() != 1 ||
      (!type.isDynamicDim(0) && type.getDimSize(0) != channels))
    return op->emitError("per-channel parameters must be 1-D with one element "
                         "per output channel"),
           failure();
  return AffineMap::get(numLoops, 0, b.getAffineDimExpr(1), b.getContext());
}

/// QLinearConv (one group, NC<spatial...>): an i32 convolution of
/// (x - x_zero_point) and (w - w_zero_point) over x padded with
/// x_zero_point, plus the i32 bias, requantized with x_scale * w_scale /
/// y_scale (w's scale and zero point per tensor or per output channel).
Lowered lowerQLinearConv(Operation *op, ArrayRef<Value> operands,
                         ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  FailureOr<IntegerType> outType = quantizedType(op, result->getElementType());
  if (failed(outType))
    return failure();
  Location loc = op->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  Value x = operands[0], xScale = operands[1], xZero = operands[2];
  Value w = operands[3], wScale = operands[4], wZero = operands[5];
  Value yScale = operands[6], yZero = operands[7];
  Value bias = operands.size() > 8 ? operands[8] : Value();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t rank = xType.getRank() - 2;
  if (rank < 1 || wType.getRank() != xType.getRank() ||
      !wType.hasStaticShape() ||
      llvm::any_of(xType.getShape().drop_front(),
                   [](int64_t s) { return ShapedType::isDynamic(s); }))
    return op->emitError("QLinearConv needs an input with static dimensions "
                         "after the batch and a static kernel of its rank"),
           failure();
  if (intAttr(op, "group", 1) != 1)
    return op->emitError("QLinearConv supports one group only"), failure();
  int64_t channels = xType.getDimSize(1), filters = wType.getDimSize(0);
  if (wType.getDimSize(1) != channels)
    return op->emitError("the kernel's channels differ from the input's"),
           failure();
  if (!isSingleElement(cast<RankedTensorType>(xZero.getType())))
    return op->emitError("x_zero_point must be a scalar"), failure();

  // Window geometry (explicit pads or auto_pad).
  auto ints = [&](StringRef name, int64_t fallback) {
    SmallVector<int64_t> values(rank, fallback);
    if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(
            op->getAttrDictionary().get(name)))
      values.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
    return values;
  };
  SmallVector<int64_t> strides = ints("strides", 1);
  SmallVector<int64_t> dilations = ints("dilations", 1);
  SmallVector<int64_t> pads(2 * rank, 0);
  if (auto attr = dyn_cast_or_null<DenseI64ArrayAttr>(
          op->getAttrDictionary().get("pads")))
    pads.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
  if (strides.size() != size_t(rank) || dilations.size() != size_t(rank) ||
      pads.size() != size_t(2 * rank))
    return op->emitError("strides, dilations and pads must match the spatial "
                         "rank"),
           failure();
  StringRef autoPad = "NOTSET";
  if (auto attr =
          dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get("auto_pad")))
    autoPad = attr.getValue();
  SmallVector<int64_t> low(2, 0), high(2, 0), out;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t in = xType.getDimSize(2 + i);
    int64_t extent = (wType.getDimSize(2 + i) - 1) * dilations[i] + 1;
    int64_t lo = pads[i], hi = pads[rank + i];
    if (autoPad == "VALID") {
      lo = hi = 0;
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t size = (in + strides[i] - 1) / strides[i];
      int64_t total =
          std::max<int64_t>(0, (size - 1) * strides[i] + extent - in);
      lo = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      hi = total - lo;
    }
    int64_t size = (in + lo + hi - extent) / strides[i] + 1;
    if (size <= 0)
      return op->emitError("the kernel is larger than the padded input"),
             failure();
    low.push_back(lo);
    high.push_back(hi);
    out.push_back(size);
  }
  SmallVector<int64_t> outShape = {result->getDimSize(0), filters};
  llvm::append_range(outShape, out);
  for (auto [computed, declared] : llvm::zip(outShape, result->getShape()))
    if (!ShapedType::isDynamic(declared) && computed != declared &&
        !ShapedType::isDynamic(computed))
      return op->emitError("the computed output shape differs from the result "
                           "type"),
             failure();
  auto accType = RankedTensorType::get(outShape, rewriter.getI32Type());

  // The input padded with its zero point, so that pads contribute nothing.
  Value xZeroScalar = extractSingle(rewriter, loc, xZero);
  Value xPadded = x;
  if (llvm::any_of(low, [](int64_t v) { return v; }) ||
      llvm::any_of(high, [](int64_t v) { return v; })) {
    SmallVector<int64_t> paddedShape = {xType.getDimSize(0), channels};
    for (int64_t i = 0; i < rank; ++i)
      paddedShape.push_back(xType.getDimSize(2 + i) + low[2 + i] + high[2 + i]);
    xPadded = padStatic(rewriter, loc, xType.clone(paddedShape), x, low, high,
                        xZeroScalar);
  }

  // Loops: n, f, o..., c, k...
  unsigned numLoops = 2 + rank + 1 + rank;
  auto d = [&](int64_t i) { return rewriter.getAffineDimExpr(i); };
  SmallVector<AffineExpr> xExprs = {d(0), d(2 + rank)},
                          wExprs = {d(1), d(2 + rank)}, oExprs = {d(0), d(1)};
  for (int64_t i = 0; i < rank; ++i) {
    AffineExpr o = d(2 + i), k = d(3 + rank + i);
    xExprs.push_back(o * strides[i] + k * dilations[i]);
    wExprs.push_back(k);
    oExprs.push_back(o);
  }
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, xExprs, ctx),
                                 AffineMap::get(numLoops, 0, wExprs, ctx)};
  FailureOr<AffineMap> wZeroMap =
      perChannelMap(op, rewriter, numLoops, wZero, filters);
  if (failed(wZeroMap))
    return failure();
  maps.push_back(*wZeroMap);
  maps.push_back(AffineMap::get(numLoops, 0, oExprs, ctx));
  SmallVector<utils::IteratorType> iterators(2 + rank,
                                             utils::IteratorType::parallel);
  iterators.append(1 + rank, utils::IteratorType::reduction);
  Value init = linalg::FillOp::create(
                   rewriter, loc,
                   scalarConstant(rewriter, loc, rewriter.getI32Type(), 0),
                   emptyLike(rewriter, loc, accType, x))
                   .getResult(0);
  bool xUnsigned = isUnsigned(op->getOperand(0)),
       wUnsigned = isUnsigned(op->getOperand(3));
  Value acc =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{accType}, ValueRange{xPadded, w, wZero},
          ValueRange{init}, maps, iterators,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value a = shifted(b, l, args[0], xZeroScalar, xUnsigned);
            Value k = shifted(b, l, args[1], args[2], wUnsigned);
            Value sum = arith::AddIOp::create(
                b, l, args[3], arith::MulIOp::create(b, l, a, k));
            linalg::YieldOp::create(b, l, sum);
          })
          .getResult(0);

  // Bias and requantization, per output channel where w's scale is.
  unsigned outRank = 2 + rank;
  AffineMap identity = rewriter.getMultiDimIdentityMap(outRank);
  SmallVector<Value> inputs = {acc};
  SmallVector<AffineMap> requantMaps = {identity};
  for (Value param : {xScale, wScale, yScale, yZero}) {
    FailureOr<AffineMap> map =
        perChannelMap(op, rewriter, outRank, param, filters);
    if (failed(map))
      return failure();
    inputs.push_back(param);
    requantMaps.push_back(*map);
  }
  if (bias) {
    FailureOr<AffineMap> map =
        perChannelMap(op, rewriter, outRank, bias, filters);
    if (failed(map))
      return failure();
    inputs.push_back(bias);
    requantMaps.push_back(*map);
  }
  bool yZeroUnsigned = isUnsigned(op->getOperand(7));
  bool outUnsigned = isUnsigned(op->getResult(0));
  auto yType = accType.clone(result->getElementType());
  Value y = parallelGeneric(
      rewriter, loc, yType, inputs, requantMaps,
      emptyLike(rewriter, loc, yType, x),
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value v = args[0];
        if (args.size() > 5)
          v = arith::AddIOp::create(
              b, l, v, castScalar(b, l, args[5], v.getType(), false, false));
        return requantize(b, l, v, args[1], args[2], args[3], args[4],
                          yZeroUnsigned, *outType, outUnsigned);
      });
  if (y.getType() != *result)
    y = tensor::CastOp::create(rewriter, loc, *result, y);
  return SmallVector<Value>{y};
}

//===----------------------------------------------------------------------===//
// Scatters
//===----------------------------------------------------------------------===//

enum class Reduction { None, Add, Mul, Max, Min };

FailureOr<Reduction> reductionOf(Operation *op) {
  auto attr =
      dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get("reduction"));
  StringRef name = attr ? attr.getValue() : "none";
  if (name == "none")
    return Reduction::None;
  if (name == "add")
    return Reduction::Add;
  if (name == "mul")
    return Reduction::Mul;
  if (name == "max")
    return Reduction::Max;
  if (name == "min")
    return Reduction::Min;
  return op->emitError() << "unknown reduction '" << name << "'", failure();
}

/// The value written where an update `u` meets the current element `old`.
Value combine(OpBuilder &b, Location loc, Reduction kind, Value old, Value u,
              bool isUnsignedInt) {
  bool isFloat = isa<FloatType>(u.getType());
  bool isBool = u.getType().isInteger(1);
  switch (kind) {
  case Reduction::None:
    return u;
  case Reduction::Add:
    if (isFloat)
      return arith::AddFOp::create(b, loc, old, u);
    if (isBool)
      return arith::OrIOp::create(b, loc, old, u);
    return arith::AddIOp::create(b, loc, old, u);
  case Reduction::Mul:
    if (isFloat)
      return arith::MulFOp::create(b, loc, old, u);
    if (isBool)
      return arith::AndIOp::create(b, loc, old, u);
    return arith::MulIOp::create(b, loc, old, u);
  case Reduction::Max:
    if (isFloat)
      return arith::MaximumFOp::create(b, loc, old, u);
    if (isUnsignedInt || isBool)
      return arith::MaxUIOp::create(b, loc, old, u);
    return arith::MaxSIOp::create(b, loc, old, u);
  case Reduction::Min:
    if (isFloat)
      return arith::MinimumFOp::create(b, loc, old, u);
    if (isUnsignedInt || isBool)
      return arith::MinUIOp::create(b, loc, old, u);
    return arith::MinSIOp::create(b, loc, old, u);
  }
  llvm_unreachable("unknown reduction");
}

/// Applies every update in order: an scf.for nest over `updates`' shape
/// carries the data tensor; `target(ivs)` gives the data coordinates an
/// update goes to.
Value scatterLoop(
    OpBuilder &b, Location loc, Value data, Value updates, Reduction kind,
    bool isUnsignedInt,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
        target) {
  auto type = cast<RankedTensorType>(updates.getType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    lbs.push_back(indexConstant(b, loc, 0));
    ubs.push_back(dimIndex(b, loc, updates, d));
    steps.push_back(indexConstant(b, loc, 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, ValueRange{data},
      [&](OpBuilder &nb, Location l, ValueRange ivs,
          ValueRange iterArgs) -> scf::ValueVector {
        Value current = iterArgs[0];
        SmallVector<Value> at = target(nb, l, ivs);
        Value u = tensor::ExtractOp::create(nb, l, updates, ivs);
        if (kind != Reduction::None) {
          Value old = tensor::ExtractOp::create(nb, l, current, at);
          u = combine(nb, l, kind, old, u, isUnsignedInt);
        }
        return {tensor::InsertOp::create(nb, l, u, current, at).getResult()};
      });
  return nest.results.front();
}

/// ScatterElements (and the deprecated Scatter): data[pos with axis :=
/// indices[pos]] (reduced with) updates[pos], in order of pos.
Lowered lowerScatterElements(Operation *op, ArrayRef<Value> operands,
                             ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  FailureOr<Reduction> kind = reductionOf(op);
  if (failed(kind))
    return failure();
  Location loc = op->getLoc();
  Value data = operands[0], indices = operands[1], updates = operands[2];
  auto dataType = cast<RankedTensorType>(data.getType());
  int64_t rank = dataType.getRank();
  int64_t axis = intAttr(op, "axis", 0);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank ||
      cast<RankedTensorType>(indices.getType()).getRank() != rank ||
      cast<RankedTensorType>(updates.getType()).getRank() != rank)
    return op->emitError("axis, indices and updates must match the data's "
                         "rank"),
           failure();
  Value axisSize = dimIndex(rewriter, loc, data, axis);
  Value out = scatterLoop(
      rewriter, loc, data, updates, *kind, isUnsigned(op->getOperand(0)),
      [&](OpBuilder &b, Location l, ValueRange ivs) {
        SmallVector<Value> at(ivs);
        Value index =
            toIndex(b, l, tensor::ExtractOp::create(b, l, indices, ivs));
        at[axis] = wrapNegative(b, l, index, axisSize);
        return at;
      });
  if (out.getType() != *result)
    out = tensor::CastOp::create(rewriter, loc, *result, out);
  return SmallVector<Value>{out};
}

/// ScatterND: data[indices[i..., :], ...] (reduced with) updates[i..., ...],
/// in order of i.
Lowered lowerScatterND(Operation *op, ArrayRef<Value> operands,
                       ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  FailureOr<Reduction> kind = reductionOf(op);
  if (failed(kind))
    return failure();
  Location loc = op->getLoc();
  Value data = operands[0], indices = operands[1], updates = operands[2];
  auto dataType = cast<RankedTensorType>(data.getType());
  auto indicesType = cast<RankedTensorType>(indices.getType());
  auto updatesType = cast<RankedTensorType>(updates.getType());
  int64_t q = indicesType.getRank(), r = dataType.getRank();
  int64_t k = q > 0 ? indicesType.getDimSize(q - 1) : ShapedType::kDynamic;
  if (ShapedType::isDynamic(k))
    return op->emitError("the last dimension of the indices must be static"),
           failure();
  if (k > r || updatesType.getRank() != q - 1 + r - k)
    return op->emitError("updates must have shape indices.shape[:-1] + "
                         "data.shape[k:]"),
           failure();
  SmallVector<Value> sizes;
  for (int64_t j = 0; j < k; ++j)
    sizes.push_back(dimIndex(rewriter, loc, data, j));
  Value out = scatterLoop(
      rewriter, loc, data, updates, *kind, isUnsigned(op->getOperand(0)),
      [&](OpBuilder &b, Location l, ValueRange ivs) {
        SmallVector<Value> at;
        SmallVector<Value> position(ivs.take_front(q - 1));
        position.push_back(Value());
        for (int64_t j = 0; j < k; ++j) {
          position.back() = indexConstant(b, l, j);
          Value index =
              toIndex(b, l, tensor::ExtractOp::create(b, l, indices, position));
          at.push_back(wrapNegative(b, l, index, sizes[j]));
        }
        llvm::append_range(at, ivs.drop_front(q - 1));
        return at;
      });
  if (out.getType() != *result)
    out = tensor::CastOp::create(rewriter, loc, *result, out);
  return SmallVector<Value>{out};
}

//===----------------------------------------------------------------------===//
// ReverseSequence, LRN, Det
//===----------------------------------------------------------------------===//

/// ReverseSequence: y[.., b, .., t, ..] = x[.., b, .., len[b] - 1 - t, ..]
/// for t < len[b], else x itself; a generic gathering with tensor.extract.
Lowered lowerReverseSequence(Operation *op, ArrayRef<Value> operands,
                             ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], lengths = operands[1];
  int64_t rank = result->getRank();
  int64_t batchAxis = intAttr(op, "batch_axis", 1);
  int64_t timeAxis = intAttr(op, "time_axis", 0);
  if (batchAxis < 0)
    batchAxis += rank;
  if (timeAxis < 0)
    timeAxis += rank;
  if (rank < 2 || batchAxis < 0 || batchAxis >= rank || timeAxis < 0 ||
      timeAxis >= rank || batchAxis == timeAxis)
    return op->emitError("batch_axis and time_axis must be distinct axes of "
                         "the input"),
           failure();
  AffineMap lengthMap = AffineMap::get(
      rank, 0, rewriter.getAffineDimExpr(batchAxis), rewriter.getContext());
  Value y = parallelGeneric(
      rewriter, loc, *result, ValueRange{lengths}, {lengthMap},
      emptyLike(rewriter, loc, *result, x),
      [&](OpBuilder &b, Location l, ValueRange args) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < rank; ++d)
          at.push_back(linalg::IndexOp::create(b, l, d));
        Value length = toIndex(b, l, args[0]);
        Value t = at[timeAxis];
        Value inside =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, t, length);
        Value reversed = arith::SubIOp::create(
            b, l, arith::SubIOp::create(b, l, length, indexConstant(b, l, 1)),
            t);
        at[timeAxis] = arith::SelectOp::create(b, l, inside, reversed, t);
        return tensor::ExtractOp::create(b, l, x, at).getResult();
      });
  return SmallVector<Value>{y};
}

/// LRN over channels (dimension 1): y = x / (bias + alpha / size *
/// sum_{c' in window(c)} x[c']^2)^beta, the window from c - floor((size-1)/2)
/// to c + ceil((size-1)/2); squares are zero-padded along the channels and
/// summed by a generic with a window loop.
Lowered lowerLRN(Operation *op, ArrayRef<Value> operands,
                 ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  auto xType = cast<RankedTensorType>(x.getType());
  auto f = dyn_cast<FloatType>(xType.getElementType());
  int64_t size = intAttr(op, "size", 0);
  if (!f || xType.getRank() < 3 || size <= 0)
    return op->emitError("LRN needs a float input of rank >= 3 and a positive "
                         "size"),
           failure();
  if (xType.isDynamicDim(1))
    return op->emitError("LRN needs a static channel dimension"), failure();
  double alpha = floatAttr(op, "alpha", 1e-4),
         beta = floatAttr(op, "beta", 0.75), bias = floatAttr(op, "bias", 1.0);
  int64_t rank = xType.getRank();
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  Value squares =
      elementwise(rewriter, loc, xType, ValueRange{x},
                  [](OpBuilder &b, Location l, ValueRange args) -> Value {
                    return arith::MulFOp::create(b, l, args[0], args[0]);
                  });
  SmallVector<int64_t> low(rank, 0), high(rank, 0),
      paddedShape(xType.getShape());
  low[1] = before;
  high[1] = after;
  paddedShape[1] += before + after;
  Value zero = scalarConstant(rewriter, loc, f, 0.0);
  Value padded = padStatic(rewriter, loc, xType.clone(paddedShape), squares,
                           low, high, zero);
  // Loops: dimensions of x, then the window.
  MLIRContext *ctx = rewriter.getContext();
  unsigned numLoops = rank + 1;
  SmallVector<AffineExpr> paddedExprs, outExprs;
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr e = rewriter.getAffineDimExpr(d);
    outExprs.push_back(e);
    paddedExprs.push_back(d == 1 ? e + rewriter.getAffineDimExpr(rank) : e);
  }
  Value window = tensor::EmptyOp::create(rewriter, loc, {size}, f);
  Value init = linalg::FillOp::create(rewriter, loc, zero,
                                      emptyLike(rewriter, loc, xType, x))
                   .getResult(0);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value sums =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{xType}, ValueRange{padded, window},
          ValueRange{init},
          SmallVector<AffineMap>{
              AffineMap::get(numLoops, 0, paddedExprs, ctx),
              AffineMap::get(numLoops, 0, rewriter.getAffineDimExpr(rank), ctx),
              AffineMap::get(numLoops, 0, outExprs, ctx)},
          iterators,
          [](OpBuilder &b, Location l, ValueRange args) {
            linalg::YieldOp::create(
                b, l, Value(arith::AddFOp::create(b, l, args[2], args[0])));
          })
          .getResult(0);
  Value y = elementwise(
      rewriter, loc, *result, ValueRange{x, sums},
      [&](OpBuilder &b, Location l, ValueRange args) -> Value {
        Value scaled = arith::MulFOp::create(
            b, l, args[1], scalarConstant(b, l, f, alpha / double(size)));
        Value base =
            arith::AddFOp::create(b, l, scaled, scalarConstant(b, l, f, bias));
        Value denominator =
            math::PowFOp::create(b, l, base, scalarConstant(b, l, f, beta));
        return arith::DivFOp::create(b, l, args[0], denominator);
      });
  return SmallVector<Value>{y};
}

/// Det of [..., n, n]: per matrix (an scf.for nest over the batch), Gaussian
/// elimination with partial pivoting; the determinant is the signed product
/// of the pivots (0 once a pivot is 0).
Lowered lowerDet(Operation *op, ArrayRef<Value> operands,
                 ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  auto xType = cast<RankedTensorType>(x.getType());
  auto f = dyn_cast<FloatType>(xType.getElementType());
  int64_t rank = xType.getRank();
  if (!f || rank < 2 || result->getRank() != rank - 2)
    return op->emitError("Det needs a float input of shape [..., n, n]"),
           failure();
  Value n = dimIndex(rewriter, loc, x, rank - 1);
  Value c0 = indexConstant(rewriter, loc, 0),
        c1 = indexConstant(rewriter, loc, 1);
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < rank - 2; ++d) {
    lbs.push_back(c0);
    ubs.push_back(dimIndex(rewriter, loc, x, d));
    steps.push_back(c1);
  }
  int64_t staticN = xType.getDimSize(rank - 1);
  auto matrixType = RankedTensorType::get({staticN, staticN}, f);
  Value init = emptyLike(rewriter, loc, *result, x);
  Value one = scalarConstant(rewriter, loc, f, 1.0);
  Value zero = scalarConstant(rewriter, loc, f, 0.0);

  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lbs, ubs, steps, ValueRange{init},
      [&](OpBuilder &b, Location l, ValueRange ivs,
          ValueRange iterArgs) -> scf::ValueVector {
        // This batch element's matrix, gathered (an extract_slice at a
        // loop-dependent offset would leave affine maps to the LLVM
        // lowering).
        Value matrix = parallelGeneric(
            b, l, matrixType, ValueRange{}, {},
            tensor::EmptyOp::create(b, l, matrixType.getShape(), f,
                                    matrixType.hasStaticShape()
                                        ? SmallVector<Value>{}
                                        : SmallVector<Value>{n, n}),
            [&](OpBuilder &nb, Location nl, ValueRange) {
              SmallVector<Value> at(ivs);
              at.push_back(linalg::IndexOp::create(nb, nl, 0));
              at.push_back(linalg::IndexOp::create(nb, nl, 1));
              return tensor::ExtractOp::create(nb, nl, x, at).getResult();
            });
        auto column = scf::ForOp::create(
            b, l, c0, n, c1, ValueRange{matrix, one},
            [&](OpBuilder &b, Location l, Value k, ValueRange it) {
              Value a = it[0], det = it[1];
              // The row (from k) with the largest |a[i, k]|.
              auto search = scf::ForOp::create(
                  b, l, k, n, c1, ValueRange{k, scalarConstant(b, l, f, -1.0)},
                  [&](OpBuilder &b, Location l, Value i, ValueRange best) {
                    Value v = math::AbsFOp::create(
                        b, l,
                        tensor::ExtractOp::create(b, l, a, ValueRange{i, k}));
                    Value larger = arith::CmpFOp::create(
                        b, l, arith::CmpFPredicate::OGT, v, best[1]);
                    scf::YieldOp::create(
                        b, l,
                        ValueRange{
                            arith::SelectOp::create(b, l, larger, i, best[0]),
                            arith::SelectOp::create(b, l, larger, v, best[1])});
                  });
              Value p = search.getResult(0);
              // Swap rows k and p (a no-op when p == k); a swap flips the
              // sign.
              auto swap = scf::ForOp::create(
                  b, l, c0, n, c1, ValueRange{a},
                  [&](OpBuilder &b, Location l, Value j, ValueRange it) {
                    Value m = it[0];
                    Value vk =
                        tensor::ExtractOp::create(b, l, m, ValueRange{k, j});
                    Value vp =
                        tensor::ExtractOp::create(b, l, m, ValueRange{p, j});
                    m = tensor::InsertOp::create(b, l, vp, m, ValueRange{k, j});
                    m = tensor::InsertOp::create(b, l, vk, m, ValueRange{p, j});
                    scf::YieldOp::create(b, l, m);
                  });
              a = swap.getResult(0);
              Value swapped =
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, p, k);
              det = arith::SelectOp::create(
                  b, l, swapped, arith::NegFOp::create(b, l, det), det);
              Value pivot =
                  tensor::ExtractOp::create(b, l, a, ValueRange{k, k});
              det = arith::MulFOp::create(b, l, det, pivot);
              Value singular = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OEQ, pivot, zero);
              // Eliminate column k below the pivot.
              Value next = arith::AddIOp::create(b, l, k, c1);
              auto rows = scf::ForOp::create(
                  b, l, next, n, c1, ValueRange{a},
                  [&](OpBuilder &b, Location l, Value i, ValueRange it) {
                    Value m = it[0];
                    Value factor = arith::DivFOp::create(
                        b, l,
                        tensor::ExtractOp::create(b, l, m, ValueRange{i, k}),
                        pivot);
                    factor =
                        arith::SelectOp::create(b, l, singular, zero, factor);
                    auto cols = scf::ForOp::create(
                        b, l, k, n, c1, ValueRange{m},
                        [&](OpBuilder &b, Location l, Value j, ValueRange it) {
                          Value m = it[0];
                          Value top = tensor::ExtractOp::create(
                              b, l, m, ValueRange{k, j});
                          Value v = tensor::ExtractOp::create(b, l, m,
                                                              ValueRange{i, j});
                          v = arith::SubFOp::create(
                              b, l, v,
                              arith::MulFOp::create(b, l, factor, top));
                          scf::YieldOp::create(b, l,
                                               tensor::InsertOp::create(
                                                   b, l, v, m, ValueRange{i, j})
                                                   .getResult());
                        });
                    scf::YieldOp::create(b, l, cols.getResult(0));
                  });
              scf::YieldOp::create(b, l, ValueRange{rows.getResult(0), det});
            });
        Value det = column.getResult(1);
        return {
            tensor::InsertOp::create(b, l, det, iterArgs[0], ivs).getResult()};
      });
  return SmallVector<Value>{nest.results.front()};
}

} // namespace

void pith::populateQuantizationLowerings(ONNXLoweringTable &table) {
  table.add("QuantizeLinear", lowerQuantizeLinear);
  table.add("DequantizeLinear", lowerDequantizeLinear);
  table.add("DynamicQuantizeLinear", lowerDynamicQuantizeLinear);
  table.add("MatMulInteger", lowerMatMulInteger);
  table.add("QLinearMatMul", lowerQLinearMatMul);
  table.add("QLinearConv", lowerQLinearConv);
  table.add("ScatterElements", lowerScatterElements);
  table.add("Scatter", lowerScatterElements);
  table.add("ScatterND", lowerScatterND);
  table.add("ReverseSequence", lowerReverseSequence);
  table.add("LRN", lowerLRN);
  table.add("Det", lowerDet);
}

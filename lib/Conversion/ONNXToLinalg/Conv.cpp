//===- Conv.cpp - Lower convolutions, pooling, normalization, resampling --===//
//
// Windowed operators over NC<spatial...> tensors:
//  - Conv with one group becomes linalg.conv_{1,2,3}d_nc*_fc*, depthwise 2-D
//    Conv linalg.depthwise_conv_2d_nchw_chw, other groups (and ConvInteger)
//    a grouped linalg.generic; explicit and automatic pads become tensor.pad.
//  - ConvTranspose scatters the input with its strides into a zero tensor
//    and convolves it with the flipped, transposed kernel.
//  - MaxPool, AveragePool, LpPool and the global pools become
//    linalg.pooling_nc{w,hw}_{max,sum} (float, 1-D/2-D) or a linalg.generic
//    window reduction; averages divide by a per-position count of the cells
//    that ONNX counts.
//  - BatchNormalization (inference and training mode) is elementwise with
//    per-channel operands (and reductions for the batch statistics).
//  - Resize and Upsample interpolate one axis at a time (nearest, linear,
//    cubic) with a linalg.generic gathering with tensor.extract; GridSample
//    gathers likewise, and RoiAlign too, looping (scf.for) over each bin's
//    sampling points in the body.
//  - MaxUnpool scatters the input into a zero tensor with an scf.for.
// Spatial dimensions must be static; the batch dimension may be dynamic.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Attributes and shapes
//===----------------------------------------------------------------------===//

std::optional<SmallVector<int64_t>> intsAttr(Operation *op, StringRef name) {
  if (auto attr =
          dyn_cast_or_null<DenseI64ArrayAttr>(op->getAttrDictionary().get(name)))
    return SmallVector<int64_t>(attr.asArrayRef());
  return std::nullopt;
}

StringRef stringAttr(Operation *op, StringRef name, StringRef fallback) {
  if (auto attr = dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get(name)))
    return attr.getValue();
  return fallback;
}

/// A ranked input whose dimensions after the first are static, or failure.
FailureOr<RankedTensorType> staticSpatialType(Operation *op, Value value,
                                              StringRef what,
                                              int64_t minRank = 3) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() < minRank)
    return op->emitError() << what << " must be a ranked tensor of rank >= "
                           << minRank,
           failure();
  for (int64_t d = 1; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      return op->emitError() << what
                             << " needs static dimensions after the batch "
                                "dimension",
             failure();
  return type;
}

/// A tensor.empty of `type` whose dynamic dimension 0 (the batch) comes
/// from dimension 0 of `batchSource`.
Value emptyBatched(OpBuilder &b, Location loc, RankedTensorType type,
                   Value batchSource) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, batchSource, d));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 sizes);
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type,
             Value batchSource, Value value) {
  Value empty = emptyBatched(b, loc, type, batchSource);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

/// `value` padded by `low`/`high` with the scalar `padValue`, or `value`
/// when nothing is padded.
Value padded(OpBuilder &b, Location loc, Value value, ArrayRef<int64_t> low,
             ArrayRef<int64_t> high, Value padValue) {
  if (llvm::all_of(low, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(high, [](int64_t v) { return v == 0; }))
    return value;
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (!ShapedType::isDynamic(shape[d]))
      shape[d] += low[d] + high[d];
  SmallVector<OpFoldResult> lowOfr, highOfr;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    lowOfr.push_back(b.getIndexAttr(low[d]));
    highOfr.push_back(b.getIndexAttr(high[d]));
  }
  return tensor::PadOp::create(b, loc, type.clone(shape), value, lowOfr,
                               highOfr, padValue)
      .getResult();
}

/// The lowest value of a float or integer type (the max-pooling pad).
Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsignedInt) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(type, APFloat::getInf(floatType.getFloatSemantics(),
                                             /*Negative=*/true)));
  unsigned width = type.getIntOrFloatBitWidth();
  APInt value = isUnsignedInt ? APInt::getMinValue(width)
                              : APInt::getSignedMinValue(width);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

/// The geometry of a sliding window over the spatial dimensions: `low` and
/// `high` are the pads ONNX gives (explicit or automatic); `extraHigh` is
/// what ceil_mode adds so the last window fits.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, low, high, extraHigh, out;
};

/// The window of a Conv or pooling op whose input has spatial sizes `in`.
/// `resultType` (if its spatial sizes are static) decides the output sizes.
FailureOr<Window> windowOf(Operation *op, ArrayRef<int64_t> in,
                           ArrayRef<int64_t> kernel,
                           RankedTensorType resultType) {
  int64_t rank = in.size();
  Window w;
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = intsAttr(op, "strides").value_or(SmallVector<int64_t>(rank, 1));
  w.dilations =
      intsAttr(op, "dilations").value_or(SmallVector<int64_t>(rank, 1));
  SmallVector<int64_t> pads =
      intsAttr(op, "pads").value_or(SmallVector<int64_t>(2 * rank, 0));
  if ((int64_t)w.strides.size() != rank ||
      (int64_t)w.dilations.size() != rank || (int64_t)pads.size() != 2 * rank)
    return op->emitError("strides, dilations or pads do not match the "
                         "number of spatial dimensions"),
           failure();
  StringRef autoPad = stringAttr(op, "auto_pad", "NOTSET");
  bool ceilMode = intAttr(op, "ceil_mode", 0);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t s = w.strides[i], span = (kernel[i] - 1) * w.dilations[i] + 1;
    if (s <= 0 || w.dilations[i] <= 0)
      return op->emitError("strides and dilations must be positive"), failure();
    int64_t lo = pads[i], hi = pads[rank + i], out;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      out = (in[i] + s - 1) / s;
      int64_t total = std::max<int64_t>(0, (out - 1) * s + span - in[i]);
      int64_t half = total / 2;
      lo = autoPad == "SAME_UPPER" ? half : total - half;
      hi = total - lo;
    } else {
      if (autoPad == "VALID")
        lo = hi = 0;
      else if (autoPad != "NOTSET")
        return op->emitError() << "auto_pad '" << autoPad
                               << "' is not supported",
               failure();
      int64_t numerator = in[i] + lo + hi - span;
      if (numerator < 0)
        return op->emitError("the window is larger than the padded input"),
               failure();
      out = (ceilMode ? (numerator + s - 1) / s : numerator / s) + 1;
      if (ceilMode && (out - 1) * s >= in[i] + lo)
        --out;
    }
    int64_t resultSize = resultType.getDimSize(2 + i);
    if (!ShapedType::isDynamic(resultSize) && resultSize != out)
      return op->emitError() << "computed output size " << out
                             << " of spatial dimension " << i
                             << " differs from the result type's "
                             << resultSize,
             failure();
    w.low.push_back(lo);
    w.high.push_back(hi);
    w.extraHigh.push_back(
        std::max<int64_t>(0, (out - 1) * s + span - (in[i] + lo + hi)));
    w.out.push_back(out);
  }
  return w;
}

/// The result type with its spatial sizes from `w`.
RankedTensorType withSpatial(RankedTensorType type, ArrayRef<int64_t> out) {
  SmallVector<int64_t> shape(type.getShape());
  for (auto [i, size] : llvm::enumerate(out))
    shape[2 + i] = size;
  return type.clone(shape);
}

SmallVector<utils::IteratorType> iteratorTypes(int64_t parallel,
                                               int64_t reduction) {
  SmallVector<utils::IteratorType> types(parallel,
                                         utils::IteratorType::parallel);
  types.append(reduction, utils::IteratorType::reduction);
  return types;
}

/// Adds a per-channel `bias` (dimension 1 of `value`).
Value addChannelBias(OpBuilder &b, Location loc, Value value, Value bias) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, {b.getAffineDimExpr(1)}, ctx),
      b.getMultiDimIdentityMap(rank)};
  Value init = emptyBatched(b, loc, type, value);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{value, bias}, ValueRange{init},
             maps, iteratorTypes(rank, 0),
             [](OpBuilder &nb, Location nloc, ValueRange args) {
               Value sum =
                   isa<FloatType>(args[0].getType())
                       ? arith::AddFOp::create(nb, nloc, args[0], args[1])
                             .getResult()
                       : arith::AddIOp::create(nb, nloc, args[0], args[1])
                             .getResult();
               linalg::YieldOp::create(nb, nloc, sum);
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

/// acc + x * w, in the accumulator's type.
using MacBody = std::function<Value(OpBuilder &, Location, Value x, Value w,
                                    Value acc)>;

Value floatMac(OpBuilder &b, Location loc, Value x, Value w, Value acc) {
  if (isa<FloatType>(acc.getType()))
    return arith::AddFOp::create(b, loc, acc,
                                 arith::MulFOp::create(b, loc, x, w));
  return arith::AddIOp::create(b, loc, acc, arith::MulIOp::create(b, loc, x, w));
}

/// A grouped convolution as a linalg.generic: `x` is the padded input
/// (N, G*Cg, spatial...), `w` the kernel grouped as (G, Fg, Cg, k...); the
/// result (N, G*Fg, out...) has type `resultType`.
Value groupedConv(OpBuilder &b, Location loc, Value x, Value w,
                  RankedTensorType resultType, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> dilations, Value zero, const MacBody &mac) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t rank = xType.getRank() - 2;
  int64_t groups = wType.getDimSize(0), fg = wType.getDimSize(1),
          cg = wType.getDimSize(2);
  MLIRContext *ctx = b.getContext();
  // x: (N, C, sp...) -> (N, G, Cg, sp...).
  SmallVector<int64_t> xShape = {xType.getDimSize(0), groups, cg};
  llvm::append_range(xShape, xType.getShape().drop_front(2));
  SmallVector<ReassociationIndices> expandX = {{0}, {1, 2}};
  for (int64_t i = 0; i < rank; ++i)
    expandX.push_back({3 + i});
  Value xg = tensor::ExpandShapeOp::create(b, loc, xType.clone(xShape), x,
                                           expandX);
  SmallVector<int64_t> outShape = {resultType.getDimSize(0), groups, fg};
  llvm::append_range(outShape, resultType.getShape().drop_front(2));
  auto outType = resultType.clone(outShape);
  Value init = filled(b, loc, outType, x, zero);
  // Loops: n, g, f, o..., c, k...
  int64_t numLoops = 3 + rank + 1 + rank;
  auto d = [&](int64_t i) { return b.getAffineDimExpr(i); };
  AffineExpr n = d(0), g = d(1), f = d(2), c = d(3 + rank);
  SmallVector<AffineExpr> xExprs = {n, g, c}, wExprs = {g, f, c},
                          oExprs = {n, g, f};
  for (int64_t i = 0; i < rank; ++i) {
    AffineExpr o = d(3 + i), k = d(4 + rank + i);
    xExprs.push_back(o * strides[i] + k * dilations[i]);
    wExprs.push_back(k);
    oExprs.push_back(o);
  }
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, xExprs, ctx),
                                 AffineMap::get(numLoops, 0, wExprs, ctx),
                                 AffineMap::get(numLoops, 0, oExprs, ctx)};
  Value conv =
      linalg::GenericOp::create(
          b, loc, TypeRange{outType}, ValueRange{xg, w}, ValueRange{init}, maps,
          iteratorTypes(3 + rank, 1 + rank),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            linalg::YieldOp::create(nb, nloc,
                                    mac(nb, nloc, args[0], args[1], args[2]));
          })
          .getResult(0);
  SmallVector<ReassociationIndices> collapse = {{0}, {1, 2}};
  for (int64_t i = 0; i < rank; ++i)
    collapse.push_back({3 + i});
  return tensor::CollapseShapeOp::create(b, loc, resultType, conv, collapse);
}

/// Conv with one group and float (or same-typed integer) operands: the
/// linalg named convolution of its rank.
Value namedConv(OpBuilder &b, Location loc, Value x, Value w,
                RankedTensorType resultType, ArrayRef<int64_t> strides,
                ArrayRef<int64_t> dilations) {
  Value zero = scalarConstant(b, loc, resultType.getElementType(), 0);
  Value init = filled(b, loc, resultType, x, zero);
  Attribute s = b.getI64TensorAttr(strides), dl = b.getI64TensorAttr(dilations);
  switch (resultType.getRank()) {
  case 3:
    return linalg::Conv1DNcwFcwOp::create(b, loc, TypeRange{resultType},
                                          ValueRange{x, w}, ValueRange{init}, s,
                                          dl)
        .getResult(0);
  case 4:
    return linalg::Conv2DNchwFchwOp::create(b, loc, TypeRange{resultType},
                                            ValueRange{x, w}, ValueRange{init},
                                            s, dl)
        .getResult(0);
  default:
    return linalg::Conv3DNcdhwFcdhwOp::create(b, loc, TypeRange{resultType},
                                              ValueRange{x, w},
                                              ValueRange{init}, s, dl)
        .getResult(0);
  }
}

/// (M, Cg, k...) -> (G, M/G, Cg, k...).
Value groupKernel(OpBuilder &b, Location loc, Value w, int64_t groups) {
  auto type = cast<RankedTensorType>(w.getType());
  SmallVector<int64_t> shape = {groups, type.getDimSize(0) / groups};
  llvm::append_range(shape, type.getShape().drop_front());
  SmallVector<ReassociationIndices> expand = {{0, 1}};
  for (int64_t i = 1; i < type.getRank(); ++i)
    expand.push_back({i + 1});
  return tensor::ExpandShapeOp::create(b, loc, type.clone(shape), w, expand);
}

/// A scalar zero point (rank 0 or a single element), or failure.
FailureOr<Value> scalarZeroPoint(Operation *op, OpBuilder &b, Location loc,
                                 Value zp) {
  auto type = cast<RankedTensorType>(zp.getType());
  if (!type.hasStaticShape() || type.getNumElements() != 1)
    return op->emitError("only scalar zero points are supported"), failure();
  SmallVector<Value> indices(type.getRank(),
                             arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, zp, indices).getResult();
}

/// Conv and ConvInteger.
FailureOr<SmallVector<Value>> lowerConv(Operation *op, ArrayRef<Value> operands,
                                        ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  bool isInteger = op->getName().getStringRef().starts_with("onnx.ConvInteger");
  Location loc = op->getLoc();
  Value x = operands[0], w = operands[1];
  FailureOr<RankedTensorType> xType = staticSpatialType(op, x, "the input");
  if (failed(xType))
    return failure();
  auto wType = dyn_cast<RankedTensorType>(w.getType());
  if (!wType || !wType.hasStaticShape() || wType.getRank() != xType->getRank())
    return op->emitError("the kernel must have a static shape of the input's "
                         "rank"),
           failure();
  int64_t rank = xType->getRank() - 2;
  int64_t groups = intAttr(op, "group", 1);
  int64_t channels = xType->getDimSize(1), m = wType.getDimSize(0);
  if (groups <= 0 || channels % groups || m % groups ||
      wType.getDimSize(1) * groups != channels)
    return op->emitError("group does not divide the channels"), failure();
  FailureOr<Window> win =
      windowOf(op, xType->getShape().drop_front(2),
               wType.getShape().drop_front(2), *result);
  if (failed(win))
    return failure();
  RankedTensorType outType = withSpatial(*result, win->out);
  Type elementType = outType.getElementType();

  SmallVector<int64_t> low = {0, 0}, high = {0, 0};
  for (int64_t i = 0; i < rank; ++i) {
    low.push_back(win->low[i]);
    high.push_back(win->high[i] + win->extraHigh[i]);
  }

  Value out;
  if (isInteger) {
    // (x - x_zero_point) * (w - w_zero_point), accumulated in i32; the pads
    // hold x_zero_point so they contribute nothing.
    bool xUnsigned = isUnsigned(op->getOperand(0)),
         wUnsigned = isUnsigned(op->getOperand(1));
    Type xElem = xType->getElementType(), wElem = wType.getElementType();
    Value xZero = scalarConstant(rewriter, loc, xElem, 0);
    Value wZero = scalarConstant(rewriter, loc, wElem, 0);
    if (operands.size() > 2 && operands[2]) {
      FailureOr<Value> zp = scalarZeroPoint(op, rewriter, loc, operands[2]);
      if (failed(zp))
        return failure();
      xZero = *zp;
    }
    if (operands.size() > 3 && operands[3]) {
      FailureOr<Value> zp = scalarZeroPoint(op, rewriter, loc, operands[3]);
      if (failed(zp))
        return failure();
      wZero = *zp;
    }
    Value xPadded = padded(rewriter, loc, x, low, high, xZero);
    Value xz = castScalar(rewriter, loc, xZero, elementType, xUnsigned, false);
    Value wz = castScalar(rewriter, loc, wZero, elementType, wUnsigned, false);
    MacBody mac = [&](OpBuilder &nb, Location nloc, Value a, Value k,
                      Value acc) -> Value {
      Value a32 = arith::SubIOp::create(
          nb, nloc, castScalar(nb, nloc, a, elementType, xUnsigned, false), xz);
      Value k32 = arith::SubIOp::create(
          nb, nloc, castScalar(nb, nloc, k, elementType, wUnsigned, false), wz);
      return arith::AddIOp::create(nb, nloc, acc,
                                   arith::MulIOp::create(nb, nloc, a32, k32));
    };
    out = groupedConv(rewriter, loc, xPadded,
                      groupKernel(rewriter, loc, w, groups), outType,
                      win->strides, win->dilations,
                      scalarConstant(rewriter, loc, elementType, 0), mac);
  } else {
    if (xType->getElementType() != elementType ||
        wType.getElementType() != elementType)
      return op->emitError("Conv operands and result must share an element "
                           "type"),
             failure();
    Value zero = scalarConstant(rewriter, loc, elementType, 0);
    Value xPadded = padded(rewriter, loc, x, low, high, zero);
    if (groups == 1 && rank <= 3) {
      out = namedConv(rewriter, loc, xPadded, w, outType, win->strides,
                      win->dilations);
    } else if (groups == channels && m == channels && rank == 2) {
      // Depthwise, one filter per channel: (C, 1, kh, kw) -> (C, kh, kw).
      auto depthType = RankedTensorType::get(
          {channels, wType.getDimSize(2), wType.getDimSize(3)}, elementType);
      Value wd = tensor::CollapseShapeOp::create(
          rewriter, loc, depthType, w,
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
      Value init = filled(rewriter, loc, outType, x, zero);
      out = linalg::DepthwiseConv2DNchwChwOp::create(
                rewriter, loc, TypeRange{outType}, ValueRange{xPadded, wd},
                ValueRange{init}, rewriter.getI64TensorAttr(win->strides),
                rewriter.getI64TensorAttr(win->dilations))
                .getResult(0);
    } else {
      out = groupedConv(rewriter, loc, xPadded,
                        groupKernel(rewriter, loc, w, groups), outType,
                        win->strides, win->dilations, zero, floatMac);
    }
    if (operands.size() > 2 && operands[2])
      out = addChannelBias(rewriter, loc, out, operands[2]);
  }
  if (out.getType() != *result)
    out = tensor::CastOp::create(rewriter, loc, *result, out);
  return SmallVector<Value>{out};
}

/// ConvTranspose: y[o] = sum over i, k with o + begin = i*s + k*d of
/// x[i] * w[k]. The input is scattered (stride s) into zeros so that a
/// stride-1 convolution with the flipped kernel computes it.
FailureOr<SmallVector<Value>>
lowerConvTranspose(Operation *op, ArrayRef<Value> operands,
                   ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], w = operands[1];
  FailureOr<RankedTensorType> xType = staticSpatialType(op, x, "the input");
  if (failed(xType))
    return failure();
  auto wType = dyn_cast<RankedTensorType>(w.getType());
  if (!wType || !wType.hasStaticShape() || wType.getRank() != xType->getRank())
    return op->emitError("the kernel must have a static shape of the input's "
                         "rank"),
           failure();
  Type elementType = result->getElementType();
  if (!isa<FloatType>(elementType))
    return op->emitError("ConvTranspose supports float tensors only"),
           failure();
  int64_t rank = xType->getRank() - 2;
  int64_t groups = intAttr(op, "group", 1);
  int64_t channels = xType->getDimSize(1);
  if (groups <= 0 || channels % groups || wType.getDimSize(0) != channels)
    return op->emitError("group does not divide the channels"), failure();
  int64_t cg = channels / groups, fg = wType.getDimSize(1), m = fg * groups;
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  SmallVector<int64_t> strides =
      intsAttr(op, "strides").value_or(SmallVector<int64_t>(rank, 1));
  SmallVector<int64_t> dilations =
      intsAttr(op, "dilations").value_or(SmallVector<int64_t>(rank, 1));
  SmallVector<int64_t> outputPadding =
      intsAttr(op, "output_padding").value_or(SmallVector<int64_t>(rank, 0));
  std::optional<SmallVector<int64_t>> pads = intsAttr(op, "pads");
  std::optional<SmallVector<int64_t>> outputShape =
      intsAttr(op, "output_shape");
  StringRef autoPad = stringAttr(op, "auto_pad", "NOTSET");
  if ((int64_t)strides.size() != rank || (int64_t)dilations.size() != rank ||
      (int64_t)outputPadding.size() < rank || (pads && (int64_t)pads->size() != 2 * rank))
    return op->emitError("strides, dilations, pads or output_padding do not "
                         "match the number of spatial dimensions"),
           failure();
  if (outputShape && (int64_t)outputShape->size() == rank + 2)
    outputShape = SmallVector<int64_t>(outputShape->begin() + 2,
                                       outputShape->end());
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  SmallVector<int64_t> begin, out;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t in = xType->getDimSize(2 + i);
    int64_t full = strides[i] * (in - 1) + outputPadding[i] +
                   (kernel[i] - 1) * dilations[i] + 1;
    int64_t size, lo;
    if (same && !pads) {
      size = outputShape ? (*outputShape)[i] : in * strides[i];
      int64_t total = full - size;
      lo = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
    } else {
      lo = pads ? (*pads)[i] : 0;
      int64_t hi = pads ? (*pads)[rank + i] : 0;
      size = outputShape ? (*outputShape)[i] : full - lo - hi;
    }
    int64_t resultSize = result->getDimSize(2 + i);
    if (!ShapedType::isDynamic(resultSize) && resultSize != size)
      return op->emitError() << "computed output size " << size
                             << " of spatial dimension " << i
                             << " differs from the result type's "
                             << resultSize,
             failure();
    if (size <= 0)
      return op->emitError("empty ConvTranspose output"), failure();
    begin.push_back(lo);
    out.push_back(size);
  }
  RankedTensorType outType = withSpatial(*result, out);
  if (outType.getDimSize(1) != m && !outType.isDynamicDim(1))
    return op->emitError("result channels differ from the kernel's"), failure();

  // Scatter: z[e - begin + i*s] = x[i] for the i that land in [0, out + e),
  // e = (K-1)*d.
  Value zero = scalarConstant(rewriter, loc, elementType, 0);
  SmallVector<int64_t> zShape = {xType->getDimSize(0), channels};
  SmallVector<OpFoldResult> srcOffsets(2, rewriter.getIndexAttr(0)),
      srcSizes, srcStrides(rank + 2, rewriter.getIndexAttr(1)),
      dstOffsets(2, rewriter.getIndexAttr(0)), dstStrides(2, rewriter.getIndexAttr(1));
  srcSizes.push_back(
      xType->isDynamicDim(0)
          ? OpFoldResult(tensor::DimOp::create(rewriter, loc, x, 0).getResult())
          : OpFoldResult(rewriter.getIndexAttr(xType->getDimSize(0))));
  srcSizes.push_back(rewriter.getIndexAttr(channels));
  SmallVector<OpFoldResult> dstSizes = srcSizes;
  SmallVector<int64_t> sliceShape = {xType->getDimSize(0), channels};
  for (int64_t i = 0; i < rank; ++i) {
    int64_t in = xType->getDimSize(2 + i), s = strides[i];
    int64_t e = (kernel[i] - 1) * dilations[i], zSize = out[i] + e;
    int64_t offset = e - begin[i];
    int64_t first = offset >= 0 ? 0 : (-offset + s - 1) / s;
    int64_t last = std::min<int64_t>(in - 1, (zSize - 1 - offset) / s);
    if (zSize - 1 - offset < 0)
      last = -1;
    int64_t count = std::max<int64_t>(0, last - first + 1);
    zShape.push_back(zSize);
    sliceShape.push_back(count);
    srcOffsets.push_back(rewriter.getIndexAttr(first));
    srcSizes.push_back(rewriter.getIndexAttr(count));
    dstOffsets.push_back(rewriter.getIndexAttr(offset + first * s));
    dstSizes.push_back(rewriter.getIndexAttr(count));
    dstStrides.push_back(rewriter.getIndexAttr(s));
  }
  auto zType = RankedTensorType::get(zShape, elementType);
  Value z = filled(rewriter, loc, zType, x, zero);
  if (llvm::none_of(sliceShape, [](int64_t v) { return v == 0; })) {
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, RankedTensorType::get(sliceShape, elementType), x,
        srcOffsets, srcSizes, srcStrides);
    z = tensor::InsertSliceOp::create(rewriter, loc, slice, z, dstOffsets,
                                      dstSizes, dstStrides);
  }

  // Kernel (C, Fg, k...) -> flipped (G, Fg, Cg, k...).
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<int64_t> gShape = {groups, fg, cg};
  llvm::append_range(gShape, kernel);
  auto gType = RankedTensorType::get(gShape, elementType);
  int64_t numLoops = 3 + rank;
  SmallVector<AffineExpr> inExprs = {rewriter.getAffineDimExpr(0) * cg +
                                         rewriter.getAffineDimExpr(2),
                                     rewriter.getAffineDimExpr(1)};
  for (int64_t i = 0; i < rank; ++i)
    inExprs.push_back(kernel[i] - 1 - rewriter.getAffineDimExpr(3 + i));
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, inExprs, ctx),
                                 rewriter.getMultiDimIdentityMap(numLoops)};
  Value gEmpty = tensor::EmptyOp::create(rewriter, loc, gShape, elementType);
  Value flipped =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{gType}, ValueRange{w}, ValueRange{gEmpty},
          maps, iteratorTypes(numLoops, 0),
          [](OpBuilder &nb, Location nloc, ValueRange args) {
            linalg::YieldOp::create(nb, nloc, args[0]);
          })
          .getResult(0);
  SmallVector<int64_t> ones(rank, 1);
  Value y;
  if (groups == 1 && rank <= 3) {
    SmallVector<int64_t> fShape = {fg, cg};
    llvm::append_range(fShape, kernel);
    SmallVector<ReassociationIndices> collapse = {{0, 1}, {2}};
    for (int64_t i = 0; i < rank; ++i)
      collapse.push_back({3 + i});
    Value f = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get(fShape, elementType), flipped,
        collapse);
    y = namedConv(rewriter, loc, z, f, outType, ones, dilations);
  } else {
    y = groupedConv(rewriter, loc, z, flipped, outType, ones, dilations, zero,
                    floatMac);
  }
  if (operands.size() > 2 && operands[2])
    y = addChannelBias(rewriter, loc, y, operands[2]);
  if (y.getType() != *result)
    y = tensor::CastOp::create(rewriter, loc, *result, y);
  return SmallVector<Value>{y};
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

enum class PoolKind { Max, Average, Lp };

/// The number of window cells per output position that an average divides
/// by, as an index: the product over spatial dimensions of the kernel taps
/// in [lo, hi) (the input, or the input with its explicit pads when
/// count_include_pad).
Value windowCount(OpBuilder &b, Location loc, const Window &w,
                  ArrayRef<int64_t> in, bool includePad) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  for (size_t i = 0; i < in.size(); ++i) {
    Value o = linalg::IndexOp::create(b, loc, 2 + i);
    // start = o*s - low
    Value start = arith::SubIOp::create(
        b, loc, arith::MulIOp::create(b, loc, o, cst(w.strides[i])),
        cst(w.low[i]));
    int64_t lo = includePad ? -w.low[i] : 0;
    int64_t hi = includePad ? in[i] + w.high[i] : in[i];
    Value d = cst(w.dilations[i]);
    Value kMin = arith::MaxSIOp::create(
        b, loc, cst(0),
        arith::CeilDivSIOp::create(
            b, loc, arith::SubIOp::create(b, loc, cst(lo), start), d));
    Value kMax = arith::MinSIOp::create(
        b, loc, cst(w.kernel[i]),
        arith::CeilDivSIOp::create(
            b, loc, arith::SubIOp::create(b, loc, cst(hi), start), d));
    Value taps = arith::MaxSIOp::create(
        b, loc, cst(0), arith::SubIOp::create(b, loc, kMax, kMin));
    count = arith::MulIOp::create(b, loc, count, taps);
  }
  return count;
}

/// A window reduction over the padded input `x` (N, C, sp...) into `init`
/// (N, C, out...) as a linalg.generic with `combine(element, acc)`.
Value windowReduce(OpBuilder &b, Location loc, Value x, Value init,
                   const Window &w,
                   function_ref<Value(OpBuilder &, Location, Value, Value)>
                       combine) {
  int64_t rank = w.kernel.size();
  auto outType = cast<RankedTensorType>(init.getType());
  MLIRContext *ctx = b.getContext();
  int64_t numLoops = 2 + 2 * rank;
  SmallVector<AffineExpr> xExprs = {b.getAffineDimExpr(0),
                                    b.getAffineDimExpr(1)},
                          kExprs, oExprs = xExprs;
  for (int64_t i = 0; i < rank; ++i) {
    AffineExpr o = b.getAffineDimExpr(2 + i), k = b.getAffineDimExpr(2 + rank + i);
    xExprs.push_back(o * w.strides[i] + k * w.dilations[i]);
    kExprs.push_back(k);
    oExprs.push_back(o);
  }
  Value window = tensor::EmptyOp::create(b, loc, w.kernel, outType.getElementType());
  SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, xExprs, ctx),
                                 AffineMap::get(numLoops, 0, kExprs, ctx),
                                 AffineMap::get(numLoops, 0, oExprs, ctx)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ValueRange{x, window}, ValueRange{init},
             maps, iteratorTypes(2 + rank, rank),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc,
                                       combine(nb, nloc, args[0], args[2]));
             })
      .getResult(0);
}

/// MaxPool's Indices: the flat (row-major NC<spatial>, or with
/// storage_order=1 column-major spatial) index of each window's first
/// maximum, by a generic reducing (value, index) pairs.
std::pair<Value, Value>
maxWithIndices(OpBuilder &b, Location loc, Value x, Value xPadded,
                     RankedTensorType outType, RankedTensorType indexType,
                     const Window &w, ArrayRef<int64_t> in, bool columnMajor,
                     Value lowest) {
  int64_t rank = w.kernel.size();
  MLIRContext *ctx = b.getContext();
  int64_t numLoops = 2 + 2 * rank;
  SmallVector<AffineExpr> xExprs = {b.getAffineDimExpr(0),
                                    b.getAffineDimExpr(1)},
                          kExprs, oExprs = xExprs;
  for (int64_t i = 0; i < rank; ++i) {
    AffineExpr o = b.getAffineDimExpr(2 + i), k = b.getAffineDimExpr(2 + rank + i);
    xExprs.push_back(o * w.strides[i] + k * w.dilations[i]);
    kExprs.push_back(k);
    oExprs.push_back(o);
  }
  Value window = tensor::EmptyOp::create(b, loc, w.kernel, outType.getElementType());
  Value values = filled(b, loc, outType, x, lowest);
  Value indices = filled(b, loc, indexType, x,
                         scalarConstant(b, loc, b.getI64Type(), -1));
  SmallVector<AffineMap> maps = {
      AffineMap::get(numLoops, 0, xExprs, ctx),
      AffineMap::get(numLoops, 0, kExprs, ctx),
      AffineMap::get(numLoops, 0, oExprs, ctx),
      AffineMap::get(numLoops, 0, oExprs, ctx)};
  int64_t channels = cast<RankedTensorType>(x.getType()).getDimSize(1);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType, indexType}, ValueRange{xPadded, window},
      ValueRange{values, indices}, maps, iteratorTypes(2 + rank, rank),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        auto cst = [&](int64_t v) -> Value {
          return arith::ConstantIndexOp::create(nb, nloc, v);
        };
        // Position in the unpadded input; padding cells never win since
        // they hold the lowest value and the comparison is strict.
        Value flat = linalg::IndexOp::create(nb, nloc, 0);
        flat = arith::AddIOp::create(
            nb, nloc, arith::MulIOp::create(nb, nloc, flat, cst(channels)),
            linalg::IndexOp::create(nb, nloc, 1));
        SmallVector<Value> pos;
        for (int64_t i = 0; i < rank; ++i) {
          Value o = linalg::IndexOp::create(nb, nloc, 2 + i);
          Value k = linalg::IndexOp::create(nb, nloc, 2 + rank + i);
          Value p = arith::AddIOp::create(
              nb, nloc, arith::MulIOp::create(nb, nloc, o, cst(w.strides[i])),
              arith::MulIOp::create(nb, nloc, k, cst(w.dilations[i])));
          pos.push_back(arith::SubIOp::create(nb, nloc, p, cst(w.low[i])));
        }
        Value spatial = cst(0);
        if (columnMajor) {
          for (int64_t i = rank - 1; i >= 0; --i)
            spatial = arith::AddIOp::create(
                nb, nloc, arith::MulIOp::create(nb, nloc, spatial, cst(in[i])),
                pos[i]);
        } else {
          for (int64_t i = 0; i < rank; ++i)
            spatial = arith::AddIOp::create(
                nb, nloc, arith::MulIOp::create(nb, nloc, spatial, cst(in[i])),
                pos[i]);
        }
        int64_t spatialSize = 1;
        for (int64_t v : in)
          spatialSize *= v;
        flat = arith::AddIOp::create(
            nb, nloc, arith::MulIOp::create(nb, nloc, flat, cst(spatialSize)),
            spatial);
        Value flat64 = arith::IndexCastOp::create(nb, nloc, nb.getI64Type(), flat);
        Value value = args[0], best = args[2], bestIndex = args[3];
        Value greater =
            isa<FloatType>(value.getType())
                ? arith::CmpFOp::create(nb, nloc, arith::CmpFPredicate::OGT,
                                        value, best)
                      .getResult()
                : arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sgt,
                                        value, best)
                      .getResult();
        // The first cell of a window always initializes the index.
        Value unset = arith::CmpIOp::create(
            nb, nloc, arith::CmpIPredicate::slt, bestIndex,
            scalarConstant(nb, nloc, nb.getI64Type(), 0));
        Value take = arith::OrIOp::create(nb, nloc, greater, unset);
        linalg::YieldOp::create(
            nb, nloc,
            ValueRange{arith::SelectOp::create(nb, nloc, take, value, best),
                       arith::SelectOp::create(nb, nloc, take, flat64,
                                               bestIndex)});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

FailureOr<SmallVector<Value>> lowerPool(Operation *op, ArrayRef<Value> operands,
                                        ConversionPatternRewriter &rewriter,
                                        PoolKind kind, bool global) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  FailureOr<RankedTensorType> xType = staticSpatialType(op, x, "the input");
  if (failed(xType))
    return failure();
  Type elementType = xType->getElementType();
  bool isFloat = isa<FloatType>(elementType);
  bool unsignedInt = isUnsigned(op->getOperand(0));
  if (kind != PoolKind::Max && !isFloat)
    return op->emitError("average and Lp pooling support float tensors only"),
           failure();
  int64_t rank = xType->getRank() - 2;
  ArrayRef<int64_t> in = xType->getShape().drop_front(2);
  Window w;
  if (global) {
    w.kernel.assign(in.begin(), in.end());
    w.strides.assign(rank, 1);
    w.dilations.assign(rank, 1);
    w.low.assign(rank, 0);
    w.high.assign(rank, 0);
    w.extraHigh.assign(rank, 0);
    w.out.assign(rank, 1);
  } else {
    std::optional<SmallVector<int64_t>> kernel = intsAttr(op, "kernel_shape");
    if (!kernel || (int64_t)kernel->size() != rank)
      return op->emitError("kernel_shape must give every spatial dimension"),
             failure();
    FailureOr<Window> win = windowOf(op, in, *kernel, *result);
    if (failed(win))
      return failure();
    w = *win;
  }
  RankedTensorType outType = withSpatial(*result, w.out);

  SmallVector<int64_t> low = {0, 0}, high = {0, 0};
  for (int64_t i = 0; i < rank; ++i) {
    low.push_back(w.low[i]);
    high.push_back(w.high[i] + w.extraHigh[i]);
  }
  Value padValue = kind == PoolKind::Max
                       ? lowestValue(rewriter, loc, elementType, unsignedInt)
                       : scalarConstant(rewriter, loc, elementType, 0);
  Value xPadded = padded(rewriter, loc, x, low, high, padValue);

  Value out;
  bool wantIndices = op->getNumResults() > 1 && !op->getResult(1).use_empty();
  if (kind == PoolKind::Max && wantIndices) {
    FailureOr<RankedTensorType> indexType = resultType(op, 1);
    if (failed(indexType))
      return failure();
    if (!isFloat && unsignedInt)
      return op->emitError("MaxPool Indices of unsigned tensors are not "
                           "supported"),
             failure();
    auto indexOut =
        RankedTensorType::get(outType.getShape(), rewriter.getI64Type());
    auto [values, idx] = maxWithIndices(
        rewriter, loc, x, xPadded, outType, indexOut, w, in,
        intAttr(op, "storage_order", 0) == 1, padValue);
    out = values;
    if (out.getType() != *result)
      out = tensor::CastOp::create(rewriter, loc, *result, out);
    if (idx.getType() != *indexType)
      idx = tensor::CastOp::create(rewriter, loc, *indexType, idx);
    return SmallVector<Value>{out, idx};
  }

  Value init = filled(rewriter, loc, outType, x, padValue);
  bool named = isFloat && kind != PoolKind::Lp && (rank == 1 || rank == 2);
  if (named) {
    Value window = tensor::EmptyOp::create(rewriter, loc, w.kernel, elementType);
    Attribute s = rewriter.getI64TensorAttr(w.strides),
              dl = rewriter.getI64TensorAttr(w.dilations);
    SmallVector<Value> ins = {xPadded, window};
    if (kind == PoolKind::Max)
      out = rank == 1 ? linalg::PoolingNcwMaxOp::create(rewriter, loc,
                                                        TypeRange{outType}, ins,
                                                        ValueRange{init}, s, dl)
                            .getResult(0)
                      : linalg::PoolingNchwMaxOp::create(
                            rewriter, loc, TypeRange{outType}, ins,
                            ValueRange{init}, s, dl)
                            .getResult(0);
    else
      out = rank == 1 ? linalg::PoolingNcwSumOp::create(rewriter, loc,
                                                        TypeRange{outType}, ins,
                                                        ValueRange{init}, s, dl)
                            .getResult(0)
                      : linalg::PoolingNchwSumOp::create(
                            rewriter, loc, TypeRange{outType}, ins,
                            ValueRange{init}, s, dl)
                            .getResult(0);
  } else {
    double p = intAttr(op, "p", 2);
    out = windowReduce(
        rewriter, loc, xPadded, init, w,
        [&](OpBuilder &nb, Location nloc, Value v, Value acc) -> Value {
          switch (kind) {
          case PoolKind::Max:
            if (isFloat)
              return arith::MaximumFOp::create(nb, nloc, v, acc);
            if (unsignedInt)
              return arith::MaxUIOp::create(nb, nloc, v, acc);
            return arith::MaxSIOp::create(nb, nloc, v, acc);
          case PoolKind::Average:
            return arith::AddFOp::create(nb, nloc, v, acc);
          case PoolKind::Lp: {
            Value a = math::AbsFOp::create(nb, nloc, v);
            Value term =
                p == 1.0   ? a
                : p == 2.0 ? arith::MulFOp::create(nb, nloc, a, a).getResult()
                           : math::PowFOp::create(
                                 nb, nloc, a,
                                 scalarConstant(nb, nloc, v.getType(), p))
                                 .getResult();
            return arith::AddFOp::create(nb, nloc, term, acc);
          }
          }
          llvm_unreachable("pool kind");
        });
  }

  if (kind == PoolKind::Average) {
    bool includePad = intAttr(op, "count_include_pad", 0);
    bool uniform = llvm::all_of(w.extraHigh, [](int64_t v) { return v == 0; }) &&
                   (includePad ||
                    (llvm::all_of(w.low, [](int64_t v) { return v == 0; }) &&
                     llvm::all_of(w.high, [](int64_t v) { return v == 0; })));
    int64_t kernelSize = 1;
    for (int64_t k : w.kernel)
      kernelSize *= k;
    out = elementwise(
        rewriter, loc, outType, {out},
        [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          Value count;
          if (uniform) {
            count = scalarConstant(nb, nloc, elementType, kernelSize);
          } else {
            Value n = windowCount(nb, nloc, w, in, includePad);
            count = arith::UIToFPOp::create(
                nb, nloc, elementType,
                arith::IndexCastOp::create(nb, nloc, nb.getI64Type(), n));
          }
          return arith::DivFOp::create(nb, nloc, args[0], count);
        });
  } else if (kind == PoolKind::Lp) {
    double p = intAttr(op, "p", 2);
    out = elementwise(
        rewriter, loc, outType, {out},
        [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          if (p == 1.0)
            return args[0];
          if (p == 2.0)
            return math::SqrtOp::create(nb, nloc, args[0]);
          return math::PowFOp::create(
              nb, nloc, args[0],
              scalarConstant(nb, nloc, elementType, 1.0 / p));
        });
  }
  if (out.getType() != *result)
    out = tensor::CastOp::create(rewriter, loc, *result, out);
  return SmallVector<Value>{out};
}

//===----------------------------------------------------------------------===//
// BatchNormalization
//===----------------------------------------------------------------------===//

/// Per-channel sums over every dimension but 1 of `body(x, perChannel...)`.
Value channelSum(OpBuilder &b, Location loc, Value x, ValueRange perChannel,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  MLIRContext *ctx = b.getContext();
  Type elementType = xType.getElementType();
  auto sumType = RankedTensorType::get({xType.getDimSize(1)}, elementType);
  Value zero = scalarConstant(b, loc, elementType, 0);
  Value init = linalg::FillOp::create(
                   b, loc, zero,
                   tensor::EmptyOp::create(b, loc, sumType.getShape(),
                                           elementType)
                       .getResult())
                   .getResult(0);
  // Loops: c, then every other dimension (reductions).
  SmallVector<AffineExpr> xExprs;
  for (int64_t d = 0; d < rank; ++d)
    xExprs.push_back(b.getAffineDimExpr(d == 0 ? 1 : d == 1 ? 0 : d));
  AffineMap channel = AffineMap::get(rank, 0, {b.getAffineDimExpr(0)}, ctx);
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, xExprs, ctx)};
  SmallVector<Value> inputs = {x};
  for (Value v : perChannel) {
    maps.push_back(channel);
    inputs.push_back(v);
  }
  maps.push_back(channel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{sumType}, inputs, ValueRange{init}, maps,
             iteratorTypes(1, rank - 1),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               Value term = body(nb, nloc, args.drop_back());
               linalg::YieldOp::create(
                   nb, nloc, arith::AddFOp::create(nb, nloc, term, args.back()).getResult());
             })
      .getResult(0);
}

FailureOr<SmallVector<Value>>
lowerBatchNormalization(Operation *op, ArrayRef<Value> operands,
                        ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], scale = operands[1], bias = operands[2],
        mean = operands[3], var = operands[4];
  auto xType = cast<RankedTensorType>(x.getType());
  Type elementType = xType.getElementType();
  if (!isa<FloatType>(elementType) || xType.getRank() < 2)
    return op->emitError("BatchNormalization needs a float input of rank >= 2"),
           failure();
  for (Value v : {scale, bias, mean, var})
    if (cast<RankedTensorType>(v.getType()).getElementType() != elementType)
      return op->emitError("BatchNormalization operands of mixed float types "
                           "are not supported"),
             failure();
  double epsilon = floatAttr(op, "epsilon", 1e-5);
  double momentum = floatAttr(op, "momentum", 0.9);
  bool training = intAttr(op, "training_mode", 0);
  // Opset < 14 had is_test/spatial and returned saved mean/var in training.
  if (op->getAttrDictionary().get("spatial") &&
      intAttr(op, "spatial", 1) != 1)
    return op->emitError("BatchNormalization with spatial=0 is not supported"),
           failure();
  int64_t rank = xType.getRank();
  MLIRContext *ctx = rewriter.getContext();

  Value useMean = mean, useVar = var;
  SmallVector<Value> results;
  if (training) {
    for (int64_t d = 0; d < rank; ++d)
      if (d != 1 && xType.isDynamicDim(d))
        return op->emitError("training-mode BatchNormalization needs static "
                             "dimensions"),
               failure();
    int64_t count = xType.getNumElements() / xType.getDimSize(1);
    Value n = scalarConstant(rewriter, loc, elementType, count);
    auto channelType = RankedTensorType::get({xType.getDimSize(1)}, elementType);
    auto perChannel = [&](ValueRange inputs,
                          function_ref<Value(OpBuilder &, Location, ValueRange)>
                              body) {
      return elementwise(rewriter, loc, channelType, inputs, body);
    };
    Value sum = channelSum(rewriter, loc, x, {},
                           [](OpBuilder &, Location, ValueRange a) { return a[0]; });
    Value batchMean = perChannel({sum}, [&](OpBuilder &nb, Location nloc,
                                            ValueRange a) -> Value {
      return arith::DivFOp::create(nb, nloc, a[0], n);
    });
    Value squares = channelSum(
        rewriter, loc, x, {batchMean},
        [](OpBuilder &nb, Location nloc, ValueRange a) -> Value {
          Value d = arith::SubFOp::create(nb, nloc, a[0], a[1]);
          return arith::MulFOp::create(nb, nloc, d, d);
        });
    Value batchVar = perChannel({squares}, [&](OpBuilder &nb, Location nloc,
                                               ValueRange a) -> Value {
      return arith::DivFOp::create(nb, nloc, a[0], n);
    });
    auto running = [&](Value old, Value batch) {
      return perChannel({old, batch}, [&](OpBuilder &nb, Location nloc,
                                          ValueRange a) -> Value {
        Value m = scalarConstant(nb, nloc, elementType, momentum);
        Value rest = scalarConstant(nb, nloc, elementType, 1.0 - momentum);
        return arith::AddFOp::create(
            nb, nloc, arith::MulFOp::create(nb, nloc, a[0], m),
            arith::MulFOp::create(nb, nloc, a[1], rest));
      });
    };
    useMean = batchMean;
    useVar = batchVar;
    if (op->getNumResults() > 1)
      results.push_back(running(mean, batchMean));
    if (op->getNumResults() > 2)
      results.push_back(running(var, batchVar));
  }
  AffineMap channel = AffineMap::get(rank, 0, {rewriter.getAffineDimExpr(1)}, ctx);
  SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank), channel,
                                 channel, channel, channel,
                                 rewriter.getMultiDimIdentityMap(rank)};
  Value init = emptyBatched(rewriter, loc, xType, x);
  Value y =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{xType},
          ValueRange{x, scale, bias, useMean, useVar}, ValueRange{init}, maps,
          iteratorTypes(rank, 0),
          [&](OpBuilder &nb, Location nloc, ValueRange a) {
            // (x - mean) * scale / sqrt(var + epsilon) + bias
            Value eps = scalarConstant(nb, nloc, elementType, epsilon);
            Value stddev = math::SqrtOp::create(
                nb, nloc, arith::AddFOp::create(nb, nloc, a[4], eps));
            Value centered = arith::SubFOp::create(nb, nloc, a[0], a[3]);
            Value normalized = arith::DivFOp::create(nb, nloc, centered, stddev);
            Value scaled = arith::MulFOp::create(nb, nloc, normalized, a[1]);
            linalg::YieldOp::create(
                nb, nloc, arith::AddFOp::create(nb, nloc, scaled, a[2]).getResult());
          })
          .getResult(0);
  if (y.getType() != *result)
    y = tensor::CastOp::create(rewriter, loc, *result, y);
  results.insert(results.begin(), y);
  return results;
}

//===----------------------------------------------------------------------===//
// Resize, Upsample
//===----------------------------------------------------------------------===//

/// f64 helpers for the coordinate arithmetic of the resampling bodies.
struct F64 {
  ImplicitLocOpBuilder &b;
  Value c(double v) {
    return arith::ConstantOp::create(b, b.getF64FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, x, y); }
  Value floor(Value x) { return math::FloorOp::create(b, x); }
  Value ceil(Value x) { return math::CeilOp::create(b, x); }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, p, x, y);
  }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, cond, x, y);
  }
  Value clamp(Value x, double lo, double hi) {
    return arith::MinimumFOp::create(
        b, arith::MaximumFOp::create(b, x, c(lo)), c(hi));
  }
  /// An index from a float holding an integer value.
  Value toIndex(Value x) {
    return arith::IndexCastOp::create(
        b, b.getIndexType(), arith::FPToSIOp::create(b, b.getI64Type(), x));
  }
  Value fromIndex(Value i) {
    return arith::SIToFPOp::create(
        b, b.getF64Type(), arith::IndexCastOp::create(b, b.getI64Type(), i));
  }
  Value toF64(Value x) {
    return castScalar(b, b.getLoc(), x, b.getF64Type(), false, false);
  }
};

/// Keys' cubic convolution coefficients of taps -1, 0, 1, 2 at fraction r.
SmallVector<Value> cubicCoefficients(F64 &f, Value r, double a) {
  auto poly = [&](Value t, bool inner) -> Value {
    // inner (|t| <= 1): ((A+2)t - (A+3)) t t + 1
    // outer (1 < |t| < 2): ((A t - 5A) t + 8A) t - 4A
    if (inner)
      return f.add(f.mul(f.mul(f.sub(f.mul(f.c(a + 2), t), f.c(a + 3)), t), t),
                   f.c(1));
    return f.sub(
        f.mul(f.add(f.mul(f.sub(f.mul(f.c(a), t), f.c(5 * a)), t), f.c(8 * a)),
              t),
        f.c(4 * a));
  };
  Value oneMinus = f.sub(f.c(1), r);
  return {poly(f.add(r, f.c(1)), false), poly(r, true), poly(oneMinus, true),
          poly(f.add(oneMinus, f.c(1)), false)};
}

struct ResizeMode {
  StringRef mode, coordinates, nearest;
  double cubicA, extrapolation;
  bool excludeOutside;
};

/// Resizes axis `axis` of `data` to `outSize`: each output element gathers
/// its taps along the axis with tensor.extract. `scale` is an f64 value;
/// `roiStart`/`roiEnd` (f64) are used by tf_crop_and_resize.
Value resizeAxis(OpBuilder &builder, Location loc, Value data, int64_t axis,
                 int64_t outSize, const ResizeMode &m, Value scale,
                 Value roiStart, Value roiEnd) {
  auto type = cast<RankedTensorType>(data.getType());
  SmallVector<int64_t> shape(type.getShape());
  int64_t in = shape[axis];
  shape[axis] = outSize;
  auto outType = type.clone(shape);
  int64_t rank = type.getRank();
  Value init = tensor::EmptyOp::create(builder, loc, shape, type.getElementType());
  SmallVector<AffineMap> maps = {builder.getMultiDimIdentityMap(rank)};
  return linalg::GenericOp::create(
             builder, loc, TypeRange{outType}, ValueRange{}, ValueRange{init},
             maps, iteratorTypes(rank, 0),
             [&](OpBuilder &nb, Location nloc, ValueRange) {
               ImplicitLocOpBuilder b(nloc, nb);
               F64 f{b};
               SmallVector<Value> idx;
               for (int64_t d = 0; d < rank; ++d)
                 idx.push_back(linalg::IndexOp::create(b, d));
               Value y = f.fromIndex(idx[axis]);
               Value inW = f.c(in), last = f.c(in - 1);
               Value outW = f.mul(scale, inW);
               Value outIsOne = f.cmp(arith::CmpFPredicate::OEQ, outW, f.c(1));
               Value halfPixel = f.sub(f.div(f.add(y, f.c(0.5)), scale), f.c(0.5));
               Value x, extrapolate;
               if (m.coordinates == "align_corners") {
                 x = f.select(outIsOne, f.c(0),
                              f.div(f.mul(y, last), f.sub(outW, f.c(1))));
               } else if (m.coordinates == "asymmetric") {
                 x = f.div(y, scale);
               } else if (m.coordinates == "tf_crop_and_resize") {
                 Value extent = f.mul(f.sub(roiEnd, roiStart), last);
                 x = f.select(outIsOne, f.div(extent, f.c(2)),
                              f.div(f.mul(y, extent), f.sub(outW, f.c(1))));
                 x = f.add(x, f.mul(roiStart, last));
                 extrapolate = arith::OrIOp::create(
                     b, f.cmp(arith::CmpFPredicate::OLT, x, f.c(0)),
                     f.cmp(arith::CmpFPredicate::OGT, x, last));
               } else if (m.coordinates == "pytorch_half_pixel") {
                 x = f.select(outIsOne, f.c(-0.5), halfPixel);
               } else if (m.coordinates == "tf_half_pixel_for_nn") {
                 x = f.div(f.add(y, f.c(0.5)), scale);
               } else {
                 x = halfPixel;
               }
               auto at = [&](Value i) -> Value {
                 SmallVector<Value> indices = idx;
                 indices[axis] = f.toIndex(f.clamp(i, 0, in - 1));
                 return tensor::ExtractOp::create(b, data, indices);
               };
               Value fl = f.floor(x), r = f.sub(x, fl);
               Value result;
               if (m.mode == "nearest") {
                 Value i;
                 if (m.nearest == "floor")
                   i = fl;
                 else if (m.nearest == "ceil")
                   i = f.ceil(x);
                 else if (m.nearest == "round_prefer_ceil")
                   i = f.select(f.cmp(arith::CmpFPredicate::OGE, r, f.c(0.5)),
                                f.add(fl, f.c(1)), fl);
                 else
                   i = f.select(f.cmp(arith::CmpFPredicate::OGT, r, f.c(0.5)),
                                f.add(fl, f.c(1)), fl);
                 result = at(i);
               } else {
                 SmallVector<Value> coeffs;
                 int64_t first;
                 if (m.mode == "linear") {
                   coeffs = {f.sub(f.c(1), r), r};
                   first = 0;
                 } else {
                   coeffs = cubicCoefficients(f, r, m.cubicA);
                   first = -1;
                 }
                 SmallVector<Value> taps;
                 for (size_t t = 0; t < coeffs.size(); ++t)
                   taps.push_back(f.add(fl, f.c(first + (int64_t)t)));
                 if (m.excludeOutside) {
                   Value sum = f.c(0);
                   for (size_t t = 0; t < coeffs.size(); ++t) {
                     Value inside = arith::AndIOp::create(
                         b, f.cmp(arith::CmpFPredicate::OGE, taps[t], f.c(0)),
                         f.cmp(arith::CmpFPredicate::OLE, taps[t], last));
                     coeffs[t] = f.select(inside, coeffs[t], f.c(0));
                     sum = f.add(sum, coeffs[t]);
                   }
                   for (Value &c : coeffs)
                     c = f.div(c, sum);
                 }
                 Value acc = f.c(0);
                 for (size_t t = 0; t < coeffs.size(); ++t)
                   acc = f.add(acc, f.mul(coeffs[t], f.toF64(at(taps[t]))));
                 result = castScalar(b, nloc, acc, type.getElementType(), false,
                                     false);
               }
               if (extrapolate)
                 result = arith::SelectOp::create(
                     b, extrapolate,
                     scalarConstant(b, nloc, type.getElementType(),
                                    m.extrapolation),
                     result);
               linalg::YieldOp::create(b, result);
             })
      .getResult(0);
}

/// Resize (opsets 10-19 without antialias or axes) and Upsample.
FailureOr<SmallVector<Value>> lowerResize(Operation *op,
                                          ArrayRef<Value> operands,
                                          ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  auto xType = cast<RankedTensorType>(x.getType());
  if (!xType.hasStaticShape() || !result->hasStaticShape())
    return op->emitError("Resize needs static input and output shapes"),
           failure();
  StringRef name = op->getName().getStringRef();
  // Upsample and Resize-10 take (X, scales) and use asymmetric coordinates.
  bool legacy = name.starts_with("onnx.Upsample") || name == "onnx.ResizeV10";
  Value roi, scales, sizes;
  if (operands.size() == 2) {
    scales = operands[1];
  } else if (operands.size() >= 4) {
    roi = operands[1];
    scales = operands[2];
    sizes = operands[3];
  }
  ResizeMode m;
  m.mode = stringAttr(op, "mode", "nearest");
  if (m.mode == "bilinear" || m.mode == "trilinear")
    m.mode = "linear";
  m.coordinates = legacy ? "asymmetric"
                         : stringAttr(op, "coordinate_transformation_mode",
                                      "half_pixel");
  m.nearest = legacy ? "floor" : stringAttr(op, "nearest_mode",
                                             "round_prefer_floor");
  m.cubicA = floatAttr(op, "cubic_coeff_a", -0.75);
  m.extrapolation = floatAttr(op, "extrapolation_value", 0.0);
  m.excludeOutside = intAttr(op, "exclude_outside", 0);
  if (m.mode != "nearest" && m.mode != "linear" && m.mode != "cubic")
    return op->emitError() << "Resize mode '" << m.mode << "' is not supported",
           failure();
  if (intAttr(op, "antialias", 0))
    return op->emitError("Resize with antialias is not supported"), failure();
  if (op->getAttrDictionary().get("axes"))
    return op->emitError("Resize with axes is not supported"), failure();
  if (stringAttr(op, "keep_aspect_ratio_policy", "stretch") != "stretch")
    return op->emitError("Resize keep_aspect_ratio_policy other than stretch "
                         "is not supported"),
           failure();
  if (m.coordinates == "half_pixel_symmetric")
    return op->emitError("half_pixel_symmetric coordinates are not supported"),
           failure();
  if (m.mode != "nearest" && !isa<FloatType>(xType.getElementType()))
    return op->emitError("linear and cubic Resize support float tensors only"),
           failure();
  int64_t rank = xType.getRank();
  if (m.coordinates == "tf_crop_and_resize" &&
      (!roi || cast<RankedTensorType>(roi.getType()).getNumElements() != 2 * rank))
    return op->emitError("tf_crop_and_resize needs an roi of 2 * rank values"),
           failure();

  // Per-axis scales: known constants (std::nullopt when only known at run
  // time, read from the scales tensor).
  SmallVector<std::optional<double>> known(rank);
  auto sizesType = sizes ? dyn_cast<RankedTensorType>(sizes.getType()) : nullptr;
  auto scalesType =
      scales ? dyn_cast<RankedTensorType>(scales.getType()) : nullptr;
  bool useSizes = sizesType && sizesType.getNumElements() != 0;
  std::optional<SmallVector<double>> attrScales;
  if (auto attr = op->getAttrDictionary().get("scales")) {
    SmallVector<double> values;
    if (auto dense = dyn_cast<DenseF32ArrayAttr>(attr))
      for (float v : dense.asArrayRef())
        values.push_back(v);
    else if (auto array = dyn_cast<ArrayAttr>(attr))
      for (Attribute a : array)
        values.push_back(cast<FloatAttr>(a).getValueAsDouble());
    attrScales = values;
  }
  if (useSizes) {
    for (int64_t d = 0; d < rank; ++d)
      known[d] = double(result->getDimSize(d)) / double(xType.getDimSize(d));
  } else if (attrScales && (int64_t)attrScales->size() == rank) {
    for (int64_t d = 0; d < rank; ++d)
      known[d] = (*attrScales)[d];
  } else if (scalesType && scalesType.hasStaticShape() &&
             scalesType.getNumElements() == rank) {
    DenseFPElementsAttr constant;
    if (matchPattern(scales, m_Constant(&constant))) {
      int64_t d = 0;
      for (const APFloat &v : constant.getValues<APFloat>())
        known[d++] = v.convertToDouble();
    }
  } else {
    return op->emitError("Resize needs scales or sizes with one value per "
                         "dimension"),
           failure();
  }

  Value out = x;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t in = xType.getDimSize(d), size = result->getDimSize(d);
    bool identity = in == size && known[d] && *known[d] == 1.0 &&
                    m.coordinates != "tf_crop_and_resize";
    if (identity)
      continue;
    Value idx = arith::ConstantIndexOp::create(rewriter, loc, d);
    Value scale;
    if (known[d]) {
      scale = arith::ConstantOp::create(rewriter, loc,
                                        rewriter.getF64FloatAttr(*known[d]));
    } else {
      scale = tensor::ExtractOp::create(rewriter, loc, scales, ValueRange{idx});
      scale = castScalar(rewriter, loc, scale, rewriter.getF64Type(), false,
                         false);
    }
    Value roiStart, roiEnd;
    if (m.coordinates == "tf_crop_and_resize") {
      Value endIdx = arith::ConstantIndexOp::create(rewriter, loc, rank + d);
      roiStart = castScalar(
          rewriter, loc,
          tensor::ExtractOp::create(rewriter, loc, roi, ValueRange{idx}),
          rewriter.getF64Type(), false, false);
      roiEnd = castScalar(
          rewriter, loc,
          tensor::ExtractOp::create(rewriter, loc, roi, ValueRange{endIdx}),
          rewriter.getF64Type(), false, false);
    }
    out = resizeAxis(rewriter, loc, out, d, size, m, scale, roiStart, roiEnd);
  }
  if (out == x) {
    // Every axis is the identity: copy so the result is a new value.
    out = elementwise(rewriter, loc, *result, {x},
                      [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
  return SmallVector<Value>{out};
}

//===----------------------------------------------------------------------===//
// GridSample
//===----------------------------------------------------------------------===//

/// x reflected by the nearer border until it lies in [lo, hi].
Value reflect(F64 &f, Value x, double lo, double hi) {
  ImplicitLocOpBuilder &b = f.b;
  double range = hi - lo;
  auto fold = [&](Value dx, Value nearSide, Value farSide, bool fromBelow) {
    Value n = arith::FPToSIOp::create(b, b.getI64Type(), f.div(dx, f.c(range)));
    Value r = f.sub(dx, f.mul(arith::SIToFPOp::create(b, b.getF64Type(), n),
                              f.c(range)));
    Value even = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq,
        arith::AndIOp::create(b, n, arith::ConstantIntOp::create(b, 1, 64)),
        arith::ConstantIntOp::create(b, 0, 64));
    Value towardsInside = fromBelow ? f.add(nearSide, r) : f.sub(nearSide, r);
    Value fromFar = fromBelow ? f.sub(farSide, r) : f.add(farSide, r);
    return f.select(even, towardsInside, fromFar);
  };
  Value below = fold(f.sub(f.c(lo), x), f.c(lo), f.c(hi), true);
  Value above = fold(f.sub(x, f.c(hi)), f.c(hi), f.c(lo), false);
  return f.select(f.cmp(arith::CmpFPredicate::OLT, x, f.c(lo)), below,
                  f.select(f.cmp(arith::CmpFPredicate::OGT, x, f.c(hi)), above,
                           x));
}

FailureOr<SmallVector<Value>>
lowerGridSample(Operation *op, ArrayRef<Value> operands,
                ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], grid = operands[1];
  auto xType = cast<RankedTensorType>(x.getType());
  auto gridType = cast<RankedTensorType>(grid.getType());
  if (!xType.hasStaticShape() || !gridType.hasStaticShape() ||
      !result->hasStaticShape())
    return op->emitError("GridSample needs static shapes"), failure();
  Type elementType = xType.getElementType();
  if (!isa<FloatType>(elementType))
    return op->emitError("GridSample supports float tensors only"), failure();
  int64_t rank = xType.getRank() - 2;
  if (gridType.getRank() != rank + 2 || gridType.getDimSize(rank + 1) != rank)
    return op->emitError("the grid must be (N, out..., spatial rank)"),
           failure();
  StringRef mode = stringAttr(op, "mode", "bilinear");
  if (mode == "bilinear")
    mode = "linear";
  if (mode == "bicubic")
    mode = "cubic";
  StringRef padding = stringAttr(op, "padding_mode", "zeros");
  bool alignCorners = intAttr(op, "align_corners", 0);
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return op->emitError() << "GridSample mode '" << mode
                           << "' is not supported",
           failure();
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return op->emitError() << "GridSample padding_mode '" << padding
                           << "' is not supported",
           failure();
  ArrayRef<int64_t> dims = xType.getShape().drop_front(2);
  int64_t outRank = result->getRank();
  Value init = tensor::EmptyOp::create(rewriter, loc, result->getShape(),
                                       result->getElementType());
  SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(outRank)};
  Value out =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{*result}, ValueRange{}, ValueRange{init},
          maps, iteratorTypes(outRank, 0),
          [&](OpBuilder &nb, Location nloc, ValueRange) {
            ImplicitLocOpBuilder b(nloc, nb);
            F64 f{b};
            SmallVector<Value> idx;
            for (int64_t d = 0; d < outRank; ++d)
              idx.push_back(linalg::IndexOp::create(b, d));
            // Per spatial dimension: tap positions and their weights.
            SmallVector<SmallVector<Value>> taps(rank), weights(rank);
            for (int64_t i = 0; i < rank; ++i) {
              SmallVector<Value> gridIdx = {idx[0]};
              for (int64_t d = 0; d < rank; ++d)
                gridIdx.push_back(idx[2 + d]);
              // Grid coordinates run from the last spatial dimension.
              gridIdx.push_back(arith::ConstantIndexOp::create(b, rank - 1 - i));
              Value g = f.toF64(tensor::ExtractOp::create(b, grid, gridIdx));
              double length = dims[i];
              Value v = alignCorners
                            ? f.mul(f.div(f.add(g, f.c(1)), f.c(2)),
                                    f.c(length - 1))
                            : f.div(f.sub(f.mul(f.add(g, f.c(1)), f.c(length)),
                                          f.c(1)),
                                    f.c(2));
              if (mode == "nearest")
                v = math::RoundEvenOp::create(b, v);
              double lo = alignCorners ? 0 : -0.5;
              double hi = alignCorners ? length - 1 : length - 0.5;
              if (padding == "border")
                v = f.clamp(v, 0, length - 1);
              else if (padding == "reflection")
                v = reflect(f, v, lo, hi);
              if (mode == "nearest") {
                // Truncation toward zero, as the reference's int cast.
                taps[i] = {arith::SIToFPOp::create(
                    b, b.getF64Type(),
                    arith::FPToSIOp::create(b, b.getI64Type(), v))};
                weights[i] = {f.c(1)};
                continue;
              }
              Value fl = f.floor(v), r = f.sub(v, fl);
              if (mode == "linear") {
                taps[i] = {fl, f.add(fl, f.c(1))};
                weights[i] = {f.sub(f.c(1), r), r};
              } else {
                for (int64_t t = -1; t <= 2; ++t)
                  taps[i].push_back(f.add(fl, f.c(t)));
                weights[i] = cubicCoefficients(f, r, -0.75);
              }
            }
            // The pixel at integer tap positions, with the padding mode.
            auto pixel = [&](ArrayRef<Value> at) -> Value {
              SmallVector<Value> indices = {idx[0], idx[1]};
              Value inside;
              for (int64_t i = 0; i < rank; ++i) {
                Value p = at[i];
                double length = dims[i];
                if (padding == "zeros") {
                  Value ok = arith::AndIOp::create(
                      b, f.cmp(arith::CmpFPredicate::OGE, p, f.c(0)),
                      f.cmp(arith::CmpFPredicate::OLE, p, f.c(length - 1)));
                  inside = inside ? arith::AndIOp::create(b, inside, ok)
                                        .getResult()
                                  : ok;
                } else if (padding == "reflection") {
                  double lo = alignCorners ? 0 : -0.5;
                  double hi = alignCorners ? length - 1 : length - 0.5;
                  p = arith::SIToFPOp::create(
                      b, b.getF64Type(),
                      arith::FPToSIOp::create(b, b.getI64Type(),
                                              reflect(f, p, lo, hi)));
                }
                indices.push_back(f.toIndex(f.clamp(p, 0, length - 1)));
              }
              Value value = f.toF64(tensor::ExtractOp::create(b, x, indices));
              if (inside)
                value = f.select(inside, value, f.c(0));
              return value;
            };
            Value acc = f.c(0);
            SmallVector<size_t> choice(rank, 0);
            while (true) {
              SmallVector<Value> at;
              Value weight = f.c(1);
              for (int64_t i = 0; i < rank; ++i) {
                at.push_back(taps[i][choice[i]]);
                weight = f.mul(weight, weights[i][choice[i]]);
              }
              acc = f.add(acc, f.mul(weight, pixel(at)));
              int64_t i = rank - 1;
              while (i >= 0 && ++choice[i] == taps[i].size())
                choice[i--] = 0;
              if (i < 0)
                break;
            }
            linalg::YieldOp::create(
                b, castScalar(b, nloc, acc, result->getElementType(), false,
                              false));
          })
          .getResult(0);
  return SmallVector<Value>{out};
}

//===----------------------------------------------------------------------===//
// RoiAlign
//===----------------------------------------------------------------------===//

// Pattern: RoiAlign(X[N, C, H, W], rois[R, 4], batch_indices[R])
//   -> Y[R, C, oh, ow]: a linalg.generic over Y whose body loops (scf.for,
// since an adaptive sampling grid depends on the roi) over the bin's
// sampling points, each a bilinear interpolation of X[batch_indices[r], c],
// and averages them (mode avg) or takes the largest weighted corner (mode
// max), as the ONNX reference does.
FailureOr<SmallVector<Value>>
lowerRoiAlign(Operation *op, ArrayRef<Value> operands,
              ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], rois = operands[1], batchIndices = operands[2];
  FailureOr<RankedTensorType> xType = staticSpatialType(op, x, "the input", 4);
  if (failed(xType))
    return failure();
  auto roisType = dyn_cast<RankedTensorType>(rois.getType());
  auto batchType = dyn_cast<RankedTensorType>(batchIndices.getType());
  if (xType->getRank() != 4 || !isa<FloatType>(xType->getElementType()) ||
      !roisType || roisType.getRank() != 2 || roisType.getDimSize(1) != 4 ||
      !batchType || batchType.getRank() != 1 ||
      !isa<IntegerType>(batchType.getElementType()))
    return op->emitError("RoiAlign needs a float (N, C, H, W) input, (R, 4) "
                         "rois and (R) integer batch indices"),
           failure();
  if (result->getRank() != 4 || result->isDynamicDim(1) ||
      result->isDynamicDim(2) || result->isDynamicDim(3))
    return op->emitError("RoiAlign result must be (R, C, oh, ow) with static "
                         "C, oh, ow"),
           failure();
  int64_t oh = result->getDimSize(2), ow = result->getDimSize(3);
  if (intAttr(op, "output_height", 1) != oh ||
      intAttr(op, "output_width", 1) != ow)
    return op->emitError("RoiAlign result does not match output_height and "
                         "output_width"),
           failure();
  StringRef mode = stringAttr(op, "mode", "avg");
  if (mode != "avg" && mode != "max")
    return op->emitError() << "RoiAlign mode '" << mode
                           << "' is not supported",
           failure();
  // Opset 10 has no coordinate_transformation_mode and behaves as
  // output_half_pixel; opset 16 defaults to half_pixel.
  bool v10 = op->getName().getStringRef() == "onnx.RoiAlignV10";
  StringRef transform =
      stringAttr(op, "coordinate_transformation_mode",
                 v10 ? "output_half_pixel" : "half_pixel");
  if (transform != "half_pixel" && transform != "output_half_pixel")
    return op->emitError() << "RoiAlign coordinate_transformation_mode '"
                           << transform << "' is not supported",
           failure();
  bool halfPixel = transform == "half_pixel";
  bool isMax = mode == "max";
  int64_t samplingRatio = intAttr(op, "sampling_ratio", 0);
  double scale = floatAttr(op, "spatial_scale", 1.0);
  double offset = halfPixel ? 0.5 : 0.0;
  int64_t height = xType->getDimSize(2), width = xType->getDimSize(3);
  bool batchUnsigned = isUnsigned(op->getOperand(2));
  Type elementType = result->getElementType();

  Value init = emptyBatched(rewriter, loc, *result, rois);
  SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(4)};
  Value out =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{*result}, ValueRange{}, ValueRange{init},
          maps, iteratorTypes(4, 0),
          [&](OpBuilder &nb, Location nloc, ValueRange) {
            ImplicitLocOpBuilder b(nloc, nb);
            F64 f{b};
            Value r = linalg::IndexOp::create(b, 0);
            Value c = linalg::IndexOp::create(b, 1);
            Value ph = f.fromIndex(linalg::IndexOp::create(b, 2));
            Value pw = f.fromIndex(linalg::IndexOp::create(b, 3));
            auto roi = [&](int64_t i) {
              Value v = f.toF64(tensor::ExtractOp::create(
                  b, rois, ValueRange{r, arith::ConstantIndexOp::create(b, i)}));
              return f.sub(f.mul(v, f.c(scale)), f.c(offset));
            };
            Value startW = roi(0), startH = roi(1);
            Value roiW = f.sub(roi(2), startW), roiH = f.sub(roi(3), startH);
            if (!halfPixel) {
              // Malformed rois become 1x1.
              roiW = arith::MaximumFOp::create(b, roiW, f.c(1));
              roiH = arith::MaximumFOp::create(b, roiH, f.c(1));
            }
            Value binH = f.div(roiH, f.c(oh)), binW = f.div(roiW, f.c(ow));
            auto gridOf = [&](Value bin) -> Value {
              if (samplingRatio > 0)
                return arith::ConstantIndexOp::create(b, samplingRatio);
              return f.toIndex(f.ceil(bin));
            };
            Value gridH = gridOf(binH), gridW = gridOf(binW);
            Value gridHF = f.fromIndex(gridH), gridWF = f.fromIndex(gridW);
            Value batch = arith::IndexCastOp::create(
                b, b.getIndexType(),
                castScalar(b, nloc,
                           tensor::ExtractOp::create(b, batchIndices,
                                                     ValueRange{r}),
                           b.getI64Type(), batchUnsigned, false));
            Value y0 = f.add(startH, f.mul(ph, binH));
            Value x0 = f.add(startW, f.mul(pw, binW));
            // The weighted corners of the bilinear interpolation at (y, x),
            // all zero outside [-1, H] x [-1, W].
            auto corners = [&](OpBuilder &lb, Location lloc, Value y,
                               Value xx) {
              ImplicitLocOpBuilder ob(lloc, lb);
              F64 g{ob};
              using P = arith::CmpFPredicate;
              Value outside = arith::OrIOp::create(
                  ob,
                  arith::OrIOp::create(ob, g.cmp(P::OLT, y, g.c(-1)),
                                       g.cmp(P::OGT, y, g.c(height))),
                  arith::OrIOp::create(ob, g.cmp(P::OLT, xx, g.c(-1)),
                                       g.cmp(P::OGT, xx, g.c(width))));
              // Per axis: the low and high taps and the low tap's weight.
              auto taps = [&](Value v, int64_t size) {
                v = arith::MaximumFOp::create(ob, v, g.c(0));
                Value low = g.floor(v);
                Value atEnd = g.cmp(P::OGE, low, g.c(size - 1));
                low = g.select(atEnd, g.c(size - 1), low);
                Value high = g.select(atEnd, low, g.add(low, g.c(1)));
                v = g.select(atEnd, low, v);
                Value frac = g.sub(v, low);
                return std::make_tuple(low, high, g.sub(g.c(1), frac), frac);
              };
              auto [yl, yh, hy, ly] = taps(y, height);
              auto [xl, xh, hx, lx] = taps(xx, width);
              auto at = [&](Value py, Value px) {
                return g.toF64(tensor::ExtractOp::create(
                    ob, x,
                    ValueRange{batch, c, g.toIndex(g.clamp(py, 0, height - 1)),
                               g.toIndex(g.clamp(px, 0, width - 1))}));
              };
              SmallVector<Value> weighted = {
                  g.mul(g.mul(hy, hx), at(yl, xl)),
                  g.mul(g.mul(hy, lx), at(yl, xh)),
                  g.mul(g.mul(ly, hx), at(yh, xl)),
                  g.mul(g.mul(ly, lx), at(yh, xh))};
              for (Value &w : weighted)
                w = g.select(outside, g.c(0), w);
              return weighted;
            };
            Value zeroIndex = arith::ConstantIndexOp::create(b, 0);
            Value oneIndex = arith::ConstantIndexOp::create(b, 1);
            Value start =
                isMax ? f.c(-std::numeric_limits<double>::infinity()) : f.c(0);
            auto rows = scf::ForOp::create(
                b, zeroIndex, gridH, oneIndex, ValueRange{start},
                [&](OpBuilder &yb, Location yloc, Value iy, ValueRange yAcc) {
                  ImplicitLocOpBuilder ob(yloc, yb);
                  F64 g{ob};
                  Value y = g.add(
                      y0, g.div(g.mul(g.add(g.fromIndex(iy), g.c(0.5)), binH),
                                gridHF));
                  auto cols = scf::ForOp::create(
                      ob, zeroIndex, gridW, oneIndex, yAcc,
                      [&](OpBuilder &xb, Location xloc, Value ix,
                          ValueRange xAcc) {
                        ImplicitLocOpBuilder ib(xloc, xb);
                        F64 h{ib};
                        Value xx = h.add(
                            x0, h.div(h.mul(h.add(h.fromIndex(ix), h.c(0.5)),
                                            binW),
                                      gridWF));
                        SmallVector<Value> w = corners(xb, xloc, y, xx);
                        Value acc = xAcc[0];
                        if (isMax) {
                          for (Value v : w)
                            acc = arith::MaximumFOp::create(ib, acc, v);
                        } else {
                          acc = h.add(acc, h.add(h.add(w[0], w[1]),
                                                 h.add(w[2], w[3])));
                        }
                        scf::YieldOp::create(ib, acc);
                      });
                  scf::YieldOp::create(ob, cols.getResult(0));
                });
            Value acc = rows.getResult(0);
            Value samples = arith::MulIOp::create(b, gridH, gridW);
            Value v;
            if (isMax) {
              // No sampling point (an empty grid) gives 0.
              auto positive = [&](Value n) {
                return arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, n,
                                             zeroIndex);
              };
              Value sampled =
                  arith::AndIOp::create(b, positive(gridH), positive(gridW));
              v = f.select(sampled, acc, f.c(0));
            } else {
              Value count = f.fromIndex(
                  arith::MaxSIOp::create(b, samples, oneIndex));
              v = f.div(acc, count);
            }
            linalg::YieldOp::create(
                b, castScalar(b, nloc, v, elementType, false, false));
          })
          .getResult(0);
  return SmallVector<Value>{out};
}

//===----------------------------------------------------------------------===//
// MaxUnpool
//===----------------------------------------------------------------------===//

// Pattern: MaxUnpool(X[N, C, sp...], I, output_shape?) -> Y: an scf.for
// over the elements of X writes X[i] into a zero tensor of the result's
// shape at the position that the flat index I[i] has in the inferred shape
// (N, C, (in - 1) * stride + kernel - pads); later writes win and indices
// outside the inferred shape are skipped. The result (output_shape) may be
// larger than the inferred shape, which then fills its leading corner, as
// in the reference.
FailureOr<SmallVector<Value>>
lowerMaxUnpool(Operation *op, ArrayRef<Value> operands,
               ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0], indices = operands[1];
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  auto indicesType = dyn_cast<RankedTensorType>(indices.getType());
  if (!xType || !xType.hasStaticShape() || xType.getRank() < 3 ||
      !indicesType || indicesType.getShape() != xType.getShape() ||
      !isa<IntegerType>(indicesType.getElementType()))
    return op->emitError("MaxUnpool needs a static (N, C, spatial...) input "
                         "and integer indices of the same shape"),
           failure();
  if (!result->hasStaticShape() || result->getRank() != xType.getRank())
    return op->emitError("MaxUnpool needs a static result of the input's "
                         "rank"),
           failure();
  int64_t rank = xType.getRank() - 2;
  std::optional<SmallVector<int64_t>> kernel = intsAttr(op, "kernel_shape");
  SmallVector<int64_t> strides =
      intsAttr(op, "strides").value_or(SmallVector<int64_t>(rank, 1));
  SmallVector<int64_t> pads =
      intsAttr(op, "pads").value_or(SmallVector<int64_t>(2 * rank, 0));
  if (!kernel || (int64_t)kernel->size() != rank ||
      (int64_t)strides.size() != rank || (int64_t)pads.size() != 2 * rank)
    return op->emitError("MaxUnpool kernel_shape, strides or pads do not "
                         "match the input's spatial rank"),
           failure();
  SmallVector<int64_t> inferred = {xType.getDimSize(0), xType.getDimSize(1)};
  for (int64_t i = 0; i < rank; ++i)
    inferred.push_back((xType.getDimSize(2 + i) - 1) * strides[i] -
                       (pads[i] + pads[rank + i]) + (*kernel)[i]);
  for (int64_t d = 0; d < xType.getRank(); ++d) {
    if (inferred[d] <= 0 || result->getDimSize(d) < inferred[d] ||
        (d < 2 && result->getDimSize(d) != inferred[d]))
      return op->emitError("MaxUnpool output_shape is smaller than the "
                           "unpooled shape"),
             failure();
  }
  int64_t total = 1;
  for (int64_t v : inferred)
    total *= v;
  Type elementType = xType.getElementType();
  ImplicitLocOpBuilder b(loc, rewriter);
  Value zero = scalarConstant(b, loc, elementType, 0.0);
  Value zeros =
      linalg::FillOp::create(b, zero,
                             tensor::EmptyOp::create(b, result->getShape(),
                                                     elementType)
                                 .getResult())
          .getResult(0);
  bool indicesUnsigned = isUnsigned(op->getOperand(1));
  // Row-major (multi-)indices of flat position `flat` in `shape`.
  auto unflatten = [](ImplicitLocOpBuilder &ib, Value flat,
                      ArrayRef<int64_t> shape) {
    SmallVector<Value> indices(shape.size());
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      Value size = arith::ConstantOp::create(
          ib, ib.getIntegerAttr(flat.getType(), shape[d]));
      indices[d] = arith::RemUIOp::create(ib, flat, size);
      flat = arith::DivUIOp::create(ib, flat, size);
      if (!indices[d].getType().isIndex())
        indices[d] = arith::IndexCastOp::create(ib, ib.getIndexType(),
                                                indices[d]);
    }
    return indices;
  };
  // The scatter writes the result-shaped tensor directly (the unpooled
  // block is its leading corner), so no reshape or pad follows the loop.
  auto loop = scf::ForOp::create(
      b, arith::ConstantIndexOp::create(b, 0),
      arith::ConstantIndexOp::create(b, xType.getNumElements()),
      arith::ConstantIndexOp::create(b, 1), ValueRange{zeros},
      [&](OpBuilder &lb, Location lloc, Value i, ValueRange acc) {
        ImplicitLocOpBuilder ib(lloc, lb);
        SmallVector<Value> from = unflatten(ib, i, xType.getShape());
        Value v = tensor::ExtractOp::create(ib, x, from);
        Value at = castScalar(ib, lloc,
                              tensor::ExtractOp::create(ib, indices, from),
                              ib.getI64Type(), indicesUnsigned, false);
        Value inside = arith::AndIOp::create(
            ib,
            arith::CmpIOp::create(ib, arith::CmpIPredicate::sge, at,
                                  arith::ConstantIntOp::create(ib, 0, 64)),
            arith::CmpIOp::create(ib, arith::CmpIPredicate::slt, at,
                                  arith::ConstantIntOp::create(ib, total, 64)));
        auto write = scf::IfOp::create(
            ib, inside,
            [&](OpBuilder &tb, Location tloc) {
              ImplicitLocOpBuilder thenBuilder(tloc, tb);
              Value updated = tensor::InsertOp::create(
                  thenBuilder, v, acc[0], unflatten(thenBuilder, at, inferred));
              scf::YieldOp::create(thenBuilder, updated);
            },
            [&](OpBuilder &eb, Location eloc) {
              scf::YieldOp::create(eb, eloc, acc[0]);
            });
        scf::YieldOp::create(ib, write.getResult(0));
      });
  Value y = loop.getResult(0);
  return SmallVector<Value>{y};
}

} // namespace

void pith::populateConvLowerings(ONNXLoweringTable &table) {
  table.add("Conv", lowerConv);
  table.add("ConvInteger", lowerConv);
  table.add("ConvTranspose", lowerConvTranspose);
  table.add("MaxPool", [](Operation *op, ArrayRef<Value> operands,
                          ConversionPatternRewriter &rewriter) {
    return lowerPool(op, operands, rewriter, PoolKind::Max, false);
  });
  table.add("AveragePool", [](Operation *op, ArrayRef<Value> operands,
                              ConversionPatternRewriter &rewriter) {
    return lowerPool(op, operands, rewriter, PoolKind::Average, false);
  });
  table.add("LpPool", [](Operation *op, ArrayRef<Value> operands,
                         ConversionPatternRewriter &rewriter) {
    return lowerPool(op, operands, rewriter, PoolKind::Lp, false);
  });
  table.add("GlobalMaxPool", [](Operation *op, ArrayRef<Value> operands,
                                ConversionPatternRewriter &rewriter) {
    return lowerPool(op, operands, rewriter, PoolKind::Max, true);
  });
  table.add("GlobalAveragePool", [](Operation *op, ArrayRef<Value> operands,
                                    ConversionPatternRewriter &rewriter) {
    return lowerPool(op, operands, rewriter, PoolKind::Average, true);
  });
  table.add("GlobalLpPool", [](Operation *op, ArrayRef<Value> operands,
                               ConversionPatternRewriter &rewriter) {
    return lowerPool(op, operands, rewriter, PoolKind::Lp, true);
  });
  table.add("BatchNormalization", lowerBatchNormalization);
  table.add("Resize", lowerResize);
  table.add("Upsample", lowerResize);
  table.add("GridSample", lowerGridSample);
  table.add("RoiAlign", lowerRoiAlign);
  table.add("MaxUnpool", lowerMaxUnpool);
}

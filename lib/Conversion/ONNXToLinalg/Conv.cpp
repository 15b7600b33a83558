//===- Conv.cpp - Lower convolutions, pooling and batch normalization -----===//
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
//  - MaxUnpool scatters the input into a zero tensor with an scf.for.
// Spatial dimensions must be static; the batch dimension may be dynamic.
// Resize, Upsample, GridSample and RoiAlign are in Resample.cpp.
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
  table.add("MaxUnpool", lowerMaxUnpool);
}

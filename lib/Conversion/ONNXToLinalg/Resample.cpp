//===- Resample.cpp - Lower Resize, Upsample, GridSample, RoiAlign --------===//
//
// Operators that sample NC<spatial...> tensors at computed (fractional)
// coordinates:
//  - Resize and Upsample interpolate one axis at a time (nearest, linear,
//    cubic) with a linalg.generic gathering with tensor.extract;
//  - GridSample gathers likewise at the grid's coordinates, and RoiAlign
//    too, looping (scf.for) over each bin's sampling points in the body.
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

#include <limits>

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

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

} // namespace

void pith::populateResampleLowerings(ONNXLoweringTable &table) {
  table.add("Resize", lowerResize);
  table.add("Upsample", lowerResize);
  table.add("GridSample", lowerGridSample);
  table.add("RoiAlign", lowerRoiAlign);
}

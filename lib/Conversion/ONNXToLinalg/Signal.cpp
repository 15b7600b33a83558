//===- Signal.cpp - Lower signal processing operators (DFT, STFT, windows, MelWeightMatrix) ===//
//
// The signal operators of opset 17+ compute in f64 and round to the result's
// element type at the end, so the (tight) tolerances of the ONNX tests hold
// for values that should be zero:
//  - DFT and STFT are direct O(n^2) transforms: one linalg.generic whose
//    loops are the output's plus one reduction loop over the input samples,
//    with cos/sin of 2*pi*((k*n) mod L)/L in the body. Complex numbers are
//    (real, imaginary) pairs in the last dimension. A transform length that
//    is only known at run time masks the samples past it.
//  - HannWindow, HammingWindow and BlackmanWindow are elementwise over the
//    output positions; MelWeightMatrix computes each triangle filter's three
//    edge bins per output element.
// Scalar inputs (sizes, steps, rates) may be run-time values; the output
// shapes come from the result types, which must be static where they set a
// loop's extent.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers
//===----------------------------------------------------------------------===//

/// f64 and index arithmetic for the bodies below.
struct Math64 {
  ImplicitLocOpBuilder &b;
  Value c(double v) { return arith::ConstantOp::create(b, b.getF64FloatAttr(v)); }
  Value ci(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, x, y); }
  Value cos(Value x) { return math::CosOp::create(b, x); }
  Value sin(Value x) { return math::SinOp::create(b, x); }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, cond, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  }
  Value andi(Value x, Value y) { return arith::AndIOp::create(b, x, y); }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, x, y); }
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value subi(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value muli(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  /// An index (or any integer) as f64.
  Value toF64(Value i) {
    if (i.getType().isIndex())
      i = arith::IndexCastOp::create(b, b.getI64Type(), i);
    return castScalar(b, b.getLoc(), i, b.getF64Type(), false, false);
  }
  /// A float scalar as f64.
  Value floatToF64(Value x) {
    return castScalar(b, b.getLoc(), x, b.getF64Type(), false, false);
  }
  /// 2*pi*((k*n) mod length)/length: the exact reduction of the product
  /// first keeps the angle (and so sin at multiples of pi) accurate.
  Value angle(Value k, Value n, Value length, Value lengthF64) {
    Value t = arith::RemUIOp::create(b, muli(k, n), length);
    return div(mul(c(2 * M_PI), toF64(t)), lengthF64);
  }
};

/// The single element of a scalar (or one-element) tensor `value`, or
/// failure with an error naming `what`.
FailureOr<Value> scalarOf(Operation *op, OpBuilder &b, Location loc,
                          Value value, StringRef what) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() != 1)
    return op->emitError() << what << " must be a scalar", failure();
  SmallVector<Value> zeros;
  if (type.getRank() > 0)
    zeros.assign(type.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, value, zeros).getResult();
}

/// The integer scalar input `index` of `op` as an index value.
FailureOr<Value> indexScalar(Operation *op, ArrayRef<Value> operands,
                             unsigned index, OpBuilder &b, Location loc,
                             StringRef what) {
  FailureOr<Value> v = scalarOf(op, b, loc, operands[index], what);
  if (failed(v))
    return failure();
  if (!isa<IntegerType>(v->getType()))
    return op->emitError() << what << " must be an integer", failure();
  Value i64 = castScalar(b, loc, *v, b.getI64Type(),
                         isUnsigned(op->getOperand(index)), false);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), i64).getResult();
}

/// The numeric scalar input `index` of `op` as f64.
FailureOr<Value> f64Scalar(Operation *op, ArrayRef<Value> operands,
                           unsigned index, OpBuilder &b, Location loc,
                           StringRef what) {
  FailureOr<Value> v = scalarOf(op, b, loc, operands[index], what);
  if (failed(v))
    return failure();
  return castScalar(b, loc, *v, b.getF64Type(),
                    isUnsigned(op->getOperand(index)), false);
}

/// A zero-filled f64 tensor shaped like `type`, whose dynamic dimensions
/// are those of `source` (of the same rank; only dimensions the operator
/// keeps may be dynamic).
Value zerosF64(OpBuilder &b, Location loc, RankedTensorType type,
               Value source) {
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, source, d));
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        b.getF64Type(), sizes);
  Value zero = scalarConstant(b, loc, b.getF64Type(), 0.0);
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

/// `value` (f64) times `scale` (f64, or null), rounded to `type`.
Value roundTo(OpBuilder &b, Location loc, RankedTensorType type, Value value,
              Value scale) {
  return elementwise(b, loc, type, {value},
                     [&](OpBuilder &nb, Location nloc, ValueRange args) {
                       Value v = args[0];
                       if (scale)
                         v = arith::MulFOp::create(nb, nloc, v, scale);
                       return castScalar(nb, nloc, v, type.getElementType(),
                                         false, false);
                     });
}

//===----------------------------------------------------------------------===//
// DFT
//===----------------------------------------------------------------------===//

// Pattern: DFT(x[..., n@axis, ..., 1|2], L) -> y[..., k@axis, ..., 2] =
//   sum over n < min(N, L) of x[n] * exp(-+2*pi*i*k*n/L) (/L when inverse),
// one linalg.generic with a reduction loop over n, then a rounding generic.
// inverse with onesided is the real inverse (irfft): the input holds bins
// 0..L/2 and the output is real (last dimension 1).
FailureOr<SmallVector<Value>> lowerDFT(Operation *op, ArrayRef<Value> operands,
                                       ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value x = operands[0];
  auto xType = dyn_cast<RankedTensorType>(x.getType());
  if (!xType || xType.getRank() < 2 ||
      !isa<FloatType>(xType.getElementType()))
    return op->emitError("DFT needs a float input of rank >= 2"), failure();
  int64_t rank = xType.getRank();
  int64_t parts = xType.getDimSize(rank - 1);
  if (parts != 1 && parts != 2)
    return op->emitError("DFT input's last dimension must be 1 (real) or 2 "
                         "(complex)"),
           failure();
  bool inverse = intAttr(op, "inverse", 0);
  bool onesided = intAttr(op, "onesided", 0);
  bool irfft = inverse && onesided;

  // Opset 17 has the axis as an attribute (default 1), opset 20 as an
  // optional input (default -2).
  int64_t axis;
  if (operands.size() >= 3) {
    axis = -2;
    if (operands[2]) {
      std::optional<SmallVector<int64_t>> c = constantInts(operands[2]);
      if (!c || c->size() != 1)
        return op->emitError("DFT axis must be a constant scalar"), failure();
      axis = (*c)[0];
    }
  } else {
    axis = intAttr(op, "axis", 1);
  }
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank - 1)
    return op->emitError("DFT axis is out of range"), failure();

  int64_t outParts = irfft ? 1 : 2;
  if (result->getRank() != rank || result->getDimSize(rank - 1) != outParts ||
      result->isDynamicDim(axis))
    return op->emitError() << "DFT result must have the input's rank, a static "
                              "transformed dimension and a last dimension of "
                           << outParts,
           failure();
  int64_t inDim = xType.getDimSize(axis);
  int64_t outDim = result->getDimSize(axis);

  // The transform length L, static when possible.
  Value length;
  std::optional<int64_t> staticLength;
  if (operands.size() > 1 && operands[1]) {
    if (std::optional<SmallVector<int64_t>> c = constantInts(operands[1])) {
      if (c->size() != 1)
        return op->emitError("DFT dft_length must be a scalar"), failure();
      staticLength = (*c)[0];
    } else {
      FailureOr<Value> l =
          indexScalar(op, operands, 1, rewriter, loc, "DFT dft_length");
      if (failed(l))
        return failure();
      length = *l;
    }
  } else {
    if (ShapedType::isDynamic(inDim))
      return op->emitError("DFT needs a static transformed dimension or a "
                           "dft_length"),
             failure();
    staticLength = irfft ? 2 * (inDim - 1) : inDim;
  }
  if (staticLength) {
    int64_t l = *staticLength;
    if (l <= 0)
      return op->emitError("DFT length must be positive"), failure();
    int64_t expected = (onesided && !inverse) ? l / 2 + 1 : l;
    if (outDim != expected)
      return op->emitError() << "DFT result has " << outDim
                             << " elements along the axis; the length " << l
                             << " gives " << expected,
             failure();
    length = arith::ConstantIndexOp::create(rewriter, loc, l);
  }

  ImplicitLocOpBuilder ib(loc, rewriter);
  Math64 m{ib};
  Value lengthF64 = m.toF64(length);

  // Loops d0..d(rank-1) run over the output, d(rank) over the input
  // samples along the axis.
  MLIRContext *ctx = rewriter.getContext();
  int64_t numLoops = rank + 1;
  auto partMap = [&](int64_t part) {
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < rank - 1; ++d)
      exprs.push_back(rewriter.getAffineDimExpr(d == axis ? rank : d));
    exprs.push_back(rewriter.getAffineConstantExpr(part));
    return AffineMap::get(numLoops, 0, exprs, ctx);
  };
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {partMap(0)};
  if (parts == 2) {
    inputs.push_back(x);
    maps.push_back(partMap(1));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(numLoops, ctx)
                     .getSubMap(llvm::to_vector(llvm::seq<unsigned>(0, rank))));
  Value init = zerosF64(rewriter, loc, *result, x);
  Value sums =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
          maps, iteratorTypes(rank, 1),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            ImplicitLocOpBuilder b(nloc, nb);
            Math64 f{b};
            Value k = linalg::IndexOp::create(b, axis);
            Value n = linalg::IndexOp::create(b, rank);
            Value re = f.floatToF64(args[0]);
            Value im = parts == 2 ? f.floatToF64(args[1]) : f.c(0);
            Value theta = f.angle(k, n, length, lengthF64);
            Value cs = f.cos(theta), sn = f.sin(theta);
            Value term, valid;
            if (irfft) {
              // Bins 0 and L/2 count once, the others twice (with their
              // conjugate mirror).
              Value twoN = f.muli(n, f.ci(2));
              valid = f.cmpi(arith::CmpIPredicate::ule, twoN, length);
              Value once =
                  f.ori(f.cmpi(arith::CmpIPredicate::eq, n, f.ci(0)),
                        f.cmpi(arith::CmpIPredicate::eq, twoN, length));
              term = f.mul(f.select(once, f.c(1), f.c(2)),
                           f.sub(f.mul(re, cs), f.mul(im, sn)));
            } else {
              valid = f.cmpi(arith::CmpIPredicate::ult, n, length);
              // exp(-i t) = cos t - i sin t; the inverse uses exp(+i t).
              Value realPart = inverse ? f.sub(f.mul(re, cs), f.mul(im, sn))
                                       : f.add(f.mul(re, cs), f.mul(im, sn));
              Value imagPart = inverse ? f.add(f.mul(im, cs), f.mul(re, sn))
                                       : f.sub(f.mul(im, cs), f.mul(re, sn));
              Value c = linalg::IndexOp::create(b, rank - 1);
              term = f.select(f.cmpi(arith::CmpIPredicate::eq, c, f.ci(0)),
                              realPart, imagPart);
            }
            term = f.select(valid, term, f.c(0));
            linalg::YieldOp::create(b, f.add(args.back(), term));
          })
          .getResult(0);
  Value scale = inverse ? m.div(m.c(1), lengthF64) : Value();
  return SmallVector<Value>{roundTo(rewriter, loc, *result, sums, scale)};
}

//===----------------------------------------------------------------------===//
// STFT
//===----------------------------------------------------------------------===//

// Pattern: STFT(signal[b, s, 1|2], step, window[W]?, L?) -> y[b, f, k, 2] =
//   sum over n < min(W, L), f*step + n < s of
//   signal[b, f*step + n] * window[n] * exp(-2*pi*i*k*n/L),
// one linalg.generic whose reduction loop runs over the window (a window of
// ones when none is given), then a rounding generic.
FailureOr<SmallVector<Value>> lowerSTFT(Operation *op, ArrayRef<Value> operands,
                                        ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  Location loc = op->getLoc();
  Value signal = operands[0];
  auto signalType = dyn_cast<RankedTensorType>(signal.getType());
  if (!signalType || signalType.getRank() != 3 ||
      !isa<FloatType>(signalType.getElementType()))
    return op->emitError("STFT needs a float signal [batch, length, 1|2]"),
           failure();
  int64_t parts = signalType.getDimSize(2);
  if (parts != 1 && parts != 2)
    return op->emitError("STFT signal's last dimension must be 1 or 2"),
           failure();
  if (result->getRank() != 4 || result->getDimSize(3) != 2 ||
      result->isDynamicDim(1) || result->isDynamicDim(2))
    return op->emitError("STFT result must be [batch, frames, bins, 2] with "
                         "static frames and bins"),
           failure();
  bool onesided = intAttr(op, "onesided", 1);
  int64_t bins = result->getDimSize(2);
  Value window = operands.size() > 2 ? operands[2] : Value();
  Value frameLength = operands.size() > 3 ? operands[3] : Value();

  FailureOr<Value> step =
      indexScalar(op, operands, 1, rewriter, loc, "STFT frame_step");
  if (failed(step))
    return failure();

  // The transform length L and the static extent of the reduction loop
  // (the window's length, or a bound on L).
  Value length;
  std::optional<int64_t> staticLength;
  int64_t extent;
  if (frameLength) {
    if (std::optional<SmallVector<int64_t>> c = constantInts(frameLength)) {
      if (c->size() != 1)
        return op->emitError("STFT frame_length must be a scalar"), failure();
      staticLength = (*c)[0];
    } else {
      FailureOr<Value> l =
          indexScalar(op, operands, 3, rewriter, loc, "STFT frame_length");
      if (failed(l))
        return failure();
      length = *l;
    }
  }
  if (window) {
    auto windowType = dyn_cast<RankedTensorType>(window.getType());
    if (!windowType || windowType.getRank() != 1 ||
        windowType.isDynamicDim(0) ||
        !isa<FloatType>(windowType.getElementType()))
      return op->emitError("STFT window must be a static 1-D float tensor"),
             failure();
    extent = windowType.getDimSize(0);
    if (!frameLength)
      staticLength = extent;
  } else if (staticLength) {
    extent = *staticLength;
  } else if (frameLength) {
    // L is only known at run time: the bins bound it.
    extent = onesided ? 2 * bins - 1 : bins;
  } else {
    if (signalType.isDynamicDim(1))
      return op->emitError("STFT needs a window, a frame_length or a static "
                           "signal length"),
           failure();
    staticLength = extent = signalType.getDimSize(1);
  }
  if (staticLength) {
    int64_t l = *staticLength;
    if (l <= 0)
      return op->emitError("STFT frame length must be positive"), failure();
    int64_t expected = onesided ? l / 2 + 1 : l;
    if (bins != expected)
      return op->emitError() << "STFT result has " << bins
                             << " bins; the frame length " << l << " gives "
                             << expected,
             failure();
    length = arith::ConstantIndexOp::create(rewriter, loc, l);
  }
  if (extent <= 0)
    return op->emitError("STFT window is empty"), failure();

  ImplicitLocOpBuilder ib(loc, rewriter);
  Math64 m{ib};
  Value lengthF64 = m.toF64(length);
  Value signalLength = tensor::DimOp::create(rewriter, loc, signal, 1);
  if (!window) {
    Value ones = tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{extent},
                                         rewriter.getF64Type());
    window = linalg::FillOp::create(rewriter, loc, m.c(1), ones).getResult(0);
  }

  // Loops: batch, frame, bin, part (parallel), sample n (reduction).
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<AffineMap> maps = {
      AffineMap::get(5, 0, {rewriter.getAffineDimExpr(4)}, ctx),
      AffineMap::getMultiDimIdentityMap(5, ctx).getSubMap({0, 1, 2, 3})};
  // Only the batch (dimension 0, as the signal's) may be dynamic.
  Value init = zerosF64(rewriter, loc, *result, signal);
  Value sums =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{init.getType()}, ValueRange{window},
          ValueRange{init}, maps, iteratorTypes(4, 1),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            ImplicitLocOpBuilder b(nloc, nb);
            Math64 f{b};
            Value batch = linalg::IndexOp::create(b, 0);
            Value frame = linalg::IndexOp::create(b, 1);
            Value k = linalg::IndexOp::create(b, 2);
            Value c = linalg::IndexOp::create(b, 3);
            Value n = linalg::IndexOp::create(b, 4);
            Value pos = f.addi(f.muli(frame, *step), n);
            Value valid =
                f.andi(f.cmpi(arith::CmpIPredicate::ult, n, length),
                       f.cmpi(arith::CmpIPredicate::ult, pos, signalLength));
            Value at = arith::MinUIOp::create(
                b, pos, f.subi(signalLength, f.ci(1)));
            Value re = f.floatToF64(
                tensor::ExtractOp::create(
                b, signal, ValueRange{batch, at, f.ci(0)}));
            Value im = parts == 2
                           ? f.floatToF64(tensor::ExtractOp::create(
                                 b, signal, ValueRange{batch, at, f.ci(1)}))
                           : f.c(0);
            Value w = f.floatToF64(args[0]);
            Value theta = f.angle(k, n, length, lengthF64);
            Value cs = f.cos(theta), sn = f.sin(theta);
            Value realPart = f.add(f.mul(re, cs), f.mul(im, sn));
            Value imagPart = f.sub(f.mul(im, cs), f.mul(re, sn));
            Value term =
                f.select(f.cmpi(arith::CmpIPredicate::eq, c, f.ci(0)),
                         realPart, imagPart);
            term = f.select(valid, f.mul(w, term), f.c(0));
            linalg::YieldOp::create(b, f.add(args.back(), term));
          })
          .getResult(0);
  return SmallVector<Value>{roundTo(rewriter, loc, *result, sums, Value())};
}

//===----------------------------------------------------------------------===//
// Windows
//===----------------------------------------------------------------------===//

enum class WindowKind { Hann, Hamming, Blackman };

// Pattern: HannWindow(size) -> y[n] = sin(pi*n/N)^2,
//          HammingWindow(size) -> y[n] = 25/46 - 21/46*cos(2*pi*n/N),
//          BlackmanWindow(size) -> y[n] = 0.42 - 0.5*cos(2*pi*n/N)
//                                         + 0.08*cos(4*pi*n/N),
// with N = size (periodic) or size - 1, as one elementwise linalg.generic
// over the (static) result; size is read at run time.
FailureOr<SmallVector<Value>> lowerWindow(Operation *op,
                                          ArrayRef<Value> operands,
                                          ConversionPatternRewriter &rewriter,
                                          WindowKind kind) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  if (result->getRank() != 1 || !result->hasStaticShape())
    return op->emitError("window result must be a static 1-D tensor"),
           failure();
  Location loc = op->getLoc();
  FailureOr<Value> size = f64Scalar(op, operands, 0, rewriter, loc, "size");
  if (failed(size))
    return failure();
  ImplicitLocOpBuilder ib(loc, rewriter);
  Math64 m{ib};
  Value denominator =
      intAttr(op, "periodic", 1) ? *size : m.sub(*size, m.c(1));
  Type elementType = result->getElementType();
  Value init = tensor::EmptyOp::create(rewriter, loc, result->getShape(),
                                       elementType);
  Value out =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{*result}, ValueRange{}, ValueRange{init},
          ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(1)},
          iteratorTypes(1, 0),
          [&](OpBuilder &nb, Location nloc, ValueRange) {
            ImplicitLocOpBuilder b(nloc, nb);
            Math64 f{b};
            Value n = f.toF64(linalg::IndexOp::create(b, 0));
            auto cosOf = [&](double multiple) {
              return f.cos(
                  f.div(f.mul(f.c(multiple * M_PI), n), denominator));
            };
            Value v;
            switch (kind) {
            case WindowKind::Hann: {
              Value s = f.sin(f.div(f.mul(f.c(M_PI), n), denominator));
              v = f.mul(s, s);
              break;
            }
            case WindowKind::Hamming:
              v = f.sub(f.c(25.0 / 46.0),
                        f.mul(f.c(21.0 / 46.0), cosOf(2)));
              break;
            case WindowKind::Blackman:
              v = f.add(f.sub(f.c(0.42), f.mul(f.c(0.5), cosOf(2))),
                        f.mul(f.c(0.08), cosOf(4)));
              break;
            }
            linalg::YieldOp::create(
                b, castScalar(b, nloc, v, elementType, false, false));
          })
          .getResult(0);
  return SmallVector<Value>{out};
}

//===----------------------------------------------------------------------===//
// MelWeightMatrix
//===----------------------------------------------------------------------===//

// Pattern: MelWeightMatrix(mels, L, rate, lo, hi) -> y[j, i], the triangle
// filter i at spectrogram bin j: with the edge bins
//   e(t) = floor((L + 1) * hz(mel(lo) + t * (mel(hi) - mel(lo)) / (mels + 2))
//                / rate),
// y rises from e(i) to e(i+1) ((j - e(i)) / (e(i+1) - e(i)), or 1 at
// e(i+1) when they are equal) and falls to e(i+2) ((e(i+2) - j) /
// (e(i+2) - e(i+1))), as in the ONNX reference. One elementwise
// linalg.generic over the (static) result.
FailureOr<SmallVector<Value>>
lowerMelWeightMatrix(Operation *op, ArrayRef<Value> operands,
                     ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  if (result->getRank() != 2 || !result->hasStaticShape())
    return op->emitError("MelWeightMatrix result must be a static 2-D tensor"),
           failure();
  Location loc = op->getLoc();
  SmallVector<Value> scalars;
  const char *names[] = {"num_mel_bins", "dft_length", "sample_rate",
                         "lower_edge_hertz", "upper_edge_hertz"};
  for (unsigned i = 0; i < 5; ++i) {
    FailureOr<Value> v = f64Scalar(op, operands, i, rewriter, loc, names[i]);
    if (failed(v))
      return failure();
    scalars.push_back(*v);
  }
  ImplicitLocOpBuilder ib(loc, rewriter);
  Math64 m{ib};
  Value ln10 = m.c(std::log(10.0));
  auto toMel = [&](Value hz) {
    return m.div(m.mul(m.c(2595), math::Log1pOp::create(
                                      ib, m.div(hz, m.c(700)))),
                 ln10);
  };
  Value lowMel = toMel(scalars[3]);
  Value highMel = toMel(scalars[4]);
  Value melStep =
      m.div(m.sub(highMel, lowMel), m.add(scalars[0], m.c(2)));
  Value scaledLength = m.add(scalars[1], m.c(1));
  Value rate = scalars[2];
  Type elementType = result->getElementType();
  Value init = tensor::EmptyOp::create(rewriter, loc, result->getShape(),
                                       elementType);
  Value out =
      linalg::GenericOp::create(
          rewriter, loc, TypeRange{*result}, ValueRange{}, ValueRange{init},
          ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(2)},
          iteratorTypes(2, 0),
          [&](OpBuilder &nb, Location nloc, ValueRange) {
            ImplicitLocOpBuilder b(nloc, nb);
            Math64 f{b};
            Value j = f.toF64(linalg::IndexOp::create(b, 0));
            Value i = f.toF64(linalg::IndexOp::create(b, 1));
            // The edge bin t, an integer held in an f64.
            auto edge = [&](double offset) {
              Value mel = f.add(f.mul(f.add(i, f.c(offset)), melStep), lowMel);
              Value hz = f.mul(
                  f.c(700), math::ExpM1Op::create(
                                b, f.mul(f.div(mel, f.c(2595)), ln10)));
              return math::FloorOp::create(
                  b, f.div(f.mul(scaledLength, hz), rate));
            };
            Value lo = edge(0), center = edge(1), hi = edge(2);
            auto cmp = [&](arith::CmpFPredicate p, Value x, Value y) {
              return arith::CmpFOp::create(b, p, x, y).getResult();
            };
            using P = arith::CmpFPredicate;
            Value rising = f.andi(cmp(P::OGT, center, lo),
                                  f.andi(cmp(P::OLE, lo, j),
                                         cmp(P::OLE, j, center)));
            Value peak = f.andi(cmp(P::OEQ, center, lo), cmp(P::OEQ, j, center));
            Value falling = f.andi(cmp(P::OGT, hi, center),
                                   f.andi(cmp(P::OLE, center, j),
                                          cmp(P::OLT, j, hi)));
            Value up = f.div(f.sub(j, lo), f.sub(center, lo));
            Value down = f.div(f.sub(hi, j), f.sub(hi, center));
            Value v = f.select(
                falling, down,
                f.select(rising, up, f.select(peak, f.c(1), f.c(0))));
            linalg::YieldOp::create(
                b, castScalar(b, nloc, v, elementType, false, false));
          })
          .getResult(0);
  return SmallVector<Value>{out};
}

} // namespace

void pith::populateSignalLowerings(ONNXLoweringTable &table) {
  table.add("DFT", lowerDFT);
  table.add("STFT", lowerSTFT);
  table.add("HannWindow", [](Operation *op, ArrayRef<Value> operands,
                             ConversionPatternRewriter &rewriter) {
    return lowerWindow(op, operands, rewriter, WindowKind::Hann);
  });
  table.add("HammingWindow", [](Operation *op, ArrayRef<Value> operands,
                                ConversionPatternRewriter &rewriter) {
    return lowerWindow(op, operands, rewriter, WindowKind::Hamming);
  });
  table.add("BlackmanWindow", [](Operation *op, ArrayRef<Value> operands,
                                 ConversionPatternRewriter &rewriter) {
    return lowerWindow(op, operands, rewriter, WindowKind::Blackman);
  });
  table.add("MelWeightMatrix", lowerMelWeightMatrix);
}

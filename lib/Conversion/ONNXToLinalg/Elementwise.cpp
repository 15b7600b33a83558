//===- Elementwise.cpp - Lower elementwise ONNX operators -----------------===//
//
// Unary, binary and variadic elementwise operators, comparisons, logic,
// Cast and Constant. Each becomes one linalg.generic with numpy
// broadcasting; later fusion merges chains of them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "ONNX/ONNXOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

/// What the scalar body sees: the operands' scalars, the op, and whether its
/// inputs are unsigned ONNX integers.
struct ScalarContext {
  OpBuilder &b;
  Location loc;
  ValueRange args;
  Operation *op;
  bool isUnsigned;
  Type resultElement;
};
using ScalarFn = std::function<Value(ScalarContext &)>;

bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

/// Registers `type` as an elementwise operator computing `fn` over its
/// first `maxInputs` operands (the rest, like CastLike's, only carry types).
void addElementwise(ONNXLoweringTable &table, StringRef type, ScalarFn fn,
                    size_t maxInputs = SIZE_MAX) {
  table.add(type, [fn, maxInputs](Operation *op, ArrayRef<Value> operands,
                       ConversionPatternRewriter &rewriter)
                      -> FailureOr<SmallVector<Value>> {
    FailureOr<RankedTensorType> result =
        resultType(op, 0);
    if (failed(result))
      return failure();
    // Legacy (opset < 7) broadcasting along an axis is not numpy's.
    if (intAttr(op, "broadcast", 0) != 0 && op->getAttrDictionary().get("axis"))
      return op->emitError("legacy broadcasting with 'axis' is not supported"),
             failure();
    SmallVector<Value> inputs;
    for (Value v : operands.take_front(std::min(maxInputs, operands.size())))
      if (v)
        inputs.push_back(v);
    bool isUnsignedInput = op->getNumOperands() && isUnsigned(op->getOperand(0));
    Value value = elementwise(
        rewriter, op->getLoc(), *result, inputs,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          ScalarContext ctx{b, loc, args, op, isUnsignedInput,
                            result->getElementType()};
          return fn(ctx);
        });
    return SmallVector<Value>{value};
  });
}

template <typename FloatOp, typename IntOp>
ScalarFn binary() {
  return [](ScalarContext &c) -> Value {
    if (isFloat(c.args[0]))
      return FloatOp::create(c.b, c.loc, c.args[0], c.args[1]);
    return IntOp::create(c.b, c.loc, c.args[0], c.args[1]);
  };
}

template <typename FloatOp> ScalarFn unaryFloat() {
  return [](ScalarContext &c) -> Value {
    return FloatOp::create(c.b, c.loc, c.args[0]);
  };
}

/// Folds a variadic operator's inputs pairwise.
ScalarFn fold(ScalarFn pair) {
  return [pair](ScalarContext &c) -> Value {
    Value acc = c.args[0];
    for (Value next : c.args.drop_front()) {
      SmallVector<Value> two{acc, next};
      ScalarContext step{c.b, c.loc, two, c.op, c.isUnsigned, c.resultElement};
      acc = pair(step);
    }
    return acc;
  };
}

Value constant(ScalarContext &c, double value) {
  return scalarConstant(c.b, c.loc, c.args[0].getType(), value);
}

ScalarFn compare(arith::CmpFPredicate f, arith::CmpIPredicate s,
                 arith::CmpIPredicate u) {
  return [=](ScalarContext &c) -> Value {
    if (isFloat(c.args[0]))
      return arith::CmpFOp::create(c.b, c.loc, f, c.args[0], c.args[1]);
    return arith::CmpIOp::create(c.b, c.loc, c.isUnsigned ? u : s, c.args[0],
                                 c.args[1]);
  };
}

Value maxOf(ScalarContext &c, Value a, Value b) {
  if (isFloat(a))
    return arith::MaximumFOp::create(c.b, c.loc, a, b);
  return c.isUnsigned ? arith::MaxUIOp::create(c.b, c.loc, a, b).getResult()
                      : arith::MaxSIOp::create(c.b, c.loc, a, b).getResult();
}

Value minOf(ScalarContext &c, Value a, Value b) {
  if (isFloat(a))
    return arith::MinimumFOp::create(c.b, c.loc, a, b);
  return c.isUnsigned ? arith::MinUIOp::create(c.b, c.loc, a, b).getResult()
                      : arith::MinSIOp::create(c.b, c.loc, a, b).getResult();
}

void populateArithmetic(ONNXLoweringTable &t) {
  addElementwise(t, "Add", binary<arith::AddFOp, arith::AddIOp>());
  addElementwise(t, "Sub", binary<arith::SubFOp, arith::SubIOp>());
  addElementwise(t, "Mul", binary<arith::MulFOp, arith::MulIOp>());
  addElementwise(t, "Div", [](ScalarContext &c) -> Value {
    if (isFloat(c.args[0]))
      return arith::DivFOp::create(c.b, c.loc, c.args[0], c.args[1]);
    if (c.isUnsigned)
      return arith::DivUIOp::create(c.b, c.loc, c.args[0], c.args[1]);
    return arith::DivSIOp::create(c.b, c.loc, c.args[0], c.args[1]);
  });
  addElementwise(t, "Pow", [](ScalarContext &c) -> Value {
    Value base = c.args[0], exponent = c.args[1];
    if (!isFloat(base))
      return math::IPowIOp::create(
          c.b, c.loc, base,
          castScalar(c.b, c.loc, exponent, base.getType(), false, false));
    exponent = castScalar(c.b, c.loc, exponent, base.getType(), false, false);
    return math::PowFOp::create(c.b, c.loc, base, exponent);
  });
  addElementwise(t, "Max", fold([](ScalarContext &c) {
                   return maxOf(c, c.args[0], c.args[1]);
                 }));
  addElementwise(t, "Min", fold([](ScalarContext &c) {
                   return minOf(c, c.args[0], c.args[1]);
                 }));
  addElementwise(t, "Sum", fold(binary<arith::AddFOp, arith::AddIOp>()));
  addElementwise(t, "Mean", [](ScalarContext &c) -> Value {
    Value sum = fold(binary<arith::AddFOp, arith::AddIOp>())(c);
    Value count = scalarConstant(c.b, c.loc, sum.getType(), c.args.size());
    return arith::DivFOp::create(c.b, c.loc, sum, count);
  });
  addElementwise(t, "Neg", [](ScalarContext &c) -> Value {
    if (isFloat(c.args[0]))
      return arith::NegFOp::create(c.b, c.loc, c.args[0]);
    return arith::SubIOp::create(c.b, c.loc, constant(c, 0), c.args[0]);
  });
  addElementwise(t, "Abs", [](ScalarContext &c) -> Value {
    if (isFloat(c.args[0]))
      return math::AbsFOp::create(c.b, c.loc, c.args[0]);
    if (c.isUnsigned)
      return c.args[0];
    return math::AbsIOp::create(c.b, c.loc, c.args[0]);
  });
  addElementwise(t, "Reciprocal", [](ScalarContext &c) -> Value {
    return arith::DivFOp::create(c.b, c.loc, constant(c, 1.0), c.args[0]);
  });
  addElementwise(t, "Sign", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value zero = constant(c, 0), one = constant(c, 1), minusOne = constant(c, -1);
    Value positive, negative;
    if (isFloat(x)) {
      positive = arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OGT, x, zero);
      negative = arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OLT, x, zero);
    } else {
      positive = arith::CmpIOp::create(c.b, c.loc,
                                       c.isUnsigned ? arith::CmpIPredicate::ugt
                                                    : arith::CmpIPredicate::sgt,
                                       x, zero);
      negative = arith::CmpIOp::create(c.b, c.loc, arith::CmpIPredicate::slt, x, zero);
    }
    Value inner = arith::SelectOp::create(c.b, c.loc, negative, minusOne, zero);
    return arith::SelectOp::create(c.b, c.loc, positive, one, inner);
  });
  addElementwise(t, "Mod", [](ScalarContext &c) -> Value {
    Value a = c.args[0], b = c.args[1];
    if (isFloat(a) || intAttr(c.op, "fmod", 0))
      return isFloat(a) ? arith::RemFOp::create(c.b, c.loc, a, b).getResult()
                        : arith::RemSIOp::create(c.b, c.loc, a, b).getResult();
    if (c.isUnsigned)
      return arith::RemUIOp::create(c.b, c.loc, a, b);
    // Python-style modulo: the result takes the divisor's sign.
    Value rem = arith::RemSIOp::create(c.b, c.loc, a, b);
    Value zero = constant(c, 0);
    Value remNonZero = arith::CmpIOp::create(c.b, c.loc, arith::CmpIPredicate::ne, rem, zero);
    Value remNeg = arith::CmpIOp::create(c.b, c.loc, arith::CmpIPredicate::slt, rem, zero);
    Value divNeg = arith::CmpIOp::create(c.b, c.loc, arith::CmpIPredicate::slt, b, zero);
    Value signsDiffer = arith::XOrIOp::create(c.b, c.loc, remNeg, divNeg);
    Value adjust = arith::AndIOp::create(c.b, c.loc, remNonZero, signsDiffer);
    Value adjusted = arith::AddIOp::create(c.b, c.loc, rem, b);
    return arith::SelectOp::create(c.b, c.loc, adjust, adjusted, rem);
  });
}

void populateMath(ONNXLoweringTable &t) {
  addElementwise(t, "Exp", unaryFloat<math::ExpOp>());
  addElementwise(t, "Log", unaryFloat<math::LogOp>());
  addElementwise(t, "Sqrt", unaryFloat<math::SqrtOp>());
  addElementwise(t, "Tanh", unaryFloat<math::TanhOp>());
  addElementwise(t, "Sin", unaryFloat<math::SinOp>());
  addElementwise(t, "Cos", unaryFloat<math::CosOp>());
  addElementwise(t, "Tan", unaryFloat<math::TanOp>());
  addElementwise(t, "Asin", unaryFloat<math::AsinOp>());
  addElementwise(t, "Acos", unaryFloat<math::AcosOp>());
  addElementwise(t, "Atan", unaryFloat<math::AtanOp>());
  addElementwise(t, "Sinh", unaryFloat<math::SinhOp>());
  addElementwise(t, "Cosh", unaryFloat<math::CoshOp>());
  addElementwise(t, "Asinh", unaryFloat<math::AsinhOp>());
  addElementwise(t, "Acosh", unaryFloat<math::AcoshOp>());
  addElementwise(t, "Atanh", unaryFloat<math::AtanhOp>());
  addElementwise(t, "Erf", unaryFloat<math::ErfOp>());
  addElementwise(t, "Floor", unaryFloat<math::FloorOp>());
  addElementwise(t, "Ceil", unaryFloat<math::CeilOp>());
  addElementwise(t, "Round", unaryFloat<math::RoundEvenOp>());
  addElementwise(t, "Identity", [](ScalarContext &c) { return c.args[0]; });
  addElementwise(t, "Relu", [](ScalarContext &c) {
    return maxOf(c, c.args[0], constant(c, 0));
  });
  addElementwise(t, "Sigmoid", [](ScalarContext &c) -> Value {
    Value neg = arith::NegFOp::create(c.b, c.loc, c.args[0]);
    Value exp = math::ExpOp::create(c.b, c.loc, neg);
    Value one = constant(c, 1.0);
    Value denom = arith::AddFOp::create(c.b, c.loc, one, exp);
    return arith::DivFOp::create(c.b, c.loc, one, denom);
  });
  addElementwise(t, "LeakyRelu", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value alpha = constant(c, floatAttr(c.op, "alpha", 0.01));
    Value scaled = arith::MulFOp::create(c.b, c.loc, alpha, x);
    Value positive = arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OGT, x, constant(c, 0));
    return arith::SelectOp::create(c.b, c.loc, positive, x, scaled);
  });
  addElementwise(t, "PRelu", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value scaled = arith::MulFOp::create(c.b, c.loc, c.args[1], x);
    Value positive = arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OGT, x, constant(c, 0));
    return arith::SelectOp::create(c.b, c.loc, positive, x, scaled);
  });
  addElementwise(t, "Elu", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value alpha = constant(c, floatAttr(c.op, "alpha", 1.0));
    Value expm1 = math::ExpM1Op::create(c.b, c.loc, x);
    Value negative = arith::MulFOp::create(c.b, c.loc, alpha, expm1);
    Value positive = arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OGT, x, constant(c, 0));
    return arith::SelectOp::create(c.b, c.loc, positive, x, negative);
  });
  addElementwise(t, "Selu", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value alpha = constant(c, floatAttr(c.op, "alpha", 1.67326319217681884765625));
    Value gamma = constant(c, floatAttr(c.op, "gamma", 1.05070102214813232421875));
    Value expm1 = math::ExpM1Op::create(c.b, c.loc, x);
    Value negative = arith::MulFOp::create(c.b, c.loc, alpha, expm1);
    Value positive = arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OGT, x, constant(c, 0));
    Value chosen = arith::SelectOp::create(c.b, c.loc, positive, x, negative);
    return arith::MulFOp::create(c.b, c.loc, gamma, chosen);
  });
  addElementwise(t, "HardSigmoid", [](ScalarContext &c) -> Value {
    Value alpha = constant(c, floatAttr(c.op, "alpha", 0.2));
    Value beta = constant(c, floatAttr(c.op, "beta", 0.5));
    Value linear = arith::AddFOp::create(
        c.b, c.loc, arith::MulFOp::create(c.b, c.loc, alpha, c.args[0]), beta);
    return minOf(c, maxOf(c, linear, constant(c, 0)), constant(c, 1));
  });
  addElementwise(t, "HardSwish", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value linear = arith::AddFOp::create(
        c.b, c.loc, arith::MulFOp::create(c.b, c.loc, constant(c, 1.0 / 6), x),
        constant(c, 0.5));
    Value clipped = minOf(c, maxOf(c, linear, constant(c, 0)), constant(c, 1));
    return arith::MulFOp::create(c.b, c.loc, x, clipped);
  });
  addElementwise(t, "Softplus", [](ScalarContext &c) -> Value {
    return math::Log1pOp::create(c.b, c.loc,
                                 math::ExpOp::create(c.b, c.loc, c.args[0]));
  });
  addElementwise(t, "Softsign", [](ScalarContext &c) -> Value {
    Value denom = arith::AddFOp::create(
        c.b, c.loc, constant(c, 1.0), math::AbsFOp::create(c.b, c.loc, c.args[0]));
    return arith::DivFOp::create(c.b, c.loc, c.args[0], denom);
  });
  addElementwise(t, "Gelu", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    auto approximate =
        dyn_cast_or_null<StringAttr>(c.op->getAttrDictionary().get("approximate"));
    Value half = constant(c, 0.5), one = constant(c, 1.0);
    Value inner;
    if (approximate && approximate.getValue() == "tanh") {
      Value cube = arith::MulFOp::create(c.b, c.loc, x,
                                         arith::MulFOp::create(c.b, c.loc, x, x));
      Value poly = arith::AddFOp::create(
          c.b, c.loc, x,
          arith::MulFOp::create(c.b, c.loc, constant(c, 0.044715), cube));
      inner = math::TanhOp::create(
          c.b, c.loc,
          arith::MulFOp::create(c.b, c.loc, constant(c, std::sqrt(2.0 / M_PI)), poly));
    } else {
      inner = math::ErfOp::create(
          c.b, c.loc, arith::MulFOp::create(c.b, c.loc, x, constant(c, M_SQRT1_2)));
    }
    Value scale = arith::MulFOp::create(c.b, c.loc, half,
                                        arith::AddFOp::create(c.b, c.loc, one, inner));
    return arith::MulFOp::create(c.b, c.loc, x, scale);
  });
  addElementwise(t, "ThresholdedRelu", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value alpha = constant(c, floatAttr(c.op, "alpha", 1.0));
    Value above = arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OGT, x, alpha);
    return arith::SelectOp::create(c.b, c.loc, above, x, constant(c, 0));
  });
  addElementwise(t, "Shrink", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    bool isF = isFloat(x);
    Value lambd = constant(c, floatAttr(c.op, "lambd", 0.5));
    Value bias = constant(c, floatAttr(c.op, "bias", 0.0));
    Value negLambd = constant(c, -floatAttr(c.op, "lambd", 0.5));
    Value below = isF ? arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OLT, x, negLambd).getResult()
                      : arith::CmpIOp::create(c.b, c.loc, arith::CmpIPredicate::slt, x, negLambd).getResult();
    Value above = isF ? arith::CmpFOp::create(c.b, c.loc, arith::CmpFPredicate::OGT, x, lambd).getResult()
                      : arith::CmpIOp::create(c.b, c.loc, arith::CmpIPredicate::sgt, x, lambd).getResult();
    Value plus = isF ? arith::AddFOp::create(c.b, c.loc, x, bias).getResult()
                     : arith::AddIOp::create(c.b, c.loc, x, bias).getResult();
    Value minus = isF ? arith::SubFOp::create(c.b, c.loc, x, bias).getResult()
                      : arith::SubIOp::create(c.b, c.loc, x, bias).getResult();
    Value zero = constant(c, 0);
    return arith::SelectOp::create(c.b, c.loc, below, plus,
                                   arith::SelectOp::create(c.b, c.loc, above, minus, zero));
  });
  addElementwise(t, "Celu", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value alpha = constant(c, floatAttr(c.op, "alpha", 1.0));
    Value expm1 = math::ExpM1Op::create(c.b, c.loc,
                                        arith::DivFOp::create(c.b, c.loc, x, alpha));
    Value negative = minOf(c, constant(c, 0), arith::MulFOp::create(c.b, c.loc, alpha, expm1));
    return arith::AddFOp::create(c.b, c.loc, maxOf(c, constant(c, 0), x), negative);
  });
  addElementwise(t, "Mish", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value softplus = math::Log1pOp::create(c.b, c.loc, math::ExpOp::create(c.b, c.loc, x));
    return arith::MulFOp::create(c.b, c.loc, x, math::TanhOp::create(c.b, c.loc, softplus));
  });
  addElementwise(t, "Clip", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Type type = x.getType();
    // Opset < 11 has min/max attributes; later, optional inputs.
    Value low, high;
    if (c.args.size() > 1)
      low = c.args[1];
    if (c.args.size() > 2)
      high = c.args[2];
    bool hasMinInput = c.op->getNumOperands() > 1 &&
                       !isa<NoneType>(c.op->getOperand(1).getType());
    if (!hasMinInput && c.args.size() == 2) {
      // Only max was given (min absent): the one present operand is max.
      high = low;
      low = nullptr;
    }
    if (auto minAttr = c.op->getAttrDictionary().get("min"))
      low = scalarConstant(c.b, c.loc, type, cast<FloatAttr>(minAttr).getValueAsDouble());
    if (auto maxAttr = c.op->getAttrDictionary().get("max"))
      high = scalarConstant(c.b, c.loc, type, cast<FloatAttr>(maxAttr).getValueAsDouble());
    if (low)
      x = maxOf(c, x, low);
    if (high)
      x = minOf(c, x, high);
    return x;
  });
}

void populateLogic(ONNXLoweringTable &t) {
  using F = arith::CmpFPredicate;
  using I = arith::CmpIPredicate;
  addElementwise(t, "Equal", compare(F::OEQ, I::eq, I::eq));
  addElementwise(t, "Less", compare(F::OLT, I::slt, I::ult));
  addElementwise(t, "LessOrEqual", compare(F::OLE, I::sle, I::ule));
  addElementwise(t, "Greater", compare(F::OGT, I::sgt, I::ugt));
  addElementwise(t, "GreaterOrEqual", compare(F::OGE, I::sge, I::uge));
  addElementwise(t, "And", binary<arith::AndIOp, arith::AndIOp>());
  addElementwise(t, "Or", binary<arith::OrIOp, arith::OrIOp>());
  addElementwise(t, "Xor", binary<arith::XOrIOp, arith::XOrIOp>());
  addElementwise(t, "Not", [](ScalarContext &c) -> Value {
    return arith::XOrIOp::create(c.b, c.loc, c.args[0], constant(c, 1));
  });
  addElementwise(t, "Where", [](ScalarContext &c) -> Value {
    return arith::SelectOp::create(c.b, c.loc, c.args[0], c.args[1], c.args[2]);
  });
  addElementwise(t, "IsNaN", [](ScalarContext &c) -> Value {
    return arith::CmpFOp::create(c.b, c.loc, F::UNO, c.args[0], c.args[0]);
  });
  addElementwise(t, "IsInf", [](ScalarContext &c) -> Value {
    Value x = c.args[0];
    Value inf = constant(c, std::numeric_limits<double>::infinity());
    Value negInf = constant(c, -std::numeric_limits<double>::infinity());
    Value isPos = arith::CmpFOp::create(c.b, c.loc, F::OEQ, x, inf);
    Value isNeg = arith::CmpFOp::create(c.b, c.loc, F::OEQ, x, negInf);
    Value detectPos = scalarConstant(c.b, c.loc, c.b.getI1Type(),
                                     intAttr(c.op, "detect_positive", 1) != 0);
    Value detectNeg = scalarConstant(c.b, c.loc, c.b.getI1Type(),
                                     intAttr(c.op, "detect_negative", 1) != 0);
    return arith::OrIOp::create(c.b, c.loc,
                                arith::AndIOp::create(c.b, c.loc, isPos, detectPos),
                                arith::AndIOp::create(c.b, c.loc, isNeg, detectNeg));
  });
  ScalarFn cast = [](ScalarContext &c) -> Value {
    return castScalar(c.b, c.loc, c.args[0], c.resultElement, c.isUnsigned,
                      isUnsigned(c.op->getResult(0)));
  };
  addElementwise(t, "Cast", cast);
  addElementwise(t, "CastLike", cast, /*maxInputs=*/1);
  addElementwise(t, "BitwiseAnd", binary<arith::AndIOp, arith::AndIOp>());
  addElementwise(t, "BitwiseOr", binary<arith::OrIOp, arith::OrIOp>());
  addElementwise(t, "BitwiseXor", binary<arith::XOrIOp, arith::XOrIOp>());
  addElementwise(t, "BitwiseNot", [](ScalarContext &c) -> Value {
    return arith::XOrIOp::create(c.b, c.loc, c.args[0], constant(c, -1));
  });
  addElementwise(t, "BitShift", [](ScalarContext &c) -> Value {
    auto direction =
        dyn_cast_or_null<StringAttr>(c.op->getAttrDictionary().get("direction"));
    if (direction && direction.getValue() == "LEFT")
      return arith::ShLIOp::create(c.b, c.loc, c.args[0], c.args[1]);
    return arith::ShRUIOp::create(c.b, c.loc, c.args[0], c.args[1]);
  });
}

/// Dropout at inference passes its input through; the mask keeps every
/// element. Training mode draws random numbers, which code generation does
/// not reproduce.
FailureOr<SmallVector<Value>> lowerDropout(Operation *op, ArrayRef<Value> operands,
                                           ConversionPatternRewriter &rewriter) {
  if (operands.size() > 2 && operands[2]) {
    std::optional<SmallVector<int64_t>> training = constantInts(operands[2]);
    if (!training || training->size() != 1 || (*training)[0] != 0)
      return op->emitError("Dropout in training mode (random masks) is not "
                           "supported by code generation"),
             failure();
  }
  SmallVector<Value> results{operands[0]};
  if (op->getNumResults() > 1 && !isa<NoneType>(op->getResult(1).getType())) {
    FailureOr<RankedTensorType> maskType = resultType(op, 1);
    if (failed(maskType))
      return failure();
    Location loc = op->getLoc();
    Value empty = emptyTensor(rewriter, loc, *maskType, {operands[0]});
    Value keep = scalarConstant(rewriter, loc, maskType->getElementType(), 1);
    results.push_back(linalg::FillOp::create(rewriter, loc, keep, empty).getResult(0));
  }
  return results;
}

/// Constant: the value attribute (or a scalar/list form) as arith.constant.
FailureOr<SmallVector<Value>> lowerConstant(Operation *op, ArrayRef<Value>,
                                            ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> type = resultType(op, 0);
  if (failed(type))
    return failure();
  DictionaryAttr attrs = op->getAttrDictionary();
  Attribute value;
  if (auto tensor = dyn_cast_or_null<ElementsAttr>(attrs.get("value"))) {
    if (auto dense = dyn_cast<DenseElementsAttr>(tensor))
      value = dense.bitcast(type->getElementType()).reshape(*type);
    else if (auto resource = dyn_cast<DenseResourceElementsAttr>(tensor))
      value = DenseResourceElementsAttr::get(*type, resource.getRawHandle());
  } else if (auto f = dyn_cast_or_null<FloatAttr>(attrs.get("value_float"))) {
    value = DenseElementsAttr::get(*type, f);
  } else if (auto i = dyn_cast_or_null<IntegerAttr>(attrs.get("value_int"))) {
    value = DenseElementsAttr::get(*type, i);
  } else if (auto fs = dyn_cast_or_null<DenseF32ArrayAttr>(attrs.get("value_floats"))) {
    value = DenseElementsAttr::get(*type, fs.asArrayRef());
  } else if (auto is = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get("value_ints"))) {
    value = DenseElementsAttr::get(*type, is.asArrayRef());
  }
  if (!value)
    return op->emitError("this form of Constant is not supported by code "
                         "generation"),
           failure();
  Value result = arith::ConstantOp::create(rewriter, op->getLoc(), *type,
                                           cast<TypedAttr>(value));
  return SmallVector<Value>{result};
}
} // namespace

void pith::populateElementwiseLowerings(ONNXLoweringTable &table) {
  populateArithmetic(table);
  populateMath(table);
  populateLogic(table);
  table.add("Constant", lowerConstant);
  table.add("Dropout", lowerDropout);
}

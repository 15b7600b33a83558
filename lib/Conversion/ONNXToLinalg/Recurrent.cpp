//===- Recurrent.cpp - Lower recurrent layers (RNN, LSTM, GRU) and Einsum -===//
//
// RNN, GRU and LSTM become, per direction, one scf.for over the time steps
// carrying the hidden state (and LSTM's cell state) and the Y accumulator as
// tensor iter_args. The input projection X·W^T of every time step is one
// linalg.matmul before the loop (weights transposed once with
// linalg.transpose); inside the loop H·R^T is a linalg.matmul accumulating
// into that step's slice of the projection, and the gates are one
// linalg.generic over [batch, hidden]. Einsum becomes one linalg.generic
// contraction.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "pith/Conversion/ONNXToLinalg/ONNXToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <map>

using namespace mlir;
using namespace pith;
using namespace pith::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Tensor helpers
//===----------------------------------------------------------------------===//

SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> values) {
  SmallVector<OpFoldResult> result;
  for (int64_t v : values)
    result.push_back(b.getIndexAttr(v));
  return result;
}

/// The slice of `source` at `offsets` of `sizes` (unit strides), with the
/// (possibly rank-reduced) `shape`.
Value extractAt(OpBuilder &b, Location loc, Value source,
                ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes,
                ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(
      shape, cast<RankedTensorType>(source.getType()).getElementType());
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, type, source, offsets,
                                        indexAttrs(b, sizes), strides);
}

Value extract(OpBuilder &b, Location loc, Value source,
              ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
              ArrayRef<int64_t> shape) {
  return extractAt(b, loc, source, indexAttrs(b, offsets), sizes, shape);
}

/// `source` written into `dest` at `offsets` over `sizes` (unit strides).
Value insertAt(OpBuilder &b, Location loc, Value source, Value dest,
               ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::InsertSliceOp::create(b, loc, source, dest, offsets,
                                       indexAttrs(b, sizes), strides);
}

Value insert(OpBuilder &b, Location loc, Value source, Value dest,
             ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
  return insertAt(b, loc, source, dest, indexAttrs(b, offsets), sizes);
}

Value zeros(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
            Type elementType) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, elementType);
  Value zero = scalarConstant(b, loc, elementType, 0);
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

Value transpose(OpBuilder &b, Location loc, Value value,
                ArrayRef<int64_t> permutation) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : permutation)
    shape.push_back(type.getDimSize(p));
  Value empty = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, value, empty,
                                     b.getDenseI64ArrayAttr(permutation))
      .getResult()[0];
}

/// acc + lhs [M, K] x rhs [K, N], as linalg.matmul accumulating into `acc`.
Value matmulInto(OpBuilder &b, Location loc, Value lhs, Value rhs, Value acc) {
  return linalg::MatmulOp::create(b, loc, TypeRange{acc.getType()},
                                  ValueRange{lhs, rhs}, ValueRange{acc})
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Activations of the recurrent operators
//===----------------------------------------------------------------------===//

/// One activation function of an RNN, GRU or LSTM (lower-case name).
struct Activation {
  std::string name;
  double alpha = 0, beta = 0;
};

/// The default alpha and beta of the activations taking them, as in the
/// ONNX operator documentation (and onnxruntime).
std::optional<std::pair<double, double>> activationDefaults(StringRef name) {
  static const std::map<std::string, std::pair<double, double>> defaults = {
      {"sigmoid", {0, 0}},        {"tanh", {0, 0}},
      {"relu", {0, 0}},           {"softsign", {0, 0}},
      {"softplus", {0, 0}},       {"affine", {1.0, 0.0}},
      {"leakyrelu", {0.01, 0}},   {"thresholdedrelu", {1.0, 0}},
      {"scaledtanh", {1.0, 1.0}}, {"hardsigmoid", {0.2, 0.5}},
      {"elu", {1.0, 0}}};
  auto it = defaults.find(name.str());
  if (it == defaults.end())
    return std::nullopt;
  return it->second;
}

bool takesAlpha(StringRef n) {
  return n == "affine" || n == "leakyrelu" || n == "thresholdedrelu" ||
         n == "scaledtanh" || n == "hardsigmoid" || n == "elu";
}
bool takesBeta(StringRef n) {
  return n == "affine" || n == "scaledtanh" || n == "hardsigmoid";
}

/// The activations of every direction: `activations` (or `defaults` per
/// direction), with `activation_alpha` / `activation_beta` consumed in order
/// by the functions taking them, as onnxruntime does.
FailureOr<SmallVector<Activation>>
parseActivations(Operation *op, ArrayRef<StringRef> defaults,
                 int64_t numDirections) {
  DictionaryAttr attrs = op->getAttrDictionary();
  SmallVector<std::string> names;
  if (auto list = dyn_cast_or_null<ArrayAttr>(attrs.get("activations"))) {
    for (Attribute a : list) {
      auto s = dyn_cast<StringAttr>(a);
      if (!s)
        return op->emitError("activations must be strings"), failure();
      names.push_back(s.getValue().lower());
    }
  }
  if (names.empty())
    for (int64_t d = 0; d < numDirections; ++d)
      for (StringRef n : defaults)
        names.push_back(n.str());
  // One set given for both directions serves both.
  if (numDirections == 2 && names.size() == defaults.size())
    names.append(SmallVector<std::string>(names));
  if (names.size() != defaults.size() * numDirections)
    return op->emitError() << "expected " << defaults.size() * numDirections
                           << " activations, got " << names.size(),
           failure();
  ArrayRef<float> alphas, betas;
  if (auto a =
          dyn_cast_or_null<DenseF32ArrayAttr>(attrs.get("activation_alpha")))
    alphas = a.asArrayRef();
  if (auto a =
          dyn_cast_or_null<DenseF32ArrayAttr>(attrs.get("activation_beta")))
    betas = a.asArrayRef();
  SmallVector<Activation> result;
  for (const std::string &name : names) {
    std::optional<std::pair<double, double>> d = activationDefaults(name);
    if (!d)
      return op->emitError() << "unsupported activation '" << name << "'",
             failure();
    Activation act{name, d->first, d->second};
    if (takesAlpha(name) && !alphas.empty()) {
      act.alpha = alphas.front();
      alphas = alphas.drop_front();
    }
    if (takesBeta(name) && !betas.empty()) {
      act.beta = betas.front();
      betas = betas.drop_front();
    }
    result.push_back(act);
  }
  return result;
}

Value applyActivation(OpBuilder &b, Location loc, const Activation &act,
                      Value x) {
  Type type = x.getType();
  auto c = [&](double v) { return scalarConstant(b, loc, type, v); };
  auto mul = [&](Value l, Value r) -> Value {
    return arith::MulFOp::create(b, loc, l, r);
  };
  auto add = [&](Value l, Value r) -> Value {
    return arith::AddFOp::create(b, loc, l, r);
  };
  auto positive = [&](Value v, double threshold) -> Value {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v,
                                 c(threshold));
  };
  StringRef name = act.name;
  if (name == "sigmoid") {
    Value exp = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return arith::DivFOp::create(b, loc, c(1.0), add(c(1.0), exp));
  }
  if (name == "tanh")
    return math::TanhOp::create(b, loc, x);
  if (name == "relu")
    return arith::MaxNumFOp::create(b, loc, x, c(0.0));
  if (name == "affine")
    return add(mul(c(act.alpha), x), c(act.beta));
  if (name == "leakyrelu")
    return arith::SelectOp::create(b, loc, positive(x, 0.0), x,
                                   mul(c(act.alpha), x));
  if (name == "thresholdedrelu")
    return arith::SelectOp::create(b, loc, positive(x, act.alpha), x, c(0.0));
  if (name == "scaledtanh")
    return mul(c(act.alpha), math::TanhOp::create(b, loc, mul(c(act.beta), x)));
  if (name == "hardsigmoid") {
    Value linear = add(mul(c(act.alpha), x), c(act.beta));
    Value low = arith::MaxNumFOp::create(b, loc, linear, c(0.0));
    return arith::MinNumFOp::create(b, loc, low, c(1.0));
  }
  if (name == "elu") {
    Value negative = mul(c(act.alpha), math::ExpM1Op::create(b, loc, x));
    return arith::SelectOp::create(b, loc, positive(x, 0.0), x, negative);
  }
  if (name == "softsign")
    return arith::DivFOp::create(b, loc, x,
                                 add(c(1.0), math::AbsFOp::create(b, loc, x)));
  assert(name == "softplus" && "activation checked by parseActivations");
  return math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
}

//===----------------------------------------------------------------------===//
// RNN, GRU, LSTM
//===----------------------------------------------------------------------===//

enum class CellKind { RNN, GRU, LSTM };

/// The inputs of the per-step linalg.generic over [batch, hidden]: full
/// [B, H] tensors, [H] vectors broadcast over the batch, or the [B]
/// sequence lengths broadcast over the hidden units.
struct StepInputs {
  explicit StepInputs(MLIRContext *ctx) : ctx(ctx) {}
  /// Adds `v` (if not null) and returns its argument index, else -1.
  int full(Value v) {
    return add(v, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)});
  }
  int perHidden(Value v) { return add(v, {getAffineDimExpr(1, ctx)}); }
  int perBatch(Value v) { return add(v, {getAffineDimExpr(0, ctx)}); }

  MLIRContext *ctx;
  SmallVector<Value> values;
  SmallVector<AffineMap> maps;

private:
  int add(Value v, ArrayRef<AffineExpr> exprs) {
    if (!v)
      return -1;
    values.push_back(v);
    maps.push_back(AffineMap::get(2, 0, exprs, ctx));
    return values.size() - 1;
  }
};

/// One linalg.generic over [B, H] writing into `inits` what `body` computes
/// from the scalar inputs and the current values of the outputs.
using StepBody = function_ref<SmallVector<Value>(
    OpBuilder &, Location, ValueRange ins, ValueRange outs)>;
SmallVector<Value> stepGeneric(OpBuilder &b, Location loc,
                               const StepInputs &inputs, ValueRange inits,
                               StepBody body) {
  SmallVector<AffineMap> maps = inputs.maps;
  maps.append(inits.size(), b.getMultiDimIdentityMap(2));
  SmallVector<utils::IteratorType> iterators(2, utils::IteratorType::parallel);
  size_t numInputs = inputs.values.size();
  auto generic = linalg::GenericOp::create(
      b, loc, inits.getTypes(), inputs.values, inits, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc,
                                body(nb, nloc, args.take_front(numInputs),
                                     args.drop_front(numInputs)));
      });
  return SmallVector<Value>(generic.getResults());
}

/// What one direction's loop produces: Y as [T, B, H] (null when Y is not
/// wanted), the last hidden state and (LSTM) cell state as [B, H].
struct DirectionResult {
  Value y, h, c;
};

/// The attributes and shapes of one recurrent op, checked.
struct Recurrent {
  CellKind kind;
  int64_t gates, seqLength, batch, inputSize, hidden, numDirections, layout;
  SmallVector<bool> reverse;
  bool linearBeforeReset = false, inputForget = false;
  std::optional<double> clip;
  SmallVector<Activation> activations;
  int64_t activationsPerDirection;
  Value x, w, r, bias, seqLens, initialH, initialC, peepholes;
  Type elementType;
  bool wantY;
};

/// Checks that `value`, when present, has static shape `shape`.
LogicalResult checkShape(Operation *op, Value value, StringRef name,
                         ArrayRef<int64_t> shape) {
  if (!value)
    return success();
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (type && type.getShape() == shape)
    return success();
  std::string expected;
  llvm::raw_string_ostream os(expected);
  llvm::interleave(shape, os, "x");
  return op->emitError() << name << " must have static shape " << expected;
}

FailureOr<Recurrent> analyzeRecurrent(CellKind kind, Operation *op,
                                      ArrayRef<Value> operands) {
  auto operand = [&](unsigned i) {
    return i < operands.size() ? operands[i] : Value();
  };
  Recurrent rec;
  rec.kind = kind;
  rec.gates = kind == CellKind::LSTM ? 4 : kind == CellKind::GRU ? 3 : 1;
  rec.x = operand(0);
  rec.w = operand(1);
  rec.r = operand(2);
  rec.bias = operand(3);
  rec.seqLens = operand(4);
  rec.initialH = operand(5);
  if (kind == CellKind::LSTM) {
    rec.initialC = operand(6);
    rec.peepholes = operand(7);
  }
  for (Value v : {rec.x, rec.w, rec.r}) {
    auto type = dyn_cast_or_null<RankedTensorType>(v ? v.getType() : Type());
    if (!type || !type.hasStaticShape() || type.getRank() != 3)
      return op->emitError("X, W and R must have static 3-D shapes"), failure();
  }
  auto xType = cast<RankedTensorType>(rec.x.getType());
  rec.elementType = xType.getElementType();
  if (!isa<FloatType>(rec.elementType))
    return op->emitError("only floating-point recurrent layers are supported"),
           failure();
  rec.layout = intAttr(op, "layout", 0);
  if (rec.layout != 0 && rec.layout != 1)
    return op->emitError("layout must be 0 or 1"), failure();
  StringRef direction = "forward";
  if (auto s = dyn_cast_or_null<StringAttr>(
          op->getAttrDictionary().get("direction")))
    direction = s.getValue();
  if (direction == "forward")
    rec.reverse = {false};
  else if (direction == "reverse")
    rec.reverse = {true};
  else if (direction == "bidirectional")
    rec.reverse = {false, true};
  else
    return op->emitError() << "unknown direction '" << direction << "'",
           failure();
  rec.numDirections = rec.reverse.size();
  rec.seqLength = xType.getDimSize(rec.layout ? 1 : 0);
  rec.batch = xType.getDimSize(rec.layout ? 0 : 1);
  rec.inputSize = xType.getDimSize(2);
  rec.hidden = cast<RankedTensorType>(rec.r.getType()).getDimSize(2);
  int64_t hiddenAttr = intAttr(op, "hidden_size", rec.hidden);
  if (hiddenAttr != rec.hidden)
    return op->emitError() << "hidden_size " << hiddenAttr
                           << " differs from R's last dimension " << rec.hidden,
           failure();
  int64_t d = rec.numDirections, g = rec.gates, h = rec.hidden, b = rec.batch;
  SmallVector<int64_t> stateShape = rec.layout ? SmallVector<int64_t>{b, d, h}
                                               : SmallVector<int64_t>{d, b, h};
  if (failed(checkShape(op, rec.w, "W", {d, g * h, rec.inputSize})) ||
      failed(checkShape(op, rec.r, "R", {d, g * h, h})) ||
      failed(checkShape(op, rec.bias, "B", {d, 2 * g * h})) ||
      failed(checkShape(op, rec.seqLens, "sequence_lens", {b})) ||
      failed(checkShape(op, rec.initialH, "initial_h", stateShape)) ||
      failed(checkShape(op, rec.initialC, "initial_c", stateShape)) ||
      failed(checkShape(op, rec.peepholes, "P", {d, 3 * h})))
    return failure();
  if (rec.seqLens &&
      !isa<IntegerType>(
          cast<RankedTensorType>(rec.seqLens.getType()).getElementType()))
    return op->emitError("sequence_lens must be an integer tensor"), failure();
  rec.linearBeforeReset =
      kind == CellKind::GRU && intAttr(op, "linear_before_reset", 0) != 0;
  rec.inputForget =
      kind == CellKind::LSTM && intAttr(op, "input_forget", 0) != 0;
  if (auto clip =
          dyn_cast_or_null<FloatAttr>(op->getAttrDictionary().get("clip")))
    rec.clip = clip.getValueAsDouble();
  SmallVector<StringRef> defaults;
  if (kind == CellKind::LSTM)
    defaults = {"sigmoid", "tanh", "tanh"};
  else if (kind == CellKind::GRU)
    defaults = {"sigmoid", "tanh"};
  else
    defaults = {"tanh"};
  rec.activationsPerDirection = defaults.size();
  FailureOr<SmallVector<Activation>> activations =
      parseActivations(op, defaults, rec.numDirections);
  if (failed(activations))
    return failure();
  rec.activations = std::move(*activations);
  // Results: Y, Y_h (, Y_c); absent ones are none.
  rec.wantY = !isa<NoneType>(op->getResult(0).getType());
  int64_t t = rec.seqLength;
  SmallVector<SmallVector<int64_t>> expected = {
      rec.layout ? SmallVector<int64_t>{b, t, d, h}
                 : SmallVector<int64_t>{t, d, b, h},
      stateShape, stateShape};
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    Type type = op->getResult(i).getType();
    if (isa<NoneType>(type))
      continue;
    FailureOr<RankedTensorType> ranked = resultType(op, i);
    if (failed(ranked))
      return failure();
    if (i >= expected.size() || ranked->getShape() != ArrayRef(expected[i]))
      return op->emitError() << "result " << i
                             << " does not have the shape the inputs imply",
             failure();
  }
  return rec;
}

/// Runs direction `dir` of a recurrent layer over the time-major input
/// `xFlat` ([T * B, I]).
DirectionResult lowerDirection(OpBuilder &rw, Location loc,
                               const Recurrent &rec, int64_t dir, Value xFlat) {
  int64_t T = rec.seqLength, B = rec.batch, I = rec.inputSize, H = rec.hidden,
          GH = rec.gates * rec.hidden;
  Type elem = rec.elementType;
  MLIRContext *ctx = rw.getContext();
  bool reverse = rec.reverse[dir];

  // The input projection of all time steps: X·W^T + biases, [T, B, G*H].
  Value wT = transpose(
      rw, loc, extract(rw, loc, rec.w, {dir, 0, 0}, {1, GH, I}, {GH, I}),
      {1, 0});
  Value xw = matmulInto(rw, loc, xFlat, wT, zeros(rw, loc, {T * B, GH}, elem));
  Value recurrentBiasH; // GRU with linear_before_reset: Rb of the h gate.
  if (rec.bias) {
    Value wb = extract(rw, loc, rec.bias, {dir, 0}, {1, GH}, {GH});
    Value rb = extract(rw, loc, rec.bias, {dir, GH}, {1, GH}, {GH});
    auto biasType = RankedTensorType::get({GH}, elem);
    auto addf = [](OpBuilder &b, Location l, ValueRange args) -> Value {
      return arith::AddFOp::create(b, l, args[0], args[1]);
    };
    Value inputBias = elementwise(rw, loc, biasType, {wb, rb}, addf);
    if (rec.linearBeforeReset) {
      // Rb_h goes inside r * (H·Rh^T + Rb_h); only Wb_h is added here.
      inputBias = insert(rw, loc, extract(rw, loc, wb, {2 * H}, {H}, {H}),
                         inputBias, {2 * H}, {H});
      recurrentBiasH =
          extract(rw, loc, rec.bias, {dir, GH + 2 * H}, {1, H}, {H});
    }
    xw = elementwise(rw, loc, RankedTensorType::get({T * B, GH}, elem),
                     {xw, inputBias}, addf);
  }
  xw = tensor::ExpandShapeOp::create(
      rw, loc, RankedTensorType::get({T, B, GH}, elem), xw,
      SmallVector<ReassociationIndices>{{0, 1}, {2}});

  // Recurrent weights, transposed: [H, G*H] (GRU: [H, 2H] for z and r, and
  // [H, H] for h, whose product comes after the reset gate).
  Value rd = extract(rw, loc, rec.r, {dir, 0, 0}, {1, GH, H}, {GH, H});
  Value rT, rzrT, rhT;
  if (rec.kind == CellKind::GRU) {
    rzrT = transpose(
        rw, loc, extract(rw, loc, rd, {0, 0}, {2 * H, H}, {2 * H, H}), {1, 0});
    rhT = transpose(rw, loc, extract(rw, loc, rd, {2 * H, 0}, {H, H}, {H, H}),
                    {1, 0});
  } else {
    rT = transpose(rw, loc, rd, {1, 0});
  }
  Value peepI, peepO, peepF;
  if (rec.peepholes) {
    peepI = extract(rw, loc, rec.peepholes, {dir, 0}, {1, H}, {H});
    peepO = extract(rw, loc, rec.peepholes, {dir, H}, {1, H}, {H});
    peepF = extract(rw, loc, rec.peepholes, {dir, 2 * H}, {1, H}, {H});
  }
  auto initialState = [&](Value initial) {
    if (!initial)
      return zeros(rw, loc, {B, H}, elem);
    if (rec.layout)
      return extract(rw, loc, initial, {0, dir, 0}, {B, 1, H}, {B, H});
    return extract(rw, loc, initial, {dir, 0, 0}, {1, B, H}, {B, H});
  };
  // The states live in a double buffer [2, S, B, H] (S = 1, or 2 for
  // LSTM's h and c): step t reads slot t % 2 and writes slot (t + 1) % 2, so
  // that the loop yields insert_slices into its own iter_arg, which
  // bufferization updates in place.
  bool lstm = rec.kind == CellKind::LSTM;
  int64_t S = lstm ? 2 : 1;
  Value states =
      tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{2, S, B, H}, elem);
  states = insert(rw, loc, initialState(rec.initialH), states, {0, 0, 0, 0},
                  {1, 1, B, H});
  if (lstm)
    states = insert(rw, loc, initialState(rec.initialC), states, {0, 1, 0, 0},
                    {1, 1, B, H});
  SmallVector<Value> inits = {states};
  if (rec.wantY)
    inits.push_back(
        tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{T, B, H}, elem));

  ArrayRef<Activation> acts = ArrayRef(rec.activations)
                                  .slice(dir * rec.activationsPerDirection,
                                         rec.activationsPerDirection);
  Value zeroIdx = arith::ConstantIndexOp::create(rw, loc, 0);
  Value stepsIdx = arith::ConstantIndexOp::create(rw, loc, T);
  Value oneIdx = arith::ConstantIndexOp::create(rw, loc, 1);

  auto loop = scf::ForOp::create(
      rw, loc, zeroIdx, stepsIdx, oneIdx, inits,
      [&](OpBuilder &b, Location l, Value iv, ValueRange args) {
        Value two = arith::ConstantIndexOp::create(b, l, 2);
        Value one = arith::ConstantIndexOp::create(b, l, 1);
        Value current = arith::RemUIOp::create(b, l, iv, two);
        Value nextSlot = arith::SubIOp::create(b, l, one, current);
        auto stateAt = [&](Value slot,
                           int64_t which) -> SmallVector<OpFoldResult> {
          return {slot, b.getIndexAttr(which), b.getIndexAttr(0),
                  b.getIndexAttr(0)};
        };
        Value hPrev =
            extractAt(b, l, args[0], stateAt(current, 0), {1, 1, B, H}, {B, H});
        Value cPrev = lstm ? extractAt(b, l, args[0], stateAt(current, 1),
                                       {1, 1, B, H}, {B, H})
                           : Value();
        Value step = iv;
        if (reverse)
          step = arith::SubIOp::create(
              b, l, arith::ConstantIndexOp::create(b, l, T - 1), iv);
        Value stepI64;
        if (rec.seqLens)
          stepI64 = arith::IndexCastOp::create(b, l, b.getI64Type(), step);
        SmallVector<OpFoldResult> at = {step, b.getIndexAttr(0),
                                        b.getIndexAttr(0)};
        Value xt = extractAt(b, l, xw, at, {1, B, GH}, {B, GH});
        auto gate = [&](Value pre, int64_t index, int64_t width) {
          return extract(b, l, pre, {0, index * H}, {B, width * H},
                         {B, width * H});
        };
        // f(clip(x)) for activation `i` of this direction.
        auto act = [&](OpBuilder &nb, Location nl, unsigned i, Value v) {
          if (rec.clip) {
            Value bound = scalarConstant(nb, nl, elem, *rec.clip);
            Value negBound = scalarConstant(nb, nl, elem, -*rec.clip);
            v = arith::MinNumFOp::create(
                nb, nl, arith::MaxNumFOp::create(nb, nl, v, negBound), bound);
          }
          return applyActivation(nb, nl, acts[i], v);
        };
        StepInputs in(ctx);
        int seqIdx = -1;
        bool maskY = rec.seqLens && rec.wantY;
        // The step writes the new states into the loop-carried ones (so that
        // bufferization updates them in place) and, with sequence_lens, Y's
        // slice of this step into the accumulator.
        SmallVector<Value> stateInits = {extractAt(
            b, l, args[0], stateAt(nextSlot, 0), {1, 1, B, H}, {B, H})};
        if (lstm)
          stateInits.push_back(extractAt(b, l, args[0], stateAt(nextSlot, 1),
                                         {1, 1, B, H}, {B, H}));
        int hIdx = in.full(hPrev);
        int cPrevIdx = in.full(cPrev);
        if (maskY)
          stateInits.push_back(
              extractAt(b, l, args.back(), at, {1, B, H}, {B, H}));
        // The new states where step < sequence_lens[b], else the previous
        // ones; Y gets zeros past the sequence end. `newStates` and `prev`
        // are (h, c); `fallback` is null for LSTM's c.
        auto finish = [&](OpBuilder &nb, Location nl, ValueRange a,
                          ArrayRef<Value> newStates, ArrayRef<Value> prev) {
          SmallVector<Value> yields(newStates);
          if (seqIdx < 0)
            return yields;
          Value len = a[seqIdx];
          if (len.getType() != nb.getI64Type())
            len = arith::ExtSIOp::create(nb, nl, nb.getI64Type(), len);
          Value valid = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt,
                                              stepI64, len);
          for (auto [i, state] : llvm::enumerate(newStates))
            yields[i] = arith::SelectOp::create(nb, nl, valid, state, prev[i]);
          if (maskY)
            yields.push_back(arith::SelectOp::create(
                nb, nl, valid, newStates[0], scalarConstant(nb, nl, elem, 0)));
          return yields;
        };
        auto mulf = [](OpBuilder &nb, Location nl, Value x, Value y) -> Value {
          return arith::MulFOp::create(nb, nl, x, y);
        };
        auto addf = [](OpBuilder &nb, Location nl, Value x, Value y) -> Value {
          return arith::AddFOp::create(nb, nl, x, y);
        };
        auto subf = [](OpBuilder &nb, Location nl, Value x, Value y) -> Value {
          return arith::SubFOp::create(nb, nl, x, y);
        };
        SmallVector<Value> outs;
        if (rec.kind == CellKind::RNN) {
          // Ht = f(Xt·W^T + Ht-1·R^T + Wb + Rb)
          Value pre = matmulInto(b, l, hPrev, rT, xt);
          int preIdx = in.full(pre);
          seqIdx = in.perBatch(rec.seqLens);
          outs = stepGeneric(
              b, l, in, stateInits,
              [&](OpBuilder &nb, Location nl, ValueRange a, ValueRange o) {
                return finish(nb, nl, a, {act(nb, nl, 0, a[preIdx])},
                              {a[hIdx]});
              });
        } else if (rec.kind == CellKind::LSTM) {
          // Gates i, o, f, c:  C = f*C + i*g(c), H = o*h(C), with
          // peepholes P_i*C, P_f*C (old cell) and P_o*C (new cell).
          Value pre = matmulInto(b, l, hPrev, rT, xt);
          int iIdx = in.full(gate(pre, 0, 1));
          int oIdx = in.full(gate(pre, 1, 1));
          int fIdx = in.full(gate(pre, 2, 1));
          int cIdx = in.full(gate(pre, 3, 1));
          int piIdx = in.perHidden(peepI);
          int poIdx = in.perHidden(peepO);
          int pfIdx = in.perHidden(peepF);
          seqIdx = in.perBatch(rec.seqLens);
          outs = stepGeneric(
              b, l, in, stateInits,
              [&](OpBuilder &nb, Location nl, ValueRange a,
                  ValueRange outArgs) {
                Value h0 = a[hIdx], c0 = a[cPrevIdx];
                auto peep = [&](Value v, int p, Value cell) {
                  return p < 0 ? v : addf(nb, nl, v, mulf(nb, nl, a[p], cell));
                };
                Value i = act(nb, nl, 0, peep(a[iIdx], piIdx, c0));
                Value f = rec.inputForget
                              ? subf(nb, nl, scalarConstant(nb, nl, elem, 1), i)
                              : act(nb, nl, 0, peep(a[fIdx], pfIdx, c0));
                Value cand = act(nb, nl, 1, a[cIdx]);
                Value c =
                    addf(nb, nl, mulf(nb, nl, f, c0), mulf(nb, nl, i, cand));
                Value o = act(nb, nl, 0, peep(a[oIdx], poIdx, c));
                Value hNew =
                    mulf(nb, nl, o, applyActivation(nb, nl, acts[2], c));
                return finish(nb, nl, a, {hNew, c}, {h0, c0});
              });
        } else {
          // Gates z, r, h:  H = (1 - z) * hh + z * Ht-1 with
          // hh = g(Xt·Wh^T + (r * Ht-1)·Rh^T + Rbh + Wbh), or with
          // linear_before_reset hh = g(Xt·Wh^T + r * (Ht-1·Rh^T + Rbh) + Wbh).
          Value preZR = matmulInto(b, l, hPrev, rzrT, gate(xt, 0, 2));
          Value xh = gate(xt, 2, 1);
          int zIdx = in.full(gate(preZR, 0, 1));
          int rIdx = -1, xhIdx = -1, hrIdx = -1, rbIdx = -1, preHIdx = -1;
          if (rec.linearBeforeReset) {
            Value hr = matmulInto(b, l, hPrev, rhT, zeros(b, l, {B, H}, elem));
            rIdx = in.full(gate(preZR, 1, 1));
            xhIdx = in.full(xh);
            hrIdx = in.full(hr);
            rbIdx = in.perHidden(recurrentBiasH);
          } else {
            StepInputs resetIn(ctx);
            int rh = resetIn.full(hPrev), rr = resetIn.full(gate(preZR, 1, 1));
            Value empty =
                tensor::EmptyOp::create(b, l, ArrayRef<int64_t>{B, H}, elem);
            Value reset = stepGeneric(
                b, l, resetIn, {empty},
                [&](OpBuilder &nb, Location nl, ValueRange a, ValueRange) {
                  Value r = act(nb, nl, 0, a[rr]);
                  return SmallVector<Value>{mulf(nb, nl, r, a[rh])};
                })[0];
            preHIdx = in.full(matmulInto(b, l, reset, rhT, xh));
          }
          seqIdx = in.perBatch(rec.seqLens);
          outs = stepGeneric(
              b, l, in, stateInits,
              [&](OpBuilder &nb, Location nl, ValueRange a, ValueRange o) {
                Value h0 = a[hIdx];
                Value z = act(nb, nl, 0, a[zIdx]);
                Value hh;
                if (rec.linearBeforeReset) {
                  Value r = act(nb, nl, 0, a[rIdx]);
                  Value hr = a[hrIdx];
                  if (rbIdx >= 0)
                    hr = addf(nb, nl, hr, a[rbIdx]);
                  hh = act(nb, nl, 1,
                           addf(nb, nl, a[xhIdx], mulf(nb, nl, r, hr)));
                } else {
                  hh = act(nb, nl, 1, a[preHIdx]);
                }
                Value one = scalarConstant(nb, nl, elem, 1);
                Value hNew =
                    addf(nb, nl, mulf(nb, nl, subf(nb, nl, one, z), hh),
                         mulf(nb, nl, z, h0));
                return finish(nb, nl, a, {hNew}, {h0});
              });
        }
        Value nextStates = insertAt(b, l, outs[0], args[0],
                                    stateAt(nextSlot, 0), {1, 1, B, H});
        if (lstm)
          nextStates = insertAt(b, l, outs[1], nextStates, stateAt(nextSlot, 1),
                                {1, 1, B, H});
        SmallVector<Value> next = {nextStates};
        if (rec.wantY) {
          Value yt = maskY ? outs.back() : outs[0];
          next.push_back(insertAt(b, l, yt, args.back(), at, {1, B, H}));
        }
        scf::YieldOp::create(b, l, next);
      });
  DirectionResult result;
  int64_t last = T % 2;
  result.h = extract(rw, loc, loop.getResult(0), {last, 0, 0, 0}, {1, 1, B, H},
                     {B, H});
  if (lstm)
    result.c = extract(rw, loc, loop.getResult(0), {last, 1, 0, 0},
                       {1, 1, B, H}, {B, H});
  if (rec.wantY)
    result.y = loop.getResults().back();
  return result;
}

/// RNN / GRU / LSTM: per direction, an scf.for over time steps (see the file
/// comment); the directions' results are then inserted into Y [T, D, B, H]
/// (layout 1: [B, T, D, H]), Y_h and Y_c [D, B, H] (layout 1: [B, D, H]).
FailureOr<SmallVector<Value>>
lowerRecurrent(CellKind kind, Operation *op, ArrayRef<Value> operands,
               ConversionPatternRewriter &rewriter) {
  FailureOr<Recurrent> analyzed = analyzeRecurrent(kind, op, operands);
  if (failed(analyzed))
    return failure();
  const Recurrent &rec = *analyzed;
  Location loc = op->getLoc();
  int64_t T = rec.seqLength, B = rec.batch, H = rec.hidden;

  // X, time-major, as [T * B, I].
  Value x = rec.layout ? transpose(rewriter, loc, rec.x, {1, 0, 2}) : rec.x;
  Value xFlat = tensor::CollapseShapeOp::create(
      rewriter, loc, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});

  SmallVector<DirectionResult> directions;
  for (int64_t d = 0; d < rec.numDirections; ++d)
    directions.push_back(lowerDirection(rewriter, loc, rec, d, xFlat));

  SmallVector<Value> results;
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    if (isa<NoneType>(op->getResult(i).getType())) {
      results.push_back(Value());
      continue;
    }
    auto type = *resultType(op, i);
    Value out = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                        type.getElementType());
    for (int64_t d = 0; d < rec.numDirections; ++d) {
      const DirectionResult &dr = directions[d];
      if (i == 0) {
        if (rec.layout)
          out = insert(rewriter, loc, transpose(rewriter, loc, dr.y, {1, 0, 2}),
                       out, {0, 0, d, 0}, {B, T, 1, H});
        else
          out = insert(rewriter, loc, dr.y, out, {0, d, 0, 0}, {T, 1, B, H});
        continue;
      }
      Value state = i == 1 ? dr.h : dr.c;
      if (rec.layout)
        out = insert(rewriter, loc, state, out, {0, d, 0}, {B, 1, H});
      else
        out = insert(rewriter, loc, state, out, {d, 0, 0}, {1, B, H});
    }
    results.push_back(out);
  }
  return results;
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

/// The labels of one Einsum term: letters, and kEllipsis for "...".
constexpr int kEllipsis = -1;

FailureOr<SmallVector<int>> parseTerm(Operation *op, StringRef term) {
  SmallVector<int> labels;
  bool sawEllipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    char c = term[i];
    if (c == '.') {
      if (!term.substr(i).starts_with("...") || sawEllipsis)
        return op->emitError()
                   << "malformed ellipsis in einsum term '" << term << "'",
               failure();
      sawEllipsis = true;
      labels.push_back(kEllipsis);
      i += 2;
      continue;
    }
    if (!llvm::isAlpha(c))
      return op->emitError()
                 << "unexpected character '" << c << "' in einsum equation",
             failure();
    labels.push_back(c);
  }
  return labels;
}

/// Einsum: one linalg.generic with a loop per ellipsis dimension and per
/// letter; letters absent from the output are reduction loops, repeated
/// letters within a term index a diagonal, ellipsis dimensions broadcast
/// numpy-style. Body: acc + x0 * x1 * ...
FailureOr<SmallVector<Value>> lowerEinsum(Operation *op,
                                          ArrayRef<Value> operands,
                                          ConversionPatternRewriter &rewriter) {
  FailureOr<RankedTensorType> result = resultType(op, 0);
  if (failed(result))
    return failure();
  auto equationAttr =
      dyn_cast_or_null<StringAttr>(op->getAttrDictionary().get("equation"));
  if (!equationAttr)
    return op->emitError("einsum needs an equation"), failure();
  std::string equation;
  for (char c : equationAttr.getValue())
    if (!llvm::isSpace(c))
      equation.push_back(c);
  StringRef eq(equation);
  auto [lhs, rhs] = eq.split("->");
  bool explicitOutput = eq.contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != operands.size())
    return op->emitError() << "einsum equation has " << terms.size()
                           << " input terms for " << operands.size()
                           << " operands",
           failure();

  // Loop numbering: ellipsis dimensions first, then letters in order of
  // appearance.
  SmallVector<SmallVector<int>> inputLabels;
  SmallVector<int64_t> ellipsisRanks;
  int64_t numEllipsis = 0;
  for (auto [term, operand] : llvm::zip(terms, operands)) {
    FailureOr<SmallVector<int>> labels = parseTerm(op, term);
    if (failed(labels))
      return failure();
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type || !type.hasStaticShape())
      return op->emitError("einsum operands must have static shapes"),
             failure();
    int64_t letters =
        llvm::count_if(*labels, [](int l) { return l != kEllipsis; });
    bool hasEllipsis = letters != static_cast<int64_t>(labels->size());
    int64_t ellipsisRank = type.getRank() - letters;
    if (ellipsisRank < 0 || (!hasEllipsis && ellipsisRank != 0))
      return op->emitError()
                 << "einsum term '" << term
                 << "' does not match an operand of rank " << type.getRank(),
             failure();
    numEllipsis = std::max(numEllipsis, ellipsisRank);
    ellipsisRanks.push_back(ellipsisRank);
    inputLabels.push_back(std::move(*labels));
  }
  std::map<int, int64_t> letterLoop;
  std::map<int, int64_t> letterCount;
  for (const SmallVector<int> &labels : inputLabels)
    for (int l : labels)
      if (l != kEllipsis) {
        if (!letterLoop.count(l)) {
          int64_t next = numEllipsis + letterLoop.size();
          letterLoop[l] = next;
        }
        ++letterCount[l];
      }
  int64_t numLoops = numEllipsis + letterLoop.size();

  // Loop sizes; size-1 ellipsis dimensions broadcast.
  SmallVector<int64_t> loopSizes(numLoops, ShapedType::kDynamic);
  SmallVector<SmallVector<int64_t>> operandLoops; // per operand dim, its loop
  for (auto [labels, operand, ellipsisRank] :
       llvm::zip(inputLabels, operands, ellipsisRanks)) {
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<int64_t> loops;
    for (int l : labels) {
      if (l != kEllipsis) {
        loops.push_back(letterLoop[l]);
        continue;
      }
      for (int64_t k = 0; k < ellipsisRank; ++k)
        loops.push_back(numEllipsis - ellipsisRank + k);
    }
    for (auto [dim, loop] : llvm::enumerate(loops)) {
      int64_t size = type.getDimSize(dim);
      if (loop < numEllipsis && size == 1)
        continue;
      if (loopSizes[loop] == ShapedType::kDynamic)
        loopSizes[loop] = size;
      else if (loopSizes[loop] != size)
        return op->emitError("einsum operands disagree on a dimension size"),
               failure();
    }
    operandLoops.push_back(std::move(loops));
  }
  for (int64_t &size : loopSizes)
    if (size == ShapedType::kDynamic)
      size = 1;

  // Output loops.
  SmallVector<int64_t> outputLoops;
  if (explicitOutput) {
    FailureOr<SmallVector<int>> labels = parseTerm(op, rhs);
    if (failed(labels))
      return failure();
    for (int l : *labels) {
      if (l == kEllipsis) {
        for (int64_t k = 0; k < numEllipsis; ++k)
          outputLoops.push_back(k);
        continue;
      }
      if (!letterLoop.count(l))
        return op->emitError() << "einsum output label '" << char(l)
                               << "' does not appear in the inputs",
               failure();
      if (llvm::is_contained(outputLoops, letterLoop[l]))
        return op->emitError()
                   << "einsum output label '" << char(l) << "' is repeated",
               failure();
      outputLoops.push_back(letterLoop[l]);
    }
  } else {
    for (int64_t k = 0; k < numEllipsis; ++k)
      outputLoops.push_back(k);
    for (auto [label, count] : letterCount) // std::map: sorted by label
      if (count == 1)
        outputLoops.push_back(letterLoop[label]);
  }
  SmallVector<int64_t> outputShape;
  for (int64_t loop : outputLoops)
    outputShape.push_back(loopSizes[loop]);
  if (result->getShape() != ArrayRef(outputShape))
    return op->emitError("einsum result type does not match the equation"),
           failure();

  // Renumber the loops: output dimensions first (in output order), then
  // the summed ones, so that the output map is the identity.
  SmallVector<int64_t> renumber(numLoops, -1);
  int64_t nextLoop = 0;
  for (int64_t loop : outputLoops)
    renumber[loop] = nextLoop++;
  for (int64_t loop = 0; loop < numLoops; ++loop)
    if (renumber[loop] < 0)
      renumber[loop] = nextLoop++;
  SmallVector<int64_t> sizes(numLoops);
  for (int64_t loop = 0; loop < numLoops; ++loop)
    sizes[renumber[loop]] = loopSizes[loop];
  loopSizes = sizes;
  for (SmallVector<int64_t> &loops : operandLoops)
    for (int64_t &loop : loops)
      loop = renumber[loop];
  int64_t numParallel = outputLoops.size();

  MLIRContext *ctx = rewriter.getContext();
  SmallVector<AffineMap> maps;
  for (auto [loops, operand] : llvm::zip(operandLoops, operands)) {
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<AffineExpr> exprs;
    for (auto [dim, loop] : llvm::enumerate(loops)) {
      bool broadcast = type.getDimSize(dim) == 1 && loopSizes[loop] != 1;
      exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                                : getAffineDimExpr(loop, ctx));
    }
    maps.push_back(AffineMap::get(numLoops, 0, exprs, ctx));
  }
  SmallVector<AffineExpr> outExprs;
  for (int64_t loop = 0; loop < numParallel; ++loop)
    outExprs.push_back(getAffineDimExpr(loop, ctx));
  maps.push_back(AffineMap::get(numLoops, 0, outExprs, ctx));
  SmallVector<utils::IteratorType> iterators(numParallel,
                                             utils::IteratorType::parallel);
  iterators.append(numLoops - numParallel, utils::IteratorType::reduction);

  Location loc = op->getLoc();
  Type elem = result->getElementType();
  Value init = zeros(rewriter, loc, result->getShape(), elem);
  bool isFloat = isa<FloatType>(elem);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{*result}, operands, ValueRange{init}, maps,
      iterators, [&](OpBuilder &b, Location l, ValueRange args) {
        Value product = args[0];
        for (Value v : args.drop_front().drop_back())
          product = isFloat
                        ? arith::MulFOp::create(b, l, product, v).getResult()
                        : arith::MulIOp::create(b, l, product, v).getResult();
        Value sum =
            isFloat
                ? arith::AddFOp::create(b, l, args.back(), product).getResult()
                : arith::AddIOp::create(b, l, args.back(), product).getResult();
        linalg::YieldOp::create(b, l, sum);
      });
  return SmallVector<Value>{generic.getResult(0)};
}

} // namespace

void pith::populateRecurrentLowerings(ONNXLoweringTable &table) {
  table.add("RNN", [](Operation *op, ArrayRef<Value> operands,
                      ConversionPatternRewriter &rewriter) {
    return lowerRecurrent(CellKind::RNN, op, operands, rewriter);
  });
  table.add("GRU", [](Operation *op, ArrayRef<Value> operands,
                      ConversionPatternRewriter &rewriter) {
    return lowerRecurrent(CellKind::GRU, op, operands, rewriter);
  });
  table.add("LSTM", [](Operation *op, ArrayRef<Value> operands,
                       ConversionPatternRewriter &rewriter) {
    return lowerRecurrent(CellKind::LSTM, op, operands, rewriter);
  });
  table.add("Einsum", lowerEinsum);
}

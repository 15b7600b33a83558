//===- Gradients.cpp - Reverse-mode rules for ONNX ops ---------------------===//
//
// One rule per ONNX op type. Conventions: every forward value has a static
// shape (pith-autodiff checks); a gradient has its value's type; where an
// operand was broadcast, its gradient is summed back to its shape.
//
// Rules that need more than the forward op's inputs and outputs:
// - Conv: the input gradient is a ConvTranspose of the output gradient with
//   the same weight (and groups); the weight gradient is a Conv of the input
//   (batch and channels swapped) with the output gradient as the filter
//   (strides and dilations swapped), cut to the kernel and transposed back;
//   for groups, the diagonal blocks of that all-pairs result.
// - AveragePool: a ConvTranspose of the gradient, divided by each window's
//   count, with a kernel of ones per channel.
// - MaxPool: the forward op is rebuilt to also return its argmax Indices
//   (kept as int32), through which ScatterElements (reduction add) routes
//   the gradient.
// - Relu, LeakyRelu: a boolean mask of the positive outputs, computed in
//   the forward pass, is all the backward pass keeps.
// - LayerNormalization: mean and 1/stddev are recomputed from the input.
// - Gather (axis 0): ScatterND with reduction add into zeros.
//
//===----------------------------------------------------------------------===//

#include "Gradients.h"

#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"
#include "pith/Proto/ONNXProto.h"

#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <cstring>
#include <numeric>

using namespace mlir;
using namespace pith;
using namespace pith::training;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }
ArrayRef<int64_t> shapeOf(Value v) { return typeOf(v).getShape(); }
int64_t rankOf(Value v) { return typeOf(v).getRank(); }

int64_t intAttr(Operation *op, StringRef name, int64_t fallback) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(name))
    return attr.getInt();
  return fallback;
}

SmallVector<int64_t> intsAttr(Operation *op, StringRef name) {
  if (auto attr = op->getAttrOfType<DenseI64ArrayAttr>(name))
    return SmallVector<int64_t>(attr.asArrayRef());
  return {};
}

float floatAttr(Operation *op, StringRef name, float fallback) {
  if (auto attr = op->getAttrOfType<FloatAttr>(name))
    return attr.getValueAsDouble();
  return fallback;
}

StringRef stringAttr(Operation *op, StringRef name, StringRef fallback) {
  if (auto attr = op->getAttrOfType<StringAttr>(name))
    return attr.getValue();
  return fallback;
}

int64_t normalizeAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

SmallVector<int64_t> broadcastShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t x = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t y = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = x == 1 ? y : x;
  }
  return out;
}

} // namespace

//===----------------------------------------------------------------------===//
// OnnxBuilder
//===----------------------------------------------------------------------===//

Value OnnxBuilder::op(StringRef type, ValueRange operands, Type result,
                      ArrayRef<NamedAttribute> attrs) {
  // Trailing optional inputs the caller left out are absent (onnx.None),
  // so one call fits every version of the op.
  SmallVector<Value> all(operands.begin(), operands.end());
  const ONNX::OpSchema *schema = ONNX::lookupSchema(type, ONNX::defaultOpsetOf(module));
  if (schema && !schema->inputs.empty() && schema->inputs.back().kind != ONNX::FormalKind::Variadic)
    while (all.size() < schema->inputs.size())
      all.push_back(none());
  return ONNX::createOp(b, loc, module, type, all, result, attrs);
}

Value OnnxBuilder::none() {
  if (!noneValue) {
    OperationState state(loc, "onnx.None");
    state.addTypes(NoneType::get(b.getContext()));
    noneValue = b.create(state)->getResult(0);
  }
  return noneValue;
}

Value OnnxBuilder::ints(ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())}, b.getI64Type());
  return op("Constant", {}, type,
            {b.getNamedAttr("value", DenseIntElementsAttr::get(type, values))});
}

Value OnnxBuilder::scalar(double value, Type element) {
  if (!element)
    element = b.getF32Type();
  auto type = RankedTensorType::get({}, element);
  Attribute attr = isa<FloatType>(element)
                       ? Attribute(DenseElementsAttr::get(type, b.getFloatAttr(element, value)))
                       : Attribute(DenseElementsAttr::get(
                             type, b.getIntegerAttr(element, static_cast<int64_t>(value))));
  return op("Constant", {}, type, {b.getNamedAttr("value", attr)});
}

Value OnnxBuilder::zeros(RankedTensorType type) {
  Value zero = scalar(0.0, type.getElementType());
  return expand(zero, type.getShape());
}

Value OnnxBuilder::binary(StringRef type, Value a, Value c) {
  auto result = RankedTensorType::get(broadcastShape(shapeOf(a), shapeOf(c)),
                                      typeOf(a).getElementType());
  return op(type, {a, c}, result);
}

Value OnnxBuilder::unary(StringRef type, Value x) { return op(type, {x}, x.getType()); }

Value OnnxBuilder::mask(StringRef type, Value x, Value y) {
  auto shape = broadcastShape(shapeOf(x), shapeOf(y));
  Value flags = op(type, {x, y}, RankedTensorType::get(shape, b.getI1Type()));
  return cast(flags, typeOf(x).getElementType());
}

Value OnnxBuilder::cast(Value x, Type element) {
  int64_t to = *proto::elementTypeToONNX(element);
  return op("Cast", {x}, typeOf(x).clone(element), {b.getNamedAttr("to", b.getI64IntegerAttr(to))});
}

Value OnnxBuilder::reshape(Value x, ArrayRef<int64_t> shape) {
  if (shapeOf(x) == shape)
    return x;
  return op("Reshape", {x, ints(shape)},
            RankedTensorType::get(shape, typeOf(x).getElementType()));
}

Value OnnxBuilder::transpose(Value x, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(shapeOf(x)[p]);
  return op("Transpose", {x}, RankedTensorType::get(shape, typeOf(x).getElementType()),
            {b.getNamedAttr("perm", b.getDenseI64ArrayAttr(perm))});
}

Value OnnxBuilder::reduceSum(Value x, ArrayRef<int64_t> axes, bool keepdims) {
  if (axes.empty())
    return x;
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rankOf(x); ++d) {
    bool reduced = llvm::is_contained(axes, d);
    if (!reduced)
      shape.push_back(shapeOf(x)[d]);
    else if (keepdims)
      shape.push_back(1);
  }
  return op("ReduceSum", {x, ints(axes)},
            RankedTensorType::get(shape, typeOf(x).getElementType()),
            {b.getNamedAttr("keepdims", b.getI64IntegerAttr(keepdims ? 1 : 0))});
}

Value OnnxBuilder::expand(Value x, ArrayRef<int64_t> shape) {
  if (shapeOf(x) == shape)
    return x;
  return op("Expand", {x, ints(shape)},
            RankedTensorType::get(shape, typeOf(x).getElementType()));
}

Value OnnxBuilder::unbroadcast(Value grad, RankedTensorType target) {
  ArrayRef<int64_t> from = shapeOf(grad), to = target.getShape();
  if (from == to)
    return grad;
  int64_t extra = static_cast<int64_t>(from.size()) - static_cast<int64_t>(to.size());
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d < static_cast<int64_t>(from.size()); ++d)
    if (d < extra || (to[d - extra] == 1 && from[d] != 1))
      axes.push_back(d);
  return reshape(reduceSum(grad, axes, /*keepdims=*/true), to);
}

Value OnnxBuilder::matmul(Value a, Value c) {
  ArrayRef<int64_t> sa = shapeOf(a), sc = shapeOf(c);
  SmallVector<int64_t> shape = broadcastShape(sa.drop_back(2), sc.drop_back(2));
  shape.push_back(sa[sa.size() - 2]);
  shape.push_back(sc.back());
  return op("MatMul", {a, c}, RankedTensorType::get(shape, typeOf(a).getElementType()));
}

Value OnnxBuilder::gemm(Value a, Value c, bool transA, bool transC, double alpha) {
  int64_t m = transA ? shapeOf(a)[1] : shapeOf(a)[0];
  int64_t n = transC ? shapeOf(c)[0] : shapeOf(c)[1];
  return op("Gemm", {a, c}, RankedTensorType::get({m, n}, typeOf(a).getElementType()),
            {b.getNamedAttr("alpha", b.getF32FloatAttr(alpha)),
             b.getNamedAttr("transA", b.getI64IntegerAttr(transA)),
             b.getNamedAttr("transB", b.getI64IntegerAttr(transC))});
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

StringRef pith::training::onnxTypeOf(Operation *op) {
  const ONNX::OpSchema *schema = ONNX::lookupSchemaByOpName(op->getName().getStringRef());
  return schema ? StringRef(schema->opType) : StringRef();
}

std::optional<SmallVector<int64_t>> pith::training::constantInts(Value value) {
  if (!value)
    return std::nullopt;
  Operation *def = value.getDefiningOp();
  if (!def)
    return std::nullopt;
  ElementsAttr attr;
  if (auto init = dyn_cast<ONNX::InitializerOp>(def))
    attr = init.getValue();
  else if (onnxTypeOf(def) == "Constant")
    attr = def->getAttrOfType<ElementsAttr>("value");
  if (!attr || !isa<IntegerType>(attr.getElementType()))
    return std::nullopt;
  // Initializers are usually dense_resource blobs, which the attribute's
  // element iterators do not read: take the bytes.
  unsigned width = attr.getElementType().getIntOrFloatBitWidth();
  if (width != 32 && width != 64)
    return std::nullopt;
  compression::WeightData data(attr);
  ArrayRef<char> bytes = data.bytes();
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < attr.getNumElements(); ++i) {
    if (width == 64) {
      int64_t v;
      std::memcpy(&v, bytes.data() + 8 * i, 8);
      out.push_back(v);
    } else {
      int32_t v;
      std::memcpy(&v, bytes.data() + 4 * i, 4);
      out.push_back(v);
    }
  }
  return out;
}

namespace {

/// The axes a Reduce* op sums over (all when none are given).
std::optional<SmallVector<int64_t>> reductionAxes(Operation *op, int64_t rank) {
  SmallVector<int64_t> axes = intsAttr(op, "axes");
  if (axes.empty() && op->getNumOperands() > 1 && !isa<NoneType>(op->getOperand(1).getType())) {
    auto given = constantInts(op->getOperand(1));
    if (!given)
      return std::nullopt;
    axes = *given;
  }
  if (axes.empty()) {
    if (intAttr(op, "noop_with_empty_axes", 0))
      return SmallVector<int64_t>();
    axes.resize(rank);
    std::iota(axes.begin(), axes.end(), 0);
  }
  for (int64_t &a : axes)
    a = normalizeAxis(a, rank);
  llvm::sort(axes);
  return axes;
}

/// Swaps the last two dimensions.
Value transposeLast2(OnnxBuilder &g, Value x) {
  SmallVector<int64_t> perm(rankOf(x));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return g.transpose(x, perm);
}

struct Rule {
  const GradientRequest &r;
  OnnxBuilder &g;
  SmallVectorImpl<Value> &grads;

  Operation *op() const { return r.op; }
  Value in(unsigned i) const { return r.op->getOperand(i); }
  Value out(unsigned i = 0) const { return r.op->getResult(i); }
  Value dY(unsigned i = 0) const { return r.resultGrads[i]; }
  bool needs(unsigned i) const {
    return i < r.op->getNumOperands() && !isa<NoneType>(in(i).getType()) && r.needs(i);
  }
  void set(unsigned i, Value grad) {
    if (needs(i) && grad)
      grads[i] = g.unbroadcast(grad, typeOf(in(i)));
  }

  std::string elementwise();
  std::string matmul();
  std::string gemm();
  std::string conv();
  std::string maxPool();
  std::string averagePool();
  Value transposedConv(Value d, Value w, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                       ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads, int64_t groups);
  Value positiveMask();
  Value afterForward(const std::function<Value()> &build);
  std::string layerNorm();
  std::string softmax(bool logarithmic);
  std::string reduce(bool mean);
  std::string concat();
  std::string split();
  std::string slice();
  std::string gather();
};

std::string Rule::elementwise() {
  StringRef t = r.type;
  Value y = out(), d = dY();
  if (t == "Add" || t == "Sum") {
    for (unsigned i = 0; i < op()->getNumOperands(); ++i)
      set(i, d);
  } else if (t == "Sub") {
    set(0, d);
    if (needs(1))
      set(1, g.unary("Neg", d));
  } else if (t == "Mul") {
    if (needs(0))
      set(0, g.mul(d, in(1)));
    if (needs(1))
      set(1, g.mul(d, in(0)));
  } else if (t == "Div") {
    if (needs(0))
      set(0, g.div(d, in(1)));
    if (needs(1))
      set(1, g.unary("Neg", g.div(g.mul(d, y), in(1))));
  } else if (t == "Pow") {
    if (!isa<FloatType>(typeOf(in(1)).getElementType()))
      return "an integer exponent is not differentiated; give it as a float";
    if (needs(0)) {
      Value exponentLess1 = g.sub(in(1), g.scalar(1.0));
      set(0, g.mul(d, g.mul(in(1), g.binary("Pow", in(0), exponentLess1))));
    }
    if (needs(1))
      set(1, g.mul(d, g.mul(y, g.unary("Log", in(0)))));
  } else if (t == "Neg") {
    set(0, g.unary("Neg", d));
  } else if (t == "Relu") {
    set(0, g.op("Where", {positiveMask(), d, g.scalar(0.0)}, typeOf(d)));
  } else if (t == "LeakyRelu") {
    double alpha = floatAttr(op(), "alpha", 0.01f);
    if (alpha <= 0)
      return "LeakyRelu with alpha <= 0 is not differentiated";
    set(0, g.op("Where", {positiveMask(), d, g.mul(d, g.scalar(alpha))}, typeOf(d)));
  } else if (t == "Sigmoid") {
    set(0, g.mul(d, g.mul(y, g.sub(g.scalar(1.0), y))));
  } else if (t == "Tanh") {
    set(0, g.mul(d, g.sub(g.scalar(1.0), g.mul(y, y))));
  } else if (t == "Exp") {
    set(0, g.mul(d, y));
  } else if (t == "Log") {
    set(0, g.div(d, in(0)));
  } else if (t == "Sqrt") {
    set(0, g.div(g.mul(d, g.scalar(0.5)), y));
  } else if (t == "Reciprocal") {
    set(0, g.unary("Neg", g.mul(d, g.mul(y, y))));
  } else if (t == "Abs") {
    set(0, g.mul(d, g.unary("Sign", in(0))));
  } else if (t == "Erf") {
    Value x = in(0);
    Value gauss = g.unary("Exp", g.unary("Neg", g.mul(x, x)));
    set(0, g.mul(d, g.mul(gauss, g.scalar(2.0 / std::sqrt(M_PI)))));
  } else if (t == "Gelu") {
    Value x = in(0);
    if (stringAttr(op(), "approximate", "none") == "tanh") {
      // y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3):
      // y' = (1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
      double c = std::sqrt(2.0 / M_PI), k = 0.044715;
      Value x2 = g.mul(x, x);
      Value th = g.unary("Tanh", g.mul(g.scalar(c), g.add(x, g.mul(g.scalar(k), g.mul(x2, x)))));
      Value du = g.mul(g.scalar(c), g.add(g.scalar(1.0), g.mul(g.scalar(3 * k), x2)));
      Value half = g.mul(g.scalar(0.5), g.add(g.scalar(1.0), th));
      Value rest = g.mul(g.mul(g.scalar(0.5), x), g.mul(g.sub(g.scalar(1.0), g.mul(th, th)), du));
      set(0, g.mul(d, g.add(half, rest)));
    } else {
      // y = x Phi(x): y' = Phi(x) + x phi(x), Phi(x) = (1 + erf(x/sqrt 2))/2.
      Value cdf = g.mul(g.scalar(0.5),
                        g.add(g.scalar(1.0), g.unary("Erf", g.mul(x, g.scalar(M_SQRT1_2)))));
      Value pdf = g.mul(g.scalar(1.0 / std::sqrt(2 * M_PI)),
                        g.unary("Exp", g.mul(g.scalar(-0.5), g.mul(x, x))));
      set(0, g.mul(d, g.add(cdf, g.mul(x, pdf))));
    }
  } else if (t == "Identity" || t == "Dropout") {
    set(0, d);
  } else if (t == "Cast") {
    if (needs(0))
      set(0, g.cast(d, typeOf(in(0)).getElementType()));
  } else if (t == "Reshape" || t == "Flatten" || t == "Squeeze" || t == "Unsqueeze") {
    set(0, g.reshape(d, shapeOf(in(0))));
  } else if (t == "Expand") {
    set(0, d);
  } else if (t == "Transpose") {
    SmallVector<int64_t> perm = intsAttr(op(), "perm");
    if (perm.empty())
      for (int64_t i = rankOf(in(0)) - 1; i >= 0; --i)
        perm.push_back(i);
    SmallVector<int64_t> inverse(perm.size());
    for (auto [i, p] : llvm::enumerate(perm))
      inverse[p] = i;
    set(0, g.transpose(d, inverse));
  } else if (t == "Where") {
    if (needs(1) || needs(2)) {
      Value zero = g.scalar(0.0, typeOf(d).getElementType());
      auto type = typeOf(d);
      if (needs(1))
        set(1, g.op("Where", {in(0), d, zero}, type));
      if (needs(2))
        set(2, g.op("Where", {in(0), zero, d}, type));
    }
  } else if (t == "GlobalAveragePool") {
    ArrayRef<int64_t> shape = shapeOf(in(0));
    int64_t area = 1;
    for (int64_t s : shape.drop_front(2))
      area *= s;
    set(0, g.mul(g.expand(d, shape), g.scalar(1.0 / area)));
  } else {
    return "no gradient rule";
  }
  return "";
}

std::string Rule::matmul() {
  if (rankOf(in(0)) < 2 || rankOf(in(1)) < 2)
    return "a MatMul with a 1-D operand is not differentiated";
  if (needs(0))
    set(0, g.matmul(dY(), transposeLast2(g, in(1))));
  if (needs(1))
    set(1, g.matmul(transposeLast2(g, in(0)), dY()));
  return "";
}

std::string Rule::gemm() {
  bool transA = intAttr(op(), "transA", 0), transB = intAttr(op(), "transB", 0);
  double alpha = floatAttr(op(), "alpha", 1.0f), beta = floatAttr(op(), "beta", 1.0f);
  Value a = in(0), b = in(1), d = dY();
  // Y = alpha op(A) op(B) + beta C.
  if (needs(0))
    set(0, transA ? g.gemm(b, d, transB, true, alpha) : g.gemm(d, b, false, !transB, alpha));
  if (needs(1))
    set(1, transB ? g.gemm(d, a, true, transA, alpha) : g.gemm(a, d, !transA, false, alpha));
  if (needs(2))
    set(2, beta == 1.0 ? d : g.mul(d, g.scalar(beta)));
  return "";
}

std::string Rule::conv() {
  int64_t groups = intAttr(op(), "group", 1);
  if (auto pad = op()->getAttrOfType<StringAttr>("auto_pad"); pad && pad.getValue() != "NOTSET")
    return "auto_pad=" + pad.getValue().str() + " is not differentiated; give explicit pads";
  Value x = in(0), w = in(1), d = dY();
  int64_t spatial = rankOf(x) - 2;
  SmallVector<int64_t> kernel(shapeOf(w).drop_front(2));
  SmallVector<int64_t> strides = intsAttr(op(), "strides"), dilations = intsAttr(op(), "dilations"),
                       pads = intsAttr(op(), "pads");
  strides.resize(spatial, 1);
  dilations.resize(spatial, 1);
  pads.resize(2 * spatial, 0);
  OpBuilder &b = g.builder();
  if (needs(0)) {
    Value dx = transposedConv(d, w, kernel, strides, dilations, pads, groups);
    if (!dx)
      return "cannot size the input gradient of this convolution";
    set(0, dx);
  }
  if (needs(1)) {
    // dW[f, c, k] = sum over n, positions of dY[n, f, o] X[n, c, o s + k d - p]:
    // a convolution of X with batch and channels swapped, by dY as filters.
    SmallVector<int64_t> swap(rankOf(x));
    std::iota(swap.begin(), swap.end(), 0);
    std::swap(swap[0], swap[1]);
    Value xt = g.transpose(x, swap), dt = g.transpose(d, swap);
    SmallVector<int64_t> shape = {shapeOf(x)[1], shapeOf(d)[1]};
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t padded = shapeOf(x)[2 + i] + pads[i] + pads[spatial + i];
      int64_t span = (shapeOf(d)[2 + i] - 1) * strides[i] + 1;
      shape.push_back((padded - span) / dilations[i] + 1);
    }
    auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
    Value full = g.op("Conv", {xt, dt}, type,
                      {b.getNamedAttr("strides", b.getDenseI64ArrayAttr(dilations)),
                       b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(strides)),
                       b.getNamedAttr("pads", b.getDenseI64ArrayAttr(pads)),
                       b.getNamedAttr("kernel_shape",
                                      b.getDenseI64ArrayAttr(SmallVector<int64_t>(
                                          shapeOf(d).drop_front(2))))});
    if (ArrayRef<int64_t>(shape).drop_front(2) != ArrayRef<int64_t>(kernel)) {
      // The forward convolution did not reach the last padded positions.
      SmallVector<int64_t> starts(spatial, 0), axes;
      for (int64_t i = 0; i < spatial; ++i)
        axes.push_back(2 + i);
      SmallVector<int64_t> cut = {shape[0], shape[1]};
      cut.append(kernel.begin(), kernel.end());
      full = g.op("Slice", {full, g.ints(starts), g.ints(kernel), g.ints(axes)},
                  RankedTensorType::get(cut, typeOf(x).getElementType()));
    }
    if (groups == 1) {
      set(1, g.transpose(full, swap));
    } else {
      // `full` pairs every input channel with every filter; a group's
      // filters see only its channels, so keep the diagonal blocks:
      // [C, F, k] -> [G, C/G, G, F/G, k], times the identity over the two
      // group axes, summed over the second.
      int64_t channels = shapeOf(x)[1], filters = shapeOf(w)[0];
      int64_t cg = channels / groups, fg = filters / groups;
      SmallVector<int64_t> blocks = {groups, cg, groups, fg};
      blocks.append(kernel.begin(), kernel.end());
      SmallVector<int64_t> eyeShape = {groups, 1, groups, 1};
      eyeShape.append(spatial, 1);
      auto square = RankedTensorType::get({groups, groups}, typeOf(x).getElementType());
      Value eye = g.reshape(g.op("EyeLike", {g.zeros(square)}, square), eyeShape);
      Value diagonal = g.reduceSum(g.mul(g.reshape(full, blocks), eye), {2}, false);
      SmallVector<int64_t> perm = {0, 2, 1};
      for (int64_t i = 0; i < spatial; ++i)
        perm.push_back(3 + i);
      SmallVector<int64_t> weightShape(shapeOf(w));
      set(1, g.reshape(g.transpose(diagonal, perm), weightShape));
    }
  }
  if (needs(2)) {
    SmallVector<int64_t> axes = {0};
    for (int64_t i = 0; i < spatial; ++i)
      axes.push_back(2 + i);
    set(2, g.reduceSum(d, axes, false));
  }
  return "";
}

/// Builds forward-pass ops right after the forward op: values the backward
/// pass reads that are smaller than what they are computed from, so that
/// only they are kept.
Value Rule::afterForward(const std::function<Value()> &build) {
  OpBuilder::InsertionGuard guard(g.builder());
  g.builder().setInsertionPointAfter(op());
  return build();
}

/// Where a Relu's (or LeakyRelu's) output is positive, exactly where its
/// input is, as torch tells it: one byte per value is what the backward pass
/// keeps instead of the float output (or input).
Value Rule::positiveMask() {
  return afterForward([&] {
    auto flags = typeOf(out()).clone(g.builder().getI1Type());
    return g.op("Greater", {out(), g.scalar(0.0)}, flags);
  });
}

/// `d` (shaped as the forward output) spread back over the windows that
/// produced it: a ConvTranspose by `w`, sized (output_padding) to the
/// forward input's shape; null if no output_padding does.
Value Rule::transposedConv(Value d, Value w, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads, int64_t groups) {
  int64_t spatial = static_cast<int64_t>(kernel.size());
  SmallVector<int64_t> outputPadding;
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t produced = strides[i] * (shapeOf(d)[2 + i] - 1) + (kernel[i] - 1) * dilations[i] +
                       1 - pads[i] - pads[spatial + i];
    int64_t extra = shapeOf(in(0))[2 + i] - produced;
    if (extra < 0 || extra >= std::max(strides[i], dilations[i]))
      return {};
    outputPadding.push_back(extra);
  }
  OpBuilder &b = g.builder();
  return g.op("ConvTranspose", {d, w}, in(0).getType(),
              {b.getNamedAttr("strides", b.getDenseI64ArrayAttr(strides)),
               b.getNamedAttr("dilations", b.getDenseI64ArrayAttr(dilations)),
               b.getNamedAttr("pads", b.getDenseI64ArrayAttr(pads)),
               b.getNamedAttr("kernel_shape", b.getDenseI64ArrayAttr(kernel)),
               b.getNamedAttr("output_padding", b.getDenseI64ArrayAttr(outputPadding)),
               b.getNamedAttr("group", b.getI64IntegerAttr(groups))});
}

/// AveragePool: each output's gradient, divided by the number of values
/// its window averaged, spread back over the window: a ConvTranspose with a
/// kernel of ones, one group per channel.
std::string Rule::averagePool() {
  if (intAttr(op(), "ceil_mode", 0) != 0)
    return "ceil_mode=1 is not differentiated";
  if (auto pad = op()->getAttrOfType<StringAttr>("auto_pad"); pad && pad.getValue() != "NOTSET")
    return "auto_pad=" + pad.getValue().str() + " is not differentiated; give explicit pads";
  Value x = in(0), d = dY();
  int64_t spatial = rankOf(x) - 2, channels = shapeOf(x)[1];
  SmallVector<int64_t> kernel = intsAttr(op(), "kernel_shape"), strides = intsAttr(op(), "strides"),
                       dilations = intsAttr(op(), "dilations"), pads = intsAttr(op(), "pads");
  strides.resize(spatial, 1);
  dilations.resize(spatial, 1);
  pads.resize(2 * spatial, 0);
  OpBuilder &b = g.builder();
  Type element = typeOf(x).getElementType();
  int64_t window = 1;
  for (int64_t k : kernel)
    window *= k;
  Value scaled = g.mul(d, g.scalar(1.0 / double(window)));
  if (intAttr(op(), "count_include_pad", 0) == 0 &&
      llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
    // Windows over padding averaged fewer values: count them by pooling
    // ones with the padding counted as zeros.
    SmallVector<NamedAttribute> attrs(op()->getAttrs());
    llvm::erase_if(attrs, [](NamedAttribute a) { return a.getName() == "count_include_pad"; });
    attrs.push_back(b.getNamedAttr("count_include_pad", b.getI64IntegerAttr(1)));
    Value ones = g.add(g.zeros(typeOf(x)), g.scalar(1.0));
    Value share = g.op("AveragePool", {ones}, d.getType(), attrs); // counted / window
    scaled = g.div(scaled, share);
  }
  SmallVector<int64_t> kernelShape = {channels, 1};
  kernelShape.append(kernel.begin(), kernel.end());
  Value kernelOnes = g.add(g.zeros(RankedTensorType::get(kernelShape, element)), g.scalar(1.0));
  Value dx = transposedConv(scaled, kernelOnes, kernel, strides, dilations, pads, channels);
  if (!dx)
    return "cannot size the input gradient of this pool";
  set(0, dx);
  return "";
}

std::string Rule::maxPool() {
  if (intAttr(op(), "storage_order", 0) != 0)
    return "storage_order=1 is not differentiated";
  if (!needs(0))
    return "";
  // Rebuild the pool with its Indices output: the flat position, in X, of
  // each window's maximum.
  Value indices = op()->getResult(1);
  if (isa<NoneType>(indices.getType())) {
    OpBuilder::InsertionGuard guard(g.builder());
    g.builder().setInsertionPoint(op());
    OperationState state(op()->getLoc(), op()->getName().getStringRef());
    state.addOperands(op()->getOperands());
    state.addAttributes(op()->getAttrs());
    state.addTypes({out().getType(), typeOf(out()).clone(g.builder().getI64Type())});
    Operation *pool = g.builder().create(state);
    out().replaceAllUsesWith(pool->getResult(0));
    indices = pool->getResult(1);
  }
  int64_t total = typeOf(in(0)).getNumElements(), count = typeOf(out()).getNumElements();
  // The backward pass keeps the indices; as int32 where they fit, half the
  // bytes of the int64 ONNX gives.
  if (total < (int64_t(1) << 31)) {
    Operation *pool = indices.getDefiningOp();
    OpBuilder::InsertionGuard guard(g.builder());
    g.builder().setInsertionPointAfter(pool);
    indices = g.cast(indices, g.builder().getI32Type());
  }
  Value flatGrad = g.reshape(dY(), {count});
  Value flatIndices = g.reshape(indices, {count});
  auto flatType = RankedTensorType::get({total}, typeOf(in(0)).getElementType());
  Value scattered =
      g.op("ScatterElements", {g.zeros(flatType), flatIndices, flatGrad}, flatType,
           {g.builder().getNamedAttr("axis", g.builder().getI64IntegerAttr(0)),
            g.builder().getNamedAttr("reduction", g.builder().getStringAttr("add"))});
  set(0, g.reshape(scattered, shapeOf(in(0))));
  return "";
}

std::string Rule::layerNorm() {
  if (op()->getNumResults() > 1 && llvm::any_of(r.resultGrads.drop_front(),
                                                [](Value v) { return bool(v); }))
    return "the Mean and InvStdDev outputs are not differentiated";
  Value x = in(0), scale = in(1), d = dY();
  int64_t rank = rankOf(x), axis = normalizeAxis(intAttr(op(), "axis", -1), rank);
  double epsilon = floatAttr(op(), "epsilon", 1e-5f);
  SmallVector<int64_t> axes;
  int64_t n = 1;
  for (int64_t a = axis; a < rank; ++a) {
    axes.push_back(a);
    n *= shapeOf(x)[a];
  }
  Value invN = g.scalar(1.0 / n);
  auto mean = [&](Value v) { return g.mul(g.reduceSum(v, axes, true), invN); };
  Value centered = g.sub(x, mean(x));
  Value variance = mean(g.mul(centered, centered));
  Value invStd = g.unary("Reciprocal", g.unary("Sqrt", g.add(variance, g.scalar(epsilon))));
  Value normalized = g.mul(centered, invStd);
  if (needs(1))
    set(1, g.mul(d, normalized));
  if (needs(2))
    set(2, d);
  if (needs(0)) {
    Value dn = g.mul(d, scale);
    Value inner = g.sub(g.sub(dn, mean(dn)), g.mul(normalized, mean(g.mul(dn, normalized))));
    set(0, g.mul(invStd, inner));
  }
  return "";
}

std::string Rule::softmax(bool logarithmic) {
  int64_t axis = normalizeAxis(intAttr(op(), "axis", -1), rankOf(in(0)));
  Value y = out(), d = dY();
  if (logarithmic)
    set(0, g.sub(d, g.mul(g.unary("Exp", y), g.reduceSum(d, {axis}, true))));
  else
    set(0, g.mul(y, g.sub(d, g.reduceSum(g.mul(d, y), {axis}, true))));
  return "";
}

std::string Rule::reduce(bool mean) {
  Value x = in(0);
  auto axes = reductionAxes(op(), rankOf(x));
  if (!axes)
    return "its axes are computed at run time";
  SmallVector<int64_t> kept(shapeOf(x));
  int64_t count = 1;
  for (int64_t a : *axes) {
    count *= kept[a];
    kept[a] = 1;
  }
  Value grad = g.expand(g.reshape(dY(), kept), shapeOf(x));
  set(0, mean ? g.mul(grad, g.scalar(1.0 / count)) : grad);
  return "";
}

std::string Rule::concat() {
  int64_t axis = normalizeAxis(intAttr(op(), "axis", 0), rankOf(out()));
  int64_t offset = 0;
  for (unsigned i = 0; i < op()->getNumOperands(); ++i) {
    int64_t size = shapeOf(in(i))[axis];
    if (needs(i))
      set(i, g.op("Slice", {dY(), g.ints({offset}), g.ints({offset + size}), g.ints({axis})},
                  in(i).getType()));
    offset += size;
  }
  return "";
}

std::string Rule::split() {
  int64_t axis = normalizeAxis(intAttr(op(), "axis", 0), rankOf(in(0)));
  SmallVector<Value> parts;
  for (unsigned i = 0; i < op()->getNumResults(); ++i)
    parts.push_back(dY(i) ? dY(i) : g.zeros(typeOf(out(i))));
  set(0, g.op("Concat", parts, in(0).getType(),
              {g.builder().getNamedAttr("axis", g.builder().getI64IntegerAttr(axis))}));
  return "";
}

std::string Rule::slice() {
  // With steps of 1 the gradient is dY padded with zeros back to X's
  // extent; the padding needs where each sliced axis begins (the end
  // follows from the result's size, so it may be computed at run time).
  Value x = in(0);
  int64_t rank = rankOf(x);
  auto present = [&](unsigned i) {
    return op()->getNumOperands() > i && !isa<NoneType>(in(i).getType());
  };
  auto starts = constantInts(in(1));
  std::optional<SmallVector<int64_t>> axes;
  if (present(3)) {
    axes = constantInts(in(3));
  } else if (starts) {
    axes.emplace();
    for (int64_t i = 0; i < static_cast<int64_t>(starts->size()); ++i)
      axes->push_back(i);
  }
  if (present(4)) {
    auto steps = constantInts(in(4));
    if (!steps)
      return "its steps are computed at run time";
    if (llvm::any_of(*steps, [](int64_t s) { return s != 1; }))
      return "a Slice with steps other than 1 is not differentiated";
  }
  SmallVector<int64_t> pads(2 * rank, 0);
  for (int64_t axis = 0; axis < rank; ++axis) {
    int64_t size = shapeOf(x)[axis], kept = shapeOf(out())[axis];
    if (size == kept)
      continue;
    std::optional<int64_t> begin;
    if (starts && axes)
      for (auto [i, a] : llvm::enumerate(*axes))
        if (normalizeAxis(a, rank) == axis && i < starts->size()) {
          int64_t start = (*starts)[i] < 0 ? (*starts)[i] + size : (*starts)[i];
          begin = std::clamp<int64_t>(start, 0, size);
        }
    if (!begin)
      return "its starts or axes are computed at run time";
    pads[axis] = *begin;
    pads[rank + axis] = size - *begin - kept;
  }
  set(0, g.op("Pad", {dY(), g.ints(pads)}, x.getType()));
  return "";
}

std::string Rule::gather() {
  if (needs(1))
    return "";
  int64_t axis = normalizeAxis(intAttr(op(), "axis", 0), rankOf(in(0)));
  if (axis != 0)
    return "a Gather along an axis other than 0 is not differentiated";
  if (!needs(0))
    return "";
  Value indices = in(1);
  SmallVector<int64_t> shape(shapeOf(indices));
  shape.push_back(1);
  Value nd = g.reshape(indices, shape);
  if (!typeOf(indices).getElementType().isInteger(64))
    nd = g.cast(nd, g.builder().getI64Type());
  Value scattered =
      g.op("ScatterND", {g.zeros(typeOf(in(0))), nd, dY()}, in(0).getType(),
           {g.builder().getNamedAttr("reduction", g.builder().getStringAttr("add"))});
  grads[0] = scattered;
  return "";
}

} // namespace

bool pith::training::hasGradientRule(StringRef type) {
  static const llvm::StringSet<> kTypes = {
      "Add", "Sum", "Sub", "Mul", "Div", "Pow", "Neg", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
      "Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Erf", "Gelu", "Identity", "Dropout", "Cast",
      "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Expand", "Transpose", "Where",
      "GlobalAveragePool", "MatMul", "Gemm", "Conv", "MaxPool", "AveragePool",
      "LayerNormalization",
      "Softmax", "LogSoftmax", "ReduceSum", "ReduceMean", "Concat", "Split", "Slice", "Gather"};
  return kTypes.contains(type);
}

std::string pith::training::differentiate(const GradientRequest &request, OnnxBuilder &g,
                                          SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(request.op->getNumOperands(), Value());
  Rule rule{request, g, operandGrads};
  StringRef t = request.type;
  // Ops with one differentiable result need its gradient; others (Split,
  // pools with indices) take what flows.
  if (t != "Split" && !request.resultGrads[0])
    return "";
  if (t == "MatMul")
    return rule.matmul();
  if (t == "Gemm")
    return rule.gemm();
  if (t == "Conv")
    return rule.conv();
  if (t == "MaxPool")
    return rule.maxPool();
  if (t == "AveragePool")
    return rule.averagePool();
  if (t == "LayerNormalization")
    return rule.layerNorm();
  if (t == "Softmax" || t == "LogSoftmax")
    return rule.softmax(t == "LogSoftmax");
  if (t == "ReduceSum" || t == "ReduceMean")
    return rule.reduce(t == "ReduceMean");
  if (t == "Concat")
    return rule.concat();
  if (t == "Split")
    return rule.split();
  if (t == "Slice")
    return rule.slice();
  if (t == "Gather")
    return rule.gather();
  return rule.elementwise();
}

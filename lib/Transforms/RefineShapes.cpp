//===- RefineShapes.cpp - Static types for onnx values ---------------------===//
//
// One forward walk over each graph function, subgraphs included, in program
// order. Two things are tracked:
//
//  * the contents of small integer tensors of rank 0 or 1 (shapes, axes,
//    indices), from constants, initializers and Shape/Size of ranked
//    tensors, through the ops that compute shapes (Gather, Concat,
//    Unsqueeze, Slice, Cast, arithmetic, ...). An entry may be unknown
//    (ShapedType::kDynamic): Shape of a tensor with a dynamic dimension
//    still knows the others.
//  * result types: each op's ONNX type has a shape rule (elementwise,
//    broadcasting, Reshape to a known shape, MatMul, Transpose, ...) whose
//    answer is merged into the result's current type.
//
// A result type is only ever replaced by a more precise one consistent with
// it: !onnx.unknown or unranked becomes ranked, dynamic dimensions become
// static. Where the rule contradicts a static type (an invalid model), the
// type stays as it is. The graph function's result types follow the
// returned values. Subgraph ops (If, Loop, Scan) keep their result types;
// values inside their regions are refined like any other.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

namespace pith {
#define GEN_PASS_DEF_REFINESHAPESPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

/// An unknown dimension, or an unknown entry of a tracked integer tensor.
constexpr int64_t kUnknown = ShapedType::kDynamic;
/// Integer tensors with more elements are not tracked.
constexpr size_t kMaxTracked = 1024;

using Dims = SmallVector<int64_t>;

/// The contents of an integer tensor of rank 0 (one value) or rank 1.
struct Known {
  bool scalar = false;
  SmallVector<int64_t> values;

  bool complete() const {
    return llvm::none_of(values, [](int64_t v) { return v == kUnknown; });
  }
};

/// What a shape rule says about one result: its element type and its
/// dimensions (kUnknown where not known), each possibly unknown.
struct TypeInfo {
  Type element;
  std::optional<Dims> dims;
};

//===----------------------------------------------------------------------===//
// Reading types and attributes
//===----------------------------------------------------------------------===//

bool isAbsent(Value v) { return !v || isa<NoneType>(v.getType()); }

Type elementOf(Value v) {
  if (!v)
    return nullptr;
  if (auto tensor = dyn_cast<TensorType>(v.getType()))
    return tensor.getElementType();
  return nullptr;
}

std::optional<Dims> dimsOf(Value v) {
  if (!v)
    return std::nullopt;
  if (auto ranked = dyn_cast<RankedTensorType>(v.getType()))
    return Dims(ranked.getShape());
  return std::nullopt;
}

bool isStatic(ArrayRef<int64_t> dims) {
  return llvm::none_of(dims, [](int64_t d) { return d == kUnknown; });
}

std::optional<int64_t> product(ArrayRef<int64_t> dims) {
  int64_t result = 1;
  for (int64_t d : dims) {
    if (d == kUnknown || d < 0)
      return std::nullopt;
    if (llvm::MulOverflow(result, d, result))
      return std::nullopt;
  }
  return result;
}

Attribute attrOf(Operation *op, StringRef name) {
  return op->getAttrDictionary().get(name);
}

std::optional<int64_t> intAttr(Operation *op, StringRef name) {
  if (auto attr = dyn_cast_or_null<IntegerAttr>(attrOf(op, name)))
    return attr.getInt();
  return std::nullopt;
}

int64_t intAttr(Operation *op, StringRef name, int64_t fallback) {
  return intAttr(op, name).value_or(fallback);
}

std::optional<SmallVector<int64_t>> intsAttr(Operation *op, StringRef name) {
  Attribute attr = attrOf(op, name);
  if (auto array = dyn_cast_or_null<DenseI64ArrayAttr>(attr))
    return SmallVector<int64_t>(array.asArrayRef());
  if (auto array = dyn_cast_or_null<ArrayAttr>(attr)) {
    SmallVector<int64_t> values;
    for (Attribute element : array) {
      auto integer = dyn_cast<IntegerAttr>(element);
      if (!integer)
        return std::nullopt;
      values.push_back(integer.getInt());
    }
    return values;
  }
  return std::nullopt;
}

/// Whether the op's schema declares attribute `name` (tells opset versions
/// apart: Unsqueeze's axes are an attribute before opset 13).
bool hasAttribute(const pith::ONNX::OpSchema *schema, StringRef name) {
  return schema && schema->findAttribute(name);
}

/// `axis` in [-rank, rank) as a non-negative index, or nullopt.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

/// The element type of ONNX TensorProto.DataType `code` (Cast's `to`).
Type elementTypeOf(int64_t code, MLIRContext *ctx) {
  auto sint = [&](unsigned w) { return IntegerType::get(ctx, w); };
  auto uint = [&](unsigned w) {
    return IntegerType::get(ctx, w, IntegerType::Unsigned);
  };
  switch (code) {
  case 1: return Float32Type::get(ctx);
  case 2: return uint(8);
  case 3: return sint(8);
  case 4: return uint(16);
  case 5: return sint(16);
  case 6: return sint(32);
  case 7: return sint(64);
  case 9: return sint(1);
  case 10: return Float16Type::get(ctx);
  case 11: return Float64Type::get(ctx);
  case 12: return uint(32);
  case 13: return uint(64);
  case 16: return BFloat16Type::get(ctx);
  case 17: return Float8E4M3FNType::get(ctx);
  case 18: return Float8E4M3FNUZType::get(ctx);
  case 19: return Float8E5M2Type::get(ctx);
  case 20: return Float8E5M2FNUZType::get(ctx);
  case 21: return uint(4);
  case 22: return sint(4);
  default: return nullptr;
  }
}

/// The values of an integer ElementsAttr of rank <= 1 (a dense attribute or
/// a dense_resource blob), or nullopt.
std::optional<Known> readInts(Attribute attribute) {
  auto elements = dyn_cast_or_null<ElementsAttr>(attribute);
  if (!elements)
    return std::nullopt;
  ShapedType type = elements.getShapedType();
  auto integer = dyn_cast<IntegerType>(type.getElementType());
  if (!integer || !type.hasStaticShape() || type.getRank() > 1 ||
      type.getNumElements() > static_cast<int64_t>(kMaxTracked))
    return std::nullopt;
  unsigned width = integer.getWidth();
  bool zeroExtend = integer.isUnsigned() || width == 1;
  Known known;
  known.scalar = type.getRank() == 0;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(elements)) {
    for (const APInt &v : dense.getValues<APInt>()) {
      if (zeroExtend && width == 64 && v.isNegative())
        return std::nullopt; // beyond int64
      known.values.push_back(zeroExtend ? static_cast<int64_t>(v.getZExtValue())
                                        : v.getSExtValue());
    }
    return known;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(elements)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    if (width != 1 && width != 8 && width != 16 && width != 32 && width != 64)
      return std::nullopt;
    size_t bytes = width == 1 ? 1 : width / 8;
    int64_t count = type.getNumElements();
    if (data.size() != static_cast<size_t>(count) * bytes)
      return std::nullopt;
    for (int64_t i = 0; i < count; ++i) {
      uint64_t raw = 0;
      for (size_t b = 0; b < bytes; ++b)
        raw |= static_cast<uint64_t>(static_cast<uint8_t>(data[i * bytes + b]))
               << (8 * b);
      if (width == 1) {
        known.values.push_back(raw != 0);
        continue;
      }
      APInt v(width, raw);
      if (zeroExtend && width == 64 && v.isNegative())
        return std::nullopt;
      known.values.push_back(zeroExtend ? static_cast<int64_t>(v.getZExtValue())
                                        : v.getSExtValue());
    }
    return known;
  }
  return std::nullopt;
}

/// A scalar (or one-element) floating-point or integer constant as a double:
/// Range's start, limit and delta.
std::optional<double> readScalar(Attribute attribute) {
  auto elements = dyn_cast_or_null<ElementsAttr>(attribute);
  if (!elements || elements.getShapedType().getNumElements() != 1)
    return std::nullopt;
  Type element = elements.getShapedType().getElementType();
  if (auto dense = dyn_cast<DenseFPElementsAttr>(elements)) {
    APFloat v = *dense.getValues<APFloat>().begin();
    bool lost;
    v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return v.convertToDouble();
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(elements)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    if (element.isF32() && data.size() == 4) {
      float v;
      std::memcpy(&v, data.data(), 4);
      return v;
    }
    if (element.isF64() && data.size() == 8) {
      double v;
      std::memcpy(&v, data.data(), 8);
      return v;
    }
  }
  if (std::optional<Known> ints = readInts(attribute))
    return static_cast<double>(ints->values.front());
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Shape arithmetic
//===----------------------------------------------------------------------===//

/// Numpy broadcasting of ranked shapes (kUnknown for unknown dimensions), or
/// nullopt when two static sizes disagree.
std::optional<Dims> broadcast(ArrayRef<Dims> shapes) {
  size_t rank = 0;
  for (const Dims &s : shapes)
    rank = std::max(rank, s.size());
  Dims result(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t fixed = -1; // a static size other than 1
    bool unknown = false;
    for (const Dims &s : shapes) {
      if (i + s.size() < rank)
        continue;
      int64_t d = s[i + s.size() - rank];
      if (d == kUnknown)
        unknown = true;
      else if (d != 1) {
        if (fixed >= 0 && fixed != d)
          return std::nullopt;
        fixed = d;
      }
    }
    result[i] = fixed >= 0 ? fixed : unknown ? kUnknown : 1;
  }
  return result;
}

/// Reshape's output for `shape` (entries may be unknown) of an input with
/// `input` dimensions (if ranked), or nullopt for an invalid shape.
std::optional<Dims> reshapeDims(ArrayRef<int64_t> shape,
                                std::optional<Dims> input, bool allowZero) {
  Dims out;
  int64_t inferred = -1;
  for (auto [i, s] : llvm::enumerate(shape)) {
    if (s == kUnknown) {
      out.push_back(kUnknown);
    } else if (s == 0 && !allowZero) {
      if (input && i < input->size())
        out.push_back((*input)[i]);
      else if (input)
        return std::nullopt;
      else
        out.push_back(kUnknown);
    } else if (s == -1) {
      if (inferred >= 0)
        return std::nullopt;
      inferred = i;
      out.push_back(kUnknown);
    } else if (s < 0) {
      return std::nullopt;
    } else {
      out.push_back(s);
    }
  }
  std::optional<int64_t> total = input ? product(*input) : std::nullopt;
  if (inferred >= 0) {
    Dims others(out);
    others.erase(others.begin() + inferred);
    std::optional<int64_t> rest = product(others);
    if (total && rest) {
      if (*rest == 0 || *total % *rest != 0)
        return std::nullopt;
      out[inferred] = *total / *rest;
    }
  } else if (std::optional<int64_t> count = product(out);
             count && total && *count != *total) {
    return std::nullopt;
  }
  return out;
}

/// The size of a slice [start, end) by step of a dimension of size `dim`.
std::optional<int64_t> sliceSize(int64_t dim, int64_t start, int64_t end,
                                 int64_t step) {
  if (step == 0 || dim < 0)
    return std::nullopt;
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return end > start ? (end - start - 1) / step + 1 : 0;
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  // Divide without overflow for steps near INT64_MIN.
  int64_t span = start - end;
  if (span <= 0)
    return 0;
  return step == INT64_MIN ? 1 : (span - 1) / -step + 1;
}

//===----------------------------------------------------------------------===//
// The walk
//===----------------------------------------------------------------------===//

const llvm::StringSet<> &sameShapeOps() {
  static const llvm::StringSet<> set = {
      "Identity", "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round",
      "Sqrt", "Exp", "Log", "Tanh", "Sigmoid", "Relu", "LeakyRelu", "Elu",
      "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish", "Softplus",
      "Softsign", "Softmax", "LogSoftmax", "Hardmax", "Erf", "Sin", "Cos",
      "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
      "Atanh", "Sign", "Clip", "Shrink", "ThresholdedRelu", "Mish", "Swish",
      "BitwiseNot", "Not", "CumSum", "Trilu", "LpNormalization",
      "MeanVarianceNormalization", "InstanceNormalization",
      "GroupNormalization", "BatchNormalization", "ReverseSequence",
      "ScatterElements", "ScatterND", "Scatter", "Dropout",
      "LayerNormalization", "RMSNormalization", "SimplifiedLayerNormalization",
      "CastLike"};
  return set;
}

const llvm::StringSet<> &broadcastOps() {
  static const llvm::StringSet<> set = {
      "Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "BitwiseAnd",
      "BitwiseOr", "BitwiseXor", "PRelu", "Max", "Min", "Sum", "Mean"};
  return set;
}

const llvm::StringSet<> &predicateOps() {
  static const llvm::StringSet<> set = {
      "And", "Or", "Xor", "Equal", "Less", "Greater", "LessOrEqual",
      "GreaterOrEqual"};
  return set;
}

const llvm::StringSet<> &reduceOps() {
  static const llvm::StringSet<> set = {
      "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
      "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
      "ReduceSumSquare"};
  return set;
}

class Refiner {
public:
  explicit Refiner(MLIRContext *ctx) : ctx(ctx) {}

  void run(func::FuncOp func) {
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa_and_nonnull<pith::ONNX::ONNXDialect>(op->getDialect()))
        visit(op);
    });
    refineFunctionResults(func);
  }

private:
  MLIRContext *ctx;
  llvm::DenseMap<Value, Known> known;

  //===--------------------------------------------------------------------===//
  // Tracked values
  //===--------------------------------------------------------------------===//

  const Known *lookup(Value v) const {
    if (isAbsent(v))
      return nullptr;
    auto it = known.find(v);
    return it == known.end() ? nullptr : &it->second;
  }

  /// The entries of a tracked value, all of them known.
  std::optional<SmallVector<int64_t>> ints(Value v) const {
    const Known *k = lookup(v);
    if (!k || !k->complete())
      return std::nullopt;
    return k->values;
  }

  std::optional<int64_t> scalarInt(Value v) const {
    std::optional<SmallVector<int64_t>> values = ints(v);
    if (!values || values->size() != 1)
      return std::nullopt;
    return values->front();
  }

  /// A constant scalar (float or integer) as a double.
  std::optional<double> scalarNumber(Value v) const {
    if (std::optional<int64_t> i = scalarInt(v))
      return static_cast<double>(*i);
    Operation *def = v.getDefiningOp();
    if (!def)
      return std::nullopt;
    StringRef name = def->getName().getStringRef();
    if (isa<pith::ONNX::InitializerOp>(def) || name.starts_with("onnx.Constant")) {
      if (auto f = dyn_cast_or_null<FloatAttr>(attrOf(def, "value_float")))
        return f.getValueAsDouble();
      return readScalar(attrOf(def, "value"));
    }
    return std::nullopt;
  }

  /// Records `k` as the contents of `v` if `v` is an integer tensor whose
  /// type agrees.
  void record(Value v, std::optional<Known> k) {
    if (!k || k->values.size() > kMaxTracked)
      return;
    if (k->scalar && k->values.size() != 1)
      return;
    auto tensor = dyn_cast<TensorType>(v.getType());
    if (!tensor || !isa<IntegerType>(tensor.getElementType()))
      return;
    if (auto ranked = dyn_cast<RankedTensorType>(tensor)) {
      if (ranked.getRank() != (k->scalar ? 0 : 1))
        return;
      if (!k->scalar && !ranked.isDynamicDim(0) &&
          ranked.getDimSize(0) != static_cast<int64_t>(k->values.size()))
        return;
    }
    known[v] = std::move(*k);
  }

  //===--------------------------------------------------------------------===//
  // Types
  //===--------------------------------------------------------------------===//

  /// Merges `info` into the type of `v` when that makes it more precise and
  /// does not contradict it.
  void refine(Value v, const TypeInfo &info) {
    Type old = v.getType();
    Type element = info.element;
    if (auto tensor = dyn_cast<TensorType>(old)) {
      if (element && element != tensor.getElementType())
        return;
      element = tensor.getElementType();
    } else if (!isa<pith::ONNX::UnknownType>(old)) {
      return;
    }
    if (!element)
      return;
    if (!info.dims) {
      if (isa<pith::ONNX::UnknownType>(old))
        v.setType(UnrankedTensorType::get(element));
      return;
    }
    Dims dims = *info.dims;
    for (int64_t d : dims)
      if (d != kUnknown && d < 0)
        return;
    if (auto ranked = dyn_cast<RankedTensorType>(old)) {
      if (ranked.getRank() != static_cast<int64_t>(dims.size()))
        return;
      for (auto [i, d] : llvm::enumerate(dims)) {
        if (ranked.isDynamicDim(i))
          continue;
        if (d != kUnknown && d != ranked.getDimSize(i))
          return; // never contradict a static size
        d = ranked.getDimSize(i);
      }
      auto refined = RankedTensorType::get(dims, element, ranked.getEncoding());
      if (refined != ranked)
        v.setType(refined);
      return;
    }
    v.setType(RankedTensorType::get(dims, element));
  }

  void refineFunctionResults(func::FuncOp func) {
    if (func.getBody().empty())
      return;
    auto ret = dyn_cast<func::ReturnOp>(func.getBody().back().getTerminator());
    if (!ret || ret.getNumOperands() != func.getNumResults())
      return;
    SmallVector<Type> results(func.getResultTypes());
    bool changed = false;
    for (auto [i, operand] : llvm::enumerate(ret.getOperands())) {
      Type type = operand.getType();
      if (type == results[i])
        continue;
      // Only a refinement of the declared type.
      Type declared = results[i];
      bool refines = false;
      if (isa<pith::ONNX::UnknownType>(declared)) {
        refines = isa<TensorType>(type);
      } else if (auto declaredTensor = dyn_cast<TensorType>(declared)) {
        auto tensor = dyn_cast<TensorType>(type);
        refines = tensor &&
                  tensor.getElementType() == declaredTensor.getElementType() &&
                  tensor.hasRank();
        if (refines && declaredTensor.hasRank()) {
          auto a = cast<RankedTensorType>(declaredTensor);
          auto b = cast<RankedTensorType>(tensor);
          refines = a.getRank() == b.getRank();
          for (int64_t d = 0; refines && d < a.getRank(); ++d)
            refines = a.isDynamicDim(d) || a.getDimSize(d) == b.getDimSize(d);
        }
      }
      if (refines) {
        results[i] = type;
        changed = true;
      }
    }
    if (changed)
      func.setFunctionType(
          FunctionType::get(ctx, func.getArgumentTypes(), results));
  }

  TypeInfo same(Value v) const { return {elementOf(v), dimsOf(v)}; }

  //===--------------------------------------------------------------------===//
  // Visiting one op
  //===--------------------------------------------------------------------===//

  void visit(Operation *op) {
    if (auto init = dyn_cast<pith::ONNX::InitializerOp>(op)) {
      record(init.getResult(), readInts(init.getValue()));
      return;
    }
    const pith::ONNX::OpSchema *schema =
        pith::ONNX::lookupSchemaByOpName(op->getName().getStringRef());
    if (!schema || op->getNumResults() == 0)
      return;
    StringRef type = schema->opType;
    SmallVector<TypeInfo> infos = inferTypes(op, type, schema);
    for (auto [result, info] : llvm::zip(op->getResults(), infos))
      refine(result, info);
    if (op->getNumResults() >= 1 && !isAbsent(op->getResult(0)))
      record(op->getResult(0), inferValues(op, type, schema));
    // A tracked result also tells its own type.
    if (const Known *k = lookup(op->getResult(0)))
      refine(op->getResult(0),
             {nullptr, k->scalar ? Dims{}
                                 : Dims{static_cast<int64_t>(k->values.size())}});
  }

  /// The shape rule of ONNX op type `type`: one entry per result.
  SmallVector<TypeInfo> inferTypes(Operation *op, StringRef type,
                                   const pith::ONNX::OpSchema *schema) {
    SmallVector<TypeInfo> infos(op->getNumResults());
    auto operand = [&](unsigned i) -> Value {
      return i < op->getNumOperands() && !isAbsent(op->getOperand(i))
                 ? op->getOperand(i)
                 : Value();
    };
    Value x = operand(0);
    std::optional<Dims> xDims = dimsOf(x);
    Type xElement = elementOf(x);
    Type i64 = IntegerType::get(ctx, 64);
    Type i1 = IntegerType::get(ctx, 1);

    if (type == "Constant") {
      if (auto value = dyn_cast_or_null<ElementsAttr>(attrOf(op, "value")))
        infos[0] = {value.getShapedType().getElementType(),
                    Dims(value.getShapedType().getShape())};
      else if (attrOf(op, "value_int"))
        infos[0] = {i64, Dims{}};
      else if (attrOf(op, "value_float"))
        infos[0] = {Float32Type::get(ctx), Dims{}};
      else if (auto ints = intsAttr(op, "value_ints"))
        infos[0] = {i64, Dims{static_cast<int64_t>(ints->size())}};
      else if (auto floats =
                   dyn_cast_or_null<DenseF32ArrayAttr>(attrOf(op, "value_floats")))
        infos[0] = {Float32Type::get(ctx), Dims{static_cast<int64_t>(floats.size())}};
      return infos;
    }

    if (sameShapeOps().contains(type)) {
      infos[0] = same(x);
      if (type == "CastLike")
        infos[0].element = elementOf(operand(1));
      // The mask is boolean from opset 10 (before, of the input's type).
      if (type == "Dropout" && infos.size() > 1)
        infos[1] = {schema->sinceVersion >= 10 ? i1 : xElement, xDims};
      if ((type == "LayerNormalization" || type == "RMSNormalization") &&
          infos.size() > 1 && xDims) {
        int64_t rank = xDims->size();
        if (auto axis = normalizeAxis(intAttr(op, "axis", -1), rank)) {
          Dims stats(xDims->begin(), xDims->begin() + *axis);
          stats.append(rank - *axis, 1);
          Type stash = elementTypeOf(intAttr(op, "stash_type", 1), ctx);
          for (unsigned i = 1; i < infos.size(); ++i)
            infos[i] = {stash, stats};
        }
      }
      return infos;
    }
    if (type == "IsNaN" || type == "IsInf") {
      infos[0] = {i1, xDims};
      return infos;
    }
    if (type == "Cast") {
      infos[0] = {elementTypeOf(intAttr(op, "to", 0), ctx), xDims};
      // Opset 1 names the type as a string: keep what the model says.
      if (!intAttr(op, "to"))
        infos[0].element = nullptr;
      return infos;
    }
    if (type == "EyeLike") {
      std::optional<int64_t> dtype = intAttr(op, "dtype");
      infos[0] = {dtype ? elementTypeOf(*dtype, ctx) : xElement, xDims};
      return infos;
    }

    bool isPredicate = predicateOps().contains(type);
    if (broadcastOps().contains(type) || isPredicate || type == "Where") {
      Type element = isPredicate ? i1
                     : type == "Where" ? elementOf(operand(1))
                                       : xElement;
      // Before opset 7, B broadcasts to A (the `broadcast` attribute).
      if (hasAttribute(schema, "broadcast")) {
        infos[0] = {element, xDims};
        return infos;
      }
      SmallVector<Dims> shapes;
      for (Value v : op->getOperands()) {
        std::optional<Dims> dims = dimsOf(v);
        if (!dims) {
          infos[0] = {element, std::nullopt};
          return infos;
        }
        shapes.push_back(*dims);
      }
      infos[0] = {element, broadcast(shapes)};
      return infos;
    }

    if (type == "Shape") {
      if (!xDims) {
        infos[0] = {i64, std::nullopt};
        return infos;
      }
      auto [start, end] = shapeRange(op, xDims->size());
      infos[0] = {i64, Dims{std::max<int64_t>(end - start, 0)}};
      return infos;
    }
    if (type == "Size") {
      infos[0] = {i64, Dims{}};
      return infos;
    }

    if (type == "Reshape") {
      infos[0] = {xElement, std::nullopt};
      std::optional<SmallVector<int64_t>> shape;
      bool allowZero = intAttr(op, "allowzero", 0) != 0;
      if (hasAttribute(schema, "shape")) {
        shape = intsAttr(op, "shape");
      } else if (const Known *k = lookup(operand(1))) {
        shape = k->values;
      } else if (std::optional<Dims> shapeDims = dimsOf(operand(1));
                 shapeDims && shapeDims->size() == 1 &&
                 (*shapeDims)[0] != kUnknown) {
        // Only the rank is known.
        shape = SmallVector<int64_t>((*shapeDims)[0], kUnknown);
      }
      if (shape)
        infos[0].dims = reshapeDims(*shape, xDims, allowZero);
      return infos;
    }

    if (type == "Expand") {
      infos[0] = {xElement, std::nullopt};
      const Known *k = lookup(operand(1));
      if (k && xDims)
        infos[0].dims = broadcast({*xDims, Dims(k->values)});
      else if (k)
        infos[0].dims = Dims(k->values.size(), kUnknown);
      return infos;
    }

    if (type == "ConstantOfShape") {
      Type element = Float32Type::get(ctx);
      if (auto value = dyn_cast_or_null<ElementsAttr>(attrOf(op, "value")))
        element = value.getShapedType().getElementType();
      infos[0] = {element, std::nullopt};
      if (const Known *k = lookup(x))
        infos[0].dims = Dims(k->values);
      else if (std::optional<Dims> shapeDims = xDims;
               shapeDims && shapeDims->size() == 1 &&
               (*shapeDims)[0] != kUnknown)
        infos[0].dims = Dims((*shapeDims)[0], kUnknown);
      return infos;
    }

    if (type == "Tile") {
      infos[0] = {xElement, std::nullopt};
      if (!xDims || op->getNumOperands() != 2)
        return infos;
      Dims out = *xDims;
      const Known *repeats = lookup(operand(1));
      if (repeats && repeats->values.size() != out.size())
        return infos;
      for (auto [i, d] : llvm::enumerate(out)) {
        int64_t r = repeats ? repeats->values[i] : kUnknown;
        if (r != kUnknown && r < 0)
          return infos;
        if (d == kUnknown || r == kUnknown)
          d = r == 1 ? d : (d == 0 || r == 0) ? 0 : kUnknown;
        else if (llvm::MulOverflow(d, r, d))
          return infos;
      }
      infos[0].dims = out;
      return infos;
    }

    if (type == "Range") {
      infos[0] = {xElement, Dims{kUnknown}};
      std::optional<double> start = scalarNumber(operand(0));
      std::optional<double> limit = scalarNumber(operand(1));
      std::optional<double> delta = scalarNumber(operand(2));
      if (!start || !limit || !delta || *delta == 0 || !xElement)
        return infos;
      double count;
      if (xElement.isF32())
        count = std::ceil(static_cast<float>(static_cast<float>(*limit) -
                                             static_cast<float>(*start)) /
                          static_cast<float>(*delta));
      else
        count = std::ceil((*limit - *start) / *delta);
      if (!std::isfinite(count) || count > 1e15)
        return infos;
      (*infos[0].dims)[0] = std::max<int64_t>(static_cast<int64_t>(count), 0);
      return infos;
    }

    if (type == "Transpose") {
      infos[0] = {xElement, std::nullopt};
      if (!xDims)
        return infos;
      int64_t rank = xDims->size();
      SmallVector<int64_t> perm;
      if (auto attr = intsAttr(op, "perm"))
        perm = *attr;
      else
        for (int64_t i = rank - 1; i >= 0; --i)
          perm.push_back(i);
      if (static_cast<int64_t>(perm.size()) != rank)
        return infos;
      Dims out;
      for (int64_t p : perm) {
        if (p < 0 || p >= rank)
          return infos;
        out.push_back((*xDims)[p]);
      }
      infos[0].dims = out;
      return infos;
    }

    if (type == "Unsqueeze") {
      infos[0] = {xElement, std::nullopt};
      std::optional<SmallVector<int64_t>> axes =
          hasAttribute(schema, "axes") ? intsAttr(op, "axes") : ints(operand(1));
      if (!xDims || !axes)
        return infos;
      int64_t rank = xDims->size() + axes->size();
      SmallVector<bool> inserted(rank, false);
      for (int64_t a : *axes) {
        std::optional<int64_t> axis = normalizeAxis(a, rank);
        if (!axis || inserted[*axis])
          return infos;
        inserted[*axis] = true;
      }
      Dims out;
      auto next = xDims->begin();
      for (int64_t i = 0; i < rank; ++i)
        out.push_back(inserted[i] ? 1 : *next++);
      infos[0].dims = out;
      return infos;
    }

    if (type == "Squeeze") {
      infos[0] = {xElement, std::nullopt};
      if (!xDims)
        return infos;
      int64_t rank = xDims->size();
      std::optional<SmallVector<int64_t>> axes;
      bool hasAxes;
      if (hasAttribute(schema, "axes")) {
        axes = intsAttr(op, "axes");
        hasAxes = axes.has_value();
      } else {
        hasAxes = static_cast<bool>(operand(1));
        if (hasAxes)
          axes = ints(operand(1));
      }
      if (hasAxes && !axes)
        return infos;
      SmallVector<bool> removed(rank, false);
      if (hasAxes) {
        for (int64_t a : *axes) {
          std::optional<int64_t> axis = normalizeAxis(a, rank);
          if (!axis)
            return infos;
          int64_t d = (*xDims)[*axis];
          if (d != kUnknown && d != 1)
            return infos;
          removed[*axis] = true;
        }
      } else {
        // Every size-1 dimension: needs them all known.
        if (!isStatic(*xDims))
          return infos;
        for (int64_t i = 0; i < rank; ++i)
          removed[i] = (*xDims)[i] == 1;
      }
      Dims out;
      for (int64_t i = 0; i < rank; ++i)
        if (!removed[i])
          out.push_back((*xDims)[i]);
      infos[0].dims = out;
      return infos;
    }

    if (type == "Flatten") {
      infos[0] = {xElement, std::nullopt};
      if (!xDims)
        return infos;
      int64_t rank = xDims->size();
      int64_t axis = intAttr(op, "axis", 1);
      if (axis < 0)
        axis += rank;
      if (axis < 0 || axis > rank)
        return infos;
      ArrayRef<int64_t> dims(*xDims);
      auto size = [](ArrayRef<int64_t> part) {
        return product(part).value_or(kUnknown);
      };
      infos[0].dims = Dims{size(dims.take_front(axis)), size(dims.drop_front(axis))};
      return infos;
    }

    if (type == "MatMul" || type == "MatMulInteger") {
      Type element = type == "MatMulInteger" ? IntegerType::get(ctx, 32) : xElement;
      infos[0] = {element, matmulDims(dimsOf(operand(0)), dimsOf(operand(1)))};
      return infos;
    }

    if (type == "Gemm") {
      infos[0] = {xElement, std::nullopt};
      std::optional<Dims> a = dimsOf(operand(0)), b = dimsOf(operand(1));
      if (!a || !b || a->size() != 2 || b->size() != 2)
        return infos;
      int64_t m = intAttr(op, "transA", 0) ? (*a)[1] : (*a)[0];
      int64_t n = intAttr(op, "transB", 0) ? (*b)[0] : (*b)[1];
      infos[0].dims = Dims{m, n};
      return infos;
    }

    if (type == "Gather") {
      infos[0] = {xElement, std::nullopt};
      std::optional<Dims> indices = dimsOf(operand(1));
      if (!xDims || !indices)
        return infos;
      int64_t rank = xDims->size();
      std::optional<int64_t> axis = normalizeAxis(intAttr(op, "axis", 0), rank);
      if (!axis)
        return infos;
      Dims out(xDims->begin(), xDims->begin() + *axis);
      out.append(indices->begin(), indices->end());
      out.append(xDims->begin() + *axis + 1, xDims->end());
      infos[0].dims = out;
      return infos;
    }

    if (type == "GatherElements") {
      infos[0] = {xElement, dimsOf(operand(1))};
      return infos;
    }

    if (type == "Slice") {
      infos[0] = {xElement, sliceDims(op, schema, xDims)};
      return infos;
    }

    if (type == "Concat") {
      infos[0] = {xElement, std::nullopt};
      SmallVector<Dims> shapes;
      for (Value v : op->getOperands()) {
        std::optional<Dims> dims = dimsOf(v);
        if (!dims)
          return infos;
        shapes.push_back(*dims);
      }
      if (shapes.empty())
        return infos;
      int64_t rank = shapes.front().size();
      std::optional<int64_t> axis = normalizeAxis(intAttr(op, "axis", 1), rank);
      if (!axis)
        return infos;
      Dims out(rank, kUnknown);
      int64_t total = 0;
      for (const Dims &s : shapes) {
        if (static_cast<int64_t>(s.size()) != rank)
          return infos;
        for (int64_t d = 0; d < rank; ++d) {
          if (d == *axis)
            continue;
          if (s[d] != kUnknown) {
            if (out[d] != kUnknown && out[d] != s[d])
              return infos;
            out[d] = s[d];
          }
        }
        if (total != kUnknown)
          total = s[*axis] == kUnknown ? kUnknown : total + s[*axis];
      }
      out[*axis] = total;
      infos[0].dims = out;
      return infos;
    }

    if (type == "Split") {
      splitTypes(op, schema, infos);
      return infos;
    }

    if (reduceOps().contains(type)) {
      infos[0] = {xElement, reduceDims(op, schema, xDims)};
      return infos;
    }

    if (type == "ArgMax" || type == "ArgMin") {
      infos[0] = {i64, std::nullopt};
      if (!xDims)
        return infos;
      std::optional<int64_t> axis =
          normalizeAxis(intAttr(op, "axis", 0), xDims->size());
      if (!axis)
        return infos;
      Dims out = *xDims;
      if (intAttr(op, "keepdims", 1))
        out[*axis] = 1;
      else
        out.erase(out.begin() + *axis);
      infos[0].dims = out;
      return infos;
    }

    if (type == "TopK") {
      std::optional<int64_t> k = hasAttribute(schema, "k")
                                     ? intAttr(op, "k")
                                     : scalarInt(operand(1));
      std::optional<Dims> out;
      if (xDims) {
        out = *xDims;
        if (std::optional<int64_t> axis =
                normalizeAxis(intAttr(op, "axis", -1), xDims->size()))
          (*out)[*axis] = k && *k >= 0 ? *k : kUnknown;
        else
          out = std::nullopt;
      }
      infos[0] = {xElement, out};
      if (infos.size() > 1)
        infos[1] = {i64, out};
      return infos;
    }

    if (type == "Pad") {
      infos[0] = {xElement, padDims(op, schema, xDims)};
      return infos;
    }

    if (type == "GlobalAveragePool" || type == "GlobalMaxPool" ||
        type == "GlobalLpPool") {
      infos[0] = {xElement, std::nullopt};
      if (xDims && xDims->size() >= 2) {
        Dims out = *xDims;
        for (size_t i = 2; i < out.size(); ++i)
          out[i] = 1;
        infos[0].dims = out;
      }
      return infos;
    }

    if (type == "NonZero") {
      infos[0] = {i64, std::nullopt};
      if (xDims)
        infos[0].dims = Dims{static_cast<int64_t>(xDims->size()), kUnknown};
      return infos;
    }

    return infos;
  }

  /// Shape's [start, end) for an input of rank `rank`.
  std::pair<int64_t, int64_t> shapeRange(Operation *op, int64_t rank) {
    auto clampIndex = [&](int64_t i) {
      if (i < 0)
        i += rank;
      return std::clamp<int64_t>(i, 0, rank);
    };
    int64_t start = clampIndex(intAttr(op, "start", 0));
    int64_t end = clampIndex(intAttr(op, "end", rank));
    return {start, end};
  }

  std::optional<Dims> matmulDims(std::optional<Dims> a, std::optional<Dims> b) {
    if (!a || !b || a->empty() || b->empty())
      return std::nullopt;
    bool vectorA = a->size() == 1, vectorB = b->size() == 1;
    Dims A = vectorA ? Dims{1, (*a)[0]} : *a;
    Dims B = vectorB ? Dims{(*b)[0], 1} : *b;
    Dims batchA(A.begin(), A.end() - 2), batchB(B.begin(), B.end() - 2);
    std::optional<Dims> out = broadcast({batchA, batchB});
    if (!out)
      return std::nullopt;
    int64_t kA = A.back(), kB = B[B.size() - 2];
    if (kA != kUnknown && kB != kUnknown && kA != kB)
      return std::nullopt;
    if (!vectorA)
      out->push_back(A[A.size() - 2]);
    if (!vectorB)
      out->push_back(B.back());
    return out;
  }

  std::optional<Dims> sliceDims(Operation *op, const pith::ONNX::OpSchema *schema,
                                std::optional<Dims> xDims) {
    if (!xDims)
      return std::nullopt;
    int64_t rank = xDims->size();
    std::optional<SmallVector<int64_t>> starts, ends, axes, steps;
    bool axesGiven, stepsGiven;
    if (hasAttribute(schema, "starts")) {
      starts = intsAttr(op, "starts");
      ends = intsAttr(op, "ends");
      axes = intsAttr(op, "axes");
      axesGiven = axes.has_value();
      stepsGiven = false;
    } else {
      auto operand = [&](unsigned i) -> Value {
        return i < op->getNumOperands() && !isAbsent(op->getOperand(i))
                   ? op->getOperand(i)
                   : Value();
      };
      starts = ints(operand(1));
      ends = ints(operand(2));
      axesGiven = static_cast<bool>(operand(3));
      stepsGiven = static_cast<bool>(operand(4));
      if (axesGiven)
        axes = ints(operand(3));
      if (stepsGiven)
        steps = ints(operand(4));
      // The number of sliced axes, from the starts' type when not known.
      if (!starts && !axesGiven)
        if (std::optional<Dims> d = dimsOf(operand(1));
            d && d->size() == 1 && (*d)[0] != kUnknown) {
          int64_t count = (*d)[0];
          if (count > rank)
            return std::nullopt;
          Dims out = *xDims;
          for (int64_t i = 0; i < count; ++i)
            out[i] = kUnknown;
          return out;
        }
    }
    size_t count = starts ? starts->size() : ends ? ends->size() : 0;
    if (!axesGiven) {
      if (!starts && !ends)
        return Dims(rank, kUnknown);
      axes = SmallVector<int64_t>();
      for (size_t i = 0; i < count; ++i)
        axes->push_back(i);
    }
    if (!axes)
      return Dims(rank, kUnknown);
    if (!stepsGiven)
      steps = SmallVector<int64_t>(axes->size(), 1);
    Dims out = *xDims;
    for (auto [j, a] : llvm::enumerate(*axes)) {
      std::optional<int64_t> axis = normalizeAxis(a, rank);
      if (!axis)
        return std::nullopt;
      int64_t dim = (*xDims)[*axis];
      if (!starts || !ends || !steps || starts->size() != axes->size() ||
          ends->size() != axes->size() || steps->size() != axes->size() ||
          dim == kUnknown) {
        out[*axis] = kUnknown;
        continue;
      }
      std::optional<int64_t> size =
          sliceSize(dim, (*starts)[j], (*ends)[j], (*steps)[j]);
      if (!size)
        return std::nullopt;
      out[*axis] = *size;
    }
    return out;
  }

  void splitTypes(Operation *op, const pith::ONNX::OpSchema *schema,
                  SmallVector<TypeInfo> &infos) {
    Value x = op->getOperand(0);
    std::optional<Dims> xDims = dimsOf(x);
    Type element = elementOf(x);
    for (TypeInfo &info : infos)
      info = {element, std::nullopt};
    if (!xDims)
      return;
    int64_t rank = xDims->size();
    std::optional<int64_t> axis = normalizeAxis(intAttr(op, "axis", 0), rank);
    if (!axis)
      return;
    std::optional<SmallVector<int64_t>> sizes;
    if (std::optional<SmallVector<int64_t>> attr = intsAttr(op, "split");
        attr && !attr->empty())
      sizes = attr;
    else if (op->getNumOperands() > 1 && !isAbsent(op->getOperand(1)))
      sizes = ints(op->getOperand(1));
    bool sizesGiven = sizes.has_value() ||
                      (op->getNumOperands() > 1 && !isAbsent(op->getOperand(1)));
    int64_t n = infos.size();
    int64_t dim = (*xDims)[*axis];
    if (!sizes && !sizesGiven && dim != kUnknown) {
      std::optional<int64_t> numOutputs = intAttr(op, "num_outputs");
      if (numOutputs) {
        if (*numOutputs != n || n <= 0)
          return;
        int64_t chunk = (dim + n - 1) / n;
        sizes = SmallVector<int64_t>();
        for (int64_t i = 0; i < n; ++i)
          sizes->push_back(std::max<int64_t>(
              std::min<int64_t>(chunk, dim - i * chunk), 0));
      } else if (n > 0 && dim % n == 0) {
        sizes = SmallVector<int64_t>(n, dim / n);
      }
    }
    if (sizes && static_cast<int64_t>(sizes->size()) != n)
      return;
    for (int64_t i = 0; i < n; ++i) {
      Dims out = *xDims;
      out[*axis] = sizes ? (*sizes)[i] : kUnknown;
      infos[i].dims = out;
    }
  }

  std::optional<Dims> reduceDims(Operation *op, const pith::ONNX::OpSchema *schema,
                                 std::optional<Dims> xDims) {
    if (!xDims)
      return std::nullopt;
    int64_t rank = xDims->size();
    bool keepDims = intAttr(op, "keepdims", 1) != 0;
    std::optional<SmallVector<int64_t>> axes;
    bool axesGiven;
    if (hasAttribute(schema, "axes")) {
      axes = intsAttr(op, "axes");
      axesGiven = axes.has_value();
    } else {
      axesGiven = op->getNumOperands() > 1 && !isAbsent(op->getOperand(1));
      if (axesGiven)
        axes = ints(op->getOperand(1));
    }
    if (axesGiven && !axes) {
      // Which axes is not known.
      if (!keepDims)
        return std::nullopt;
      Dims out = *xDims;
      for (int64_t &d : out)
        d = d == 1 ? 1 : kUnknown;
      return out;
    }
    SmallVector<bool> reduced(rank, false);
    if (!axes || axes->empty()) {
      if (intAttr(op, "noop_with_empty_axes", 0))
        return xDims;
      reduced.assign(rank, true);
    } else {
      for (int64_t a : *axes) {
        std::optional<int64_t> axis = normalizeAxis(a, rank);
        if (!axis)
          return std::nullopt;
        reduced[*axis] = true;
      }
    }
    Dims out;
    for (int64_t i = 0; i < rank; ++i) {
      if (!reduced[i])
        out.push_back((*xDims)[i]);
      else if (keepDims)
        out.push_back(1);
    }
    return out;
  }

  std::optional<Dims> padDims(Operation *op, const pith::ONNX::OpSchema *schema,
                              std::optional<Dims> xDims) {
    if (!xDims)
      return std::nullopt;
    int64_t rank = xDims->size();
    std::optional<SmallVector<int64_t>> pads;
    if (hasAttribute(schema, "pads"))
      pads = intsAttr(op, "pads");
    else if (hasAttribute(schema, "paddings"))
      pads = intsAttr(op, "paddings");
    else if (op->getNumOperands() > 1)
      pads = ints(op->getOperand(1));
    SmallVector<int64_t> axes;
    if (op->getNumOperands() > 3 && !isAbsent(op->getOperand(3))) {
      std::optional<SmallVector<int64_t>> given = ints(op->getOperand(3));
      if (!given)
        return Dims(rank, kUnknown);
      for (int64_t a : *given) {
        std::optional<int64_t> axis = normalizeAxis(a, rank);
        if (!axis)
          return std::nullopt;
        axes.push_back(*axis);
      }
    } else {
      for (int64_t i = 0; i < rank; ++i)
        axes.push_back(i);
    }
    if (!pads)
      return Dims(rank, kUnknown);
    int64_t n = axes.size();
    if (static_cast<int64_t>(pads->size()) != 2 * n)
      return std::nullopt;
    Dims out = *xDims;
    for (int64_t j = 0; j < n; ++j) {
      int64_t &d = out[axes[j]];
      if (d == kUnknown)
        continue;
      d += (*pads)[j] + (*pads)[j + n];
      if (d < 0)
        return std::nullopt;
    }
    return out;
  }

  //===--------------------------------------------------------------------===//
  // Integer contents
  //===--------------------------------------------------------------------===//

  /// Elementwise `fn` over tracked values, broadcast (rank <= 1). An entry is
  /// unknown when any of its inputs is, or when `fn` gives nullopt.
  std::optional<Known>
  zip(ValueRange inputs,
      llvm::function_ref<std::optional<int64_t>(ArrayRef<int64_t>)> fn,
      bool unknownPropagates = true) {
    SmallVector<const Known *> ks;
    for (Value v : inputs) {
      const Known *k = lookup(v);
      if (!k)
        return std::nullopt;
      ks.push_back(k);
    }
    Known out;
    out.scalar = llvm::all_of(ks, [](const Known *k) { return k->scalar; });
    size_t length = 1;
    bool sawLength = false;
    for (const Known *k : ks) {
      size_t n = k->values.size();
      if (k->scalar || n == 1)
        continue;
      if (sawLength && n != length)
        return std::nullopt;
      length = n;
      sawLength = true;
    }
    for (size_t i = 0; i < length; ++i) {
      SmallVector<int64_t> args;
      bool unknown = false;
      for (const Known *k : ks) {
        int64_t v = k->values.size() == 1 ? k->values[0] : k->values[i];
        unknown |= v == kUnknown;
        args.push_back(v);
      }
      if (unknown && unknownPropagates) {
        out.values.push_back(kUnknown);
        continue;
      }
      out.values.push_back(fn(args).value_or(kUnknown));
    }
    return out;
  }

  /// Values of an integer result type: a value that does not fit becomes
  /// unknown.
  static std::optional<Known> fitTo(std::optional<Known> k, Type element) {
    auto integer = dyn_cast_or_null<IntegerType>(element);
    if (!k || !integer)
      return std::nullopt;
    unsigned width = integer.getWidth();
    for (int64_t &v : k->values) {
      if (v == kUnknown || width >= 64)
        continue;
      if (width == 1) {
        v = v != 0;
        continue;
      }
      bool fits = integer.isUnsigned() ? llvm::isUIntN(width, v)
                                       : llvm::isIntN(width, v);
      if (!fits)
        v = kUnknown;
    }
    return k;
  }

  std::optional<Known> inferValues(Operation *op, StringRef type,
                                   const pith::ONNX::OpSchema *schema) {
    auto operand = [&](unsigned i) -> Value {
      return i < op->getNumOperands() && !isAbsent(op->getOperand(i))
                 ? op->getOperand(i)
                 : Value();
    };
    Value x = operand(0);
    Value result = op->getResult(0);
    Type resultElement = elementOf(result);

    if (type == "Constant") {
      if (std::optional<int64_t> v = intAttr(op, "value_int"))
        return Known{true, {*v}};
      if (std::optional<SmallVector<int64_t>> v = intsAttr(op, "value_ints"))
        return Known{false, *v};
      return readInts(attrOf(op, "value"));
    }
    if (type == "Shape") {
      std::optional<Dims> dims = dimsOf(x);
      if (!dims)
        return std::nullopt;
      auto [start, end] = shapeRange(op, dims->size());
      Known k;
      for (int64_t i = start; i < end; ++i)
        k.values.push_back((*dims)[i]);
      return k;
    }
    if (type == "Size") {
      std::optional<Dims> dims = dimsOf(x);
      if (!dims)
        return std::nullopt;
      return Known{true, {product(*dims).value_or(kUnknown)}};
    }
    if (type == "Identity") {
      if (const Known *k = lookup(x))
        return *k;
      return std::nullopt;
    }
    if (type == "Cast" || type == "CastLike") {
      const Known *k = lookup(x);
      Type from = elementOf(x);
      if (!k || !isa_and_nonnull<IntegerType>(from))
        return std::nullopt;
      return fitTo(*k, resultElement);
    }
    if (type == "Gather") {
      const Known *data = lookup(x);
      const Known *indices = lookup(operand(1));
      if (!data || !indices || data->scalar)
        return std::nullopt;
      int64_t axis = intAttr(op, "axis", 0);
      if (axis != 0 && axis != -1)
        return std::nullopt;
      int64_t n = data->values.size();
      Known out;
      out.scalar = indices->scalar;
      for (int64_t i : indices->values) {
        if (i == kUnknown) {
          out.values.push_back(kUnknown);
          continue;
        }
        if (i < -n || i >= n)
          return std::nullopt;
        out.values.push_back(data->values[i < 0 ? i + n : i]);
      }
      return out;
    }
    if (type == "Concat") {
      int64_t axis = intAttr(op, "axis", 1);
      if (axis != 0 && axis != -1)
        return std::nullopt;
      Known out;
      for (Value v : op->getOperands()) {
        const Known *k = lookup(v);
        if (!k || k->scalar)
          return std::nullopt;
        out.values.append(k->values);
      }
      return out;
    }
    if (type == "Unsqueeze") {
      const Known *k = lookup(x);
      auto ranked = dyn_cast<RankedTensorType>(result.getType());
      if (!k || !k->scalar || !ranked || ranked.getRank() != 1)
        return std::nullopt;
      return Known{false, k->values};
    }
    if (type == "Squeeze" || type == "Reshape" || type == "Flatten") {
      const Known *k = lookup(x);
      auto ranked = dyn_cast<RankedTensorType>(result.getType());
      if (!k || !ranked || ranked.getRank() > 1 ||
          !ranked.hasStaticShape() ||
          ranked.getNumElements() != static_cast<int64_t>(k->values.size()))
        return std::nullopt;
      return Known{ranked.getRank() == 0, k->values};
    }
    if (type == "Expand") {
      const Known *k = lookup(x);
      auto ranked = dyn_cast<RankedTensorType>(result.getType());
      if (!k || !ranked || ranked.getRank() > 1 || !ranked.hasStaticShape())
        return std::nullopt;
      int64_t n = ranked.getNumElements();
      if (k->values.size() == 1)
        return Known{ranked.getRank() == 0, SmallVector<int64_t>(n, k->values[0])};
      if (static_cast<int64_t>(k->values.size()) == n)
        return Known{false, k->values};
      return std::nullopt;
    }
    if (type == "Slice") {
      const Known *k = lookup(x);
      if (!k || k->scalar)
        return std::nullopt;
      std::optional<SmallVector<int64_t>> starts, ends, axes, steps;
      if (hasAttribute(schema, "starts")) {
        starts = intsAttr(op, "starts");
        ends = intsAttr(op, "ends");
        axes = intsAttr(op, "axes");
      } else {
        starts = ints(operand(1));
        ends = ints(operand(2));
        if (operand(3) && !(axes = ints(operand(3))))
          return std::nullopt;
        if (operand(4) && !(steps = ints(operand(4))))
          return std::nullopt;
      }
      if (!starts || !ends || starts->size() != 1 || ends->size() != 1)
        return std::nullopt;
      if (axes && (axes->size() != 1 || ((*axes)[0] != 0 && (*axes)[0] != -1)))
        return std::nullopt;
      int64_t step = steps ? (steps->size() == 1 ? (*steps)[0] : 0) : 1;
      int64_t n = k->values.size();
      std::optional<int64_t> size =
          sliceSize(n, (*starts)[0], (*ends)[0], step);
      if (!size)
        return std::nullopt;
      int64_t start = (*starts)[0];
      if (start < 0)
        start += n;
      start = step > 0 ? std::clamp<int64_t>(start, 0, n)
                       : std::clamp<int64_t>(start, 0, n - 1);
      Known out;
      for (int64_t i = 0; i < *size; ++i)
        out.values.push_back(k->values[start + i * step]);
      return out;
    }
    if (type == "Range") {
      if (!isa_and_nonnull<IntegerType>(resultElement))
        return std::nullopt;
      std::optional<int64_t> start = scalarInt(operand(0));
      std::optional<int64_t> limit = scalarInt(operand(1));
      std::optional<int64_t> delta = scalarInt(operand(2));
      if (!start || !limit || !delta || *delta == 0)
        return std::nullopt;
      Known out;
      for (int64_t v = *start; *delta > 0 ? v < *limit : v > *limit;
           v += *delta) {
        if (out.values.size() >= kMaxTracked)
          return std::nullopt;
        out.values.push_back(v);
      }
      return out;
    }
    if (type == "ConstantOfShape") {
      std::optional<SmallVector<int64_t>> shape = ints(x);
      std::optional<Known> fill = readInts(attrOf(op, "value"));
      if (!shape || shape->size() > 1)
        return std::nullopt;
      if (!attrOf(op, "value"))
        fill = Known{false, {0}};
      if (!fill || fill->values.size() != 1)
        return std::nullopt;
      int64_t n = shape->empty() ? 1 : (*shape)[0];
      if (n < 0 || n > static_cast<int64_t>(kMaxTracked))
        return std::nullopt;
      return Known{shape->empty(), SmallVector<int64_t>(n, fill->values[0])};
    }
    if (type == "Neg" || type == "Abs") {
      bool neg = type == "Neg";
      return fitTo(zip({x},
                       [&](ArrayRef<int64_t> a) -> std::optional<int64_t> {
                         if (a[0] == INT64_MIN)
                           return std::nullopt;
                         return neg || a[0] < 0 ? -a[0] : a[0];
                       }),
                   resultElement);
    }
    if (type == "Not")
      return zip({x}, [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        return a[0] == 0;
      });
    if (hasAttribute(schema, "broadcast"))
      return std::nullopt; // legacy broadcasting: not tracked
    if (type == "Add" || type == "Sub" || type == "Mul" || type == "Div" ||
        type == "Mod" || type == "Max" || type == "Min" || type == "Sum") {
      if (!isa_and_nonnull<IntegerType>(resultElement))
        return std::nullopt;
      auto fn = [&](ArrayRef<int64_t> a) -> std::optional<int64_t> {
        int64_t r = a[0];
        for (int64_t b : a.drop_front()) {
          if (type == "Add" || type == "Sum") {
            if (llvm::AddOverflow(r, b, r))
              return std::nullopt;
          } else if (type == "Sub") {
            if (llvm::SubOverflow(r, b, r))
              return std::nullopt;
          } else if (type == "Mul") {
            if (llvm::MulOverflow(r, b, r))
              return std::nullopt;
          } else if (type == "Div") {
            // C division; leave signs that numpy would floor alone.
            if (b == 0 || (r == INT64_MIN && b == -1) ||
                ((r < 0) != (b < 0) && r % b != 0))
              return std::nullopt;
            r /= b;
          } else if (type == "Mod") {
            if (b == 0 || r < 0 || b < 0 || intAttr(op, "fmod", 0))
              return std::nullopt;
            r %= b;
          } else if (type == "Max") {
            r = std::max(r, b);
          } else {
            r = std::min(r, b);
          }
        }
        return r;
      };
      return fitTo(zip(op->getOperands(), fn), resultElement);
    }
    if (type == "Equal" || type == "Less" || type == "Greater" ||
        type == "LessOrEqual" || type == "GreaterOrEqual") {
      if (!isa_and_nonnull<IntegerType>(elementOf(x)))
        return std::nullopt;
      return zip(op->getOperands(),
                 [&](ArrayRef<int64_t> a) -> std::optional<int64_t> {
                   if (type == "Equal")
                     return a[0] == a[1];
                   if (type == "Less")
                     return a[0] < a[1];
                   if (type == "Greater")
                     return a[0] > a[1];
                   if (type == "LessOrEqual")
                     return a[0] <= a[1];
                   return a[0] >= a[1];
                 });
    }
    if (type == "And" || type == "Or" || type == "Xor")
      return zip(op->getOperands(),
                 [&](ArrayRef<int64_t> a) -> std::optional<int64_t> {
                   bool p = a[0] != 0, q = a[1] != 0;
                   return type == "And" ? (p && q) : type == "Or" ? (p || q)
                                                                  : (p != q);
                 });
    if (type == "Where")
      return zip(
          op->getOperands(),
          [](ArrayRef<int64_t> a) -> std::optional<int64_t> {
            if (a[0] == kUnknown)
              return std::nullopt;
            int64_t chosen = a[0] ? a[1] : a[2];
            return chosen == kUnknown ? std::nullopt
                                      : std::optional<int64_t>(chosen);
          },
          /*unknownPropagates=*/false);
    if (type == "ReduceProd" || type == "ReduceSum" || type == "ReduceMax" ||
        type == "ReduceMin") {
      const Known *k = lookup(x);
      auto ranked = dyn_cast<RankedTensorType>(result.getType());
      if (!k || !ranked || ranked.getRank() > 1 || k->values.empty() ||
          !ranked.hasStaticShape() || ranked.getNumElements() != 1 ||
          !k->complete())
        return std::nullopt;
      // Reducing a rank <= 1 tensor to one element reduces all of it.
      int64_t r = type == "ReduceSum" ? 0 : type == "ReduceProd" ? 1
                                                                 : k->values[0];
      for (int64_t v : k->values) {
        if (type == "ReduceSum" ? llvm::AddOverflow(r, v, r)
            : type == "ReduceProd" ? llvm::MulOverflow(r, v, r)
                                   : false)
          return std::nullopt;
        if (type == "ReduceMax")
          r = std::max(r, v);
        else if (type == "ReduceMin")
          r = std::min(r, v);
      }
      return fitTo(Known{ranked.getRank() == 0, {r}}, resultElement);
    }
    return std::nullopt;
  }
};

struct RefineShapesPass
    : public pith::impl::RefineShapesPassBase<RefineShapesPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      Refiner(&getContext()).run(func);
  }
};
} // namespace

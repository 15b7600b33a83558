//===- ShapeValues.cpp - Integer contents of shape tensors ----------------===//
//
// The integer contents of small tensors of rank 0 or 1 (shapes, axes,
// indices), for pith-refine-shapes: from constants, initializers and
// Shape/Size of ranked tensors, through the ops that compute shapes (Gather,
// Concat, Unsqueeze, Slice, Cast, arithmetic, ...). An entry may be unknown
// (ShapedType::kDynamic): Shape of a tensor with a dynamic dimension still
// knows the others. Also the helpers for reading types and attributes and
// the shape arithmetic shared with the shape rules (ShapeRules.cpp).
//
//===----------------------------------------------------------------------===//

#include "ShapeValues.h"

#include "ONNX/ONNXOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

using namespace mlir;

namespace pith::shapes {

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

//===----------------------------------------------------------------------===//
// Tracked values
//===----------------------------------------------------------------------===//

const Known *ShapeValues::lookup(Value v) const {
  if (isAbsent(v))
    return nullptr;
  auto it = known.find(v);
  return it == known.end() ? nullptr : &it->second;
}

/// The entries of a tracked value, all of them known.
std::optional<SmallVector<int64_t>> ShapeValues::ints(Value v) const {
  const Known *k = lookup(v);
  if (!k || !k->complete())
    return std::nullopt;
  return k->values;
}

std::optional<int64_t> ShapeValues::scalarInt(Value v) const {
  std::optional<SmallVector<int64_t>> values = ints(v);
  if (!values || values->size() != 1)
    return std::nullopt;
  return values->front();
}

/// A constant scalar (float or integer) as a double.
std::optional<double> ShapeValues::scalarNumber(Value v) const {
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
void ShapeValues::record(Value v, std::optional<Known> k) {
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

//===----------------------------------------------------------------------===//
// Integer contents
//===----------------------------------------------------------------------===//

/// Elementwise `fn` over tracked values, broadcast (rank <= 1). An entry is
/// unknown when any of its inputs is, or when `fn` gives nullopt.
std::optional<Known> ShapeValues::zip(
    ValueRange inputs,
    llvm::function_ref<std::optional<int64_t>(ArrayRef<int64_t>)> fn,
    bool unknownPropagates) {
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
std::optional<Known> ShapeValues::fitTo(std::optional<Known> k, Type element) {
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

std::optional<Known>
ShapeValues::inferValues(Operation *op, StringRef type,
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

} // namespace pith::shapes

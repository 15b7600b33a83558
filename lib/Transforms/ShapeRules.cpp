//===- ShapeRules.cpp - Result shapes of ONNX ops -------------------------===//
//
// The per-operator shape rules of pith-refine-shapes: for each ONNX op type,
// the element type and dimensions of each result (elementwise, broadcasting,
// Reshape to a known shape, MatMul, Transpose, Slice, Split, reductions,
// Pad, ...) from the operands' types and, where a shape is computed, from the
// tracked integer contents of shape tensors (ShapeValues.h). Dimensions not
// known are kUnknown; a rule that knows nothing leaves its entry empty.
//
//===----------------------------------------------------------------------===//

#include "ShapeRules.h"

#include "ONNX/ONNXOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringSet.h"

#include <optional>

using namespace mlir;
using namespace pith::shapes;

namespace {

//===----------------------------------------------------------------------===//
// Op families
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

//===----------------------------------------------------------------------===//
// The rules
//===----------------------------------------------------------------------===//

class ShapeRules {
public:
  ShapeRules(MLIRContext *ctx, const ShapeValues &values)
      : ctx(ctx), values(values) {}

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
      } else if (const Known *k = values.lookup(operand(1))) {
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
      const Known *k = values.lookup(operand(1));
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
      if (const Known *k = values.lookup(x))
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
      const Known *repeats = values.lookup(operand(1));
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
      std::optional<double> start = values.scalarNumber(operand(0));
      std::optional<double> limit = values.scalarNumber(operand(1));
      std::optional<double> delta = values.scalarNumber(operand(2));
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
          hasAttribute(schema, "axes") ? intsAttr(op, "axes")
                                       : values.ints(operand(1));
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
          axes = values.ints(operand(1));
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
                                     : values.scalarInt(operand(1));
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
      starts = values.ints(operand(1));
      ends = values.ints(operand(2));
      axesGiven = static_cast<bool>(operand(3));
      stepsGiven = static_cast<bool>(operand(4));
      if (axesGiven)
        axes = values.ints(operand(3));
      if (stepsGiven)
        steps = values.ints(operand(4));
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
      sizes = values.ints(op->getOperand(1));
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
        axes = values.ints(op->getOperand(1));
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
      pads = values.ints(op->getOperand(1));
    SmallVector<int64_t> axes;
    if (op->getNumOperands() > 3 && !isAbsent(op->getOperand(3))) {
      std::optional<SmallVector<int64_t>> given = values.ints(op->getOperand(3));
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

private:
  MLIRContext *ctx;
  const ShapeValues &values;

  TypeInfo same(Value v) const { return {elementOf(v), dimsOf(v)}; }
};
} // namespace

SmallVector<TypeInfo>
pith::shapes::inferTypes(Operation *op, StringRef type,
                         const pith::ONNX::OpSchema *schema,
                         const ShapeValues &values) {
  return ShapeRules(op->getContext(), values).inferTypes(op, type, schema);
}

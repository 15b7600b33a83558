//===- PithDialect.cpp - The pith dialect: registration, verifiers --------===//
//
// The verifiers carry the dialect's promises: a parameter's data has its
// type and satisfies its sparsity pattern, a use names a parameter of its
// type, a factored linear map's factors chain, a precision is a real
// narrowing.
//
//===----------------------------------------------------------------------===//

#include "Pith/PithDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cstring>

using namespace mlir;
using namespace pith::dialect;

#include "Pith/PithDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "Pith/PithAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "Pith/PithOps.cpp.inc"

void PithDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "Pith/PithAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "Pith/PithOps.cpp.inc"
      >();
}

LogicalResult PithDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  if (attr.getName() == kPrecisionAttrName) {
    if (!isa<PrecisionAttr>(attr.getValue()))
      return op->emitError() << "'" << kPrecisionAttrName
                             << "' must be a #pith.precision attribute";
    return success();
  }
  if (attr.getName() == kBackwardAttrName) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "'" << kBackwardAttrName << "' is a unit attribute";
    return success();
  }
  if (attr.getName() == kRecomputeAttrName) {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitError() << "'" << kRecomputeAttrName
                             << "' must name the recomputed node (a string)";
    if (!op->hasAttr(kBackwardAttrName))
      return op->emitError() << "a recomputed op ('" << kRecomputeAttrName
                             << "') belongs to the backward pass ('" << kBackwardAttrName
                             << "')";
    return success();
  }
  // Other pith.* attributes are the code generator's own annotations
  // (pith.weight, pith.kernel, pith.arena_bytes, ...): not part of the IR
  // transforms exchange.
  return success();
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

std::optional<std::pair<int64_t, int64_t>> SparsityAttr::getNM() const {
  int64_t n, m;
  StringRef pattern = getPattern();
  auto [first, second] = pattern.split(':');
  if (second.empty() || first.getAsInteger(10, n) || second.getAsInteger(10, m))
    return std::nullopt;
  return std::make_pair(n, m);
}

std::optional<std::pair<int64_t, int64_t>> SparsityAttr::getBlock() const {
  StringRef pattern = getPattern();
  if (!pattern.consume_front("block"))
    return std::nullopt;
  int64_t rows, cols;
  auto [first, second] = pattern.split('x');
  if (second.empty() || first.getAsInteger(10, rows) || second.getAsInteger(10, cols))
    return std::nullopt;
  return std::make_pair(rows, cols);
}

LogicalResult SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef pattern, int64_t axis, FloatAttr fraction) {
  if (!fraction)
    return emitError() << "sparsity needs a fraction";
  double f = fraction.getValueAsDouble();
  if (!(f >= 0.0 && f <= 1.0))
    return emitError() << "sparsity fraction must lie in [0, 1], got " << f;
  if (axis < 0)
    return emitError() << "sparsity axis must be non-negative, got " << axis;
  int64_t a, b;
  auto [first, second] = pattern.split(':');
  if (!second.empty()) {
    if (first.getAsInteger(10, a) || second.getAsInteger(10, b) || a < 0 || b <= 0 || a > b)
      return emitError() << "an N:M pattern needs 0 <= N <= M, got '" << pattern << "'";
    return success();
  }
  StringRef block = pattern;
  if (block.consume_front("block")) {
    auto [rows, cols] = block.split('x');
    if (cols.empty() || rows.getAsInteger(10, a) || cols.getAsInteger(10, b) || a <= 0 ||
        b <= 0)
      return emitError() << "a block pattern reads 'blockRxC' with R, C > 0, got '"
                         << pattern << "'";
    return success();
  }
  if (pattern != "unstructured")
    return emitError() << "unknown sparsity pattern '" << pattern
                       << "' (expected 'N:M', 'blockRxC' or 'unstructured')";
  return success();
}

LogicalResult PrecisionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                    Type compute, Type accumulate) {
  auto computeType = dyn_cast<FloatType>(compute);
  auto accumulateType = dyn_cast<FloatType>(accumulate);
  if (!computeType || !accumulateType)
    return emitError() << "precision types must be floats, got " << compute << " and "
                       << accumulate;
  if (accumulateType.getWidth() < computeType.getWidth())
    return emitError() << "accumulating in " << accumulate
                       << " loses precision computed in " << compute;
  return success();
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

namespace {
/// The raw bytes of a weight's data: a resource blob or a dense attribute's
/// buffer (nullopt for a splat, which has no per-element storage).
std::optional<ArrayRef<char>> rawData(ElementsAttr value) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
    return std::nullopt;
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(value); dense && !dense.isSplat())
    return dense.getRawData();
  return std::nullopt;
}

/// Whether element `index` is zero (either sign), by its bits.
bool isZeroAt(ArrayRef<char> data, int64_t width, int64_t index) {
  uint64_t bits = 0;
  std::memcpy(&bits, data.data() + index * width, width);
  uint64_t sign = uint64_t(1) << (width * 8 - 1);
  return (bits & ~sign) == 0;
}

/// Checks the weight (row-major, `shape`; `isZero(i)` tells whether element
/// i is zero) against the pattern; an error message naming the first
/// violation, or empty.
std::string patternViolation(SparsityAttr sparsity, ArrayRef<int64_t> shape,
                             llvm::function_ref<bool(int64_t)> isZero) {
  int64_t axis = sparsity.getAxis();
  if (axis >= static_cast<int64_t>(shape.size()))
    return "sparsity axis " + std::to_string(axis) + " is out of range for rank " +
           std::to_string(shape.size());
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  // The weight as outer x axis x inner, groups running along the axis.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t length = shape[axis];
  if (auto nm = sparsity.getNM()) {
    auto [n, m] = *nm;
    if (length % m != 0)
      return "a " + sparsity.getPattern().str() + " pattern needs dimension " +
             std::to_string(axis) + " (" + std::to_string(length) +
             ") to be a multiple of " + std::to_string(m);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i)
        for (int64_t g = 0; g < length; g += m) {
          int64_t nonzeros = 0;
          for (int64_t e = g; e < g + m; ++e)
            nonzeros += !isZero((o * length + e) * inner + i);
          if (nonzeros > n)
            return "the group of " + std::to_string(m) + " starting at element " +
                   std::to_string((o * length + g) * inner + i) + " along axis " +
                   std::to_string(axis) + " has " + std::to_string(nonzeros) +
                   " nonzeros, more than " + std::to_string(n);
        }
    return "";
  }
  double wanted = sparsity.getFraction().getValueAsDouble();
  if (auto block = sparsity.getBlock()) {
    auto [rows, cols] = *block;
    // Rows: the dimensions up to and including the axis; columns: the rest.
    int64_t height = outer * length, widthCols = inner;
    if (height % rows != 0 || widthCols % cols != 0)
      return "a " + sparsity.getPattern().str() + " pattern needs the " +
             std::to_string(height) + " x " + std::to_string(widthCols) +
             " matrix to divide into blocks";
    int64_t zeroBlocks = 0, blocks = 0;
    for (int64_t r = 0; r < height; r += rows)
      for (int64_t c = 0; c < widthCols; c += cols, ++blocks) {
        bool zero = true;
        for (int64_t i = r; i < r + rows && zero; ++i)
          for (int64_t j = c; j < c + cols && zero; ++j)
            zero = isZero(i * widthCols + j);
        zeroBlocks += zero;
      }
    if (zeroBlocks < wanted * blocks)
      return std::to_string(zeroBlocks) + " of " + std::to_string(blocks) +
             " blocks are zero, fewer than the fraction " + std::to_string(wanted);
    return "";
  }
  int64_t zeros = 0;
  for (int64_t e = 0; e < total; ++e)
    zeros += isZero(e);
  if (zeros < wanted * total)
    return std::to_string(zeros) + " of " + std::to_string(total) +
           " elements are zero, fewer than the fraction " + std::to_string(wanted);
  return "";
}
} // namespace

LogicalResult ParameterOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getType());
  if (!type || !type.hasStaticShape())
    return emitOpError("needs a statically shaped tensor type, got ") << getType();
  if (getValue().getType() != type)
    return emitOpError("value of type ")
           << getValue().getType() << " does not match the parameter type " << type;
  SparsityAttr sparsity = getSparsityAttr();
  if (!sparsity)
    return success();
  if (!isa<FloatType>(type.getElementType()))
    return emitOpError("sparsity applies to float weights, got ") << type;
  std::optional<ArrayRef<char>> data = rawData(getValue());
  int64_t width = type.getElementTypeBitWidth() / 8;
  std::string violation;
  if (data) {
    if (static_cast<int64_t>(data->size()) != type.getNumElements() * width)
      return emitOpError("data holds ") << data->size() << " bytes, the type needs "
                                        << type.getNumElements() * width;
    violation = patternViolation(sparsity, type.getShape(), [&](int64_t index) {
      return isZeroAt(*data, width, index);
    });
  } else if (auto dense = dyn_cast<DenseElementsAttr>(getValue())) {
    // A splat: every element is zero, or none is.
    bool zero = dense.getSplatValue<APFloat>().isZero();
    violation = patternViolation(sparsity, type.getShape(), [&](int64_t) { return zero; });
  }
  // Otherwise the data was elided: nothing to check it against.
  if (!violation.empty())
    return emitOpError("does not satisfy its sparsity pattern: ") << violation;
  return success();
}

LogicalResult UseOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto parameter =
      symbolTable.lookupNearestSymbolFrom<ParameterOp>(*this, getParameterAttr());
  if (!parameter)
    return emitOpError("names no pith.parameter '") << getParameter() << "'";
  if (parameter.getType() != getType())
    return emitOpError("has type ") << getType() << " but parameter '" << getParameter()
                                    << "' is " << parameter.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Factored linear maps and checkpoints
//===----------------------------------------------------------------------===//

LogicalResult FactoredLinearOp::verify() {
  auto left = getLeft().getType(), right = getRight().getType();
  auto compatible = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  if (left.getRank() != 2 || right.getRank() != 2)
    return emitOpError("needs 2-D factors");
  if (!compatible(left.getDimSize(1), right.getDimSize(0)))
    return emitOpError("U's columns ") << left.getDimSize(1)
                                       << " do not match V's rows (the rank) "
                                       << right.getDimSize(0);
  auto input = dyn_cast<RankedTensorType>(getInput().getType());
  auto result = dyn_cast<RankedTensorType>(getResult().getType());
  if (input && input.getRank() < 1)
    return emitOpError("needs an input of rank >= 1");
  if (input && !compatible(input.getDimSize(input.getRank() - 1), left.getDimSize(0)))
    return emitOpError("input's last dimension ")
           << input.getDimSize(input.getRank() - 1) << " does not match U's rows "
           << left.getDimSize(0);
  if (result && (result.getRank() < 1 ||
                 !compatible(result.getDimSize(result.getRank() - 1), right.getDimSize(1))))
    return emitOpError("result type ") << result << " does not match V's columns "
                                       << right.getDimSize(1);
  if (input && result) {
    if (result.getRank() != input.getRank())
      return emitOpError("result rank ") << result.getRank() << " differs from the input's";
    for (int64_t d = 0; d + 1 < input.getRank(); ++d)
      if (!compatible(input.getDimSize(d), result.getDimSize(d)))
        return emitOpError("result dimension ") << d << " differs from the input's";
  }
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || !compatible(biasType.getDimSize(0), right.getDimSize(1)))
      return emitOpError("bias must be 1-D with V's ") << right.getDimSize(1) << " columns";
  }
  Type element = cast<TensorType>(getInput().getType()).getElementType();
  for (Type t : {left.getElementType(), right.getElementType(),
                 cast<TensorType>(getResult().getType()).getElementType()})
    if (t != element)
      return emitOpError("operands and result must share one element type");
  return success();
}

LogicalResult CheckpointOp::verify() {
  if (getPolicy() != "recompute" && getPolicy() != "save")
    return emitOpError("policy must be 'recompute' or 'save', got '") << getPolicy() << "'";
  return success();
}

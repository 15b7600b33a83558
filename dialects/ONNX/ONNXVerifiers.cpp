//===- ONNXVerifiers.cpp - Semantic checks of ONNX operators --------------===//
//
// ODS checks arity and attribute kinds; these check what ONNX's operator
// specifications add (ranks, axis ranges, permutations, subgraph arities),
// wherever the types are known well enough to tell. Keyed by ONNX op type, so
// one check covers every opset version of an operator.
//
//===----------------------------------------------------------------------===//

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"

#include "llvm/ADT/StringMap.h"
#include <functional>
#include <optional>

using namespace mlir;
using namespace pith::ONNX;

namespace {
using Check = std::function<LogicalResult(Operation *)>;

std::optional<int64_t> rankOf(Value value) {
  if (auto ranked = llvm::dyn_cast<RankedTensorType>(value.getType()))
    return ranked.getRank();
  return std::nullopt;
}

template <typename AttrT> AttrT attr(Operation *op, StringRef name) {
  return llvm::dyn_cast_or_null<AttrT>(op->getAttrDictionary().get(name));
}

/// Operand 0's rank, if the op has one and it is ranked.
std::optional<int64_t> inputRank(Operation *op) {
  if (op->getNumOperands() == 0)
    return std::nullopt;
  return rankOf(op->getOperand(0));
}

/// `axis` within [-rank, rank + extra).
LogicalResult checkAxis(Operation *op, int64_t extra = 0) {
  auto axis = attr<IntegerAttr>(op, "axis");
  std::optional<int64_t> rank = inputRank(op);
  if (!axis || !rank)
    return success();
  int64_t value = axis.getInt();
  if (value < -*rank - extra || value >= *rank + extra)
    return op->emitOpError() << "axis " << value
                             << " is out of range for rank " << *rank;
  return success();
}

LogicalResult checkGemm(Operation *op) {
  for (unsigned i = 0; i < 2; ++i)
    if (std::optional<int64_t> rank = rankOf(op->getOperand(i)); rank && *rank != 2)
      return op->emitOpError() << "operand " << i << " must be a matrix, has rank "
                               << *rank;
  if (op->getNumOperands() > 2)
    if (std::optional<int64_t> rank = rankOf(op->getOperand(2)); rank && *rank > 2)
      return op->emitOpError() << "C must have rank <= 2, has rank " << *rank;
  return success();
}

LogicalResult checkMatMul(Operation *op) {
  for (Value operand : op->getOperands())
    if (std::optional<int64_t> rank = rankOf(operand); rank && *rank == 0)
      return op->emitOpError("operands must have rank >= 1");
  return success();
}

/// Conv, ConvTranspose and pooling: per-spatial-axis attribute lengths.
LogicalResult checkWindowed(Operation *op) {
  std::optional<int64_t> rank = inputRank(op);
  if (!rank)
    return success();
  if (*rank < 3)
    return op->emitOpError() << "input must have rank >= 3 (N, C, spatial...), has "
                             << *rank;
  int64_t spatial = *rank - 2;
  for (StringRef name : {"kernel_shape", "strides", "dilations", "output_padding"})
    if (auto values = attr<DenseI64ArrayAttr>(op, name);
        values && values.size() != spatial)
      return op->emitOpError() << "'" << name << "' has " << values.size()
                               << " values, expected " << spatial;
  if (auto pads = attr<DenseI64ArrayAttr>(op, "pads");
      pads && pads.size() != 2 * spatial)
    return op->emitOpError() << "'pads' has " << pads.size() << " values, expected "
                             << 2 * spatial;
  return success();
}

/// Convolutions: window attributes, and a weight of the input's rank.
LogicalResult checkConv(Operation *op, unsigned weightIndex) {
  if (failed(checkWindowed(op)))
    return failure();
  std::optional<int64_t> x = rankOf(op->getOperand(0));
  std::optional<int64_t> w = rankOf(op->getOperand(weightIndex));
  if (x && w && *x != *w)
    return op->emitOpError() << "weight rank " << *w << " differs from input rank "
                             << *x;
  return success();
}

LogicalResult checkTranspose(Operation *op) {
  auto perm = attr<DenseI64ArrayAttr>(op, "perm");
  if (!perm)
    return success();
  std::vector<bool> seen(perm.size(), false);
  for (int64_t axis : perm.asArrayRef()) {
    if (axis < 0 || axis >= static_cast<int64_t>(perm.size()) || seen[axis])
      return op->emitOpError("'perm' must be a permutation of 0..rank-1");
    seen[axis] = true;
  }
  if (std::optional<int64_t> rank = inputRank(op);
      rank && *rank != static_cast<int64_t>(perm.size()))
    return op->emitOpError() << "'perm' has " << perm.size()
                             << " entries for an input of rank " << *rank;
  return success();
}

LogicalResult checkConcat(Operation *op) {
  std::optional<int64_t> first;
  for (Value operand : op->getOperands()) {
    std::optional<int64_t> rank = rankOf(operand);
    if (rank && first && *rank != *first)
      return op->emitOpError("all inputs must have the same rank");
    if (rank)
      first = rank;
  }
  return checkAxis(op);
}

LogicalResult checkCast(Operation *op) {
  auto to = attr<IntegerAttr>(op, "to");
  // TensorProto.DataType: 0 is UNDEFINED.
  if (to && (to.getInt() < 1 || to.getInt() > maxDataType()))
    return op->emitOpError() << "'to' = " << to.getInt()
                             << " is not an ONNX data type";
  return success();
}

LogicalResult checkConstant(Operation *op) {
  int present = 0;
  for (StringRef name : {"value", "sparse_value", "value_float", "value_floats",
                         "value_int", "value_ints", "value_string",
                         "value_strings"})
    present += op->getAttrDictionary().contains(name);
  if (present != 1)
    return op->emitOpError() << "must have exactly one value attribute, has "
                             << present;
  return success();
}

unsigned yieldCount(Region &region) {
  return region.empty() ? 0 : region.front().getTerminator()->getNumOperands();
}

LogicalResult checkIf(Operation *op) {
  for (Region &branch : op->getRegions())
    if (!branch.empty() && yieldCount(branch) != op->getNumResults())
      return op->emitOpError() << "branch yields " << yieldCount(branch)
                               << " values for " << op->getNumResults()
                               << " results";
  return success();
}

/// Loop(M, cond, v_initial...) with body(iter, cond, v...) -> (cond, v..., scans...).
LogicalResult checkLoop(Operation *op) {
  Region &body = op->getRegion(0);
  if (body.empty())
    return success();
  unsigned carried = op->getNumOperands() - 2;
  if (body.getNumArguments() != carried + 2)
    return op->emitOpError() << "body takes " << body.getNumArguments()
                             << " inputs, expected 2 + " << carried;
  unsigned yielded = yieldCount(body);
  if (yielded < carried + 1 || yielded - 1 != op->getNumResults())
    return op->emitOpError() << "body yields " << yielded
                             << " values, expected 1 + " << op->getNumResults();
  return success();
}

const llvm::StringMap<Check> &checks() {
  static const llvm::StringMap<Check> table = [] {
    llvm::StringMap<Check> t;
    t["Gemm"] = checkGemm;
    t["MatMul"] = checkMatMul;
    t["MatMulInteger"] = checkMatMul;
    for (StringRef name : {"Conv", "ConvTranspose", "ConvInteger"})
      t[name] = [](Operation *op) { return checkConv(op, 1); };
    // QLinearConv(x, x_scale, x_zero_point, w, ...).
    t["QLinearConv"] = [](Operation *op) { return checkConv(op, 3); };
    for (StringRef name : {"MaxPool", "AveragePool", "LpPool"})
      t[name] = checkWindowed;
    t["Transpose"] = checkTranspose;
    t["Concat"] = checkConcat;
    t["Cast"] = checkCast;
    t["Constant"] = checkConstant;
    t["If"] = checkIf;
    t["Loop"] = checkLoop;
    for (StringRef name : {"Softmax", "LogSoftmax", "Hardmax", "Gather",
                           "GatherElements", "Split", "ArgMax", "ArgMin",
                           "CumSum", "LayerNormalization", "TopK"})
      t[name] = [](Operation *op) { return checkAxis(op); };
    // Flatten's axis may equal the rank.
    t["Flatten"] = [](Operation *op) { return checkAxis(op, /*extra=*/1); };
    return t;
  }();
  return table;
}
/// Operands an operator's specification types with one type parameter T
/// (all of them where empty): a MatMul of f32 by f64 is not ONNX.
const llvm::StringMap<SmallVector<unsigned>> &sameTypeOperands() {
  static const llvm::StringMap<SmallVector<unsigned>> table = [] {
    llvm::StringMap<SmallVector<unsigned>> t;
    for (StringRef name : {"MatMul", "Add", "Sub", "Mul", "Div", "PRelu", "Equal", "Less",
                           "Greater", "LessOrEqual", "GreaterOrEqual"})
      t[name] = {0, 1};
    for (StringRef name : {"Gemm", "Conv", "ConvTranspose", "LayerNormalization"})
      t[name] = {0, 1, 2};
    for (StringRef name : {"Max", "Min", "Sum", "Mean", "Concat"})
      t[name] = {};
    t["Where"] = {1, 2};
    return t;
  }();
  return table;
}

/// The element type of a present, typed tensor operand (null otherwise).
Type elementTypeOf(Value value) {
  auto shaped = llvm::dyn_cast<ShapedType>(value.getType());
  return shaped ? shaped.getElementType() : Type();
}

LogicalResult checkSameElementType(Operation *op, StringRef onnxOpType) {
  auto it = sameTypeOperands().find(onnxOpType);
  if (it == sameTypeOperands().end())
    return success();
  SmallVector<unsigned> indices(it->second);
  if (indices.empty())
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      indices.push_back(i);
  std::optional<unsigned> first;
  for (unsigned i : indices) {
    if (i >= op->getNumOperands())
      continue;
    Type type = elementTypeOf(op->getOperand(i));
    if (!type)
      continue;
    if (!first) {
      first = i;
      continue;
    }
    Type expected = elementTypeOf(op->getOperand(*first));
    if (type != expected)
      return op->emitOpError() << "operand " << i << " has element type " << type
                               << " but operand " << *first << " has " << expected << ": "
                               << onnxOpType << " takes one type for both";
  }
  return success();
}
} // namespace

LogicalResult pith::ONNX::verifyOperatorSemantics(Operation *op,
                                                  StringRef onnxOpType) {
  if (failed(checkSameElementType(op, onnxOpType)))
    return failure();
  auto it = checks().find(onnxOpType);
  return it == checks().end() ? success() : it->second(op);
}

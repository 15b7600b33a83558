//===- CostModel.cpp - Parameters, bytes, FLOPs and activations -----------===//
//
// Counting rules (docs/cost-model.md):
//  - a weight (onnx.Initializer, pith.parameter) counts once, in the layer
//    of its first user, however many nodes read it;
//  - contractions count multiply-accumulates exactly and 2 FLOPs per MAC,
//    plus one per element for a bias;
//  - elementwise nodes count one FLOP per result element; reductions and
//    pooling one per element they read; Softmax 5 and LayerNormalization 8
//    per element; data movement (Reshape, Transpose, Gather, ...) none.
//
//===----------------------------------------------------------------------===//

#include "pith/Analysis/CostModel.h"

#include "ONNX/ONNXOps.h"
#include "Pith/PithDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <cstring>

using namespace mlir;
using namespace pith;

int64_t Cost::weightBytes() const {
  int64_t bytes = 0;
  for (const auto &[type, count] : weightBytesByType)
    bytes += count;
  return bytes;
}

Cost &Cost::operator+=(const Cost &other) {
  parameters += other.parameters;
  nonzeroParameters += other.nonzeroParameters;
  for (const auto &[type, bytes] : other.weightBytesByType)
    weightBytesByType[type] += bytes;
  macs += other.macs;
  flops += other.flops;
  activationBytes += other.activationBytes;
  nodes += other.nodes;
  return *this;
}

namespace {

/// Dimensions with symbolic sizes count as 1; `dynamic` records that.
int64_t elements(Type type, bool &dynamic) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasRank())
    return 0;
  int64_t count = 1;
  for (int64_t d : shaped.getShape()) {
    if (ShapedType::isDynamic(d)) {
      dynamic = true;
      continue;
    }
    count *= d;
  }
  return count;
}

int64_t dim(Value value, int64_t index) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0)
    return 1;
  if (index < 0)
    index += type.getRank();
  int64_t d = type.getDimSize(index);
  return ShapedType::isDynamic(d) ? 1 : d;
}

int64_t elementBytes(Type type) {
  Type element = cast<ShapedType>(type).getElementType();
  if (auto complex = dyn_cast<ComplexType>(element))
    return 2 * elementBytes(RankedTensorType::get({}, complex.getElementType()));
  if (!element.isIntOrFloat())
    return 8;
  // ONNX stores booleans a byte each.
  return std::max<int64_t>(1, (element.getIntOrFloatBitWidth() + 7) / 8);
}

std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  cast<ShapedType>(type).getElementType().print(os);
  return name;
}

/// The ONNX node name of `op` (its location), or its first output's name.
std::string nodeName(Operation *op) {
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner))
        loc = inner;
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto names = op->getAttrOfType<ArrayAttr>(ONNX::attrs::kNames))
    if (!names.empty())
      if (auto first = dyn_cast<StringAttr>(names[0]))
        return first.str();
  return "";
}

/// "/encoder/layer.3/attention/MatMul" -> "/encoder/layer.3": the prefix up
/// to the first indexed component ("layer.3", "features.1"), or the first
/// component; "(graph)" for names without hierarchy.
std::string layerOf(StringRef name) {
  char separator = name.contains('/') ? '/' : '.';
  SmallVector<StringRef> parts;
  name.split(parts, separator, -1, /*KeepEmpty=*/false);
  if (parts.size() < 2)
    return "(graph)";
  parts.pop_back(); // the node itself
  std::string prefix = separator == '/' ? "/" : "";
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    StringRef part = parts[i];
    bool indexed = false;
    if (separator == '/') {
      auto [head, tail] = part.rsplit('.');
      indexed = !tail.empty() && !head.empty() && llvm::all_of(tail, [](char c) { return llvm::isDigit(c); });
    } else {
      indexed = llvm::all_of(part, [](char c) { return llvm::isDigit(c); });
    }
    if (i > 0)
      prefix += separator;
    prefix += part.str();
    if (indexed)
      return prefix;
  }
  // No indexed component: the first component names the layer.
  return (separator == '/' ? "/" : "") + parts.front().str();
}

StringRef opType(Operation *op) {
  if (auto custom = dyn_cast<ONNX::CustomOp>(op))
    return custom.getOpType();
  return op->getName().stripDialect();
}

/// Nonzero elements of a weight, from its bits (either sign of zero counts
/// as zero).
int64_t nonzeros(ElementsAttr value, int64_t count) {
  auto type = value.getShapedType();
  int64_t width = elementBytes(type);
  ArrayRef<char> data;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return count; // elided: assume dense
    data = blob->getData();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (dense.isSplat()) {
      ArrayRef<char> raw = dense.getRawData();
      bool zero = llvm::all_of(raw, [](char c) { return c == 0; });
      return zero ? 0 : count;
    }
    data = dense.getRawData();
  } else {
    return count;
  }
  if (width > 8 || static_cast<int64_t>(data.size()) < count * width)
    return count;
  int64_t result = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, data.data() + i * width, width);
    uint64_t sign = width == 1 ? 0 : uint64_t(1) << (width * 8 - 1);
    result += (bits & ~sign) != 0;
  }
  return result;
}

/// After conversion to linalg: every float arithmetic op of the body runs
/// once per loop iteration; a contraction's iterations are its MACs (and
/// its multiply and add are its 2 FLOPs per MAC).
void countLinalg(linalg::LinalgOp op, Cost &cost, bool &dynamic) {
  int64_t iterations = 1;
  for (int64_t range : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(range)) {
      dynamic = true;
      continue;
    }
    iterations *= range;
  }
  int64_t arithmetic = 0;
  bool multiplies = false;
  op->walk([&](Operation *nested) {
    if (nested == op.getOperation() ||
        !isa<arith::ArithDialect, math::MathDialect>(nested->getDialect()) ||
        llvm::none_of(nested->getResultTypes(), [](Type t) { return isa<FloatType>(t); }))
      return;
    ++arithmetic;
    multiplies |= isa<arith::MulFOp>(nested);
  });
  // Sum pooling is a "convolution" without products: not MACs.
  if ((linalg::isaContractionOpInterface(op) || linalg::isaConvolutionOpInterface(op)) &&
      multiplies) {
    cost.macs += iterations;
    cost.flops += 2 * iterations;
    return;
  }
  cost.flops += iterations * arithmetic;
}

/// MACs and FLOPs of one node.
void countCompute(Operation *op, Cost &cost, bool &dynamic) {
  if (op->getNumResults() == 0)
    return;
  Value result = op->getResult(0);
  int64_t out = elements(result.getType(), dynamic);
  auto operand = [&](unsigned i) -> Value {
    return i < op->getNumOperands() && !isa<NoneType>(op->getOperand(i).getType())
               ? op->getOperand(i)
               : Value();
  };
  auto contraction = [&](int64_t macs, int64_t extra) {
    cost.macs += macs;
    cost.flops += 2 * macs + extra;
  };
  if (auto factored = dyn_cast<dialect::FactoredLinearOp>(op)) {
    int64_t k = dim(factored.getLeft(), 0), r = dim(factored.getLeft(), 1),
            n = dim(factored.getRight(), 1);
    int64_t rows = n ? out / n : 0;
    contraction(rows * (k * r + r * n), factored.getBias() ? out : 0);
    return;
  }
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    countLinalg(linalgOp, cost, dynamic);
    return;
  }
  if (!isa<ONNX::ONNXDialect>(op->getDialect()))
    return;
  StringRef type = opType(op);
  if (type == "MatMul" || type == "MatMulInteger" || type == "QLinearMatMul") {
    Value a = operand(0);
    contraction(out * dim(a, -1), 0);
  } else if (type == "Gemm") {
    auto transA = op->getAttrOfType<IntegerAttr>("transA");
    int64_t k = dim(operand(0), transA && transA.getInt() ? 0 : 1);
    contraction(out * k, operand(2) ? out : 0);
  } else if (type == "Conv" || type == "ConvInteger" || type == "QLinearConv") {
    Value w = operand(type == "QLinearConv" ? 3 : 1);
    auto wType = cast<RankedTensorType>(w.getType());
    int64_t perOutput = 1;
    for (int64_t d = 1; d < wType.getRank(); ++d)
      perOutput *= dim(w, d);
    contraction(out * perOutput, type == "Conv" && operand(2) ? out : 0);
  } else if (type == "ConvTranspose") {
    Value x = operand(0), w = operand(1);
    auto wType = cast<RankedTensorType>(w.getType());
    int64_t perInput = 1;
    for (int64_t d = 1; d < wType.getRank(); ++d)
      perInput *= dim(w, d);
    contraction(elements(x.getType(), dynamic) * perInput, operand(2) ? out : 0);
  } else if (type == "Softmax" || type == "LogSoftmax") {
    cost.flops += 5 * out;
  } else if (type == "LayerNormalization") {
    cost.flops += 8 * out;
  } else if (type == "BatchNormalization" || type == "InstanceNormalization") {
    cost.flops += 2 * out;
  } else if (type.starts_with("Reduce") || type == "GlobalAveragePool" ||
             type == "GlobalMaxPool") {
    cost.flops += elements(operand(0).getType(), dynamic);
  } else if (type == "MaxPool" || type == "AveragePool" || type == "LpPool") {
    int64_t window = 1;
    if (auto kernel = op->getAttrOfType<DenseI64ArrayAttr>("kernel_shape"))
      for (int64_t k : kernel.asArrayRef())
        window *= k;
    cost.flops += out * window;
  } else {
    static const llvm::StringSet<> elementwise = {
        "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Abs", "Sqrt", "Exp", "Log",
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Sigmoid",
        "HardSigmoid", "HardSwish", "Tanh", "Erf", "Softplus", "Softsign",
        "Clip", "Max", "Min", "Sum", "Mean", "Reciprocal", "Sin", "Cos",
        "Floor", "Ceil", "Round", "Sign", "Mish", "ThresholdedRelu", "Mod"};
    if (elementwise.contains(type))
      cost.flops += out;
  }
}

bool isWeight(Operation *op) { return isa<ONNX::InitializerOp, dialect::UseOp>(op); }

} // namespace

CostReport pith::analyzeCost(ModuleOp module) {
  CostReport report;
  SymbolTable symbols(module);
  std::map<std::string, size_t> layerIndex;
  auto layer = [&](const std::string &name) -> Cost & {
    auto [it, inserted] = layerIndex.try_emplace(name, report.layers.size());
    if (inserted)
      report.layers.push_back({name, Cost()});
    return report.layers[it->second].cost;
  };
  bool dynamic = false;
  // Weights, each once: initializers by op, parameters by symbol.
  llvm::DenseSet<Operation *> counted;
  auto countWeight = [&](Operation *source, ElementsAttr value, Operation *firstUser) {
    if (!counted.insert(source).second)
      return;
    Cost &cost = layer(firstUser ? layerOf(nodeName(firstUser)) : "(unused)");
    ShapedType type = value.getShapedType();
    int64_t count = elements(type, dynamic);
    cost.parameters += count;
    cost.nonzeroParameters += nonzeros(value, count);
    cost.weightBytesByType[typeName(type)] += count * elementBytes(type);
  };
  // Nodes first, so that layers appear in the order of their first node.
  SmallVector<Operation *> weights;
  module.walk([&](Operation *op) {
    if (isa<ModuleOp, func::FuncOp, func::ReturnOp, ONNX::YieldOp, ONNX::NoneOp,
            dialect::ParameterOp>(op))
      return;
    if (isWeight(op)) {
      weights.push_back(op);
      return;
    }
    // Constants, empty tensors and the scalar code inside linalg ops are not
    // nodes (the linalg op holding them is).
    if (opType(op) == "Constant" || isa<arith::ConstantOp, tensor::EmptyOp>(op) ||
        op->getParentOfType<linalg::LinalgOp>())
      return;
    Cost &cost = layer(layerOf(nodeName(op)));
    ++cost.nodes;
    countCompute(op, cost, dynamic);
    for (Value result : op->getResults())
      if (isa<ShapedType>(result.getType()))
        cost.activationBytes +=
            elements(result.getType(), dynamic) * elementBytes(result.getType());
  });
  for (Operation *op : weights) {
    // The layer of the first node reading it (nodes in subgraphs through
    // the op holding the subgraph).
    Operation *firstUser = nullptr, *firstAncestor = nullptr;
    for (Operation *user : op->getUsers()) {
      Operation *ancestor = op->getBlock()->findAncestorOpInBlock(*user);
      if (ancestor && (!firstAncestor || ancestor->isBeforeInBlock(firstAncestor))) {
        firstAncestor = ancestor;
        firstUser = user;
      }
    }
    if (auto init = dyn_cast<ONNX::InitializerOp>(op))
      countWeight(op, init.getValue(), firstUser);
    else if (auto parameter = symbols.lookup<dialect::ParameterOp>(
                 cast<dialect::UseOp>(op).getParameter()))
      countWeight(parameter, parameter.getValue(), firstUser);
  }
  // Parameters nothing uses.
  for (auto parameter : module.getOps<dialect::ParameterOp>())
    countWeight(parameter, parameter.getValue(), nullptr);
  // After conversion to linalg, weights are graph arguments marked
  // pith.weight (their data is passed at run time): counted from their
  // types, all nonzero as far as the IR tells.
  for (auto func : module.getOps<func::FuncOp>())
    for (BlockArgument arg : func.getArguments()) {
      if (!func.getArgAttr(arg.getArgNumber(), "pith.weight") ||
          !isa<ShapedType>(arg.getType()))
        continue;
      Operation *firstUser = nullptr;
      for (Operation *user : arg.getUsers())
        if (!firstUser || user->isBeforeInBlock(firstUser))
          firstUser = user->getBlock() == &func.getBody().front() ? user : firstUser;
      Cost &cost = layer(firstUser ? layerOf(nodeName(firstUser)) : "(unused)");
      int64_t count = elements(arg.getType(), dynamic);
      cost.parameters += count;
      cost.nonzeroParameters += count;
      cost.weightBytesByType[typeName(arg.getType())] += count * elementBytes(arg.getType());
    }

  // Peak activation memory over the main graph, in program order.
  for (auto func : module.getOps<func::FuncOp>()) {
    Block &entry = func.getBody().front();
    llvm::DenseMap<Operation *, int64_t> position;
    int64_t index = 0;
    for (Operation &op : entry)
      position[&op] = index++;
    auto bytesOf = [&](Value v) {
      return isa<ShapedType>(v.getType())
                 ? elements(v.getType(), dynamic) * elementBytes(v.getType())
                 : 0;
    };
    auto lastUse = [&](Value v) {
      int64_t last = -1;
      for (Operation *user : v.getUsers())
        if (Operation *ancestor = entry.findAncestorOpInBlock(*user))
          last = std::max(last, isa<func::ReturnOp>(ancestor) ? index : position[ancestor]);
      return last;
    };
    std::vector<int64_t> freed(index + 2, 0);
    int64_t live = 0;
    for (BlockArgument arg : func.getArguments()) {
      live += bytesOf(arg);
      freed[std::max<int64_t>(0, lastUse(arg)) + 1] += bytesOf(arg);
    }
    report.peakActivationBytes = live;
    for (Operation &op : entry) {
      if (!isWeight(&op) && opType(&op) != "Constant")
        for (Value result : op.getResults()) {
          live += bytesOf(result);
          freed[std::max(lastUse(result), position[&op]) + 1] += bytesOf(result);
        }
      report.peakActivationBytes = std::max(report.peakActivationBytes, live);
      live -= freed[position[&op] + 1];
    }
  }
  for (const LayerCost &entry : report.layers)
    report.total += entry.cost;
  report.assumedDynamicDimensions = dynamic;
  return report;
}

void pith::printCostReport(const CostReport &report, llvm::raw_ostream &os) {
  size_t width = 5;
  for (const LayerCost &entry : report.layers)
    width = std::max(width, entry.layer.size());
  auto row = [&](StringRef name, const Cost &c) {
    os << llvm::left_justify(name, width)
       << llvm::format(" %7lld %12lld %10.3f %12.3f %12.3f %10.3f\n", (long long)c.nodes,
                       (long long)c.parameters, c.weightBytes() / 1e6, c.macs / 1e6,
                       c.flops / 1e6, c.activationBytes / 1e6);
  };
  os << llvm::left_justify("layer", width)
     << "   nodes   parameters  weight MB        MMACs       MFLOPs  activ. MB\n";
  for (const LayerCost &entry : report.layers)
    row(entry.layer, entry.cost);
  row("total", report.total);
  const Cost &t = report.total;
  os << "parameters: " << t.parameters << " (" << t.nonzeroParameters << " nonzero)\n";
  os << "weight bytes:";
  for (const auto &[type, bytes] : t.weightBytesByType)
    os << " " << type << " " << bytes;
  os << " (total " << t.weightBytes() << ")\n";
  os << "MACs: " << t.macs << "\nFLOPs: " << t.flops << "\n";
  os << "peak activation bytes: " << report.peakActivationBytes
     << " (node results alive at once, in program order)\n";
  if (report.assumedDynamicDimensions)
    os << "note: symbolic dimensions were counted as 1\n";
}

void pith::printCostComparison(const CostReport &before, const CostReport &after,
                               llvm::raw_ostream &os) {
  auto ratio = [](int64_t a, int64_t b) { return b ? double(a) / double(b) : 0.0; };
  const Cost &b = before.total, &a = after.total;
  os << llvm::format("%-22s %16s %16s %9s\n", "", "before", "after", "ratio");
  auto line = [&](const char *what, int64_t x, int64_t y) {
    os << llvm::format("%-22s %16lld %16lld %9.4f\n", what, (long long)x, (long long)y,
                       ratio(y, x));
  };
  line("parameters", b.parameters, a.parameters);
  line("nonzero parameters", b.nonzeroParameters, a.nonzeroParameters);
  line("weight bytes", b.weightBytes(), a.weightBytes());
  line("MACs", b.macs, a.macs);
  line("FLOPs", b.flops, a.flops);
  line("peak activation bytes", before.peakActivationBytes, after.peakActivationBytes);
}

void pith::printCostReportJSON(const CostReport &report, llvm::raw_ostream &os) {
  llvm::json::OStream json(os, 2);
  auto cost = [&](const Cost &c) {
    json.attribute("nodes", c.nodes);
    json.attribute("parameters", c.parameters);
    json.attribute("nonzero_parameters", c.nonzeroParameters);
    json.attribute("weight_bytes", c.weightBytes());
    json.attributeObject("weight_bytes_by_type", [&] {
      for (const auto &[type, bytes] : c.weightBytesByType)
        json.attribute(type, bytes);
    });
    json.attribute("macs", c.macs);
    json.attribute("flops", c.flops);
    json.attribute("activation_bytes", c.activationBytes);
  };
  json.object([&] {
    json.attributeArray("layers", [&] {
      for (const LayerCost &entry : report.layers)
        json.object([&] {
          json.attribute("layer", entry.layer);
          cost(entry.cost);
        });
    });
    json.attributeObject("total", [&] { cost(report.total); });
    json.attribute("peak_activation_bytes", report.peakActivationBytes);
    json.attribute("assumed_dynamic_dimensions", report.assumedDynamicDimensions);
  });
  os << "\n";
}

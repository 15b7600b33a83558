//===- MixedPrecision.cpp - fp16/bf16 computation with the fewest casts ---===//
//
// pith-mixed-precision: every float32 value of the main graph is produced by
// an "entity" (an op, a graph input, a weight) that ends up either in low
// precision or in float32. The op class fixes some (contractions low;
// normalizations, softmax, reductions, exp/log float32); the range check
// and integer-derived values pin others to float32; the rest follow their
// neighbours. A value whose producer and readers disagree needs a Cast, one
// per value and direction whatever the number of readers, so the number of
// casts is the cut of a hypergraph (each value a hyperedge over its producer
// and readers). Its minimum, subject to the pins, is a minimum s-t cut in
// the usual expansion of hyperedges (Lawler): low precision is the source
// side, float32 the sink side.
//
//===----------------------------------------------------------------------===//

#include "pith/Compression/Passes.h"

#include "Weights.h"

#include "ONNX/ONNXOps.h"
#include "ONNX/ONNXSchema.h"
#include "Pith/PithDialect.h"
#include "pith/Compression/Calibration.h"
#include "pith/Proto/ONNXProto.h"
#include "pith/Runtime/LowPrecisionFloats.h"
#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>
#include <map>
#include <queue>

namespace pith {
#define GEN_PASS_DEF_MIXEDPRECISIONPASS
#include "pith/Compression/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::compression;

namespace {

enum class OpClass { Low, Follow, Float32 };

struct Policy {
  OpClass opClass;
  /// Operands of the type that changes; empty: every float operand.
  SmallVector<unsigned, 3> typedOperands;
  /// Results of that type: the first `typedResults` (-1: every float one).
  int typedResults = -1;
};

/// The default policy by ONNX op type. An op type not listed stays float32
/// and its float operands are all float32 reads: shape arithmetic, Range,
/// ConstantOfShape, Cast and custom ops are never converted.
const llvm::StringMap<Policy> &policies() {
  static const llvm::StringMap<Policy> table = [] {
    llvm::StringMap<Policy> t;
    auto add = [&](OpClass c, std::initializer_list<const char *> types,
                   SmallVector<unsigned, 3> operands = {}, int results = -1) {
      for (const char *type : types)
        t[type] = Policy{c, operands, results};
    };
    add(OpClass::Low, {"MatMul"}, {0, 1});
    add(OpClass::Low, {"Gemm", "Conv", "ConvTranspose"}, {0, 1, 2});
    add(OpClass::Follow,
        {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Neg", "Abs", "Relu",
         "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
         "Erf", "Gelu", "Sqrt", "Reciprocal", "Identity", "Transpose", "Flatten", "Concat",
         "MaxPool", "AveragePool", "DepthToSpace", "SpaceToDepth", "Clip"});
    add(OpClass::Follow,
        {"Reshape", "Squeeze", "Unsqueeze", "Split", "Slice", "Gather", "GatherElements",
         "Expand", "Tile", "Resize", "Dropout"},
        {0});
    add(OpClass::Follow, {"Where"}, {1, 2});
    add(OpClass::Follow, {"Pad"}, {0, 2});
    add(OpClass::Float32,
        {"Softmax", "LogSoftmax", "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL1",
         "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceProd", "ReduceMax", "ReduceMin",
         "Exp", "Log", "Pow", "Softplus", "GlobalAveragePool", "CumSum"},
        {0});
    add(OpClass::Float32, {"LayerNormalization"}, {0, 1, 2}, 1);
    add(OpClass::Float32, {"BatchNormalization"}, {0, 1, 2, 3, 4}, 1);
    add(OpClass::Float32, {"InstanceNormalization", "GroupNormalization"}, {0, 1, 2});
    add(OpClass::Float32, {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"}, {0}, 1);
    return t;
  }();
  return table;
}

/// A float32 onnx.Constant follows its readers: in low precision it is
/// stored converted, like a weight.
const Policy constantPolicy{OpClass::Follow, {}, -1};

bool isConvertibleConstant(Operation *op) {
  auto value = op->getAttrOfType<DenseElementsAttr>("value");
  return value && value.getElementType().isF32() && op->getNumResults() == 1;
}

/// Ops that read only a tensor's shape: any element type will do.
bool readsOnlyShape(StringRef opType) { return opType == "Shape" || opType == "Size"; }

bool isFloatTensor(Type type) {
  auto tensor = dyn_cast<TensorType>(type);
  return tensor && isa<FloatType>(tensor.getElementType());
}

bool isF32Tensor(Type type) {
  auto tensor = dyn_cast<TensorType>(type);
  return tensor && tensor.getElementType().isF32();
}

Type withElementType(Type type, Type element) {
  return cast<TensorType>(type).clone(element);
}

StringRef onnxTypeOf(Operation *op) {
  const ONNX::OpSchema *schema = ONNX::lookupSchemaByOpName(op->getName().getStringRef());
  return schema ? StringRef(schema->opType) : StringRef();
}

std::string nodeNameOf(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return "";
}

/// The ONNX name of a value (what the exporter will call it), or "".
std::string valueNameOf(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
    if (auto name = func ? func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                             ONNX::attrs::kName)
                         : StringAttr())
      return name.str();
    return "";
  }
  Operation *op = value.getDefiningOp();
  if (auto use = dyn_cast<dialect::UseOp>(op))
    return use.getParameter().str();
  if (auto names = op->getAttrOfType<ArrayAttr>(ONNX::attrs::kNames)) {
    unsigned i = cast<OpResult>(value).getResultNumber();
    if (i < names.size())
      if (auto name = dyn_cast<StringAttr>(names[i]))
        return name.str();
  }
  return "";
}

bool isFloatToFloatCast(Operation *op) {
  return onnxTypeOf(op) == "Cast" && op->getNumOperands() == 1 && op->getNumResults() == 1 &&
         isFloatTensor(op->getOperand(0).getType()) && isFloatTensor(op->getResult(0).getType());
}

void setResultName(Operation *op, unsigned index, StringRef name) {
  Builder b(op->getContext());
  SmallVector<Attribute> names(op->getNumResults(), b.getStringAttr(""));
  if (auto existing = op->getAttrOfType<ArrayAttr>(ONNX::attrs::kNames))
    for (auto [i, attr] : llvm::enumerate(existing))
      if (i < names.size())
        names[i] = attr;
  names[index] = b.getStringAttr(name);
  op->setAttr(ONNX::attrs::kNames, b.getArrayAttr(names));
}

/// Minimum s-t cut by Dinic's algorithm on a graph of unit and infinite
/// capacities (hundreds to thousands of nodes for real models).
class MinCut {
public:
  static constexpr int64_t kInfinite = std::numeric_limits<int64_t>::max() / 4;
  static constexpr int kSource = 0, kSink = 1;

  int addNode() {
    adjacency.emplace_back();
    return static_cast<int>(adjacency.size()) - 1;
  }
  void addEdge(int from, int to, int64_t capacity) {
    adjacency[from].push_back(static_cast<int>(edges.size()));
    edges.push_back({to, capacity});
    adjacency[to].push_back(static_cast<int>(edges.size()));
    edges.push_back({from, 0});
  }
  int64_t maxFlow() {
    int64_t total = 0;
    while (levelGraph()) {
      next.assign(adjacency.size(), 0);
      while (int64_t pushed = push(kSource, kInfinite))
        total += pushed;
    }
    return total;
  }
  /// After maxFlow: the nodes that still reach the sink in the residual
  /// graph. Every other node is on the source side of a minimum cut, the
  /// one with the smallest sink side.
  std::vector<bool> reachesSink() const {
    std::vector<bool> seen(adjacency.size(), false);
    std::queue<int> queue;
    seen[kSink] = true;
    queue.push(kSink);
    while (!queue.empty()) {
      int v = queue.front();
      queue.pop();
      for (int e : adjacency[v]) {
        int u = edges[e].to; // the reverse edge e^1 goes u -> v
        if (!seen[u] && edges[e ^ 1].capacity > 0) {
          seen[u] = true;
          queue.push(u);
        }
      }
    }
    return seen;
  }

private:
  struct Edge {
    int to;
    int64_t capacity;
  };
  bool levelGraph() {
    level.assign(adjacency.size(), -1);
    std::queue<int> queue;
    level[kSource] = 0;
    queue.push(kSource);
    while (!queue.empty()) {
      int v = queue.front();
      queue.pop();
      for (int e : adjacency[v])
        if (edges[e].capacity > 0 && level[edges[e].to] < 0) {
          level[edges[e].to] = level[v] + 1;
          queue.push(edges[e].to);
        }
    }
    return level[kSink] >= 0;
  }
  int64_t push(int v, int64_t limit) {
    if (v == kSink)
      return limit;
    for (size_t &i = next[v]; i < adjacency[v].size(); ++i) {
      Edge &edge = edges[adjacency[v][i]];
      if (edge.capacity <= 0 || level[edge.to] != level[v] + 1)
        continue;
      if (int64_t pushed = push(edge.to, std::min(limit, edge.capacity))) {
        edge.capacity -= pushed;
        edges[adjacency[v][i] ^ 1].capacity += pushed;
        return pushed;
      }
    }
    return 0;
  }
  std::vector<std::vector<int>> adjacency{{}, {}};
  std::vector<Edge> edges;
  std::vector<int> level;
  std::vector<size_t> next;
};

/// What a read of a float32 value asks of it.
enum class Wants { Either, Low, Float32, Entity };

struct MixedPrecisionPass : public pith::impl::MixedPrecisionPassBase<MixedPrecisionPass> {
  using MixedPrecisionPassBase::MixedPrecisionPassBase;

  /// Something that produces float32 values and ends up in one precision.
  struct Entity {
    Operation *op = nullptr;         // an op of the main graph
    BlockArgument argument;          // a graph input
    dialect::ParameterOp parameter;  // a weight (every pith.use of it)
    const Policy *policy = nullptr;  // ops only
    bool pinLow = false, pinFloat32 = false, low = false;
    std::string why; // why it is pinned to float32
  };
  struct Produced {
    Value value;
    int entity;
  };

  LowFloat format = LowFloat::F16;
  Type lowType;
  std::vector<Entity> entities;
  llvm::DenseMap<Operation *, int> entityOfOp;
  llvm::DenseMap<Value, int> entityOfArgument;
  llvm::DenseMap<Operation *, int> entityOfParameter;
  std::vector<Produced> produced;
  llvm::StringSet<> keepSet, lowSet;

  void runOnOperation() override {
    if (failed(run(getOperation())))
      signalPassFailure();
  }

  LogicalResult fail(ModuleOp module, const llvm::Twine &message) {
    return module.emitError(getArgument() + ": " + message);
  }

  StringRef precisionName() const { return format == LowFloat::F16 ? "fp16" : "bf16"; }

  bool named(const llvm::StringSet<> &set, Operation *op) {
    std::string node = nodeNameOf(op);
    return set.contains(onnxTypeOf(op)) || (!node.empty() && set.contains(node));
  }

  /// The operands of `op` whose type changes with its precision.
  bool isTypedOperand(const Entity &e, unsigned index) {
    if (!e.policy || e.policy->typedOperands.empty())
      return isF32Tensor(e.op->getOperand(index).getType());
    return llvm::is_contained(e.policy->typedOperands, index);
  }
  bool isTypedResult(const Entity &e, unsigned index) {
    return isF32Tensor(e.op->getResult(index).getType()) &&
           (!e.policy || e.policy->typedResults < 0 ||
            index < static_cast<unsigned>(e.policy->typedResults));
  }

  LogicalResult run(ModuleOp module) {
    if (precision == "fp16") {
      format = LowFloat::F16;
      lowType = Float16Type::get(module.getContext());
    } else if (precision == "bf16") {
      format = LowFloat::BF16;
      lowType = BFloat16Type::get(module.getContext());
    } else {
      return fail(module, "precision: expected 'fp16' or 'bf16', got '" + precision + "'");
    }
    keepSet.clear();
    lowSet.clear();
    for (const std::string &name : keepFp32)
      keepSet.insert(name);
    for (const std::string &name : low)
      lowSet.insert(name);
    for (const auto &name : keepSet)
      if (lowSet.contains(name.getKey()))
        return fail(module, "'" + name.getKey() + "' is in both keep-fp32 and low");

    auto funcs = module.getOps<func::FuncOp>();
    if (funcs.empty())
      return success();
    func::FuncOp func = *funcs.begin();
    liftParameters(module);

    int64_t f32Weights = 0, otherWeights = 0;
    module.walk([&](dialect::ParameterOp p) {
      (cast<RankedTensorType>(p.getType()).getElementType().isF32() ? f32Weights
                                                                    : otherWeights) += 1;
    });
    if (f32Weights == 0) {
      std::string note = otherWeights
                             ? "the model has no float32 weights (its " +
                                   std::to_string(otherWeights) +
                                   " float weights are already 16-bit or wider): left unchanged"
                             : "the model has no float weights: left unchanged";
      appendReport(module, getArgument(), {note},
                   {Builder(module).getNamedAttr("unchanged", Builder(module).getBoolAttr(true))});
      return success();
    }

    collectEntities(func, module);
    markIntegerDerived(func);
    std::vector<std::string> rangeLines;
    int64_t rangeKept = 0;
    if (failed(checkRanges(module, func, rangeLines, rangeKept)))
      return failure();
    auto wants = collectReads(func);
    if (failed(solve(module, wants)))
      return failure();
    return rewrite(module, func, wants, rangeLines, rangeKept);
  }

  int addEntity(Entity e) {
    entities.push_back(std::move(e));
    return static_cast<int>(entities.size()) - 1;
  }

  void collectEntities(func::FuncOp func, ModuleOp module) {
    int64_t opset = ONNX::defaultOpsetOf(module);
    entities.clear();
    entityOfOp.clear();
    entityOfArgument.clear();
    entityOfParameter.clear();
    produced.clear();
    Block &body = func.getBody().front();
    for (BlockArgument arg : body.getArguments()) {
      if (!isF32Tensor(arg.getType()))
        continue;
      Entity e;
      e.argument = arg;
      if (keepIoTypes) {
        e.pinFloat32 = true;
        e.why = "keep-io-types";
      } else {
        e.pinLow = true;
      }
      int id = addEntity(e);
      entityOfArgument[arg] = id;
      produced.push_back({arg, id});
    }
    // Weights: one entity per parameter, all its uses together. One read
    // inside a subgraph keeps it float32 (subgraphs are not converted).
    module.walk([&](dialect::UseOp use) {
      auto parameter = parameterOf(use);
      if (!parameter || !isF32Tensor(parameter.getType()))
        return;
      auto [it, inserted] = entityOfParameter.try_emplace(parameter, -1);
      if (inserted) {
        Entity e;
        e.parameter = parameter;
        it->second = addEntity(e);
      }
      if (use->getBlock() == &body) {
        produced.push_back({use.getResult(), it->second});
      } else {
        entities[it->second].pinFloat32 = true;
        entities[it->second].why = "read inside a subgraph";
      }
    });
    for (Operation &op : body.without_terminator()) {
      if (isa<dialect::UseOp>(op))
        continue;
      StringRef type = onnxTypeOf(&op);
      if (readsOnlyShape(type))
        continue;
      bool touchesF32 = llvm::any_of(op.getOperandTypes(), isF32Tensor) ||
                        llvm::any_of(op.getResultTypes(), isF32Tensor);
      if (!touchesF32)
        continue;
      Entity e;
      e.op = &op;
      auto found = policies().find(type);
      e.policy = found == policies().end() ? nullptr : &found->second;
      if (type == "Constant" && isConvertibleConstant(&op))
        e.policy = &constantPolicy;
      if (!e.policy || op.getNumRegions() > 0 || type.empty()) {
        e.pinFloat32 = true;
        e.why = op.getNumRegions() ? "has subgraphs" : "not converted by the policy";
      } else if (named(keepSet, &op)) {
        e.pinFloat32 = true;
        e.why = "keep-fp32";
      } else if (e.policy->opClass == OpClass::Low || named(lowSet, &op)) {
        e.pinLow = true;
      } else if (type == "Gather" && isa_and_nonnull<dialect::UseOp>(op.getOperand(0).getDefiningOp())) {
        // An embedding lookup: the table is stored in low precision (half
        // the bytes) and only the rows read are widened after it.
        e.pinLow = true;
      } else if (e.policy->opClass == OpClass::Float32) {
        e.pinFloat32 = true;
        e.why = "float32 by policy";
      }
      // A typed operand or result that is a float but not f32 (f64, or
      // already 16-bit) cannot change with the others.
      int id = addEntity(e);
      Entity &added = entities[id];
      if (added.policy && added.policy != &constantPolicy && !added.pinFloat32) {
        // The exported model must stay valid ONNX: bf16 in particular is
        // missing from many operators' type constraints (Conv and MaxPool
        // before opset 22). libonnx knows opsets up to 17; a later version
        // it does not define is taken to accept fp16 only.
        std::string typeString = format == LowFloat::F16 ? "tensor(float16)" : "tensor(bfloat16)";
        for (unsigned i = 0; i < op.getNumOperands() && !added.pinFloat32; ++i) {
          if (!isTypedOperand(added, i) || !isF32Tensor(op.getOperand(i).getType()))
            continue;
          std::optional<bool> accepts =
              proto::operatorAcceptsType(type, opset, i, typeString);
          if (!accepts.value_or(format == LowFloat::F16))
            pinFloat32(added, ("ONNX " + type + " (opset " + std::to_string(opset) +
                               ") does not take " + precisionName())
                                  .str());
        }
      }
      if (added.policy) {
        for (unsigned i = 0; i < op.getNumOperands(); ++i)
          if (isTypedOperand(added, i) && !isF32Tensor(op.getOperand(i).getType()) &&
              isa<TensorType>(op.getOperand(i).getType()) &&
              isa<FloatType>(cast<TensorType>(op.getOperand(i).getType()).getElementType()))
            pinFloat32(added, "reads a float that is not float32");
      }
      entityOfOp[&op] = id;
      for (unsigned i = 0; i < op.getNumResults(); ++i)
        if (!added.policy ? isF32Tensor(op.getResult(i).getType()) : isTypedResult(added, i))
          produced.push_back({op.getResult(i), id});
    }
  }

  void pinFloat32(Entity &e, StringRef why) {
    if (!e.pinFloat32)
      e.why = why.str();
    e.pinFloat32 = true;
    e.pinLow = false;
  }

  /// Float values computed only from integers (a Cast from an integer type,
  /// then float math on such values and constants) stay exact in float32;
  /// ops reading them stay float32.
  void markIntegerDerived(func::FuncOp func) {
    auto isConstant = [](Value v) {
      Operation *def = v.getDefiningOp();
      return def && (isa<dialect::UseOp>(def) || onnxTypeOf(def) == "Constant");
    };
    llvm::DenseSet<Value> derived;
    for (Operation &op : func.getBody().front().without_terminator()) {
      StringRef type = onnxTypeOf(&op);
      bool fromIntegers = false, fromData = false;
      if (type == "Cast" || type == "Range" || type == "ConstantOfShape" ||
          type == "EyeLike") {
        fromIntegers = llvm::none_of(op.getOperandTypes(), [](Type t) {
          auto tensor = dyn_cast<TensorType>(t);
          return tensor && isa<FloatType>(tensor.getElementType());
        });
      } else {
        for (Value operand : op.getOperands()) {
          if (!isF32Tensor(operand.getType()))
            continue;
          if (derived.contains(operand))
            fromIntegers = true;
          else if (!isConstant(operand))
            fromData = true;
        }
      }
      if (llvm::any_of(op.getOperands(), [&](Value v) { return derived.contains(v); }))
        if (auto it = entityOfOp.find(&op); it != entityOfOp.end())
          pinFloat32(entities[it->second], "computes on integer-valued floats");
      if (fromIntegers && !fromData)
        for (Value result : op.getResults())
          if (isF32Tensor(result.getType()))
            derived.insert(result);
    }
  }

  /// Relative L2 error of rounding `values` to the format, and the largest
  /// magnitude: what decides whether a tensor may be stored in it.
  struct Range {
    double maxAbs = 0, roundingError = 0;
  };
  Range measureRange(ArrayRef<float> values) {
    double diff = 0, norm = 0;
    Range r;
    for (float v : values) {
      if (!std::isfinite(v))
        continue;
      r.maxAbs = std::max(r.maxAbs, double(std::fabs(v)));
      double rounded = fromBits(format, toBits(format, v));
      if (std::isfinite(rounded))
        diff += (rounded - v) * (rounded - v);
      norm += double(v) * v;
    }
    r.roundingError = norm > 0 ? std::sqrt(diff / norm) : 0;
    return r;
  }
  /// Why a tensor of this range must stay float32, or "".
  std::string rangeProblem(const Range &r) {
    if (r.maxAbs >= maxFinite(format) / 2)
      return llvm::formatv("max |x| {0:e2} is within 2x of {1}'s largest value {2:e2}", r.maxAbs,
                           precisionName(), maxFinite(format))
          .str();
    if (r.roundingError > unitRoundoff(format))
      return llvm::formatv("rounding to {0} loses {1:e2} relative (underflow; unit roundoff "
                           "{2:e2})",
                           precisionName(), r.roundingError, unitRoundoff(format))
          .str();
    return "";
  }

  LogicalResult checkRanges(ModuleOp module, func::FuncOp func,
                            std::vector<std::string> &lines, int64_t &kept) {
    // Weights: always, from their data.
    for (Entity &e : entities) {
      if (!e.parameter || e.pinFloat32)
        continue;
      std::vector<float> values = WeightData(e.parameter.getValue()).toFloats();
      std::string problem = rangeProblem(measureRange(values));
      if (problem.empty())
        continue;
      pinFloat32(e, "range");
      ++kept;
      lines.push_back("weight '" + e.parameter.getSymName().str() +
                      "' stays float32 with its readers: " + problem);
      for (const Produced &p : produced)
        if (entities[p.entity].parameter == e.parameter)
          pinReaders(func, p.value);
    }
    auto created = OutputErrorMeter::forPass(module, calibration);
    if (!created)
      return fail(module, llvm::toString(created.takeError()));
    std::unique_ptr<OutputErrorMeter> meter = std::move(*created);
    if (!meter) {
      lines.push_back("no calibration inputs: activation ranges not checked (give "
                      "calibration=FILE.npz or pith optimize --calibration)");
      return success();
    }
    SmallVector<Value> candidates;
    for (const Produced &p : produced) {
      const Entity &e = entities[p.entity];
      if (!e.pinFloat32 && !e.parameter)
        candidates.push_back(p.value);
    }
    auto captured = meter->capture(module, candidates);
    if (!captured)
      return fail(module, "range check: " + llvm::toString(captured.takeError()));
    int64_t checked = 0;
    for (auto [value, tensor] : llvm::zip(candidates, *captured)) {
      ++checked;
      std::vector<float> values(tensor.data.size() / sizeof(float));
      std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(float));
      std::string problem = rangeProblem(measureRange(values));
      if (problem.empty())
        continue;
      ++kept;
      std::string name = valueNameOf(value);
      lines.push_back("'" + (name.empty() ? std::string("(unnamed)") : name) +
                      "' stays float32 with its producer and readers: " + problem);
      pinProducerAndReaders(func, value);
    }
    lines.insert(lines.begin(),
                 llvm::formatv("range check on {0} calibration samples: {1} activations "
                               "checked, {2} tensors kept float32",
                               meter->samples(), checked, kept)
                     .str());
    return success();
  }

  void pinProducerAndReaders(func::FuncOp func, Value value) {
    auto pinOp = [&](Operation *op) {
      if (auto it = entityOfOp.find(op); it != entityOfOp.end())
        pinFloat32(entities[it->second], "range");
    };
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      if (auto it = entityOfArgument.find(arg); it != entityOfArgument.end())
        pinFloat32(entities[it->second], "range");
    } else {
      pinOp(value.getDefiningOp());
    }
    pinReaders(func, value);
  }

  /// Pins every op reading `value` to float32 (so that no cast rounds it),
  /// and a graph output it is to float32.
  void pinReaders(func::FuncOp func, Value value) {
    Block &body = func.getBody().front();
    for (OpOperand &use : value.getUses())
      if (Operation *reader = body.findAncestorOpInBlock(*use.getOwner()))
        if (auto it = entityOfOp.find(reader); it != entityOfOp.end())
          pinFloat32(entities[it->second], "range");
    rangePinnedOutputs.insert(value);
  }
  llvm::DenseSet<Value> rangePinnedOutputs;

  /// What each read of each produced value asks: a fixed precision, or that
  /// of the reading entity.
  std::vector<SmallVector<std::pair<OpOperand *, Wants>>> collectReads(func::FuncOp func) {
    Block &body = func.getBody().front();
    std::vector<SmallVector<std::pair<OpOperand *, Wants>>> reads(produced.size());
    for (auto [i, p] : llvm::enumerate(produced)) {
      for (OpOperand &use : p.value.getUses()) {
        Operation *owner = use.getOwner();
        Operation *reader = body.findAncestorOpInBlock(*owner);
        Wants wants = Wants::Float32;
        if (isa<func::ReturnOp>(owner)) {
          wants = keepIoTypes || rangePinnedOutputs.contains(p.value) ? Wants::Float32
                                                                      : Wants::Low;
        } else if (reader == owner && (readsOnlyShape(onnxTypeOf(owner)) ||
                                       isFloatToFloatCast(owner))) {
          // A Cast to a float type rounds whatever it reads: a cast before
          // it would only make a chain of two.
          wants = Wants::Either;
        } else if (reader == owner) {
          auto it = entityOfOp.find(owner);
          if (it != entityOfOp.end() && entities[it->second].policy &&
              isTypedOperand(entities[it->second], use.getOperandNumber()))
            wants = Wants::Entity;
        }
        reads[i].push_back({&use, wants});
      }
    }
    return reads;
  }

  LogicalResult solve(ModuleOp module,
                      const std::vector<SmallVector<std::pair<OpOperand *, Wants>>> &reads) {
    MinCut graph;
    std::vector<int> node(entities.size());
    for (auto [i, e] : llvm::enumerate(entities)) {
      node[i] = graph.addNode();
      if (e.pinFloat32)
        graph.addEdge(node[i], MinCut::kSink, MinCut::kInfinite);
      else if (e.pinLow)
        graph.addEdge(MinCut::kSource, node[i], MinCut::kInfinite);
    }
    for (auto [i, p] : llvm::enumerate(produced)) {
      llvm::SmallSetVector<int, 8> members;
      members.insert(node[p.entity]);
      for (auto [use, wants] : reads[i]) {
        if (wants == Wants::Low)
          members.insert(MinCut::kSource);
        else if (wants == Wants::Float32)
          members.insert(MinCut::kSink);
        else if (wants == Wants::Entity)
          members.insert(node[entityOfOp.lookup(use->getOwner())]);
      }
      if (members.size() < 2)
        continue;
      int in = graph.addNode(), out = graph.addNode();
      graph.addEdge(in, out, 1);
      for (int m : members) {
        graph.addEdge(m, in, MinCut::kInfinite);
        graph.addEdge(out, m, MinCut::kInfinite);
      }
    }
    if (graph.maxFlow() >= MinCut::kInfinite)
      return fail(module, "internal error: the precision pins contradict each other");
    std::vector<bool> float32 = graph.reachesSink();
    for (auto [i, e] : llvm::enumerate(entities))
      e.low = !float32[node[i]];
    return success();
  }

  /// A copy of `parameter`'s data in the low format, under the same name.
  void convertWeight(dialect::ParameterOp parameter) {
    std::vector<float> values = WeightData(parameter.getValue()).toFloats();
    std::vector<uint16_t> bits(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      bits[i] = toBits(format, values[i]);
    auto type = cast<RankedTensorType>(withElementType(parameter.getType(), lowType));
    auto value = DenseResourceElementsAttr::get(
        type, parameter.getSymName(), HeapAsmResourceBlob::allocateAndCopyInferAlign(
                                          ArrayRef<uint16_t>(bits)));
    parameter.setTypeAttr(TypeAttr::get(type));
    parameter.setValueAttr(value);
  }

  LogicalResult rewrite(ModuleOp module, func::FuncOp func,
                        const std::vector<SmallVector<std::pair<OpOperand *, Wants>>> &reads,
                        std::vector<std::string> rangeLines, int64_t rangeKept) {
    MLIRContext *ctx = module.getContext();
    Builder b(ctx);
    Type f32 = b.getF32Type();
    Block &body = func.getBody().front();
    // Where each read wants its value, decided before any type changes.
    struct Cut {
      OpOperand *use;
      bool toLow;
    };
    std::vector<std::pair<size_t, SmallVector<Cut>>> cuts;
    for (auto [i, p] : llvm::enumerate(produced)) {
      bool producerLow = entities[p.entity].low;
      SmallVector<Cut> needed;
      for (auto [use, wants] : reads[i]) {
        bool readLow;
        if (wants == Wants::Either)
          continue;
        if (wants == Wants::Entity)
          readLow = entities[entityOfOp.lookup(use->getOwner())].low;
        else
          readLow = wants == Wants::Low;
        if (readLow != producerLow)
          needed.push_back({use, readLow});
      }
      if (!needed.empty())
        cuts.push_back({i, needed});
    }

    // The report.
    auto summarize = [](const std::map<std::string, int> &counts) {
      std::string text;
      for (const auto &[type, n] : counts)
        text += (text.empty() ? "" : ", ") + type + " " + std::to_string(n);
      return text.empty() ? std::string("none") : text;
    };
    // Types: every low entity's values become low precision.
    int64_t bytesBefore = 0, bytesAfter = 0, weightsConverted = 0, weightsKept = 0;
    std::map<std::string, int> lowOps, float32Ops;
    std::map<std::string, std::map<std::string, int>> pinned; // why -> op type -> count
    for (Entity &e : entities) {
      if (e.parameter) {
        int64_t bytes = parameterBytes(e.parameter);
        if (!e.low) {
          ++weightsKept;
          continue;
        }
        bytesBefore += bytes;
        convertWeight(e.parameter);
        bytesAfter += parameterBytes(e.parameter);
        ++weightsConverted;
        continue;
      }
      if (e.argument) {
        if (e.low)
          e.argument.setType(withElementType(e.argument.getType(), lowType));
        continue;
      }
      std::string type = onnxTypeOf(e.op).str();
      if (!e.low) {
        ++float32Ops[type.empty() ? e.op->getName().getStringRef().str() : type];
        if (e.pinFloat32 && e.why != "float32 by policy" && e.why != "not converted by the policy")
          ++pinned[e.why][type];
        continue;
      }
      ++lowOps[type];
      if (e.policy == &constantPolicy) {
        auto value = e.op->getAttrOfType<DenseElementsAttr>("value");
        SmallVector<APFloat> converted;
        for (APFloat v : value.getValues<APFloat>()) {
          bool losesInfo;
          v.convert(cast<FloatType>(lowType).getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
          converted.push_back(v);
        }
        e.op->setAttr("value", DenseElementsAttr::get(
                                   cast<ShapedType>(withElementType(value.getType(), lowType)),
                                   converted));
      }
      for (unsigned i = 0; i < e.op->getNumResults(); ++i)
        if (isTypedResult(e, i))
          e.op->getResult(i).setType(withElementType(e.op->getResult(i).getType(), lowType));
      if (e.policy->opClass == OpClass::Low)
        e.op->setAttr(dialect::kPrecisionAttrName, dialect::PrecisionAttr::get(ctx, lowType, f32));
    }
    module.walk([&](dialect::UseOp use) {
      if (auto parameter = parameterOf(use))
        use.getResult().setType(cast<RankedTensorType>(parameter.getType()));
    });

    // Casts: one per value and direction, right after the value is made.
    int64_t toLowCasts = 0, toFloat32Casts = 0;
    for (auto &[index, needed] : cuts) {
      Value value = produced[index].value;
      std::string name = valueNameOf(value);
      OpBuilder builder(ctx);
      if (auto arg = dyn_cast<BlockArgument>(value))
        builder.setInsertionPointToStart(&body);
      else
        builder.setInsertionPointAfter(value.getDefiningOp());
      Value casts[2] = {};
      for (const Cut &cut : needed) {
        Value &castValue = casts[cut.toLow];
        if (!castValue) {
          Type target = cut.toLow ? lowType : f32;
          std::string castName = (name.empty() ? std::string("value") : name) + "_to_" +
                                 (cut.toLow ? precisionName().str() : "fp32");
          int64_t onnxType = cut.toLow ? (format == LowFloat::F16 ? 10 : 16) : 1;
          castValue = ONNX::createOp(builder, NameLoc::get(b.getStringAttr(castName)), module, "Cast",
                              {value}, withElementType(value.getType(), target),
                              {b.getNamedAttr("to", b.getI64IntegerAttr(onnxType))});
          setResultName(castValue.getDefiningOp(), 0, castName);
          (cut.toLow ? toLowCasts : toFloat32Casts) += 1;
        }
        cut.use->set(castValue);
      }
    }
    // A graph output read through a cast keeps its name on the cast.
    Operation *terminator = body.getTerminator();
    for (auto [i, operand] : llvm::enumerate(terminator->getOperands())) {
      auto outputName = func.getResultAttrOfType<StringAttr>(i, ONNX::attrs::kName);
      Operation *castOp = operand.getDefiningOp();
      if (!outputName || !castOp || onnxTypeOf(castOp) != "Cast" || !castOp->hasOneUse())
        continue;
      Value source = castOp->getOperand(0);
      if (valueNameOf(source) != outputName.getValue() || isa<BlockArgument>(source) ||
          isa<dialect::UseOp>(source.getDefiningOp()))
        continue;
      setResultName(source.getDefiningOp(), cast<OpResult>(source).getResultNumber(),
                    (outputName.getValue() + "_" + precisionName()).str());
      setResultName(castOp, 0, outputName.getValue());
    }
    func.setFunctionType(FunctionType::get(ctx, body.getArgumentTypes(),
                                           terminator->getOperandTypes()));

    int64_t lowCount = 0, float32Count = 0;
    for (const auto &[type, n] : lowOps)
      lowCount += n;
    for (const auto &[type, n] : float32Ops)
      float32Count += n;
    std::vector<std::string> lines{
        llvm::formatv("{0}: {1} ops in {0} ({2}); {3} float32 ({4})", precisionName(), lowCount,
                      summarize(lowOps), float32Count, summarize(float32Ops))
            .str(),
        llvm::formatv("casts: {0} inserted ({1} to {2}, {3} to float32), the fewest for this "
                      "assignment",
                      toLowCasts + toFloat32Casts, toLowCasts, precisionName(), toFloat32Casts)
            .str(),
        llvm::formatv("weights: {0} converted, {1} -> {2}; {3} kept float32", weightsConverted,
                      formatBytes(bytesBefore), formatBytes(bytesAfter), weightsKept)
            .str()};
    for (const auto &[why, counts] : pinned)
      lines.push_back("float32 (" + why + "): " + summarize(counts));
    lines.insert(lines.end(), rangeLines.begin(), rangeLines.end());
    SmallVector<NamedAttribute> figures{
        b.getNamedAttr("precision", b.getStringAttr(precisionName())),
        b.getNamedAttr("low_ops", b.getI64IntegerAttr(lowCount)),
        b.getNamedAttr("float32_ops", b.getI64IntegerAttr(float32Count)),
        b.getNamedAttr("casts", b.getI64IntegerAttr(toLowCasts + toFloat32Casts)),
        b.getNamedAttr("casts_to_low", b.getI64IntegerAttr(toLowCasts)),
        b.getNamedAttr("casts_to_float32", b.getI64IntegerAttr(toFloat32Casts)),
        b.getNamedAttr("weights_converted", b.getI64IntegerAttr(weightsConverted)),
        b.getNamedAttr("weights_kept_float32", b.getI64IntegerAttr(weightsKept)),
        b.getNamedAttr("converted_bytes_before", b.getI64IntegerAttr(bytesBefore)),
        b.getNamedAttr("converted_bytes_after", b.getI64IntegerAttr(bytesAfter)),
        b.getNamedAttr("range_kept_float32", b.getI64IntegerAttr(rangeKept))};
    appendReport(module, getArgument(), lines, figures);
    return success();
  }
};

} // namespace

//===- RepeatedBlocks.cpp - A graph's repeated blocks, found by structure -===//
//
// The main graph's data-path ops (float tensors in or out; constants, shape
// arithmetic and weight reads left out) are hashed by what they compute:
// op name, attributes other than ONNX names, operand and result types, and
// which operands are weights. A block repeated N times is a tandem repeat
// of that sequence: for each period p, runs where op i hashes like op i+p.
// The run covering the most ops (the shortest period at equal coverage) is
// checked op by op: inside a block every operand must come from the op at
// the same offset in every block, or from outside in all of them, and each
// block must read the previous one (a chain of layers, not parallel
// branches). Weights
// are then classified by the op graph around them: a linear layer whose
// output reaches, or whose input comes from, a product of two activations
// (attention scores, attention times values) without crossing another
// linear layer is an attention projection; other linear layers are
// feed-forward; biases follow their layer; the rest are normalizations.
//
//===----------------------------------------------------------------------===//

#include "RepeatedBlocks.h"

#include "ONNX/ONNXOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Hashing.h"

#include <algorithm>
#include <tuple>

using namespace mlir;
using namespace pith;
using namespace pith::compression;
using dialect::UseOp;

namespace {

bool isFloatTensor(Value value) {
  auto type = dyn_cast<ShapedType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

UseOp weightRead(Value value) { return value.getDefiningOp<UseOp>(); }

/// Ops on the data path, in order: what blocks are made of.
SmallVector<Operation *> dataPathOps(func::FuncOp func) {
  SmallVector<Operation *> ops;
  for (Operation &op : func.getBody().front()) {
    if (isa<UseOp, ONNX::InitializerOp>(op) || op.hasTrait<OpTrait::IsTerminator>() ||
        op.getName().getStringRef().starts_with("onnx.Constant"))
      continue;
    if (llvm::any_of(op.getOperands(), isFloatTensor) ||
        llvm::any_of(op.getResults(), isFloatTensor))
      ops.push_back(&op);
  }
  return ops;
}

llvm::hash_code signature(Operation *op) {
  llvm::hash_code hash = llvm::hash_value(op->getName().getStringRef());
  for (NamedAttribute attr : op->getAttrs())
    if (!attr.getName().getValue().starts_with("onnx."))
      hash = llvm::hash_combine(hash, attr.getName(), attr.getValue());
  for (Value operand : op->getOperands())
    hash = llvm::hash_combine(hash, operand.getType(), weightRead(operand) != nullptr);
  for (Type type : op->getResultTypes())
    hash = llvm::hash_combine(hash, type);
  return llvm::hash_combine(hash, op->getNumRegions());
}

struct Candidate {
  int64_t start, period, blocks;
  int64_t coverage() const { return period * blocks; }
};

/// Tandem repeats of `hashes`, the best (most ops covered, then shortest
/// period) first.
SmallVector<Candidate> tandemRepeats(ArrayRef<llvm::hash_code> hashes) {
  SmallVector<Candidate> found;
  int64_t n = hashes.size();
  for (int64_t p = 1; 2 * p <= n; ++p) {
    int64_t runStart = 0;
    for (int64_t i = 0; i + p <= n; ++i) {
      bool matches = i + p < n && hashes[i] == hashes[i + p];
      if (matches)
        continue;
      int64_t length = i - runStart; // hashes[runStart, i) match p later
      if (length >= p)
        found.push_back({runStart, p, length / p + 1});
      runStart = i + 1;
    }
  }
  llvm::stable_sort(found, [](const Candidate &a, const Candidate &b) {
    return std::make_tuple(-a.coverage(), a.period, a.start) <
           std::make_tuple(-b.coverage(), b.period, b.start);
  });
  return found;
}

/// Where an operand of a block's op comes from: an op of the same block
/// (its offset), a weight (-1) or outside the block (-2).
int64_t originOf(Value operand, const llvm::DenseMap<Operation *, int64_t> &position,
                 int64_t blockStart, int64_t period) {
  if (weightRead(operand))
    return -1;
  Operation *def = operand.getDefiningOp();
  auto it = def ? position.find(def) : position.end();
  if (it == position.end() || it->second < blockStart || it->second >= blockStart + period)
    return -2;
  return it->second - blockStart;
}

/// Whether the candidate's blocks are copies of one op graph that feed one
/// another: each block reads the previous one's results (layers, not
/// parallel branches such as the q, k and v projections).
bool isChainOfCopies(ArrayRef<Operation *> ops, const Candidate &c,
                     const llvm::DenseMap<Operation *, int64_t> &position) {
  for (int64_t b = 1; b < c.blocks; ++b) {
    int64_t start = c.start + b * c.period;
    bool readsPrevious = false;
    for (int64_t t = 0; t < c.period; ++t) {
      Operation *first = ops[c.start + t], *other = ops[start + t];
      if (first->getNumOperands() != other->getNumOperands())
        return false;
      for (unsigned k = 0; k < first->getNumOperands(); ++k) {
        if (originOf(first->getOperand(k), position, c.start, c.period) !=
            originOf(other->getOperand(k), position, start, c.period))
          return false;
        readsPrevious |= originOf(other->getOperand(k), position, start - c.period, c.period) >= 0;
      }
    }
    if (!readsPrevious)
      return false;
  }
  return true;
}

bool isLinearWeight(Operation *op, unsigned operand) {
  StringRef name = op->getName().getStringRef();
  return operand == 1 && (name.starts_with("onnx.MatMul") || name.starts_with("onnx.Gemm")) &&
         cast<ShapedType>(op->getOperand(1).getType()).getRank() == 2;
}

bool isLinear(Operation *op) {
  return op->getNumOperands() > 1 && weightRead(op->getOperand(1)) && isLinearWeight(op, 1);
}

/// A product of two activations: attention scores, or scores times values.
bool isActivationProduct(Operation *op) {
  return op->getName().getStringRef().starts_with("onnx.MatMul") &&
         !weightRead(op->getOperand(0)) && !weightRead(op->getOperand(1));
}

/// Whether, from `linear`, following data forward (or backward) inside the
/// block without crossing another linear layer reaches a product of two
/// activations.
bool reachesAttention(Operation *linear, const llvm::DenseSet<Operation *> &block, bool forward) {
  SmallVector<Operation *> work{linear};
  llvm::DenseSet<Operation *> seen{linear};
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (op != linear && isActivationProduct(op))
      return true;
    if (op != linear && isLinear(op))
      continue;
    auto visit = [&](Operation *next) {
      if (next && block.contains(next) && seen.insert(next).second)
        work.push_back(next);
    };
    if (forward) {
      for (Operation *user : op->getUsers())
        visit(user);
    } else {
      for (Value operand : op->getOperands())
        visit(operand.getDefiningOp());
    }
  }
  return false;
}

/// Kinds and units of block 0's weights (the others correspond).
void classify(MutableArrayRef<BlockWeight> weights, const llvm::DenseSet<Operation *> &block) {
  llvm::DenseMap<Operation *, BlockWeight *> linearOf;
  unsigned units = 0;
  for (BlockWeight &w : weights)
    if (w.isMatrix) {
      Operation *op = w.users[0];
      w.kind = reachesAttention(op, block, true) || reachesAttention(op, block, false)
                   ? WeightKind::Attention
                   : WeightKind::FeedForward;
      w.unit = units++;
      linearOf[op] = &w;
    }
  llvm::DenseMap<Operation *, unsigned> normUnits;
  for (BlockWeight &w : weights) {
    if (w.isMatrix)
      continue;
    Operation *user = w.users[0];
    // A bias: Gemm's C, or an Add of a linear layer's output.
    BlockWeight *layer = linearOf.lookup(user);
    if (!layer && user->getName().getStringRef().starts_with("onnx.Add"))
      for (Value operand : user->getOperands())
        if (Operation *def = operand.getDefiningOp(); def && linearOf.count(def))
          layer = linearOf.lookup(def);
    if (layer) {
      w.kind = layer->kind;
      w.unit = layer->unit;
      continue;
    }
    w.kind = WeightKind::Norm;
    auto [it, inserted] = normUnits.try_emplace(user, units);
    if (inserted)
      ++units;
    w.unit = it->second;
  }
}

} // namespace

StringRef compression::kindName(WeightKind kind) {
  switch (kind) {
  case WeightKind::Attention:
    return "attention";
  case WeightKind::FeedForward:
    return "ffn";
  case WeightKind::Norm:
    return "norm";
  }
  llvm_unreachable("a weight kind");
}

std::optional<RepeatedBlocks> compression::findRepeatedBlocks(ModuleOp module) {
  auto funcs = module.getOps<func::FuncOp>();
  if (funcs.empty())
    return std::nullopt;
  SmallVector<Operation *> ops = dataPathOps(*funcs.begin());
  llvm::DenseMap<Operation *, int64_t> position;
  SmallVector<llvm::hash_code> hashes;
  for (auto [i, op] : llvm::enumerate(ops)) {
    position[op] = i;
    hashes.push_back(signature(op));
  }
  for (const Candidate &c : tandemRepeats(hashes)) {
    if (!isChainOfCopies(ops, c, position))
      continue;
    RepeatedBlocks found;
    found.numBlocks = c.blocks;
    found.opsPerBlock = c.period;
    for (int64_t t = 0; t < c.period; ++t) {
      Operation *op = ops[c.start + t];
      for (unsigned k = 0; k < op->getNumOperands(); ++k) {
        if (!weightRead(op->getOperand(k)))
          continue;
        BlockWeight w{WeightKind::Norm, 0, isLinearWeight(op, k), k, {}, {}};
        for (int64_t b = 0; b < c.blocks; ++b) {
          Operation *user = ops[c.start + b * c.period + t];
          w.users.push_back(user);
          w.uses.push_back(weightRead(user->getOperand(k)));
        }
        found.weights.push_back(std::move(w));
      }
    }
    if (found.weights.empty())
      continue;
    llvm::DenseSet<Operation *> block(ops.begin() + c.start, ops.begin() + c.start + c.period);
    classify(found.weights, block);
    return found;
  }
  return std::nullopt;
}

bool compression::selectsKind(StringRef weights, WeightKind kind) {
  if (weights == "all")
    return true;
  return (weights == "attention" && kind == WeightKind::Attention) ||
         (weights == "ffn" && kind == WeightKind::FeedForward);
}

LogicalResult compression::checkWeightsOption(StringRef weights, std::string &error) {
  if (weights == "attention" || weights == "ffn" || weights == "all")
    return success();
  error = "weights='" + weights.str() + "': expected attention, ffn or all";
  return failure();
}

FailureOr<SmallVector<SmallVector<int64_t>>>
compression::formGroups(StringRef groups, int64_t groupSize, int64_t numBlocks,
                        int64_t minMembers, std::string &error) {
  if (groupSize < 1) {
    error = "group-size=" + std::to_string(groupSize) + ": expected at least 1";
    return failure();
  }
  SmallVector<SmallVector<int64_t>> formed;
  if (groups == "all") {
    formed.emplace_back();
    for (int64_t b = 0; b < numBlocks; ++b)
      formed.back().push_back(b);
  } else if (groups == "adjacent") {
    for (int64_t b = 0; b < numBlocks; ++b) {
      if (b % groupSize == 0)
        formed.emplace_back();
      formed.back().push_back(b);
    }
  } else if (groups == "cycle") {
    // group-size members each, every count-th block: {0, count, ...}.
    int64_t count = (numBlocks + groupSize - 1) / groupSize;
    formed.resize(count);
    for (int64_t b = 0; b < numBlocks; ++b)
      formed[b % count].push_back(b);
  } else {
    error = "groups='" + groups.str() + "': expected adjacent, cycle or all";
    return failure();
  }
  llvm::erase_if(formed, [&](const SmallVector<int64_t> &g) {
    return static_cast<int64_t>(g.size()) < minMembers;
  });
  return formed;
}

std::string compression::describeGroups(ArrayRef<SmallVector<int64_t>> groups) {
  std::string text;
  for (const auto &group : groups) {
    text += text.empty() ? "{" : " {";
    for (size_t i = 0; i < group.size(); ++i)
      text += (i ? "," : "") + std::to_string(group[i]);
    text += "}";
  }
  return text;
}

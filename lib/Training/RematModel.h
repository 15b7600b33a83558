//===- RematModel.h - The step as pith-remat's solvers see it ---*- C++ -*-===//
//
// Internal to lib/Training. The forward and backward ops of a training
// step, its activations, and the schedule a set of dropped activations
// gives: which ops are cloned before which backward op, the activation
// memory that schedule needs and the FLOPs it recomputes. The greedy,
// exact and sqrt solvers (Remat.cpp) evaluate drop sets on it; the integer
// program (RematIlp.cpp) encodes the same accounting as linear constraints.
//
// Activation memory is what the backward pass holds: activations kept from
// the forward pass and recomputed copies of activations. Values no backward
// op reads (a Relu's float output when its mask is kept, a Conv's output
// before the Relu) are working memory, of the forward pass or of a
// recomputation alike, and count in "all intermediates" only. It is
// counted per backward op ("slot"): the activations alive when the slot
// begins plus every copy recomputed in it, whether or not the copies
// overlap in time. That bounds the true peak from above (the buffer
// planner frees each copy after its last reader) and is linear in the drop
// decisions, so the integer program is exact for it.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_LIB_TRAINING_REMATMODEL_H
#define PITH_LIB_TRAINING_REMATMODEL_H

#include "Gradients.h"

#include "ONNX/ONNXOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pith::training::remat {

using namespace mlir;

inline int64_t bytesOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return 0;
  Type element = type.getElementType();
  int64_t bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 8;
  return type.getNumElements() * std::max<int64_t>(bits / 8, 1);
}

inline int64_t elementsOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() ? type.getNumElements() : 0;
}

/// FLOPs of one forward op, as recomputing it costs.
inline double flopsOf(Operation *op) {
  StringRef type = onnxTypeOf(op);
  if (op->getNumResults() == 0)
    return 0;
  double out = elementsOf(op->getResult(0));
  auto shape = [&](unsigned i) { return cast<RankedTensorType>(op->getOperand(i).getType()); };
  if (type == "MatMul" || type == "Gemm") {
    auto a = shape(0);
    bool transA = type == "Gemm" && op->getAttrOfType<IntegerAttr>("transA") &&
                  op->getAttrOfType<IntegerAttr>("transA").getInt();
    int64_t k = transA ? a.getShape()[a.getRank() - 2] : a.getShape().back();
    return 2 * out * k;
  }
  if (type == "Conv") {
    auto w = shape(1);
    double perOutput = 1;
    for (int64_t d : w.getShape().drop_front(1))
      perOutput *= d;
    return 2 * out * perOutput;
  }
  return std::max(out, 1.0);
}

inline bool isFree(Operation *op) {
  StringRef type = onnxTypeOf(op);
  return isa<ONNX::InitializerOp>(op) || type == "Constant" ||
         op->getName().getStringRef() == "onnx.None";
}

/// Ops whose results can be computed again: pure, deterministic, no
/// subgraphs.
inline bool isRecomputable(Operation *op) {
  StringRef type = onnxTypeOf(op);
  if (type.empty() || op->getNumRegions() != 0)
    return false;
  return !type.starts_with("Random") && type != "Multinomial" && type != "Bernoulli" &&
         !(type == "Dropout" && op->getNumOperands() > 2 &&
           !isa<NoneType>(op->getOperand(2).getType()));
}

inline std::string nodeName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return "";
}

/// The step as the solver sees it: ops in order, which are backward, and
/// the activations (forward values backward ops read).
struct Step {
  SmallVector<Operation *> ops;
  llvm::DenseMap<Operation *, int64_t> position;
  llvm::DenseSet<Operation *> backward;
  SmallVector<Value> activations;
  llvm::DenseMap<Value, int64_t> activationIndex;
  llvm::DenseSet<Value> returned;
  /// Forward ops that compute (not constants), in order; each backward
  /// op's slot (its index among backward ops); the first computing forward
  /// op after a backward op, if any (the solvers that model the schedule
  /// as forward-then-backward refuse such a step).
  SmallVector<Operation *> forwardOps;
  llvm::DenseMap<Operation *, int64_t> slot;
  Operation *forwardAfterBackward = nullptr;

  bool isForwardValue(Value v) const {
    Operation *def = v.getDefiningOp();
    return def && !backward.count(def) && !isFree(def);
  }
  bool mustRecompute(Value v, const llvm::DenseSet<Value> &dropped) const {
    return isForwardValue(v) && (!activationIndex.count(v) || dropped.count(v));
  }

  explicit Step(func::FuncOp func) {
    Block &body = func.getBody().front();
    for (Operation &op : body) {
      position[&op] = static_cast<int64_t>(ops.size());
      ops.push_back(&op);
      if (op.hasAttr(kBackwardAttr))
        backward.insert(&op);
      if (auto ret = dyn_cast<func::ReturnOp>(op))
        for (Value v : ret.getOperands())
          returned.insert(v);
    }
    for (Operation *op : ops) {
      if (backward.count(op)) {
        slot[op] = static_cast<int64_t>(slot.size());
        continue;
      }
      if (isFree(op) || isa<func::ReturnOp>(op))
        continue;
      if (!slot.empty() && !forwardAfterBackward)
        forwardAfterBackward = op;
      forwardOps.push_back(op);
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *u) { return backward.count(u); })) {
          activationIndex[result] = static_cast<int64_t>(activations.size());
          activations.push_back(result);
        }
    }
  }
};

/// The schedule a drop set gives: for each backward op, the forward ops
/// recomputed before it. Simulates its memory and cost, or builds it.
struct Schedule {
  const Step &step;
  const llvm::DenseSet<Value> &dropped;

  /// Whether a recomputed op must recompute `operand` too: a forward
  /// intermediate that is not kept (a dropped activation, or a value no
  /// backward op reads, which the forward pass freed).
  bool mustRecompute(Value operand) const { return step.mustRecompute(operand, dropped); }

  struct Result {
    /// Peak bytes of activations (kept ones and recomputed copies), per
    /// slot as the file comment says, and of all live intermediates.
    int64_t activationPeak = 0, totalPeak = 0;
    /// FLOPs recomputed per step.
    double flops = 0;
  };

  Result simulate() const {
    // A value is (version, id): version 0 the original, 1 a recomputed copy.
    // `slot`: the backward op an event belongs to (its recomputations and
    // itself), -1 for a forward op.
    struct Event {
      SmallVector<std::pair<Value, int>> reads;
      SmallVector<std::pair<Value, int>> writes;
      int64_t slot = -1;
    };
    int64_t slot = -1;
    std::vector<Event> events;
    llvm::DenseSet<Value> available; // recomputed so far
    double flops = 0;
    std::function<void(Value)> recompute = [&](Value v) {
      if (available.count(v))
        return;
      Operation *producer = v.getDefiningOp();
      Event e;
      for (Value operand : producer->getOperands()) {
        if (mustRecompute(operand)) {
          recompute(operand);
          e.reads.push_back({operand, 1});
        } else {
          e.reads.push_back({operand, 0});
        }
      }
      for (Value result : producer->getResults()) {
        available.insert(result);
        e.writes.push_back({result, 1});
      }
      flops += flopsOf(producer);
      e.slot = slot;
      events.push_back(std::move(e));
    };
    for (Operation *op : step.ops) {
      if (isa<func::ReturnOp>(op))
        continue;
      bool isBackward = step.backward.count(op);
      if (isBackward)
        ++slot;
      Event e;
      e.slot = isBackward ? slot : -1;
      for (Value operand : op->getOperands()) {
        if (isBackward && dropped.count(operand)) {
          recompute(operand);
          e.reads.push_back({operand, 1});
        } else {
          e.reads.push_back({operand, 0});
        }
      }
      if (!isFree(op))
        for (Value result : op->getResults())
          e.writes.push_back({result, 0});
      events.push_back(std::move(e));
    }
    // Liveness: each written value lives until its last read.
    using Key = std::pair<Value, int>;
    llvm::DenseMap<Key, size_t> lastRead;
    for (size_t i = 0; i < events.size(); ++i)
      for (const Key &k : events[i].reads)
        lastRead[k] = i;
    Result result;
    result.flops = flops;
    int64_t live = 0, liveActivations = 0;
    std::vector<SmallVector<Key>> freeAt(events.size());
    // Activations, kept or recomputed. Values no backward op reads are the
    // working memory of the forward pass or of a recomputation, counted in
    // all intermediates only, the same in both.
    auto isActivation = [&](const Key &k) { return step.activationIndex.count(k.first) != 0; };
    // Activation memory per slot: what is alive as the slot begins plus
    // every activation written in it (a forward op is a slot of its own).
    int64_t slotBase = 0, slotWrites = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (i == 0 || events[i].slot < 0 || events[i].slot != events[i - 1].slot) {
        slotBase = liveActivations;
        slotWrites = 0;
      }
      for (const Key &k : events[i].writes) {
        if (step.returned.count(k.first) && k.second == 0)
          continue;
        auto it = lastRead.find(k);
        if (it == lastRead.end())
          continue; // never read: freed at once (dead code the planner drops)
        live += bytesOf(k.first);
        if (isActivation(k)) {
          liveActivations += bytesOf(k.first);
          slotWrites += bytesOf(k.first);
        }
        freeAt[it->second].push_back(k);
      }
      result.totalPeak = std::max(result.totalPeak, live);
      result.activationPeak = std::max(result.activationPeak, slotBase + slotWrites);
      for (const Key &k : freeAt[i]) {
        live -= bytesOf(k.first);
        if (isActivation(k))
          liveActivations -= bytesOf(k.first);
      }
    }
    return result;
  }
};


/// What the integer program gave.
struct IlpOutcome {
  std::string error;       // the step does not fit the program; nothing solved
  bool solved = false;     // an integer solution was found
  bool optimal = false;    // ... and proven optimal
  bool infeasible = false; // proven: no drop set fits the budget
  double objective = 0;    // recomputed FLOPs, or bytes when minimizing memory
  double bound = 0;        // the solver's best bound on the objective
  double seconds = 0;
  int columns = 0, rows = 0, integers = 0;
  llvm::DenseSet<Value> dropped; // forced drops included
};

/// Solves the drop decisions over `units` as an integer program (CBC),
/// with `forced` always dropped: the fewest recomputed FLOPs within
/// `budget` bytes of activation memory, or without a budget the smallest
/// activation memory. `start` is a known drop set to begin from.
IlpOutcome solveIlp(const Step &step, ArrayRef<SmallVector<Value>> units,
                    const llvm::DenseSet<Value> &forced, std::optional<double> budget,
                    double timeLimitSeconds, const llvm::DenseSet<Value> *start);

/// What the chain dynamic program gave.
struct ChainOutcome {
  std::string error;     // the forward pass is not a chain
  bool feasible = false; // checkpoints fit the budget
  double flops = 0;      // recomputed FLOPs of the choice
  double minimum = 0;    // if not feasible: the smallest budget that is
  llvm::DenseSet<Value> dropped;
};

/// The fewest recomputed FLOPs within `budget` bytes when the forward pass
/// is a chain: checkpoints chosen by dynamic programming (RematChain.cpp).
ChainOutcome solveChain(const Step &step, ArrayRef<SmallVector<Value>> units,
                        const llvm::DenseSet<Value> &forced, double budget);

} // namespace pith::training::remat

#endif // PITH_LIB_TRAINING_REMATMODEL_H

//===- RematChain.cpp - pith-remat's dynamic program for chains -----------===//
//
// When the forward pass is a chain (each op reads only the previous op's
// result, besides parameters and inputs), the choice is which activations
// are checkpoints, as in Chen et al. and Revolve: between two checkpoints
// every activation is dropped, and the backward pass recomputes the
// segment from the lower checkpoint up to its highest activation, once,
// when it first needs it. The dynamic program runs over checkpoints in
// forward order; its state is the last checkpoint and the bytes of the
// checkpoints so far, and for each last checkpoint it keeps the Pareto set
// of (bytes kept, FLOPs recomputed). It is exact for this segment model:
//   - forward, at op i: the checkpoints before it, plus the activation it
//     writes and the dropped one it reads;
//   - backward, in the backward op that first reads a segment's
//     activation: the checkpoints up to its lower end, the whole segment
//     recomputed at once, and the activations above it (kept or
//     recomputed) that backward ops read then or later, which do not
//     depend on the choice.
// That is the slot accounting of RematModel.h when the backward pass walks
// the chain back (segments are recomputed top down, and the checkpoints
// below a segment are read after it); otherwise it counts more than the
// schedule holds, so a choice always fits, and the pass checks by
// simulation.
//
//===----------------------------------------------------------------------===//

#include "RematModel.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace pith::training;
using namespace pith::training::remat;

namespace {

struct Chain {
  enum Kind { Intermediate, Droppable, Dropped, Kept };
  SmallVector<Operation *> ops;
  SmallVector<Kind> kind;
  SmallVector<double> bytes;  // of each op's result, if an activation
  SmallVector<double> flopsBefore; // prefix sums of the ops' FLOPs
  // Backward ops (slots) that first and last read each activation.
  SmallVector<int64_t> firstRead, lastRead;

  bool isActivation(int i) const { return kind[i] != Intermediate; }
  bool canBeCheckpoint(int i) const { return kind[i] == Droppable || kind[i] == Kept; }
};

struct Entry {
  double kept, flops;
  int from, fromEntry; // the previous checkpoint and its entry
};

/// Fills `chain`; an error if the forward pass is not a chain.
std::optional<std::string> readChain(const Step &step, ArrayRef<SmallVector<Value>> units,
                                     const llvm::DenseSet<Value> &forced, Chain &chain) {
  llvm::DenseSet<Value> droppable;
  for (const auto &unit : units)
    droppable.insert(unit.begin(), unit.end());
  if (Operation *late = step.forwardAfterBackward)
    return "solver=chain needs the forward pass before the backward pass; '" + nodeName(late) +
           "' comes after a backward op";
  for (Operation *op : step.forwardOps) {
    std::string name = nodeName(op);
    if (op->getNumResults() != 1)
      return "solver=chain needs a chain of single-result ops; '" + name + "' (" +
             onnxTypeOf(op).str() + ") has " + std::to_string(op->getNumResults()) +
             " results (use solver=ilp)";
    for (Value operand : op->getOperands())
      if (step.isForwardValue(operand) &&
          (chain.ops.empty() || operand.getDefiningOp() != chain.ops.back()))
        return "solver=chain needs a chain: '" + name + "' (" + onnxTypeOf(op).str() +
               ") reads a value other than the previous op's (use solver=ilp)";
    chain.ops.push_back(op);
  }
  chain.flopsBefore.push_back(0);
  for (auto [i, op] : llvm::enumerate(chain.ops)) {
    Value v = op->getResult(0);
    bool activation = step.activationIndex.count(v) && !step.returned.count(v);
    Chain::Kind kind = !activation           ? Chain::Intermediate
                       : forced.count(v)     ? Chain::Dropped
                       : droppable.count(v)  ? Chain::Droppable
                                             : Chain::Kept;
    chain.kind.push_back(kind);
    chain.bytes.push_back(activation ? static_cast<double>(bytesOf(v)) : 0.0);
    chain.flopsBefore.push_back(chain.flopsBefore.back() + flopsOf(op));
    int64_t first = INT64_MAX, last = -1;
    for (Operation *user : v.getUsers())
      if (step.slot.count(user)) {
        first = std::min(first, step.slot.lookup(user));
        last = std::max(last, step.slot.lookup(user));
      }
    chain.firstRead.push_back(first);
    chain.lastRead.push_back(last);
  }
  return std::nullopt;
}

/// The dynamic program at one budget: the fewest FLOPs and its
/// checkpoints, or nullopt if no choice fits.
std::optional<SmallVector<int>> checkpoints(const Chain &chain, double budget, double *flops) {
  const int n = static_cast<int>(chain.ops.size());
  // fronts[c + 1]: entries whose last checkpoint is op c (-1: none yet).
  std::vector<std::vector<Entry>> fronts(n + 2);
  fronts[0].push_back({0, 0, -2, -1});
  // The segment from checkpoint c (exclusive) to `end` (exclusive): its
  // bytes, its recompute FLOPs, and whether the forward events in it fit.
  // segmentBytes: what the backward pass holds while the segment is
  // recomputed, besides the checkpoints below it: the segment's
  // activations, and those above it that a backward op still reads then
  // (kept or recomputed alike).
  auto segment = [&](int c, int end, double kept, double &segmentBytes,
                     double &segmentFlops) -> bool {
    segmentBytes = 0;
    int highest = -1;
    int64_t recomputedAt = INT64_MAX;
    for (int i = c + 1; i < end; ++i) {
      if (chain.kind[i] == Chain::Kept)
        return false; // must be a checkpoint
      if (!chain.isActivation(i))
        continue;
      segmentBytes += chain.bytes[i];
      highest = i;
      recomputedAt = std::min(recomputedAt, chain.firstRead[i]);
    }
    if (highest >= 0)
      for (int j = highest + 1; j < n; ++j)
        if (chain.isActivation(j) && chain.lastRead[j] >= recomputedAt)
          segmentBytes += chain.bytes[j];
    segmentFlops =
        highest < 0 ? 0 : chain.flopsBefore[highest + 1] - chain.flopsBefore[c + 1];
    // Forward: at op i, the checkpoints so far, what it writes, and the
    // dropped activation it reads.
    for (int i = c + 1; i <= std::min(end, n - 1); ++i) {
      double live = kept + chain.bytes[i];
      if (i - 1 > c && chain.isActivation(i - 1))
        live += chain.bytes[i - 1];
      if (live > budget)
        return false;
    }
    return true;
  };
  double bestFlops = std::numeric_limits<double>::infinity();
  int bestFrom = -1, bestEntry = -1;
  for (int c = -1; c < n; ++c) {
    std::vector<Entry> &front = fronts[c + 1];
    if (front.empty())
      continue;
    // Keep the Pareto set: fewer bytes kept or fewer FLOPs.
    llvm::sort(front, [](const Entry &a, const Entry &b) {
      return a.kept < b.kept || (a.kept == b.kept && a.flops < b.flops);
    });
    std::vector<Entry> pareto;
    for (const Entry &e : front)
      if (pareto.empty() || e.flops < pareto.back().flops)
        pareto.push_back(e);
    front = std::move(pareto);
    for (auto [index, e] : llvm::enumerate(front)) {
      double segmentBytes, segmentFlops;
      // The rest of the chain as the last segment.
      if (segment(c, n, e.kept, segmentBytes, segmentFlops) &&
          e.kept + segmentBytes <= budget && e.flops + segmentFlops < bestFlops) {
        bestFlops = e.flops + segmentFlops;
        bestFrom = c;
        bestEntry = static_cast<int>(index);
      }
      for (int next = c + 1; next < n; ++next) {
        if (!chain.canBeCheckpoint(next))
          continue;
        if (!segment(c, next, e.kept, segmentBytes, segmentFlops))
          continue;
        double kept = e.kept + chain.bytes[next];
        if (segmentBytes > 0 && e.kept + segmentBytes > budget)
          continue;
        fronts[next + 1].push_back(
            {kept, e.flops + segmentFlops, c, static_cast<int>(index)});
      }
    }
  }
  if (bestEntry < 0)
    return std::nullopt;
  *flops = bestFlops;
  SmallVector<int> result;
  for (int c = bestFrom, index = bestEntry; c >= 0;) {
    result.push_back(c);
    const Entry &e = fronts[c + 1][index];
    c = e.from;
    index = e.fromEntry;
  }
  std::reverse(result.begin(), result.end());
  return result;
}

} // namespace

namespace pith::training::remat {

ChainOutcome solveChain(const Step &step, ArrayRef<SmallVector<Value>> units,
                        const llvm::DenseSet<Value> &forced, double budget) {
  ChainOutcome outcome;
  Chain chain;
  if (std::optional<std::string> error = readChain(step, units, forced, chain)) {
    outcome.error = *error;
    return outcome;
  }
  auto dropSet = [&](ArrayRef<int> kept) {
    llvm::DenseSet<Value> dropped(forced.begin(), forced.end());
    for (auto [i, op] : llvm::enumerate(chain.ops))
      if (chain.kind[i] == Chain::Droppable && !llvm::is_contained(kept, static_cast<int>(i)))
        dropped.insert(op->getResult(0));
    return dropped;
  };
  double flops = 0;
  if (std::optional<SmallVector<int>> kept = checkpoints(chain, budget, &flops)) {
    outcome.feasible = true;
    outcome.flops = flops;
    outcome.dropped = dropSet(*kept);
    return outcome;
  }
  // The smallest budget the segment model fits: bisect on bytes.
  double low = 0, high = 0;
  for (double b : chain.bytes)
    high += b;
  high = std::max(high, budget) * 2 + 1;
  if (!checkpoints(chain, high, &flops)) {
    outcome.error = "solver=chain: no choice of checkpoints fits any budget";
    return outcome;
  }
  while (high - low > 1) {
    double middle = std::floor((low + high) / 2);
    (checkpoints(chain, middle, &flops) ? high : low) = middle;
  }
  outcome.minimum = high;
  return outcome;
}

} // namespace pith::training::remat

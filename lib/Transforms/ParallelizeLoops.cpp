//===- ParallelizeLoops.cpp - Pick the loops that run on several threads --===//
//
// Lowering linalg to parallel loops marks every parallel dimension of every
// op as scf.parallel. Handing all of them to OpenMP would fork threads for
// tiny loops, fork again inside already-parallel loops, and collapse whole
// nests into one linear loop whose index arithmetic defeats the vectorizer.
// This pass keeps one parallel level per nest, just wide enough to balance
// the threads, and makes every other dimension an ordinary scf.for.
//
//===----------------------------------------------------------------------===//

#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace pith {
#define GEN_PASS_DEF_PARALLELIZELOOPSPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

using namespace mlir;

namespace {

/// Trip count of a loop dimension, or nullopt where a bound is not constant.
std::optional<int64_t> tripCount(Value lower, Value upper, Value step) {
  auto lb = getConstantIntValue(lower), ub = getConstantIntValue(upper),
       st = getConstantIntValue(step);
  if (!lb || !ub || !st || *st <= 0)
    return std::nullopt;
  return *ub > *lb ? (*ub - *lb + *st - 1) / *st : 0;
}

/// Saturating product, treating unknown trip counts as large.
int64_t product(int64_t a, std::optional<int64_t> b) {
  constexpr int64_t large = int64_t(1) << 40;
  int64_t factor = b ? *b : large;
  if (a != 0 && factor > large / a)
    return large;
  return a * factor;
}

/// Iterations of the loops nested in `op`, along its deepest nest: the work
/// one parallel iteration does, in loop iterations.
int64_t innerIterations(Operation *op) {
  int64_t most = 1;
  for (Region &region : op->getRegions())
    for (Operation &nested : region.getOps()) {
      int64_t here = innerIterations(&nested);
      if (auto loop = dyn_cast<scf::ForOp>(nested))
        here = product(here, tripCount(loop.getLowerBound(), loop.getUpperBound(),
                                       loop.getStep()));
      else if (auto parallel = dyn_cast<scf::ParallelOp>(nested))
        for (auto [lb, ub, st] : llvm::zip(parallel.getLowerBound(),
                                          parallel.getUpperBound(),
                                          parallel.getStep()))
          here = product(here, tripCount(lb, ub, st));
      most = std::max(most, here);
    }
  return most;
}

/// Rebuilds `op` with its first `keep` dimensions parallel and the others as
/// scf.for loops inside (keep == 0: no parallel loop at all).
void serializeTrailingDims(scf::ParallelOp op, unsigned keep) {
  OpBuilder builder(op);
  Location loc = op.getLoc();
  unsigned rank = op.getNumLoops();
  IRMapping mapping;

  auto emitBody = [&](OpBuilder &b) {
    for (Operation &nested : op.getBody()->without_terminator())
      b.clone(nested, mapping);
  };
  // Builds scf.for loops for dimensions [dim, rank) at `b`, then the body.
  std::function<void(OpBuilder &, unsigned)> emitLoops = [&](OpBuilder &b,
                                                             unsigned dim) {
    if (dim == rank)
      return emitBody(b);
    scf::ForOp::create(b, loc, op.getLowerBound()[dim], op.getUpperBound()[dim],
                       op.getStep()[dim], ValueRange(),
                       [&](OpBuilder &inner, Location, Value iv, ValueRange) {
                         mapping.map(op.getInductionVars()[dim], iv);
                         emitLoops(inner, dim + 1);
                         scf::YieldOp::create(inner, loc);
                       });
  };

  if (keep == 0) {
    emitLoops(builder, 0);
  } else {
    scf::ParallelOp::create(
        builder, loc, op.getLowerBound().take_front(keep),
        op.getUpperBound().take_front(keep), op.getStep().take_front(keep),
        [&](OpBuilder &b, Location, ValueRange ivs) {
          for (auto [from, to] : llvm::zip(op.getInductionVars(), ivs))
            mapping.map(from, to);
          emitLoops(b, keep);
        });
  }
  op.erase();
}

struct ParallelizeLoopsPass
    : public pith::impl::ParallelizeLoopsPassBase<ParallelizeLoopsPass> {
  using ParallelizeLoopsPassBase::ParallelizeLoopsPassBase;

  void runOnOperation() override {
    // Post-order: inner loops are rewritten before the loops around them.
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp op) {
      if (op.getNumResults() == 0)
        loops.push_back(op);
    });
    for (scf::ParallelOp op : loops) {
      if (op->getParentOfType<scf::ParallelOp>()) {
        serializeTrailingDims(op, 0);
        continue;
      }
      SmallVector<std::optional<int64_t>> trips;
      for (auto [lb, ub, st] :
           llvm::zip(op.getLowerBound(), op.getUpperBound(), op.getStep()))
        trips.push_back(tripCount(lb, ub, st));
      int64_t total = innerIterations(op);
      for (auto trip : trips)
        total = product(total, trip);
      if (total < minIterations) {
        serializeTrailingDims(op, 0);
        continue;
      }
      unsigned keep = 0;
      int64_t chunks = 1;
      while (keep < trips.size() && chunks < minChunks)
        chunks = product(chunks, trips[keep++]);
      if (keep < op.getNumLoops())
        serializeTrailingDims(op, keep);
    }
  }
};

} // namespace

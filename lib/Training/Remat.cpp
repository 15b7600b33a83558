//===- Remat.cpp - Recompute activations under a memory budget ------------===//
//
// pith-remat acts on a training step built by pith-autodiff. An activation
// is a value a forward op produces and a backward op (marked pith.backward)
// reads: by default it stays live from the forward pass to its last
// backward reader. A dropped activation is instead recomputed: its
// producer is cloned right before the first backward op that reads it
// (and, recursively, the dropped activations that producer reads), and the
// backward readers take the clone. Clones carry `pith.recompute` naming the
// node they recompute; later backward readers reuse a clone, so a chain of
// dropped values is recomputed once per step, segment by segment, as in
// Chen et al.'s checkpointing.
//
// Memory is counted on the schedule (RematModel.h): walking the ops in
// order, each result is allocated when produced and freed after its last
// reader, the liveness the buffer planner (pith-plan-buffers) applies to
// the compiled step. The budget bounds the activation memory: kept
// activations plus recomputed copies of activations, per backward op.
// Cost is the recomputed ops' FLOPs.
//
// Solvers: `sqrt` keeps the activations of every k-th producing op
// (k = ceil(sqrt(n)), Chen et al.'s sqrt(n) checkpointing, no budget);
// `greedy` (the default) drops, while the activation memory is over the
// budget, the activation that lowers it most per recomputed FLOP (never one
// that raises it), then searches locally: keeps again what the budget
// allows, and swaps a dropped activation for a kept one while that costs
// fewer FLOPs. Activations go by producing op (one clone recomputes all
// its results). `ilp` is the integer program of RematIlp.cpp (CBC, time
// limited, greedy's choice as its start and fallback); `chain` the dynamic
// program of RematChain.cpp for chains; `exact` tries every subset of up to
// 16 droppable producers. A budget a solver cannot reach is an error
// stating the smallest activation memory it reached.
//
//===----------------------------------------------------------------------===//

#include "pith/Training/Passes.h"

#include "Gradients.h"
#include "RematModel.h"
#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <numeric>

namespace pith {
#define GEN_PASS_DEF_REMATPASS
#include "pith/Training/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::training;

using namespace pith::training::remat;

namespace {

struct RematPass : public pith::impl::RematPassBase<RematPass> {
  using RematPassBase::RematPassBase;

  void runOnOperation() override {
    if (failed(run(getOperation())))
      signalPassFailure();
  }

  LogicalResult fail(Operation *at, const Twine &message) {
    return at->emitError(getArgument() + ": " + message);
  }

  /// Parses `budget`: bytes ("12000000", "12MB", "64KB") or a fraction of
  /// the keep-everything activation memory ("0.5").
  std::optional<double> parseBudget(int64_t keepAllActivations) {
    StringRef text = StringRef(budget).trim();
    double scale = 1;
    for (auto [suffix, factor] : {std::pair<StringRef, double>{"GB", 1e9}, {"MB", 1e6},
                                  {"KB", 1e3}, {"kB", 1e3}, {"B", 1}})
      if (text.consume_back(suffix)) {
        scale = factor;
        break;
      }
    double value;
    if (text.getAsDouble(value) || value < 0)
      return std::nullopt;
    if (scale == 1 && value <= 1 && !StringRef(budget).ends_with("B"))
      return value * keepAllActivations;
    return value * scale;
  }

  LogicalResult run(ModuleOp module) {
    auto funcs = module.getOps<func::FuncOp>();
    if (funcs.empty())
      return fail(module, "the module has no graph");
    func::FuncOp func = *funcs.begin();
    if (!module->hasAttr("pith.training"))
      return fail(module, "the module is not a training step; run pith-autodiff first");
    if (!llvm::is_contained({"greedy", "ilp", "chain", "exact", "sqrt", "none"},
                            StringRef(solver)))
      return fail(module, "solver: expected 'greedy', 'ilp', 'chain', 'exact', 'sqrt' or 'none', "
                          "got '" + solver + "'");
    if (timeLimit <= 0)
      return fail(module, llvm::formatv("time-limit: expected seconds > 0, got {0}", timeLimit)
                              .str());
    Step step(func);

    // Which activations may go: recomputable producers, not forced kept.
    llvm::StringSet<> keepNames, recomputeNames;
    for (const std::string &n : keep)
      keepNames.insert(n);
    for (const std::string &n : recompute)
      recomputeNames.insert(n);
    llvm::StringSet<> seen;
    SmallVector<Value> droppable;
    llvm::DenseSet<Value> forced;
    for (Value a : step.activations) {
      Operation *producer = a.getDefiningOp();
      std::string name = nodeName(producer);
      seen.insert(name);
      if (recomputeNames.contains(name)) {
        if (!isRecomputable(producer))
          return fail(producer, "recompute: node '" + name + "' (" + onnxTypeOf(producer).str() +
                                    ") cannot be recomputed (not deterministic or has subgraphs)");
        forced.insert(a);
        continue;
      }
      if (isRecomputable(producer) && !keepNames.contains(name))
        droppable.push_back(a);
    }
    // Activations go by producer: one clone recomputes all of an op's
    // results (a MaxPool's values and indices), so they are dropped together.
    SmallVector<SmallVector<Value>> units;
    for (Value a : droppable)
      if (units.empty() || units.back().front().getDefiningOp() != a.getDefiningOp())
        units.push_back({a});
      else
        units.back().push_back(a);
    for (const auto *names : {&keepNames, &recomputeNames})
      for (const auto &entry : *names)
        if (!seen.contains(entry.getKey()))
          return fail(module, "no forward node named '" + entry.getKey().str() +
                                  "' produces an activation");

    int64_t activationBytes = 0;
    for (Value a : step.activations)
      activationBytes += bytesOf(a);
    llvm::DenseSet<Value> none;
    Schedule::Result keepAll = Schedule{step, none}.simulate();

    llvm::DenseSet<Value> dropped(forced.begin(), forced.end());
    std::optional<int64_t> greedyFailed;
    std::string ilpLine;
    std::optional<double> target;
    if (!budget.empty()) {
      target = parseBudget(keepAll.activationPeak);
      if (!target)
        return fail(module, "budget: expected bytes (e.g. 12MB) or a fraction of the "
                            "activation memory in (0, 1], got '" + budget + "'");
    }
    if (solver == "sqrt") {
      // Keep the activations of every k-th producing op.
      SmallVector<Operation *> producers;
      for (Value a : droppable)
        if (producers.empty() || producers.back() != a.getDefiningOp())
          producers.push_back(a.getDefiningOp());
      int64_t k = std::max<int64_t>(1, std::ceil(std::sqrt(double(producers.size()))));
      llvm::DenseSet<Operation *> kept;
      for (size_t i = 0; i < producers.size(); i += k)
        kept.insert(producers[i]);
      for (Value a : droppable)
        if (!kept.count(a.getDefiningOp()))
          dropped.insert(a);
    } else if ((solver == "greedy" || solver == "ilp") && target) {
      if (std::optional<int64_t> reached = greedy(step, units, *target, dropped)) {
        if (solver == "greedy")
          return fail(module, budgetError(*target, *reached, keepAll.activationPeak, false));
        greedyFailed = *reached;
      } else {
        refine(step, units, *target, dropped);
      }
    }
    if (solver == "ilp" && target && failed(solveExactly(module, step, units, forced, *target,
                                                         keepAll.activationPeak, greedyFailed,
                                                         dropped, ilpLine)))
      return failure();

    if (solver == "chain" && target) {
      ChainOutcome outcome = solveChain(step, units, forced, *target);
      if (!outcome.error.empty())
        return fail(module, outcome.error);
      if (!outcome.feasible)
        return fail(module, budgetError(*target, int64_t(outcome.minimum), keepAll.activationPeak,
                                        false));
      dropped = std::move(outcome.dropped);
      Schedule::Result result = Schedule{step, dropped}.simulate();
      if (result.activationPeak > *target)
        return fail(module, llvm::formatv("solver=chain: internal error: the checkpoints need {0} "
                                          "of activation memory, over the budget {1}",
                                          compression::formatBytes(result.activationPeak),
                                          compression::formatBytes(int64_t(*target)))
                                .str());
    }

    if (solver == "exact" && target) {
      // Every subset of the droppable activations: the least recomputed
      // FLOPs within the budget (ties: the smaller activation memory).
      constexpr size_t kMaxExact = 16;
      if (units.size() > kMaxExact)
        return fail(module, llvm::formatv("solver=exact enumerates at most {0} ops whose "
                                          "activations may be dropped; this step has {1} (use "
                                          "greedy)",
                                          kMaxExact, units.size())
                                .str());
      auto subset = [&](uint32_t mask) {
        llvm::DenseSet<Value> trial(forced.begin(), forced.end());
        for (size_t i = 0; i < units.size(); ++i)
          if (mask & (1u << i))
            trial.insert(units[i].begin(), units[i].end());
        return trial;
      };
      std::optional<llvm::DenseSet<Value>> best;
      Schedule::Result bestResult;
      for (uint32_t mask = 0; mask < (1u << units.size()); ++mask) {
        llvm::DenseSet<Value> trial = subset(mask);
        Schedule::Result result = Schedule{step, trial}.simulate();
        if (result.activationPeak > *target)
          continue;
        if (!best || result.flops < bestResult.flops ||
            (result.flops == bestResult.flops &&
             result.activationPeak < bestResult.activationPeak)) {
          best = std::move(trial);
          bestResult = result;
        }
      }
      if (!best) {
        int64_t smallest = keepAll.activationPeak;
        for (uint32_t mask = 0; mask < (1u << units.size()); ++mask)
          smallest = std::min(smallest, Schedule{step, subset(mask)}.simulate().activationPeak);
        return fail(module, budgetError(*target, smallest, keepAll.activationPeak, true));
      }
      dropped = std::move(*best);
    }

    Schedule::Result chosen = Schedule{step, dropped}.simulate();
    int64_t recomputedOps = apply(func, step, dropped);
    Builder b(module.getContext());
    std::vector<std::string> lines = {llvm::formatv(
        "{0} of {1} activations recomputed ({2} ops cloned, {3:e2} FLOPs per step); activation "
        "memory {4} -> {5}{6}; all intermediates {7} -> {8}",
        dropped.size(), step.activations.size(), recomputedOps, chosen.flops,
        compression::formatBytes(keepAll.activationPeak),
        compression::formatBytes(chosen.activationPeak),
        target ? " (budget " + compression::formatBytes(int64_t(*target)) + ")"
               : std::string(),
        compression::formatBytes(keepAll.totalPeak), compression::formatBytes(chosen.totalPeak))};
    if (!ilpLine.empty())
      lines.push_back(ilpLine);
    compression::appendReport(
        module, getArgument(), lines,
        {b.getNamedAttr("activations", b.getI64IntegerAttr(step.activations.size())),
         b.getNamedAttr("recomputed", b.getI64IntegerAttr(dropped.size())),
         b.getNamedAttr("recompute_flops", b.getF64FloatAttr(chosen.flops)),
         b.getNamedAttr("activation_bytes", b.getI64IntegerAttr(activationBytes)),
         b.getNamedAttr("activation_peak_before", b.getI64IntegerAttr(keepAll.activationPeak)),
         b.getNamedAttr("activation_peak", b.getI64IntegerAttr(chosen.activationPeak)),
         b.getNamedAttr("peak_before", b.getI64IntegerAttr(keepAll.totalPeak)),
         b.getNamedAttr("peak", b.getI64IntegerAttr(chosen.totalPeak))});
    return success();
  }

  /// The greedy solver: drops, while over `target`, the unit that lowers
  /// the activation memory most per recomputed FLOP. Returns the smallest
  /// activation memory it reached if that is still over the target.
  std::optional<int64_t> greedy(const Step &step, ArrayRef<SmallVector<Value>> units,
                                double target, llvm::DenseSet<Value> &dropped) {
    Schedule::Result current = Schedule{step, dropped}.simulate();
    while (current.activationPeak > target) {
      Value best;
      size_t bestIndex = 0;
      double bestScore = -1;
      Schedule::Result bestResult = current;
      for (auto [index, unit] : llvm::enumerate(units)) {
        if (dropped.count(unit.front()))
          continue;
        dropped.insert(unit.begin(), unit.end());
        Schedule::Result trial = Schedule{step, dropped}.simulate();
        for (Value a : unit)
          dropped.erase(a);
        if (trial.activationPeak > current.activationPeak)
          continue;
        // Activation memory saved per recomputed FLOP; the bytes no longer
        // kept break ties (dropping a value may lower a later peak).
        int64_t bytes = 0;
        for (Value a : unit)
          bytes += bytesOf(a);
        double score = (double(current.activationPeak - trial.activationPeak) + 1e-3 * bytes) /
                       (trial.flops - current.flops + 1.0);
        if (score > bestScore) {
          bestScore = score;
          best = unit.front();
          bestIndex = index;
          bestResult = trial;
        }
      }
      if (!best)
        return current.activationPeak;
      dropped.insert(units[bestIndex].begin(), units[bestIndex].end());
      current = bestResult;
    }
    return std::nullopt;
  }

  /// solver=ilp: the integer program, begun from greedy's choice (when
  /// greedy reached the budget), within the time limit. Keeps the better
  /// of the two; a budget the program proves infeasible is an error stating
  /// the smallest activation memory (a second program, minimizing it).
  LogicalResult solveExactly(ModuleOp module, const Step &step,
                             ArrayRef<SmallVector<Value>> units,
                             const llvm::DenseSet<Value> &forced, double target, int64_t keepAll,
                             std::optional<int64_t> greedyFailed, llvm::DenseSet<Value> &dropped,
                             std::string &line) {
    if (greedyFailed)
      dropped = llvm::DenseSet<Value>(forced.begin(), forced.end());
    IlpOutcome outcome =
        solveIlp(step, units, forced, target, timeLimit, greedyFailed ? nullptr : &dropped);
    if (!outcome.error.empty())
      return fail(module, outcome.error);
    if (outcome.infeasible || (!outcome.solved && greedyFailed)) {
      IlpOutcome least = solveIlp(step, units, forced, std::nullopt, timeLimit, nullptr);
      int64_t smallest = greedyFailed.value_or(keepAll);
      if (least.solved)
        smallest = std::min(smallest, Schedule{step, least.dropped}.simulate().activationPeak);
      return fail(module, budgetError(target, smallest, keepAll, least.optimal));
    }
    double greedyFlops = greedyFailed ? -1 : Schedule{step, dropped}.simulate().flops;
    if (outcome.solved) {
      Schedule::Result result = Schedule{step, outcome.dropped}.simulate();
      if (result.activationPeak > target)
        return fail(module, llvm::formatv("ilp: internal error: the program's choice needs {0} "
                                          "of activation memory, over the budget {1}",
                                          compression::formatBytes(result.activationPeak),
                                          compression::formatBytes(int64_t(target)))
                                .str());
      if (greedyFlops < 0 || result.flops <= greedyFlops)
        dropped = outcome.dropped;
    }
    line = llvm::formatv(
        "ilp: {0} in {1:f1} s ({2} columns, {3} rows, {4} binary); optimum {5:e3} FLOPs, bound "
        "{6:e3}, greedy {7}",
        outcome.optimal ? "proven optimal"
                        : (outcome.solved ? "time limit reached" : "no solution in the time limit"),
        outcome.seconds, outcome.columns, outcome.rows, outcome.integers,
        outcome.solved ? outcome.objective : 0.0, outcome.bound,
        greedyFlops < 0 ? std::string("did not reach the budget")
                        : llvm::formatv("{0:e3} FLOPs", greedyFlops).str());
    return success();
  }

  std::string budgetError(double target, int64_t smallest, int64_t keepAll, bool proven) {
    return llvm::formatv("budget: {0} is below the smallest activation memory {1} for this "
                         "step, {2} (keeping everything: {3})",
                         compression::formatBytes(int64_t(target)),
                         proven ? "any choice reaches" : "the solver reaches",
                         compression::formatBytes(smallest), compression::formatBytes(keepAll))
        .str();
  }

  /// Local search after the greedy solver: keep again any dropped
  /// activation the budget allows, then swap a dropped one for a kept one
  /// while that lowers the recomputed FLOPs within the budget (up to 64
  /// droppable activations).
  void refine(const Step &step, ArrayRef<SmallVector<Value>> units, double target,
              llvm::DenseSet<Value> &dropped) {
    auto drop = [&](ArrayRef<Value> unit) { dropped.insert(unit.begin(), unit.end()); };
    auto keep = [&](ArrayRef<Value> unit) {
      for (Value a : unit)
        dropped.erase(a);
    };
    double cost = Schedule{step, dropped}.simulate().flops;
    for (ArrayRef<Value> unit : units) {
      if (!dropped.count(unit.front()))
        continue;
      keep(unit);
      Schedule::Result trial = Schedule{step, dropped}.simulate();
      if (trial.activationPeak <= target)
        cost = trial.flops;
      else
        drop(unit);
    }
    if (units.size() > 64)
      return;
    for (bool improved = true; improved;) {
      improved = false;
      for (ArrayRef<Value> out : units) {
        if (!dropped.count(out.front()))
          continue;
        for (ArrayRef<Value> in : units) {
          if (dropped.count(in.front()))
            continue;
          keep(out);
          drop(in);
          Schedule::Result trial = Schedule{step, dropped}.simulate();
          if (trial.activationPeak <= target && trial.flops < cost) {
            cost = trial.flops;
            improved = true;
            break;
          }
          keep(in);
          drop(out);
        }
        if (improved)
          break;
      }
    }
  }

  /// Clones the producers of dropped activations before their first
  /// backward readers; returns how many ops were cloned.
  int64_t apply(func::FuncOp func, const Step &step, const llvm::DenseSet<Value> &dropped) {
    Schedule schedule{step, dropped};
    IRMapping recomputed;
    int64_t cloned = 0;
    OpBuilder b(func.getContext());
    std::function<Value(Value)> recompute = [&](Value v) -> Value {
      if (Value done = recomputed.lookupOrNull(v))
        return done;
      Operation *producer = v.getDefiningOp();
      IRMapping operands;
      for (Value operand : producer->getOperands())
        if (schedule.mustRecompute(operand))
          operands.map(operand, recompute(operand));
      Operation *copy = b.clone(*producer, operands);
      std::string name = nodeName(producer);
      copy->setAttr(kRecomputeAttr,
                    b.getStringAttr(name.empty() ? onnxTypeOf(producer).str() : name));
      copy->setAttr(kBackwardAttr, b.getUnitAttr());
      ++cloned;
      for (auto [original, clone] : llvm::zip(producer->getResults(), copy->getResults()))
        recomputed.map(original, clone);
      return recomputed.lookup(v);
    };
    for (Operation *op : step.ops) {
      if (!step.backward.count(op))
        continue;
      b.setInsertionPoint(op);
      for (OpOperand &operand : op->getOpOperands())
        if (dropped.count(operand.get()))
          operand.set(recompute(operand.get()));
    }
    return cloned;
  }
};

} // namespace

//===- RematIlp.cpp - pith-remat's integer program (COIN-OR CBC) ----------===//
//
// The drop decisions of pith-remat as a mixed-integer program, solved by
// CBC with a time limit, as Checkmate does for general graphs. It encodes
// exactly the accounting of RematModel.h (clones made at their first
// backward need, reused after; activation memory per backward op), so its
// optimum is the optimum of the cost model greedy and exact work in, on
// any graph, and its solutions apply unchanged.
//
// Variables, with S the backward ops ("slots") that first read some
// droppable activation, the only slots where a clone can be made:
//   d[u]       binary: the activations of producer u are dropped;
//   z[x][j]    the forward op x has been recomputed by slot S[j]
//              (monotone in j; z[x][last] says x is recomputed at all);
//   w[x,y][j]  z[y][j] and the value x gives y is not kept (x must be
//              recomputed for y's clone);
//   a[v][j]    the kept activation v is alive at slot S[j] because a clone
//              made then or later still reads it;
//   c[v][j]    the recomputed copy of activation v is alive at, or made
//              in, slot S[j].
// z is pinned to the OR of its needs (own dropped activation first read
// by S[j]; a consumer recomputed by S[j] that reads a value not kept), so
// only d needs to be integer: for integer d every other variable's
// bounds leave one value, and the linear relaxation is the branching bound.
//
// Rows: the needs and their OR; activation memory at every forward op
// that writes an activation and at every slot in S, within the budget.
// Objective: recomputed FLOPs. Without a budget it minimizes the memory
// instead: the smallest activation memory any drop set reaches, which an
// infeasible budget's error states.
//
//===----------------------------------------------------------------------===//

#include "RematModel.h"

#include "coin/Cbc_C_Interface.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <map>

using namespace mlir;
using namespace pith::training::remat;

namespace {

/// A linear expression over columns, with a constant.
struct Linear {
  SmallVector<std::pair<int, double>> terms;
  double constant = 0;

  Linear &add(const Linear &other, double scale = 1) {
    for (auto [column, coefficient] : other.terms)
      terms.push_back({column, scale * coefficient});
    constant += scale * other.constant;
    return *this;
  }
  static Linear column(int c, double coefficient = 1) {
    Linear l;
    l.terms.push_back({c, coefficient});
    return l;
  }
  static Linear value(double v) {
    Linear l;
    l.constant = v;
    return l;
  }
};

/// The program's columns and rows, in the form Cbc_loadProblem takes.
struct Program {
  std::vector<double> lower, upper, objective;
  std::vector<bool> integer;
  struct Row {
    SmallVector<std::pair<int, double>> terms;
    double lower, upper;
  };
  std::vector<Row> rows;

  int addColumn(double lo, double hi, bool isInteger = false) {
    lower.push_back(lo);
    upper.push_back(hi);
    objective.push_back(0);
    integer.push_back(isInteger);
    return static_cast<int>(lower.size()) - 1;
  }
  /// lhs >= 0.
  void atLeastZero(const Linear &lhs) { addRow(lhs, 0, COIN_DBL_MAX_GUARD); }
  /// lhs <= 0.
  void atMostZero(const Linear &lhs) { addRow(lhs, -COIN_DBL_MAX_GUARD, 0); }
  void addRow(const Linear &lhs, double lo, double hi) {
    // Merge repeated columns; move the constant into the bounds.
    std::map<int, double> merged;
    for (auto [column, coefficient] : lhs.terms)
      merged[column] += coefficient;
    Row row;
    for (auto [column, coefficient] : merged)
      if (coefficient != 0)
        row.terms.push_back({column, coefficient});
    row.lower = lo <= -COIN_DBL_MAX_GUARD ? -COIN_DBL_MAX_GUARD : lo - lhs.constant;
    row.upper = hi >= COIN_DBL_MAX_GUARD ? COIN_DBL_MAX_GUARD : hi - lhs.constant;
    if (row.terms.empty()) {
      // A constant row: it holds or no choice can satisfy the program.
      if (row.lower > 1e-9 || row.upper < -1e-9)
        contradicted = true;
      return;
    }
    rows.push_back(std::move(row));
  }
  /// A row without variables that does not hold (e.g. memory no choice
  /// affects, over the budget): the program is infeasible as built.
  bool contradicted = false;
  static constexpr double COIN_DBL_MAX_GUARD = 1e30;
};

class IlpBuilder {
public:
  IlpBuilder(const Step &step, ArrayRef<SmallVector<Value>> units,
             const llvm::DenseSet<Value> &forced)
      : step(step), units(units), forced(forced) {}

  /// Builds the program; an error message if the step's shape does not fit.
  std::optional<std::string> build(std::optional<double> budget);
  Program program;
  SmallVector<int> dropColumns; // d[u], by unit
  int memoryColumn = -1;        // the budget as a variable (no budget given)

private:
  const Step &step;
  ArrayRef<SmallVector<Value>> units;
  const llvm::DenseSet<Value> &forced;

  SmallVector<Operation *> forward;
  llvm::DenseMap<Operation *, int> forwardIndex;
  llvm::DenseMap<Value, int> unitOf;
  // First and last backward reader of each activation, as slot numbers.
  llvm::DenseMap<Value, int64_t> firstReader, lastReader;
  SmallVector<int64_t> slots; // S
  struct Edge {
    Operation *producer;
    Value value;
    Operation *consumer;
  };
  SmallVector<Edge> edges;
  // firstSlot[x]: the first index into S at which x may be recomputed;
  // -1 if it never is.
  SmallVector<int> firstSlot;
  // zColumn[x][j - firstSlot[x]]
  std::vector<std::vector<int>> zColumn;
  std::map<std::pair<int, int>, int> wColumn; // (edge, j)

  bool isDroppable(Value v) const { return unitOf.count(v) != 0; }
  bool canBeDropped(Value v) const { return isDroppable(v) || forced.count(v); }
  /// Whether v is kept (1) or not (0), as an expression of d.
  Linear kept(Value v) const {
    if (isDroppable(v))
      return Linear::value(1).add(Linear::column(dropColumns[unitOf.lookup(v)]), -1);
    if (forced.count(v) || !step.activationIndex.count(v))
      return Linear::value(0);
    return Linear::value(1);
  }
  bool keptAlways(Value v) const {
    return step.activationIndex.count(v) && !canBeDropped(v);
  }
  Linear z(Operation *x, int j) const {
    int i = forwardIndex.lookup(x);
    if (j < 0 || firstSlot[i] < 0 || j < firstSlot[i])
      return Linear::value(0);
    return Linear::column(zColumn[i][j - firstSlot[i]]);
  }
  Linear recomputed(Operation *x) const { return z(x, static_cast<int>(slots.size()) - 1); }
  bool hasZ(Operation *x) const { return firstSlot[forwardIndex.lookup(x)] >= 0; }
  /// The need an edge puts on its producer at slot j.
  Linear need(size_t e, int j) const {
    const Edge &edge = edges[e];
    if (!isDroppable(edge.value))
      return z(edge.consumer, j);
    auto it = wColumn.find({static_cast<int>(e), j});
    return it == wColumn.end() ? Linear::value(0) : Linear::column(it->second);
  }
  Linear memoryBound() const {
    return memoryColumn >= 0 ? Linear::column(memoryColumn) : Linear();
  }
};

std::optional<std::string> IlpBuilder::build(std::optional<double> budget) {
  // Forward ops, all before the first backward op.
  if (Operation *late = step.forwardAfterBackward)
    return "solver=ilp needs the forward pass before the backward pass; '" + nodeName(late) +
           "' comes after a backward op";
  for (Operation *op : step.forwardOps) {
    forwardIndex[op] = static_cast<int>(forward.size());
    forward.push_back(op);
  }
  for (auto [index, unit] : llvm::enumerate(units)) {
    for (Value v : unit)
      unitOf[v] = static_cast<int>(index);
    dropColumns.push_back(program.addColumn(0, 1, /*isInteger=*/true));
  }
  for (Value v : step.activations) {
    int64_t first = INT64_MAX, last = -1;
    for (Operation *user : v.getUsers())
      if (step.slot.count(user)) {
        first = std::min(first, step.slot.lookup(user));
        last = std::max(last, step.slot.lookup(user));
      }
    firstReader[v] = first;
    lastReader[v] = last;
    if (canBeDropped(v))
      slots.push_back(first);
  }
  llvm::sort(slots);
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  auto slotIndex = [&](int64_t s) {
    return static_cast<int>(llvm::lower_bound(slots, s) - slots.begin());
  };
  const int numSlots = static_cast<int>(slots.size());

  // Edges a clone follows: a forward value that is not always kept, read
  // by a forward op.
  for (Operation *x : forward)
    for (Value v : x->getResults()) {
      if (keptAlways(v))
        continue;
      llvm::SmallPtrSet<Operation *, 4> seen;
      for (Operation *y : v.getUsers())
        if (forwardIndex.count(y) && seen.insert(y).second)
          edges.push_back({x, v, y});
    }
  // When each op may first be needed: consumers come later in the forward
  // pass, so one reverse sweep settles it.
  firstSlot.assign(forward.size(), -1);
  SmallVector<SmallVector<size_t>> edgesOf(forward.size());
  for (auto [e, edge] : llvm::enumerate(edges))
    edgesOf[forwardIndex.lookup(edge.producer)].push_back(e);
  for (int i = static_cast<int>(forward.size()) - 1; i >= 0; --i) {
    int first = INT32_MAX;
    for (Value v : forward[i]->getResults())
      if (canBeDropped(v))
        first = std::min(first, slotIndex(firstReader.lookup(v)));
    for (size_t e : edgesOf[i]) {
      int consumer = firstSlot[forwardIndex.lookup(edges[e].consumer)];
      if (consumer >= 0)
        first = std::min(first, consumer);
    }
    if (first != INT32_MAX)
      firstSlot[i] = first;
  }
  zColumn.resize(forward.size());
  for (size_t i = 0; i < forward.size(); ++i)
    if (firstSlot[i] >= 0)
      for (int j = firstSlot[i]; j < numSlots; ++j)
        zColumn[i].push_back(program.addColumn(0, 1));
  for (auto [e, edge] : llvm::enumerate(edges))
    if (isDroppable(edge.value) && hasZ(edge.consumer))
      for (int j = firstSlot[forwardIndex.lookup(edge.consumer)]; j < numSlots; ++j)
        wColumn[{static_cast<int>(e), j}] = program.addColumn(0, 1);
  if (!budget)
    memoryColumn = program.addColumn(0, Program::COIN_DBL_MAX_GUARD);

  // z is the OR of its needs.
  for (auto [i, x] : llvm::enumerate(forward)) {
    if (firstSlot[i] < 0)
      continue;
    for (int j = firstSlot[i]; j < numSlots; ++j) {
      Linear zj = z(x, j);
      if (j > firstSlot[i])
        program.atLeastZero(Linear(zj).add(z(x, j - 1), -1));
      Linear needs;
      for (Value v : x->getResults()) {
        if (!canBeDropped(v) || firstReader.lookup(v) > slots[j])
          continue;
        Linear own = Linear::value(1).add(kept(v), -1);
        program.atLeastZero(Linear(zj).add(own, -1));
        needs.add(own);
      }
      for (size_t e : edgesOf[i]) {
        Linear n = need(e, j);
        program.atLeastZero(Linear(zj).add(n, -1));
        needs.add(n);
      }
      program.atMostZero(Linear(zj).add(needs, -1));
    }
  }
  // w = z[consumer] AND NOT kept(value).
  for (auto [key, column] : wColumn) {
    const Edge &edge = edges[key.first];
    Linear w = Linear::column(column), zy = z(edge.consumer, key.second);
    Linear k = kept(edge.value);
    program.atLeastZero(Linear(w).add(zy, -1).add(k));
    program.atMostZero(Linear(w).add(zy, -1));
    program.atMostZero(Linear(w).add(Linear::value(-1)).add(k));
  }

  auto bytes = [](Value v) { return static_cast<double>(bytesOf(v)); };
  auto withinBudget = [&](const Linear &memory) {
    Linear row = memory;
    if (budget)
      row.add(Linear::value(-*budget));
    else
      row.add(memoryBound(), -1);
    program.atMostZero(row);
  };

  // Forward memory: at each op that writes an activation, the activations
  // written so far that a forward op still reads, or that are kept.
  llvm::DenseMap<Value, int64_t> lastForwardRead;
  for (Value v : step.activations) {
    int64_t last = -1;
    for (Operation *user : v.getUsers())
      if (!step.backward.count(user))
        last = std::max(last, step.position.lookup(user));
    lastForwardRead[v] = last;
  }
  for (Operation *x : forward) {
    if (llvm::none_of(x->getResults(), [&](Value v) { return step.activationIndex.count(v); }))
      continue;
    int64_t at = step.position.lookup(x);
    Linear memory;
    for (Value v : step.activations) {
      if (step.returned.count(v))
        continue;
      int64_t produced = step.position.lookup(v.getDefiningOp());
      if (produced > at)
        continue;
      if (lastForwardRead.lookup(v) >= at)
        memory.add(Linear::value(bytes(v)));
      else
        memory.add(kept(v), bytes(v));
    }
    withinBudget(memory);
  }
  // Memory at each slot of S: kept activations still to be read, and
  // recomputed copies alive then or made then.
  for (int j = 0; j < numSlots; ++j) {
    int64_t s = slots[j];
    Linear memory;
    for (Value v : step.activations) {
      if (step.returned.count(v) || (!keptAlways(v) && !isDroppable(v)))
        continue; // a forced drop is never kept
      if (lastReader.lookup(v) >= s) {
        memory.add(kept(v), bytes(v));
        continue;
      }
      SmallVector<Operation *> readers;
      for (Operation *y : v.getUsers())
        if (forwardIndex.count(y) && hasZ(y) && !llvm::is_contained(readers, y))
          readers.push_back(y);
      if (readers.empty())
        continue; // read last before slot s, by a backward op
      int a = program.addColumn(0, 1);
      for (Operation *y : readers)
        program.atLeastZero(Linear::column(a)
                                .add(kept(v), -1)
                                .add(recomputed(y), -1)
                                .add(z(y, j - 1))
                                .add(Linear::value(1)));
      memory.add(Linear::column(a, bytes(v)));
    }
    for (auto [i, x] : llvm::enumerate(forward)) {
      if (firstSlot[i] < 0 || j < firstSlot[i])
        continue;
      for (Value v : x->getResults()) {
        if (!canBeDropped(v))
          continue; // working memory of the recomputation: not counted
        int c = program.addColumn(0, 1);
        Linear made = z(x, j).add(z(x, j - 1), -1), before = z(x, j - 1);
        program.atLeastZero(Linear::column(c).add(made, -1));
        if (lastReader.lookup(v) >= s)
          program.atLeastZero(Linear::column(c).add(before, -1));
        for (size_t e : edgesOf[i]) {
          const Edge &edge = edges[e];
          if (edge.value != v || !hasZ(edge.consumer))
            continue;
          Linear r = recomputed(edge.consumer);
          program.atLeastZero(Linear::column(c)
                                  .add(before, -1)
                                  .add(r, -1)
                                  .add(z(edge.consumer, j - 1))
                                  .add(Linear::value(1)));
        }
        memory.add(Linear::column(c, bytes(v)));
      }
    }
    withinBudget(memory);
  }

  // Objective.
  if (!budget) {
    program.objective[memoryColumn] = 1;
  } else {
    for (Operation *x : forward)
      for (auto [column, coefficient] : recomputed(x).terms)
        program.objective[column] += coefficient * flopsOf(x);
  }
  return std::nullopt;
}

} // namespace

namespace pith::training::remat {

IlpOutcome solveIlp(const Step &step, ArrayRef<SmallVector<Value>> units,
                    const llvm::DenseSet<Value> &forced, std::optional<double> budget,
                    double timeLimitSeconds, const llvm::DenseSet<Value> *start) {
  IlpOutcome outcome;
  auto begin = std::chrono::steady_clock::now();
  IlpBuilder builder(step, units, forced);
  if (std::optional<std::string> error = builder.build(budget)) {
    outcome.error = *error;
    return outcome;
  }
  Program &p = builder.program;
  if (p.contradicted) {
    outcome.infeasible = true;
    return outcome;
  }
  const int numColumns = static_cast<int>(p.lower.size());
  const int numRows = static_cast<int>(p.rows.size());
  outcome.columns = numColumns;
  outcome.rows = numRows;
  outcome.integers = static_cast<int>(builder.dropColumns.size());

  // Column-major matrix.
  std::vector<std::vector<std::pair<int, double>>> byColumn(numColumns);
  std::vector<double> rowLower(numRows), rowUpper(numRows);
  for (int r = 0; r < numRows; ++r) {
    for (auto [column, coefficient] : p.rows[r].terms)
      byColumn[column].push_back({r, coefficient});
    rowLower[r] = p.rows[r].lower;
    rowUpper[r] = p.rows[r].upper;
  }
  std::vector<CoinBigIndex> starts = {0};
  std::vector<int> indices;
  std::vector<double> values;
  for (const auto &column : byColumn) {
    for (auto [row, coefficient] : column) {
      indices.push_back(row);
      values.push_back(coefficient);
    }
    starts.push_back(static_cast<CoinBigIndex>(indices.size()));
  }

  Cbc_Model *model = Cbc_newModel();
  Cbc_loadProblem(model, numColumns, numRows, starts.data(), indices.data(), values.data(),
                  p.lower.data(), p.upper.data(), p.objective.data(), rowLower.data(),
                  rowUpper.data());
  for (int c = 0; c < numColumns; ++c)
    if (p.integer[c])
      Cbc_setInteger(model, c);
  Cbc_setLogLevel(model, 0);
  Cbc_setMaximumSeconds(model, timeLimitSeconds);
  // Proven optimal means optimal: no relative gap allowed.
  Cbc_setAllowableFractionGap(model, 0);
  Cbc_setAllowableGap(model, 1e-6);
  if (start) {
    // The greedy solution as a first incumbent.
    std::vector<int> columns;
    std::vector<double> startValues;
    for (auto [index, unit] : llvm::enumerate(units)) {
      columns.push_back(builder.dropColumns[index]);
      startValues.push_back(start->count(unit.front()) ? 1.0 : 0.0);
    }
    Cbc_setMIPStartI(model, static_cast<int>(columns.size()), columns.data(),
                     startValues.data());
  }
  Cbc_solve(model);
  outcome.optimal = Cbc_isProvenOptimal(model);
  outcome.infeasible = Cbc_isProvenInfeasible(model);
  outcome.bound = Cbc_getBestPossibleObjValue(model);
  if (const double *solution = Cbc_bestSolution(model)) {
    outcome.solved = true;
    outcome.objective = Cbc_getObjValue(model);
    for (Value v : forced)
      outcome.dropped.insert(v);
    for (auto [index, unit] : llvm::enumerate(units))
      if (solution[builder.dropColumns[index]] > 0.5)
        outcome.dropped.insert(unit.begin(), unit.end());
  }
  Cbc_deleteModel(model);
  outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return outcome;
}

} // namespace pith::training::remat

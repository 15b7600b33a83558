//===- LowRank.cpp - Truncated SVD of linear layers -----------------------===//
//
// Each factorable layer gets a spectrum: the singular values of W, or with
// activation-aware whitening of L^T W where L L^T = X^T X / rows is the
// second moment of the layer's calibration inputs (then the tail of the
// spectrum is exactly the layer's output error on those inputs). The rank
// criteria only read spectra; the factors are formed once the ranks are
// known: U_r S_r (whitened back by L^-T) and V_r^T.
//
// The global criterion (target-params) allocates singular directions across
// layers greedily: a direction's value is its share of the layer's energy
// times the layer's measured sensitivity (model output error when the layer
// alone is factored at half its break-even rank, per unit of the layer's
// own error), its cost K + N parameters.
//
//===----------------------------------------------------------------------===//

#include "pith/Compression/Passes.h"

#include "LinearLayers.h"
#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "ONNX/ONNXOps.h"
#include "pith/Compression/Calibration.h"
#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <atomic>
#include <cmath>
#include <mutex>
#include <cstring>
#include <queue>
#include <random>

namespace pith {
#define GEN_PASS_DEF_LOWRANKPASS
#include "pith/Compression/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::compression;
using dialect::ParameterOp;

namespace {

/// Above this smaller dimension, a fixed rank well below it is computed by
/// randomized SVD.
constexpr int64_t kRandomizedFrom = 1024;

/// A layer and what the SVD found.
struct Candidate {
  Linear layer;   // a convolution's op, weight and bias too
  bool isConv = false;
  std::string name;
  int64_t k = 0, n = 0;
  Matrix weight;               // K x N
  Matrix moment;               // X^T X / rows (with calibration inputs)
  std::optional<Matrix> lower; // L, L L^T = moment + a small ridge
  bool whitened = false;       // the SVD was of L^T W (activation-aware)
  Eigen::VectorXd sigma;       // singular values, descending (possibly truncated)
  Matrix u, v;                 // K x k, N x k
  double total = 0;            // ||M||_F^2 of the decomposed matrix
  int64_t rank = 0;            // chosen; 0 = not factored
  std::string skip;            // why not factored
  double sensitivity = 1;

  /// Break-even rank: at or above it the factors are no smaller.
  int64_t breakEven() const { return k * n / (k + n); }
  double keptEnergy(int64_t r) const {
    return total > 0 ? sigma.head(std::min<int64_t>(r, sigma.size())).squaredNorm() / total : 1;
  }
  /// Relative error of the rank-r truncation (of W, or of X W).
  double error(int64_t r) const { return std::sqrt(std::max(0.0, 1 - keptEnergy(r))); }
};

/// Thin SVD of `m`, or a randomized one of `wanted` directions (Halko,
/// Martinsson, Tropp: a Gaussian sketch, two power iterations).
void decompose(const Matrix &m, int64_t wanted, Candidate &c) {
  int64_t smaller = std::min(m.rows(), m.cols());
  if (smaller < kRandomizedFrom || wanted + 10 >= smaller / 2) {
    Eigen::BDCSVD<Matrix> svd(m, Eigen::ComputeThinU | Eigen::ComputeThinV);
    c.sigma = svd.singularValues();
    c.u = svd.matrixU();
    c.v = svd.matrixV();
    return;
  }
  int64_t sketch = wanted + 10;
  std::mt19937_64 random(0);
  std::normal_distribution<double> normal;
  Matrix omega(m.cols(), sketch);
  for (int64_t i = 0; i < omega.size(); ++i)
    omega.data()[i] = normal(random);
  auto orthonormal = [](const Matrix &y) {
    Eigen::HouseholderQR<Matrix> qr(y);
    return Matrix(qr.householderQ() * Matrix::Identity(y.rows(), y.cols()));
  };
  Matrix q = orthonormal(m * omega);
  for (int iteration = 0; iteration < 2; ++iteration)
    q = orthonormal(m * orthonormal(m.transpose() * q));
  Matrix small = q.transpose() * m;
  Eigen::BDCSVD<Matrix> svd(small, Eigen::ComputeThinU | Eigen::ComputeThinV);
  c.sigma = svd.singularValues().head(wanted);
  c.u = (q * svd.matrixU()).leftCols(wanted);
  c.v = svd.matrixV().leftCols(wanted);
}

/// The two factors of the chosen rank: left K x r, right r x N.
std::pair<Matrix, Matrix> factorsOf(const Candidate &c) {
  int64_t r = c.rank;
  Matrix left = c.u.leftCols(r) * c.sigma.head(r).asDiagonal();
  if (c.whitened) // undo the whitening: L^T left' = U_r S_r
    left = c.lower->transpose().triangularView<Eigen::Upper>().solve(left);
  return {left, c.v.leftCols(r).transpose()};
}

/// The chosen rank's relative output error on the calibration activations:
/// ||X (W - W_r)|| / ||X W||, from S = X^T X / rows.
double activationError(const Candidate &c) {
  auto [left, right] = factorsOf(c);
  Matrix delta = c.weight - left * right;
  double error = (delta.transpose() * c.moment * delta).trace();
  double size = (c.weight.transpose() * c.moment * c.weight).trace();
  return std::sqrt(std::max(0.0, error) / std::max(size, 1e-300));
}

/// A 2-D convolution with one group and a stored f32 weight [F, C, kh, kw],
/// seen as the (C kh kw) x F matrix it applies to each image patch; returns
/// why not, or "".
std::string asConvolution(Operation *op, Candidate &c) {
  auto use = op->getOperand(1).getDefiningOp<dialect::UseOp>();
  if (!use)
    return "its weight is computed at run time, not a stored parameter";
  ParameterOp weight = parameterOf(use);
  auto type = weight ? dyn_cast<RankedTensorType>(weight.getType()) : RankedTensorType();
  if (!type || !type.getElementType().isF32() || type.getRank() != 4)
    return "its weight is not an f32 [F, C, kh, kw] tensor";
  if (auto group = op->getAttrOfType<IntegerAttr>("group"); group && group.getInt() != 1)
    return "a grouped convolution";
  if (!use->hasOneUse())
    return "its weight has other users";
  Value bias = op->getNumOperands() > 2 && !isa<NoneType>(op->getOperand(2).getType())
                   ? op->getOperand(2)
                   : Value();
  c.layer = {op, use, weight, false, bias};
  c.n = type.getDimSize(0);
  c.k = type.getNumElements() / c.n;
  return "";
}

Matrix convolutionMatrix(const Candidate &c) {
  ParameterOp weight = c.layer.weight;
  std::vector<float> values = WeightData(weight.getValue()).toFloats();
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> rows(
      values.data(), c.n, c.k);
  return rows.cast<double>().transpose();
}

/// A weight of `shape` holding `m` row-major.
ElementsAttr shapedWeight(MLIRContext *ctx, const Matrix &m, ArrayRef<int64_t> shape,
                          StringRef key) {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rowMajor =
      m.cast<float>();
  return makeWeight(RankedTensorType::get(shape, Float32Type::get(ctx)), key,
                    ArrayRef<float>(rowMajor.data(), rowMajor.size()));
}

/// Conv(x, W) = Conv(Conv(x, W1), W2): W1 [r, C, kh, kw] the left factor's
/// columns as filters (same strides, padding and dilation), W2 [F, r, 1, 1]
/// the right factor, with the bias.
void factorConvolution(ModuleOp module, Candidate &c, const Matrix &left, const Matrix &right,
                       StringRef leftName, StringRef rightName, ArrayRef<Attribute> sources) {
  MLIRContext *ctx = module.getContext();
  Operation *op = c.layer.op;
  auto weightType = cast<RankedTensorType>(ParameterOp(c.layer.weight).getType());
  int64_t r = left.cols();
  SmallVector<int64_t> firstShape(weightType.getShape());
  firstShape[0] = r;
  ParameterOp first = createParameter(
      module, leftName, shapedWeight(ctx, left.transpose(), firstShape, leftName), sources);
  ParameterOp second = createParameter(
      module, rightName, shapedWeight(ctx, right.transpose(), {c.n, r, 1, 1}, rightName),
      sources);
  OpBuilder b(op);
  Location loc = op->getLoc();
  OperationState noneState(loc, "onnx.None");
  noneState.addTypes(NoneType::get(ctx));
  Value none = b.create(noneState)->getResult(0);
  auto read = [&](ParameterOp p) -> Value {
    return dialect::UseOp::create(b, loc, p.getType(), FlatSymbolRefAttr::get(p.getSymNameAttr()));
  };
  SmallVector<NamedAttribute> firstAttrs, secondAttrs;
  for (NamedAttribute attr : op->getAttrs())
    (attr.getName() == ONNX::attrs::kNames ? secondAttrs : firstAttrs).push_back(attr);
  secondAttrs.push_back(b.getNamedAttr("kernel_shape", b.getDenseI64ArrayAttr({1, 1})));
  Type resultType = op->getResult(0).getType();
  Type middle = UnrankedTensorType::get(b.getF32Type());
  if (auto ranked = dyn_cast<RankedTensorType>(resultType); ranked && ranked.getRank() == 4) {
    SmallVector<int64_t> shape(ranked.getShape());
    shape[1] = r;
    middle = RankedTensorType::get(shape, b.getF32Type());
  }
  Value filtered = ONNX::createOp(b, loc, module, "Conv", {op->getOperand(0), read(first), none},
                                middle, firstAttrs);
  Value result = ONNX::createOp(b, loc, module, "Conv",
                              {filtered, read(second), c.layer.bias ? c.layer.bias : none},
                              resultType, secondAttrs);
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
  c.layer.weightUse.erase();
  ParameterOp(c.layer.weight).erase();
}


struct LowRankPass : public pith::impl::LowRankPassBase<LowRankPass> {
  using LowRankPassBase::LowRankPassBase;

  void runOnOperation() override {
    if (failed(run(getOperation())))
      signalPassFailure();
  }

  LogicalResult fail(ModuleOp module, const llvm::Twine &message) {
    return module.emitError(getArgument() + ": " + message);
  }

  LogicalResult run(ModuleOp module) {
    int criteria = (energy > 0) + (rank > 0) + (maxRelError > 0) + (targetParams > 0);
    if (criteria != 1)
      return fail(module, "set exactly one of energy, rank, max-rel-error, target-params");
    if (energy > 1 || targetParams >= 1 || rank < 0 || energy < 0 || maxRelError < 0 ||
        targetParams < 0)
      return fail(module, "energy must be in (0, 1], target-params in (0, 1), rank >= 1");
    liftParameters(module);
    auto created = OutputErrorMeter::forPass(module, calibration);
    if (!created)
      return fail(module, llvm::toString(created.takeError()));
    std::unique_ptr<OutputErrorMeter> meter = std::move(*created);
    if (!meter && activationAware)
      return fail(module, "activation-aware needs calibration inputs: give calibration=FILE.npz "
                          "(pith optimize --calibration)");
    if (!meter && targetParams > 0)
      return fail(module, "target-params allocates by measured sensitivity: it needs "
                          "calibration inputs (calibration=FILE.npz or pith optimize "
                          "--calibration)");

    std::vector<std::string> lines;
    std::vector<Candidate> candidates;
    if (failed(collect(module, candidates, lines)))
      return failure();
    if (meter && failed(readActivations(module, *meter, candidates)))
      return failure();
    decomposeAll(module, candidates);
    if (targetParams > 0) {
      if (failed(measureSensitivity(module, *meter, candidates)))
        return failure();
      allocate(candidates);
    } else {
      for (Candidate &c : candidates)
        c.rank = chooseRank(c);
    }
    return apply(module, candidates, meter.get(), lines);
  }

  /// The main graph's MatMul/Gemm layers, with the reason each other one
  /// is left alone.
  LogicalResult collect(ModuleOp module, std::vector<Candidate> &candidates,
                        std::vector<std::string> &lines) {
    llvm::StringSet<> requested;
    for (const std::string &name : layers)
      requested.insert(name);
    llvm::StringSet<> found;
    auto funcs = module.getOps<func::FuncOp>();
    if (funcs.empty())
      return success();
    for (Operation &op : (*funcs.begin()).getBody().front()) {
      StringRef opName = op.getName().getStringRef();
      bool isConv = opName == "onnx.Conv";
      if (!opName.starts_with("onnx.MatMul") && !opName.starts_with("onnx.Gemm") && !isConv)
        continue;
      Candidate c;
      c.isConv = isConv;
      std::string why = !isConv ? asLinear(&op, c.layer)
                        : conv    ? asConvolution(&op, c)
                                  : "a convolution (conv=true factors it as a matrix)";
      auto use = op.getNumOperands() > 1 ? op.getOperand(1).getDefiningOp<dialect::UseOp>()
                                         : dialect::UseOp();
      ParameterOp weight = use ? parameterOf(use) : ParameterOp();
      c.name = weight ? weight.getSymName().str() : "(computed)";
      if (!requested.empty()) {
        bool wanted = weight && llvm::any_of(weight.getSources().getAsValueRange<StringAttr>(),
                                             [&](StringRef s) { return requested.contains(s); });
        if (!wanted)
          continue;
        for (StringRef s : weight.getSources().getAsValueRange<StringAttr>())
          found.insert(s);
        if (!why.empty())
          return fail(module, "layers: '" + c.name + "' cannot be factored: " + why);
      }
      if (!why.empty()) {
        std::string label = "'" + c.name + "'";
        if (!weight)
          label = describeNode(op.getLoc());
        lines.push_back("not factored: " + label + " (" + opName.str() + "): " + why);
        continue;
      }
      if (!isConv) {
        c.k = c.layer.rows();
        c.n = c.layer.columns();
      }
      if (c.k * c.n < minSize) {
        lines.push_back(llvm::formatv("not factored: '{0}' ({1}x{2}): smaller than min-size {3}",
                                      c.name, c.k, c.n, minSize));
        continue;
      }
      if (rank > 0 && rank >= std::min(c.k, c.n)) {
        lines.push_back(llvm::formatv("not factored: '{0}' ({1}x{2}): rank {3} is not below "
                                      "min(K, N) = {4}",
                                      c.name, c.k, c.n, rank, std::min(c.k, c.n)));
        continue;
      }
      c.weight = isConv ? convolutionMatrix(c) : matrixOf(c.layer);
      candidates.push_back(std::move(c));
    }
    for (const auto &name : requested)
      if (!found.contains(name.getKey()))
        return fail(module, "layers: no MatMul, Gemm or Conv weight '" + name.getKey() + "'");
    return success();
  }

  /// The second moment of every candidate's input on the calibration data.
  LogicalResult readActivations(ModuleOp module, OutputErrorMeter &meter,
                                MutableArrayRef<Candidate> candidates) {
    // A convolution's input is an image, not rows of its matrix view: the
    // convolutions are factored plainly.
    SmallVector<Value> inputs;
    SmallVector<int64_t> widths;
    SmallVector<Candidate *> linear;
    for (Candidate &c : candidates)
      if (!c.isConv) {
        inputs.push_back(c.layer.op->getOperand(0));
        widths.push_back(c.k);
        linear.push_back(&c);
      }
    auto moments = inputMoments(meter, module, inputs, widths);
    if (!moments)
      return fail(module, llvm::toString(moments.takeError()));
    for (auto [candidate, moment] : llvm::zip(linear, *moments)) {
      Candidate &c = *candidate;
      c.moment = std::move(moment);
      c.lower = whiteningOf(c.moment);
      if (!c.lower)
        return fail(module, "the inputs of '" + c.name + "' have no usable second moment");
    }
    return success();
  }

  void decomposeAll(ModuleOp module, MutableArrayRef<Candidate> candidates) {
    bool progress = candidates.size() > 8;
    std::mutex printing;
    std::atomic<int> done{0};
    mlir::parallelFor(module.getContext(), 0, candidates.size(), [&](size_t i) {
      Candidate &c = candidates[i];
      c.whitened = activationAware && !c.isConv;
      Matrix m = c.whitened ? Matrix(c.lower->transpose() * c.weight) : c.weight;
      c.total = m.squaredNorm();
      int64_t wanted = rank > 0 ? rank : std::min(c.k, c.n);
      decompose(m, wanted, c);
      std::lock_guard<std::mutex> lock(printing);
      if (progress)
        llvm::errs() << llvm::formatv("  pith-low-rank: [{0}/{1}] {2} ({3}x{4})\n", ++done,
                                      candidates.size(), c.name, c.k, c.n);
    });
  }

  /// The rank the per-layer criterion gives; 0 where it saves nothing.
  int64_t chooseRank(Candidate &c) {
    int64_t chosen = rank;
    if (energy > 0 || maxRelError > 0) {
      chosen = c.sigma.size();
      for (int64_t r = 1; r <= c.sigma.size(); ++r)
        if ((energy > 0 && c.keptEnergy(r) >= energy - 1e-12) ||
            (maxRelError > 0 && c.error(r) <= maxRelError)) {
          chosen = r;
          break;
        }
    }
    if (chosen >= c.breakEven()) {
      c.skip = llvm::formatv("rank {0} would not save (break-even {1})", chosen, c.breakEven());
      return 0;
    }
    return chosen;
  }

  /// Each layer's model output error when it alone is factored at half its
  /// break-even rank, per unit of its own error at that rank.
  LogicalResult measureSensitivity(ModuleOp module, OutputErrorMeter &meter,
                                   MutableArrayRef<Candidate> candidates) {
    for (auto [i, c] : llvm::enumerate(candidates)) {
      int64_t probe = std::max<int64_t>(1, c.breakEven() / 2);
      IRMapping mapping;
      OwningOpRef<ModuleOp> trial(cast<ModuleOp>(module->clone(mapping)));
      Candidate copy;
      copy.u = c.u;
      copy.v = c.v;
      copy.sigma = c.sigma;
      copy.lower = c.lower;
      copy.whitened = c.whitened;
      copy.rank = probe;
      copy.isConv = c.isConv;
      copy.layer = c.layer;
      copy.layer.op = mapping.lookup(c.layer.op);
      copy.layer.weightUse = cast<dialect::UseOp>(mapping.lookup(c.layer.weightUse.getOperation()));
      copy.layer.weight = trial->lookupSymbol<ParameterOp>(c.layer.weight.getSymNameAttr());
      if (c.layer.bias)
        copy.layer.bias = mapping.lookup(c.layer.bias);
      factor(*trial, copy, c.name);
      auto measured = meter.measure(*trial);
      if (!measured)
        return fail(module, "measuring '" + c.name + "': " + llvm::toString(measured.takeError()));
      c.sensitivity = *measured / std::max(c.error(probe), 1e-12);
      if (candidates.size() > 8)
        llvm::errs() << llvm::formatv("  pith-low-rank: sensitivity [{0}/{1}] {2}: {3:e2}\n",
                                      i + 1, candidates.size(), c.name, c.sensitivity);
    }
    return success();
  }

  /// Ranks for target-params: start every layer at rank 1, then take the
  /// step with the most weighted energy per parameter until the budget is
  /// spent. A step is the next singular direction, or, where that would
  /// reach break-even, keeping the layer dense (all its remaining energy
  /// for the remaining parameters).
  void allocate(MutableArrayRef<Candidate> candidates) {
    double budget = 0, spent = 0;
    SmallVector<bool> dense(candidates.size(), false);
    for (Candidate &c : candidates) {
      budget += targetParams * c.k * c.n;
      c.rank = 1;
      spent += c.k + c.n;
    }
    auto goesDense = [](const Candidate &c) {
      return c.rank + 1 >= c.breakEven() || c.rank >= c.sigma.size();
    };
    auto cost = [&](const Candidate &c) -> double {
      return goesDense(c) ? double(c.k * c.n - c.rank * (c.k + c.n)) : double(c.k + c.n);
    };
    auto value = [&](const Candidate &c) {
      double energy = goesDense(c) ? 1 - c.keptEnergy(c.rank)
                                   : (c.total > 0 ? c.sigma[c.rank] * c.sigma[c.rank] / c.total : 0);
      return c.sensitivity * c.sensitivity * energy / std::max(cost(c), 1.0);
    };
    using Entry = std::pair<double, size_t>;
    std::priority_queue<Entry> queue;
    for (auto [i, c] : llvm::enumerate(candidates))
      queue.push({value(c), i});
    while (!queue.empty()) {
      size_t i = queue.top().second;
      queue.pop();
      Candidate &c = candidates[i];
      if (spent + cost(c) > budget)
        continue; // this layer's next step does not fit; others' may
      spent += cost(c);
      if (goesDense(c)) {
        dense[i] = true;
        continue;
      }
      ++c.rank;
      queue.push({value(c), i});
    }
    for (auto [i, c] : llvm::enumerate(candidates))
      if (dense[i]) {
        c.skip = "kept dense by the target-params allocation (its error costs more than its "
                 "parameters)";
        c.rank = 0;
      }
  }

  /// Replaces the layer of `c` (in `module`) by its factors.
  static void factor(ModuleOp module, Candidate &c, StringRef name) {
    auto [left, right] = factorsOf(c);
    MLIRContext *ctx = module.getContext();
    ParameterOp weight = c.layer.weight;
    SmallVector<Attribute> sources(weight.getSources().begin(), weight.getSources().end());
    std::string leftName = "lowrank." + name.str() + ".u";
    std::string rightName = "lowrank." + name.str() + ".v";
    if (c.isConv) {
      factorConvolution(module, c, left, right, leftName, rightName, sources);
      return;
    }
    ParameterOp u = createParameter(module, leftName, weightOf(ctx, left, leftName), sources);
    ParameterOp v = createParameter(module, rightName, weightOf(ctx, right, rightName), sources);
    replaceWithFactors(c.layer, u, v);
  }

  LogicalResult apply(ModuleOp module, MutableArrayRef<Candidate> candidates,
                      OutputErrorMeter *meter, std::vector<std::string> &lines) {
    int64_t before = 0, after = 0, factored = 0;
    for (Candidate &c : candidates) {
      std::string what = llvm::formatv("'{0}' ({1}x{2})", c.name, c.k, c.n);
      if (c.rank == 0) {
        lines.push_back("not factored: " + what + ": " + c.skip);
        continue;
      }
      std::string measured = c.lower ? llvm::formatv("output error {0:e2} on calibration "
                                                     "activations",
                                                     activationError(c))
                                          .str()
                                     : llvm::formatv("weight error {0:e2}", c.error(c.rank)).str();
      int64_t kept = c.rank * (c.k + c.n);
      lines.push_back(llvm::formatv("{0}: rank {1}, {2} -> {3} parameters, energy kept {4:f4}, {5}",
                                    what, c.rank, c.k * c.n, kept, c.keptEnergy(c.rank), measured));
      before += c.k * c.n;
      after += kept;
      ++factored;
      factor(module, c, c.name);
    }
    Builder b(module.getContext());
    SmallVector<NamedAttribute> figures{
        b.getNamedAttr("bytes_saved", b.getI64IntegerAttr((before - after) * 4)),
        b.getNamedAttr("parameters_before", b.getI64IntegerAttr(before)),
        b.getNamedAttr("parameters_after", b.getI64IntegerAttr(after)),
        b.getNamedAttr("layers_factored", b.getI64IntegerAttr(factored))};
    std::string errorText = ", output error not measured";
    if (meter) {
      auto measured = meter->measure(module);
      if (!measured)
        return fail(module, llvm::toString(measured.takeError()));
      errorText = llvm::formatv("; output error {0:e3}", *measured).str();
      figures.push_back(b.getNamedAttr("error", b.getF64FloatAttr(*measured)));
    }
    lines.insert(lines.begin(),
                 llvm::formatv("{0} of {1} layers factored ({2} SVD): {3} -> {4} parameters "
                               "({5:f3} kept){6}",
                               factored, candidates.size(),
                               activationAware ? "activation-aware" : "plain", before, after,
                               before ? double(after) / before : 1.0, errorText)
                     .str());
    appendReport(module, getArgument(), lines, figures);
    return success();
  }
};

} // namespace

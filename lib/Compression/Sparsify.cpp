//===- Sparsify.cpp - Prune weights to N:M, block or unstructured patterns -===//
//
// Each prunable layer's stored weight is seen along its reduction axis (the
// dimension the op sums over: K of a MatMul's [K, N], of a Gemm transB's
// [N, K], C of a convolution's [F, C, kh, kw]). Every element gets a score,
// |w| (magnitude) or |w| * ||x_k|| (activation, Wanda: the norm of the input
// feature it multiplies, over the calibration inputs; for a convolution,
// of its input channel over the batch and every position, the channel of
// the element's group), and the pattern decides what is compared with what:
//
// - N:M: in each group of M consecutive elements along the reduction axis,
//   the N best scores stay;
// - blockRxC: the weight as a matrix (its first dimension by the rest) is
//   tiled by R x C blocks, and the blocks with the smallest summed squared
//   score are zeroed;
// - unstructured: the smallest scores of the layer are zeroed (magnitude), or
//   of each output's weights (activation, as Wanda compares).
//
// With `global`, the target is a fraction of all prunable layers' weights;
// each layer's share comes from its measured sensitivity (model output
// error on the calibration inputs when that layer alone is pruned to the
// target): with a quadratic error model e_l(s) = a_l s^2, minimizing
// sum a_l s_l^2 at a fixed number of zeros gives s_l proportional to
// n_l / a_l.
//
// The pruned parameter carries #pith.sparsity, which its verifier checks.
//
//===----------------------------------------------------------------------===//

#include "pith/Compression/Passes.h"

#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "pith/Compression/Calibration.h"
#include "pith/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace pith {
#define GEN_PASS_DEF_SPARSIFYPASS
#include "pith/Compression/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::compression;
using dialect::ParameterOp;

namespace {

struct Pattern {
  enum Kind { NM, Block, Unstructured } kind = Unstructured;
  int64_t n = 0, m = 0;      // N:M
  int64_t rows = 0, cols = 0; // blockRxC
  std::string text;
};

std::optional<Pattern> parsePattern(StringRef text) {
  Pattern p;
  p.text = text.str();
  auto [first, second] = text.split(':');
  if (!second.empty()) {
    if (first.getAsInteger(10, p.n) || second.getAsInteger(10, p.m) || p.n < 1 || p.m < 2 ||
        p.n >= p.m)
      return std::nullopt;
    p.kind = Pattern::NM;
    return p;
  }
  StringRef block = text;
  if (block.consume_front("block")) {
    auto [rows, cols] = block.split('x');
    if (cols.empty() || rows.getAsInteger(10, p.rows) || cols.getAsInteger(10, p.cols) ||
        p.rows < 1 || p.cols < 1)
      return std::nullopt;
    p.kind = Pattern::Block;
    return p;
  }
  if (text != "unstructured")
    return std::nullopt;
  return p;
}

/// A layer whose stored weight can be pruned.
struct Candidate {
  Operation *op = nullptr;
  ParameterOp weight;
  std::string name;
  std::vector<int64_t> shape;
  /// The stored weight as outer x length x inner, `length` along the
  /// reduction axis; outputs run along `outputAxis`.
  int64_t axis = 0, outputAxis = 1;
  int64_t outer = 1, length = 1, inner = 1;
  std::vector<float> values;
  /// Per input feature (a convolution's: channel): its norm (activation
  /// criterion), else empty. A grouped convolution's reduction axis runs
  /// over the channels of the output's group.
  std::vector<double> inputNorms;
  int64_t groups = 1;
  double sparsity = 0;     // the fraction of zeros this layer gets
  double sensitivity = 0;  // a_l of the quadratic error model
  std::string skip;

  int64_t size() const { return static_cast<int64_t>(values.size()); }
  int64_t reductionIndex(int64_t flat) const { return (flat / inner) % length; }
  /// The input feature element `flat` multiplies.
  int64_t featureIndex(int64_t flat) const {
    int64_t group = groups == 1 ? 0 : (flat / (length * inner)) / (outer / groups);
    return group * length + reductionIndex(flat);
  }
};

/// Scores of every element of `c`'s weight.
std::vector<double> scoresOf(const Candidate &c) {
  std::vector<double> scores(c.size());
  for (int64_t i = 0; i < c.size(); ++i)
    scores[i] = std::fabs(double(c.values[i])) *
                (c.inputNorms.empty() ? 1.0 : c.inputNorms[c.featureIndex(i)]);
  return scores;
}

/// Zeroes the `count` lowest-scoring of `indices` in `mask` (true = kept).
void pruneLowest(std::vector<int64_t> &indices, const std::vector<double> &scores,
                 int64_t count, std::vector<bool> &mask) {
  count = std::min<int64_t>(count, indices.size());
  if (count <= 0)
    return;
  // Ties broken by position: the result is deterministic.
  std::nth_element(indices.begin(), indices.begin() + (count - 1), indices.end(),
                   [&](int64_t a, int64_t b) {
                     return scores[a] != scores[b] ? scores[a] < scores[b] : a < b;
                   });
  for (int64_t i = 0; i < count; ++i)
    mask[indices[i]] = false;
}

/// The mask (true = kept) of `pattern` at `sparsity` on `c`.
std::vector<bool> maskOf(const Candidate &c, const Pattern &pattern, double sparsity,
                         bool perOutput) {
  std::vector<double> scores = scoresOf(c);
  std::vector<bool> mask(c.size(), true);
  if (pattern.kind == Pattern::NM) {
    for (int64_t o = 0; o < c.outer; ++o)
      for (int64_t i = 0; i < c.inner; ++i)
        for (int64_t g = 0; g < c.length; g += pattern.m) {
          std::vector<int64_t> group;
          for (int64_t e = g; e < g + pattern.m; ++e)
            group.push_back((o * c.length + e) * c.inner + i);
          pruneLowest(group, scores, pattern.m - pattern.n, mask);
        }
    return mask;
  }
  if (pattern.kind == Pattern::Block) {
    // The weight as its first dimension by the rest (what the verifier
    // checks with axis 0).
    int64_t height = c.shape[0], width = c.size() / c.shape[0];
    std::vector<double> blockScores;
    std::vector<int64_t> blocks;
    for (int64_t r = 0; r < height; r += pattern.rows)
      for (int64_t col = 0; col < width; col += pattern.cols) {
        double score = 0;
        for (int64_t i = r; i < r + pattern.rows; ++i)
          for (int64_t j = col; j < col + pattern.cols; ++j)
            score += scores[i * width + j] * scores[i * width + j];
        blocks.push_back(blockScores.size());
        blockScores.push_back(score);
      }
    std::vector<bool> blockMask(blocks.size(), true);
    pruneLowest(blocks, blockScores, static_cast<int64_t>(sparsity * blockMask.size()),
                blockMask);
    int64_t perRow = width / pattern.cols;
    for (int64_t i = 0; i < height; ++i)
      for (int64_t j = 0; j < width; ++j)
        mask[i * width + j] = blockMask[(i / pattern.rows) * perRow + j / pattern.cols];
    return mask;
  }
  if (!perOutput) {
    std::vector<int64_t> all(c.size());
    std::iota(all.begin(), all.end(), 0);
    pruneLowest(all, scores, static_cast<int64_t>(sparsity * c.size()), mask);
    return mask;
  }
  // Per output: the elements that feed one output are compared together.
  int64_t outputs = c.shape[c.outputAxis];
  std::vector<std::vector<int64_t>> groups(outputs);
  int64_t outputStride = 1;
  for (size_t d = c.outputAxis + 1; d < c.shape.size(); ++d)
    outputStride *= c.shape[d];
  for (int64_t i = 0; i < c.size(); ++i)
    groups[(i / outputStride) % outputs].push_back(i);
  for (auto &group : groups)
    pruneLowest(group, scores, static_cast<int64_t>(sparsity * group.size()), mask);
  return mask;
}

struct SparsifyPass : public pith::impl::SparsifyPassBase<SparsifyPass> {
  using SparsifyPassBase::SparsifyPassBase;

  void runOnOperation() override {
    if (failed(run(getOperation())))
      signalPassFailure();
  }

  LogicalResult fail(ModuleOp module, const llvm::Twine &message) {
    return module.emitError(getArgument() + ": " + message);
  }

  LogicalResult run(ModuleOp module) {
    std::optional<Pattern> parsed = parsePattern(pattern);
    if (!parsed)
      return fail(module, "pattern: expected 'N:M' (1 <= N < M), 'blockRxC' or "
                          "'unstructured', got '" + pattern + "'");
    if (criterion != "magnitude" && criterion != "activation")
      return fail(module, "criterion: expected 'magnitude' or 'activation', got '" +
                              criterion + "'");
    double target = sparsity;
    if (parsed->kind == Pattern::NM) {
      double implied = 1.0 - double(parsed->n) / parsed->m;
      if (sparsity >= 0 && std::fabs(sparsity - implied) > 1e-9)
        return fail(module, llvm::formatv("sparsity: a {0} pattern zeroes {1} of the weights; "
                                          "leave sparsity unset or set it to that",
                                          pattern, implied)
                                .str());
      if (global)
        return fail(module, "global allocates block or unstructured sparsity; an N:M pattern "
                            "is the same in every layer");
      target = implied;
    } else if (!(sparsity > 0 && sparsity < 1)) {
      return fail(module, "sparsity: block and unstructured patterns need the fraction of "
                          "zeros, in (0, 1)");
    }
    liftParameters(module);
    auto created = OutputErrorMeter::forPass(module, calibration);
    if (!created)
      return fail(module, llvm::toString(created.takeError()));
    std::unique_ptr<OutputErrorMeter> meter = std::move(*created);
    if (!meter && criterion == "activation")
      return fail(module, "criterion=activation needs calibration inputs: give "
                          "calibration=FILE.npz (pith optimize --calibration)");
    if (!meter && global)
      return fail(module, "global allocates by measured sensitivity: it needs calibration "
                          "inputs (calibration=FILE.npz or pith optimize --calibration)");

    std::vector<std::string> lines;
    std::vector<Candidate> candidates;
    if (failed(collect(module, *parsed, candidates, lines)))
      return failure();
    if (criterion == "activation" && failed(readInputNorms(module, *meter, candidates)))
      return failure();
    for (Candidate &c : candidates)
      c.sparsity = target;
    if (global) {
      if (failed(measureSensitivity(module, *meter, *parsed, target, candidates)))
        return failure();
      allocate(candidates, target);
    }
    return apply(module, *parsed, candidates, meter.get(), lines);
  }

  /// The main graph's MatMul, Gemm and Conv layers with prunable weights,
  /// with the reason each other one is left dense.
  LogicalResult collect(ModuleOp module, const Pattern &p, std::vector<Candidate> &candidates,
                        std::vector<std::string> &lines) {
    llvm::StringSet<> requested, found;
    for (const std::string &name : layers)
      requested.insert(name);
    auto funcs = module.getOps<func::FuncOp>();
    if (funcs.empty())
      return success();
    auto uses = collectUses(module);
    for (Operation &op : (*funcs.begin()).getBody().front()) {
      StringRef opName = op.getName().getStringRef();
      bool isConv = opName == "onnx.Conv";
      if (!opName.starts_with("onnx.MatMul") && !opName.starts_with("onnx.Gemm") && !isConv)
        continue;
      Candidate c;
      c.op = &op;
      auto use = op.getOperand(1).getDefiningOp<dialect::UseOp>();
      c.weight = use ? parameterOf(use) : ParameterOp();
      c.name = c.weight ? c.weight.getSymName().str() : "(computed)";
      std::string why = check(c, use, uses, isConv, p);
      if (!requested.empty()) {
        bool wanted = c.weight &&
                      llvm::any_of(c.weight.getSources().getAsValueRange<StringAttr>(),
                                   [&](StringRef s) { return requested.contains(s); });
        if (!wanted)
          continue;
        for (StringRef s : c.weight.getSources().getAsValueRange<StringAttr>())
          found.insert(s);
        if (!why.empty())
          return fail(module, "layers: '" + c.name + "' cannot be pruned: " + why);
      }
      if (!why.empty()) {
        std::string label = c.weight ? "'" + c.name + "'" : describeNode(op.getLoc());
        lines.push_back("dense: " + label + " (" + opName.str() + "): " + why);
        continue;
      }
      c.values = WeightData(c.weight.getValue()).toFloats();
      candidates.push_back(std::move(c));
    }
    for (const auto &name : requested)
      if (!found.contains(name.getKey()))
        return fail(module, "layers: no MatMul, Gemm or Conv weight '" + name.getKey() + "'");
    return success();
  }

  /// Why `c` cannot be pruned to `p`, or "" (and its geometry filled in).
  std::string check(Candidate &c, dialect::UseOp use,
                    const llvm::DenseMap<StringAttr, SmallVector<dialect::UseOp>> &uses,
                    bool isConv, const Pattern &p) {
    if (!use || !c.weight)
      return "its weight is computed at run time, not a stored parameter";
    auto type = dyn_cast<RankedTensorType>(c.weight.getType());
    if (!type || !type.getElementType().isF32())
      return "its weight is not f32";
    if (uses.lookup(c.weight.getSymNameAttr()).size() != 1 || !use->hasOneUse())
      return "its weight is shared with other layers";
    c.shape.assign(type.getShape().begin(), type.getShape().end());
    if (isConv) {
      if (type.getRank() != 4)
        return "a convolution whose weight is not 4-D";
      c.axis = 1;
      c.outputAxis = 0;
      auto group = c.op->getAttrOfType<IntegerAttr>("group");
      c.groups = group ? std::max<int64_t>(group.getInt(), 1) : 1;
      if (c.shape[0] % c.groups != 0)
        return llvm::formatv("its {0} filters do not divide into {1} groups", c.shape[0],
                             c.groups)
            .str();
    } else {
      if (type.getRank() != 2)
        return "its weight is " + std::to_string(type.getRank()) + "-D, not a matrix";
      auto transB = c.op->getAttrOfType<IntegerAttr>("transB");
      bool transposed = transB && transB.getInt() != 0;
      c.axis = transposed ? 1 : 0;
      c.outputAxis = transposed ? 0 : 1;
    }
    c.outer = c.inner = 1;
    for (int64_t d = 0; d < c.axis; ++d)
      c.outer *= c.shape[d];
    for (size_t d = c.axis + 1; d < c.shape.size(); ++d)
      c.inner *= c.shape[d];
    c.length = c.shape[c.axis];
    int64_t count = type.getNumElements();
    if (count < minSize)
      return llvm::formatv("smaller than min-size {0}", minSize).str();
    if (p.kind == Pattern::NM && c.length % p.m != 0)
      return llvm::formatv("its reduction dimension ({0}) is not a multiple of {1}", c.length,
                           p.m)
          .str();
    if (p.kind == Pattern::Block &&
        (c.shape[0] % p.rows != 0 || (count / c.shape[0]) % p.cols != 0))
      return llvm::formatv("its {0} x {1} matrix does not divide into {2} blocks", c.shape[0],
                           count / c.shape[0], p.text)
          .str();
    return "";
  }

  /// ||x_k|| over the calibration inputs for each input feature of every
  /// candidate: along the last axis of a MatMul's or Gemm's input, along
  /// the channel axis (1) of a convolution's, over every other index.
  LogicalResult readInputNorms(ModuleOp module, OutputErrorMeter &meter,
                               MutableArrayRef<Candidate> candidates) {
    SmallVector<Value> inputs;
    for (Candidate &c : candidates)
      inputs.push_back(c.op->getOperand(0));
    if (inputs.empty())
      return success();
    auto captured = meter.capture(module, inputs);
    if (!captured)
      return fail(module, "reading activations: " + llvm::toString(captured.takeError()));
    for (auto [c, tensor] : llvm::zip(candidates, *captured)) {
      bool isConv = c.op->getName().getStringRef() == "onnx.Conv";
      int64_t axis = isConv ? 1 : static_cast<int64_t>(tensor.shape.size()) - 1;
      int64_t features = c.length * c.groups;
      if (tensor.dataType != 1 || axis < 0 || axis >= int64_t(tensor.shape.size()) ||
          tensor.shape[axis] != features)
        return fail(module, llvm::formatv("the input of '{0}' is not an f32 tensor with {1} "
                                          "features along axis {2}",
                                          c.name, features, axis)
                                .str());
      int64_t inner = 1;
      for (size_t d = axis + 1; d < tensor.shape.size(); ++d)
        inner *= tensor.shape[d];
      const float *x = reinterpret_cast<const float *>(tensor.data.data());
      std::vector<double> sums(features, 0.0);
      for (int64_t i = 0, n = tensor.numElements(); i < n; ++i)
        sums[(i / inner) % features] += double(x[i]) * x[i];
      c.inputNorms.resize(features);
      for (int64_t k = 0; k < features; ++k)
        c.inputNorms[k] = std::sqrt(sums[k]);
      tensor = HostTensor(); // free it
    }
    return success();
  }

  bool perOutput() const { return criterion == "activation"; }

  /// Writes `c`'s pruned weight and its sparsity into `weight`; returns the
  /// fraction of zeros.
  double prune(ParameterOp weight, const Candidate &c, const Pattern &p) {
    std::vector<bool> mask = maskOf(c, p, c.sparsity, perOutput());
    std::vector<float> values = c.values;
    int64_t zeros = 0;
    for (int64_t i = 0; i < c.size(); ++i) {
      if (!mask[i])
        values[i] = 0.0f;
      zeros += values[i] == 0.0f;
    }
    auto type = cast<RankedTensorType>(weight.getType());
    std::string key = "sparse." + weight.getSymName().str();
    weight.setValueAttr(makeWeight(type, key, values));
    double fraction = double(zeros) / c.size();
    MLIRContext *ctx = weight.getContext();
    // Block patterns are checked on the weight's first dimension by the
    // rest, which axis 0 denotes.
    int64_t axis = p.kind == Pattern::Block ? 0 : c.axis;
    // Block and unstructured claims are rounded down to 1e-6, so that the
    // verifier's count >= fraction * total holds despite rounding.
    double claimed = p.kind == Pattern::NM ? 1.0 - double(p.n) / p.m
                     : p.kind == Pattern::Block
                         ? std::floor(c.sparsity * blockCount(c, p)) / blockCount(c, p)
                         : fraction;
    if (p.kind != Pattern::NM)
      claimed = std::floor(claimed * 1e6) / 1e6;
    weight.setSparsityAttr(dialect::SparsityAttr::get(ctx, p.text, axis,
                                                      FloatAttr::get(Float64Type::get(ctx),
                                                                     claimed)));
    return fraction;
  }

  static int64_t blockCount(const Candidate &c, const Pattern &p) {
    return (c.shape[0] / p.rows) * (c.size() / c.shape[0] / p.cols);
  }

  /// Each layer's a_l: the model's output error when it alone is pruned to
  /// `target`, over target^2.
  LogicalResult measureSensitivity(ModuleOp module, OutputErrorMeter &meter, const Pattern &p,
                                   double target, MutableArrayRef<Candidate> candidates) {
    for (auto [i, c] : llvm::enumerate(candidates)) {
      OwningOpRef<ModuleOp> trial(cast<ModuleOp>(module->clone()));
      prune(trial->lookupSymbol<ParameterOp>(c.weight.getSymNameAttr()), c, p);
      auto measured = meter.measure(*trial);
      if (!measured)
        return fail(module, "measuring '" + c.name + "': " + llvm::toString(measured.takeError()));
      c.sensitivity = std::max(*measured, 1e-12) / (target * target);
      if (candidates.size() > 8)
        llvm::errs() << llvm::formatv("  pith-sparsify: sensitivity [{0}/{1}] {2}: {3:e2}\n",
                                      i + 1, candidates.size(), c.name, *measured);
    }
    return success();
  }

  /// s_l = min(lambda n_l / a_l, kMaxSparsity), lambda such that the zeros
  /// add up to `target` of all the candidates' weights.
  void allocate(MutableArrayRef<Candidate> candidates, double target) {
    constexpr double kMaxSparsity = 0.98;
    double total = 0;
    for (const Candidate &c : candidates)
      total += c.size();
    auto zerosAt = [&](double lambda) {
      double zeros = 0;
      for (const Candidate &c : candidates)
        zeros += std::min(lambda * c.size() / c.sensitivity, kMaxSparsity) * c.size();
      return zeros;
    };
    double low = 0, high = 1;
    while (zerosAt(high) < target * total && high < 1e30)
      high *= 2;
    for (int i = 0; i < 200; ++i) {
      double mid = (low + high) / 2;
      (zerosAt(mid) < target * total ? low : high) = mid;
    }
    for (Candidate &c : candidates)
      c.sparsity = std::min(high * c.size() / c.sensitivity, kMaxSparsity);
  }

  LogicalResult apply(ModuleOp module, const Pattern &p, MutableArrayRef<Candidate> candidates,
                      OutputErrorMeter *meter, std::vector<std::string> &lines) {
    int64_t before = 0, nonzeroAfter = 0, pruned = 0;
    for (Candidate &c : candidates) {
      double fraction = prune(c.weight, c, p);
      int64_t zeros = static_cast<int64_t>(std::llround(fraction * c.size()));
      std::string dims;
      for (auto [i, d] : llvm::enumerate(c.shape))
        dims += (i ? "x" : "") + std::to_string(d);
      lines.push_back(llvm::formatv("'{0}' ({1}): {2}, {3:f1}% zeros, {4} -> {5} nonzero", c.name,
                                    dims, p.text, 100.0 * fraction, c.size(), c.size() - zeros));
      before += c.size();
      nonzeroAfter += c.size() - zeros;
      ++pruned;
    }
    Builder b(module.getContext());
    SmallVector<NamedAttribute> figures{
        b.getNamedAttr("parameters", b.getI64IntegerAttr(before)),
        b.getNamedAttr("nonzero_after", b.getI64IntegerAttr(nonzeroAfter)),
        b.getNamedAttr("layers_pruned", b.getI64IntegerAttr(pruned)),
        b.getNamedAttr("pattern", b.getStringAttr(p.text)),
        b.getNamedAttr("criterion", b.getStringAttr(criterion))};
    std::string errorText = ", output error not measured";
    if (meter) {
      auto measured = meter->measure(module);
      if (!measured)
        return fail(module, llvm::toString(measured.takeError()));
      errorText = llvm::formatv("; output error {0:e3}", *measured).str();
      figures.push_back(b.getNamedAttr("error", b.getF64FloatAttr(*measured)));
    }
    lines.insert(lines.begin(),
                 llvm::formatv("{0} layers pruned ({1}, {2}{3}): {4} -> {5} nonzero weights "
                               "({6:f1}% zeros){7}",
                               pruned, p.text, criterion, global ? ", global" : "", before,
                               nonzeroAfter,
                               before ? 100.0 * (before - nonzeroAfter) / before : 0.0,
                               errorText)
                     .str());
    appendReport(module, getArgument(), lines, figures);
    return success();
  }
};

} // namespace

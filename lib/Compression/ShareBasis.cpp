//===- ShareBasis.cpp - One basis for corresponding linear layers ---------===//
//
// Corresponding linear layers of repeated blocks span similar subspaces
// (the observation behind training-free "basis sharing"). For a group of n
// K x N weights, the basis is shared along the larger dimension S (the
// other, O, stays per layer): with S = K, B holds the top-r eigenvectors of
// sum_i W_i W_i^T, the left singular vectors of [W_1 ... W_n], and
// C_i = B^T W_i; with S = N the same on the transposes. Parameters: r*S
// for B plus n*r*O for the coefficients, against n*K*N; the kept fraction
// of sum ||W_i||^2 (the energy) is the sum of the top eigenvalues over the
// trace. A group of one is plain truncated SVD.
//
//===----------------------------------------------------------------------===//

#include "pith/Compression/Passes.h"

#include "LinearLayers.h"
#include "RepeatedBlocks.h"
#include "Weights.h"

#include "ONNX/ONNXOps.h"
#include "pith/Compression/Calibration.h"
#include "pith/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/FormatVariadic.h"

namespace pith {
#define GEN_PASS_DEF_SHAREBASISPASS
#include "pith/Compression/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::compression;
using dialect::ParameterOp;
using dialect::UseOp;

namespace {

struct ShareBasisPass : public pith::impl::ShareBasisPassBase<ShareBasisPass> {
  using ShareBasisPassBase::ShareBasisPassBase;

  void runOnOperation() override {
    if (failed(run(getOperation())))
      signalPassFailure();
  }

  LogicalResult fail(ModuleOp module, const llvm::Twine &message) {
    return module.emitError(getArgument() + ": " + message);
  }

  LogicalResult run(ModuleOp module) {
    std::string problem;
    if (failed(checkWeightsOption(weights, problem)))
      return fail(module, problem);
    if (rank < 0 || (rank == 0 && !(paramFraction > 0 && paramFraction < 1)))
      return fail(module, "set rank > 0, or param-fraction between 0 and 1 (exclusive)");
    liftParameters(module);
    Builder b(module.getContext());
    std::optional<RepeatedBlocks> blocks = findRepeatedBlocks(module);
    auto formed = formGroups(groups, groupSize, blocks ? blocks->numBlocks : 1, 1, problem);
    if (failed(formed))
      return fail(module, problem);
    auto created = OutputErrorMeter::forPass(module, calibration);
    if (!created)
      return fail(module, llvm::toString(created.takeError()));
    std::unique_ptr<OutputErrorMeter> meter = std::move(*created);
    if (!blocks) {
      appendReport(module, getArgument(), {"no repeated blocks found: nothing factored"},
                   {b.getNamedAttr("bytes_saved", b.getI64IntegerAttr(0))});
      return success();
    }

    std::vector<std::string> lines;
    lines.push_back(llvm::formatv("{0} repeated blocks of {1} ops; groups ({2}): {3}",
                                  blocks->numBlocks, blocks->opsPerBlock, groups,
                                  describeGroups(*formed)));
    // What to factor, decided before anything changes.
    struct Work {
      SmallVector<Linear> layers;
      WeightKind kind;
      std::string name;
      SmallVector<int64_t> group;
    };
    std::vector<Work> work;
    for (const BlockWeight &w : blocks->weights) {
      if (!w.isMatrix || !selectsKind(weights, w.kind))
        continue;
      for (const SmallVector<int64_t> &group : *formed) {
        SmallVector<Linear> layers(group.size());
        std::string why;
        for (auto [i, block] : llvm::enumerate(group))
          if (why.empty())
            why = asLinear(w.users[block], layers[i]);
        std::string name = parameterOf(w.uses[group[0]]).getSymName().str();
        if (!why.empty()) {
          lines.push_back("not factored: '" + name + "' in " + describeGroups({group}) + ": " +
                          why);
          continue;
        }
        work.push_back({std::move(layers), w.kind, name, group});
      }
    }
    // Activation-aware: each layer's input second moment, from one run.
    llvm::DenseMap<Operation *, Matrix> moments;
    if (activationAware) {
      if (!meter)
        return fail(module, "activation-aware needs calibration inputs: give "
                            "calibration=FILE.npz (pith optimize --calibration)");
      SmallVector<Value> inputs;
      SmallVector<int64_t> widths;
      for (Work &item : work)
        for (Linear &layer : item.layers) {
          inputs.push_back(layer.op->getOperand(0));
          widths.push_back(layer.rows());
        }
      auto read = inputMoments(*meter, module, inputs, widths);
      if (!read)
        return fail(module, llvm::toString(read.takeError()));
      size_t next = 0;
      for (Work &item : work)
        for (Linear &layer : item.layers)
          moments[layer.op] = std::move((*read)[next++]);
    }
    int64_t before = 0, after = 0;
    for (Work &item : work)
      lines.push_back(
          factorGroup(module, item.layers, moments, item.kind, item.name, item.group, before, after));
    int64_t bytesSaved = (before - after) * 4;
    std::string errorText = ", output error not measured";
    SmallVector<NamedAttribute> figures{
        b.getNamedAttr("bytes_saved", b.getI64IntegerAttr(bytesSaved)),
        b.getNamedAttr("parameters_before", b.getI64IntegerAttr(before)),
        b.getNamedAttr("parameters_after", b.getI64IntegerAttr(after))};
    if (meter) {
      auto measured = meter->measure(module);
      if (!measured)
        return fail(module, llvm::toString(measured.takeError()));
      errorText = llvm::formatv("; output error {0:e3}", *measured).str();
      figures.push_back(b.getNamedAttr("error", b.getF64FloatAttr(*measured)));
    }
    lines.push_back(llvm::formatv("factored matrices: {0} -> {1} parameters ({2} saved){3}",
                                  before, after, formatBytes(bytesSaved), errorText));
    appendReport(module, getArgument(), lines, figures);
    return success();
  }

  /// Factors one group's layers over a shared basis; returns the report line.
  std::string factorGroup(ModuleOp module, MutableArrayRef<Linear> layers,
                          const llvm::DenseMap<Operation *, Matrix> &moments, WeightKind kind,
                          StringRef name, ArrayRef<int64_t> group, int64_t &before,
                          int64_t &after) {
    int64_t n = layers.size();
    SmallVector<Matrix> ws;
    for (Linear &layer : layers)
      ws.push_back(matrixOf(layer));
    int64_t k = ws[0].rows(), cols = ws[0].cols();
    bool shareLeft = k >= cols; // the basis spans the larger dimension
    int64_t s = shareLeft ? k : cols, o = shareLeft ? cols : k;
    int64_t original = n * k * cols;
    int64_t r = rank > 0 ? rank
                         : static_cast<int64_t>(paramFraction * original / double(s + n * o));
    std::string what = llvm::formatv("{0} '{1}' in {2} ({3}x{4} x{5})", kindName(kind), name,
                                     describeGroups({SmallVector<int64_t>(group)}), k, cols, n);
    if (r < 1 || r >= s || r * (s + n * o) >= original)
      return "not factored: " + what + ": rank " + std::to_string(r) + " would save nothing";

    // With activations, the error that matters is sum_i ||X_i (W_i - W_i')||^2,
    // S_i = X_i^T X_i / rows. Output-side basis: its exact optimum is the top
    // eigenvectors of sum_i W_i^T S_i W_i, with C_i = W_i B^T. Input-side
    // basis: whitened by the group's mean second moment S = L L^T (as basis
    // sharing does), B = L^-T U_r, then each C_i the least-squares best for
    // its own S_i.
    bool aware = !moments.empty();
    SmallVector<Matrix> layerMoments;
    for (Linear &layer : layers)
      layerMoments.push_back(aware ? moments.lookup(layer.op) : Matrix());
    std::optional<Matrix> lower;
    if (aware && shareLeft) {
      Matrix mean = Matrix::Zero(k, k);
      for (const Matrix &m : layerMoments)
        mean += m / double(n);
      lower = whiteningOf(mean);
      if (!lower)
        return "not factored: " + what + ": its inputs have no usable second moment";
    }
    Matrix gram = Matrix::Zero(s, s);
    for (auto [i, w] : llvm::enumerate(ws)) {
      if (!shareLeft)
        gram.noalias() += aware ? Matrix(w.transpose() * layerMoments[i] * w)
                                : Matrix(w.transpose() * w);
      else
        gram.noalias() += lower ? Matrix(lower->transpose() * w * w.transpose() * *lower)
                                : Matrix(w * w.transpose());
    }
    Eigen::SelfAdjointEigenSolver<Matrix> solver(gram);
    // Eigenvalues ascend: the basis is the last r eigenvectors.
    Matrix basis = solver.eigenvectors().rightCols(r); // s x r
    double energy = solver.eigenvalues().tail(r).sum() / std::max(gram.trace(), 1e-300);
    if (lower) // back from the whitened coordinates: L^T B = U_r
      basis = lower->transpose().triangularView<Eigen::Upper>().solve(basis);
    auto coefficientsOf = [&](size_t i) -> Matrix {
      if (!shareLeft)
        return ws[i] * basis; // K x r
      if (!aware)
        return basis.transpose() * ws[i]; // r x N
      Matrix weighted = basis.transpose() * layerMoments[i];
      return Matrix(weighted * basis).ldlt().solve(weighted * ws[i]);
    };

    MLIRContext *ctx = module.getContext();
    SmallVector<Attribute> sources;
    for (Linear &layer : layers)
      sources.append(layer.weight.getSources().begin(), layer.weight.getSources().end());
    // y = (x B) C_i when the basis is on the input side, (x C_i) B otherwise.
    Matrix sharedFactor = shareLeft ? basis : Matrix(basis.transpose());
    std::string basisName = "basis." + name.str();
    ParameterOp basisParameter =
        createParameter(module, basisName, weightOf(ctx, sharedFactor, basisName), sources);
    for (auto [i, layer] : llvm::enumerate(layers)) {
      Matrix coefficients = coefficientsOf(i);
      std::string coefficientName = "coeff." + layer.weight.getSymName().str();
      ParameterOp coefficientParameter = createParameter(
          module, coefficientName, weightOf(ctx, coefficients, coefficientName),
          SmallVector<Attribute>(layer.weight.getSources().begin(),
                                 layer.weight.getSources().end()));
      replaceWithFactors(layer, shareLeft ? basisParameter : coefficientParameter,
                         shareLeft ? coefficientParameter : basisParameter);
    }
    int64_t kept = r * (s + n * o);
    before += original;
    after += kept;
    return llvm::formatv("{0}: basis {1} x {2} shared, rank {3}: {4} -> {5} parameters, "
                         "energy kept {6:f4}",
                         what, s, r, r, original, kept, energy)
        .str();
  }
};

} // namespace

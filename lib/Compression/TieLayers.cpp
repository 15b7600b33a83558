//===- TieLayers.cpp - Tie weights of repeated blocks under a budget ------===//
//
// A candidate is one unit of the repeated block (a linear layer's matrix
// with its bias, or a normalization's parameters) in one group of blocks;
// its distance is how far the members are from their mean, relative to
// their size. Candidates are tied most similar first. Each tie is measured
// on the calibration inputs, together with the ties kept before it, and
// kept only if the output error stays within the budget (a tie that would
// exceed it is undone, and the next candidate tried), so the error
// reported is the one measured on the final model.
//
//===----------------------------------------------------------------------===//

#include "pith/Compression/Passes.h"

#include "RepeatedBlocks.h"
#include "Weights.h"

#include "ONNX/ONNXDialect.h"
#include "pith/Compression/Calibration.h"
#include "pith/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

namespace pith {
#define GEN_PASS_DEF_TIELAYERSPASS
#include "pith/Compression/Passes.h.inc"
} // namespace pith

using namespace mlir;
using namespace pith;
using namespace pith::compression;
using dialect::ParameterOp;
using dialect::UseOp;

namespace {

struct Candidate {
  SmallVector<const BlockWeight *> weights; // the unit's weights
  SmallVector<int64_t> group;
  double distance = 0;
  std::string name; // the unit's first weight in the group's first block
};

/// Why the weight in `block` cannot be tied, or "" if it can: it must be
/// f32 and read by its block's op alone.
std::string whyNotTiable(const BlockWeight &w, int64_t block,
                         const llvm::DenseMap<StringAttr, SmallVector<UseOp>> &uses) {
  UseOp use = w.uses[block];
  ParameterOp parameter = parameterOf(use);
  if (!parameter || !cast<ShapedType>(parameter.getType()).getElementType().isF32())
    return "not an f32 parameter";
  auto it = uses.find(parameter.getSymNameAttr());
  if (it == uses.end() || it->second.size() != 1 || !use->hasOneUse())
    return "also used outside its block";
  return "";
}

/// The value a tied weight takes: the members' mean, or member `choice`.
std::vector<float> sharedValue(ArrayRef<std::vector<float>> members, int choice) {
  if (choice >= 0)
    return members[choice];
  std::vector<float> mean(members[0].size());
  for (size_t i = 0; i < mean.size(); ++i) {
    double sum = 0;
    for (const auto &m : members)
      sum += m[i];
    mean[i] = static_cast<float>(sum / members.size());
  }
  return mean;
}

/// A tie applied to the module, until it is kept or undone.
struct AppliedTie {
  SmallVector<ParameterOp> created;
  SmallVector<std::pair<UseOp, FlatSymbolRefAttr>> redirected;
  SmallVector<ParameterOp> replaced;
  int64_t parametersSaved = 0;

  void undo() {
    for (auto [use, symbol] : redirected)
      use.setParameterAttr(symbol);
    for (ParameterOp p : created)
      p.erase();
  }
  void keep() {
    for (ParameterOp p : replaced)
      p.erase();
  }
};

AppliedTie applyTie(ModuleOp module, const Candidate &c, int choice) {
  AppliedTie tie;
  for (const BlockWeight *w : c.weights) {
    SmallVector<std::vector<float>> values;
    SmallVector<Attribute> sources;
    for (int64_t b : c.group) {
      ParameterOp member = parameterOf(w->uses[b]);
      values.push_back(WeightData(member.getValue()).toFloats());
      sources.append(member.getSources().begin(), member.getSources().end());
      tie.replaced.push_back(member);
    }
    ParameterOp first = tie.replaced[tie.replaced.size() - c.group.size()];
    auto type = cast<RankedTensorType>(first.getType());
    std::string name = "tied." + first.getSymName().str();
    ParameterOp tied = createParameter(module, name,
                                       makeWeight(type, name, sharedValue(values, choice)),
                                       sources);
    tie.created.push_back(tied);
    for (int64_t b : c.group) {
      UseOp use = w->uses[b];
      tie.redirected.push_back({use, use.getParameterAttr()});
      use.setParameterAttr(FlatSymbolRefAttr::get(tied.getSymNameAttr()));
    }
    tie.parametersSaved += type.getNumElements() * (static_cast<int64_t>(c.group.size()) - 1);
  }
  return tie;
}

/// The largest, over the unit's weights, of sum_b ||W_b - mean||^2 /
/// sum_b ||W_b||^2: a LayerNorm's gains near 1 must not hide that its
/// biases differ.
double distanceOf(const Candidate &c) {
  double largest = 0;
  for (const BlockWeight *w : c.weights) {
    SmallVector<std::vector<float>> values;
    for (int64_t b : c.group)
      values.push_back(WeightData(parameterOf(w->uses[b]).getValue()).toFloats());
    std::vector<float> mean = sharedValue(values, -1);
    double spread = 0, size = 0;
    for (const auto &v : values)
      for (size_t i = 0; i < v.size(); ++i) {
        spread += (double(v[i]) - mean[i]) * (double(v[i]) - mean[i]);
        size += double(v[i]) * v[i];
      }
    largest = std::max(largest, size > 0 ? spread / size : 0.0);
  }
  return largest;
}

struct TieLayersPass : public pith::impl::TieLayersPassBase<TieLayersPass> {
  using TieLayersPassBase::TieLayersPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(run(module)))
      signalPassFailure();
  }

  LogicalResult fail(ModuleOp module, const llvm::Twine &message) {
    return module.emitError(getArgument() + ": " + message);
  }

  LogicalResult run(ModuleOp module) {
    std::string problem;
    if (failed(checkWeightsOption(weights, problem)))
      return fail(module, problem);
    if (shared != "mean" && shared != "member")
      return fail(module, "shared='" + shared + "': expected mean or member");
    if (!(maxRelError >= 0))
      return fail(module, "max-rel-error must be at least 0");
    if (shared == "member" && unbudgeted)
      return fail(module, "shared=member measures each member: it needs the budget, "
                          "not unbudgeted=true");
    liftParameters(module);
    Builder b(module.getContext());
    std::optional<RepeatedBlocks> blocks = findRepeatedBlocks(module);
    if (!blocks) {
      appendReport(module, getArgument(), {"no repeated blocks found: nothing tied"},
                   {b.getNamedAttr("bytes_saved", b.getI64IntegerAttr(0))});
      return success();
    }
    if (groupSize < 2 && groups != "all")
      return fail(module, "group-size=" + std::to_string(groupSize) +
                              ": a tie needs groups of at least 2 blocks");
    auto formed = formGroups(groups, groupSize, blocks->numBlocks, 2, problem);
    if (failed(formed))
      return fail(module, problem);

    auto created = OutputErrorMeter::forPass(module, calibration);
    if (!created)
      return fail(module, llvm::toString(created.takeError()));
    std::unique_ptr<OutputErrorMeter> meter = std::move(*created);
    if (!meter && !unbudgeted) {
      return fail(module, "an error budget needs calibration inputs: give calibration=FILE.npz "
                          "(pith optimize --calibration), or unbudgeted=true to tie without "
                          "measuring");
    }

    std::vector<std::string> lines;
    lines.push_back(llvm::formatv("{0} repeated blocks of {1} ops; groups ({2}): {3}",
                                  blocks->numBlocks, blocks->opsPerBlock, groups,
                                  describeGroups(*formed)));
    if (unbudgeted)
      lines.push_back("no error budget (unbudgeted=true): every candidate tied by its mean "
                      "without measuring; fine-tune the model afterwards");
    else
      lines.push_back(llvm::formatv("budget: relative output error <= {0} on {1} calibration "
                                    "samples; shared value: {2}",
                                    maxRelError, meter->samples(), shared));

    // Candidates: each selected unit in each group whose members can be tied.
    auto uses = collectUses(module);
    SmallVector<Candidate> candidates;
    unsigned units = 0;
    for (const BlockWeight &w : blocks->weights)
      units = std::max(units, w.unit + 1);
    for (unsigned unit = 0; unit < units; ++unit) {
      SmallVector<const BlockWeight *> members;
      for (const BlockWeight &w : blocks->weights)
        if (w.unit == unit && selectsKind(weights, w.kind))
          members.push_back(&w);
      if (members.empty())
        continue;
      for (const SmallVector<int64_t> &group : *formed) {
        std::string why;
        for (const BlockWeight *w : members)
          for (int64_t block : group)
            if (why.empty())
              why = whyNotTiable(*w, block, uses);
        std::string name = parameterOf(members[0]->uses[group[0]]).getSymName().str();
        bool alreadyShared = llvm::all_of(members, [&](const BlockWeight *w) {
          return llvm::all_of(group, [&](int64_t block) {
            UseOp use = w->uses[block], first = w->uses[group[0]];
            return use.getParameter() == first.getParameter();
          });
        });
        if (alreadyShared)
          continue;
        if (!why.empty()) {
          lines.push_back("not tied: '" + name + "' in " + describeGroups({group}) + ": " + why);
          continue;
        }
        Candidate c{members, group, 0, name};
        c.distance = distanceOf(c);
        candidates.push_back(std::move(c));
      }
    }
    llvm::stable_sort(candidates,
                      [](const Candidate &a, const Candidate &c) { return a.distance < c.distance; });

    int64_t parametersSaved = 0, ties = 0, measurements = 0;
    double error = 0;
    for (const Candidate &c : candidates) {
      std::string what = llvm::formatv("{0} '{1}'{2} in {3}", kindName(c.weights[0]->kind), c.name,
                                       c.weights.size() > 1 ? " (+" + std::to_string(c.weights.size() - 1) + ")" : "",
                                       describeGroups({c.group}));
      if (unbudgeted) {
        AppliedTie tie = applyTie(module, c, -1);
        tie.keep();
        parametersSaved += tie.parametersSaved;
        ++ties;
        lines.push_back(llvm::formatv("tied {0}: distance {1:f4}, {2} parameters saved", what,
                                      c.distance, tie.parametersSaved));
        continue;
      }
      // The shared value: the mean, or the best member.
      int bestChoice = -1;
      double bestError = 0;
      for (int choice = shared == "mean" ? -1 : 0;
           choice < (shared == "mean" ? 0 : static_cast<int>(c.group.size())); ++choice) {
        AppliedTie tie = applyTie(module, c, choice);
        auto measured = meter->measure(module);
        tie.undo();
        ++measurements;
        if (!measured)
          return fail(module, "measuring " + what + ": " + llvm::toString(measured.takeError()));
        if (choice == (shared == "mean" ? -1 : 0) || *measured < bestError) {
          bestChoice = choice;
          bestError = *measured;
        }
      }
      if (bestError > maxRelError) {
        lines.push_back(llvm::formatv("not tied {0}: error would be {1:e3} > {2}", what,
                                      bestError, maxRelError));
        continue;
      }
      AppliedTie tie = applyTie(module, c, bestChoice);
      tie.keep();
      parametersSaved += tie.parametersSaved;
      error = bestError;
      ++ties;
      lines.push_back(llvm::formatv("tied {0}: distance {1:f4}, {2} parameters saved, error {3:e3}",
                                    what, c.distance, tie.parametersSaved, bestError));
    }
    if (unbudgeted && meter) {
      auto measured = meter->measure(module);
      if (!measured)
        return fail(module, llvm::toString(measured.takeError()));
      error = *measured;
      ++measurements;
    }
    int64_t bytesSaved = parametersSaved * 4;
    lines.push_back(llvm::formatv("tied {0} of {1} candidates: {2} parameters ({3}) saved{4}",
                                  ties, candidates.size(), parametersSaved,
                                  formatBytes(bytesSaved),
                                  meter ? llvm::formatv("; output error {0:e3}", error).str()
                                        : std::string(", output error not measured")));
    SmallVector<NamedAttribute> figures{
        b.getNamedAttr("bytes_saved", b.getI64IntegerAttr(bytesSaved)),
        b.getNamedAttr("parameters_saved", b.getI64IntegerAttr(parametersSaved)),
        b.getNamedAttr("ties", b.getI64IntegerAttr(ties)),
        b.getNamedAttr("candidates", b.getI64IntegerAttr(candidates.size())),
        b.getNamedAttr("blocks", b.getI64IntegerAttr(blocks->numBlocks)),
        b.getNamedAttr("measurements", b.getI64IntegerAttr(measurements)),
        b.getNamedAttr("unbudgeted", b.getBoolAttr(unbudgeted))};
    if (meter)
      figures.push_back(b.getNamedAttr("error", b.getF64FloatAttr(error)));
    if (!unbudgeted)
      figures.push_back(b.getNamedAttr("budget", b.getF64FloatAttr(maxRelError)));
    appendReport(module, getArgument(), lines, figures);
    return success();
  }
};

} // namespace

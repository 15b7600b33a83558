//===- PrintCost.cpp - The cost model's report as a pass ------------------===//

#include "pith/Transforms/Passes.h"

#include "pith/Analysis/CostModel.h"

namespace pith {
#define GEN_PASS_DEF_PRINTCOSTPASS
#include "pith/Transforms/Passes.h.inc"
} // namespace pith

namespace {
struct PrintCostPass : public pith::impl::PrintCostPassBase<PrintCostPass> {
  using PrintCostPassBase::PrintCostPassBase;
  void runOnOperation() override {
    pith::CostReport report = pith::analyzeCost(getOperation());
    if (json)
      pith::printCostReportJSON(report, llvm::outs());
    else
      pith::printCostReport(report, llvm::outs());
    markAllAnalysesPreserved();
  }
};
} // namespace

//===- Report.cpp - pith report: what a model costs, layer by layer -------===//
//
//   pith report MODEL.onnx [--json] [--html FILE] [--compare OTHER.onnx]
//
// Parameters, weight bytes, MACs/FLOPs and activation memory per layer and
// in total (pith/Analysis/CostModel.h). --compare reports a second model
// (e.g. the output of `pith optimize`) beside the first; --html writes one
// self-contained page with bar charts.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "pith/Analysis/CostModel.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"

#include <optional>
#include <string>
#include <vector>

using namespace pith;

namespace {
llvm::Expected<CostReport> reportFile(llvm::StringRef path, mlir::MLIRContext &context) {
  auto module = importONNXFile(path, &context);
  if (!module)
    return module.takeError();
  return analyzeCost(**module);
}
} // namespace

int driver::report(llvm::ArrayRef<const char *> args) {
  std::string modelPath, comparePath, htmlPath;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if (arg == "--json")
      json = true;
    else if (arg == "--html" && i + 1 < args.size())
      htmlPath = args[++i];
    else if (arg == "--compare" && i + 1 < args.size())
      comparePath = args[++i];
    else if (arg.starts_with("-"))
      return fail("unknown option '" + arg + "'");
    else if (modelPath.empty())
      modelPath = arg.str();
    else
      return fail("more than one model given (use --compare for a second)");
  }
  if (modelPath.empty())
    return fail("usage: pith report MODEL.onnx [--json] [--html FILE] [--compare OTHER.onnx]");

  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  std::vector<std::pair<std::string, CostReport>> reports;
  for (const std::string &path : {modelPath, comparePath}) {
    if (path.empty())
      continue;
    auto report = reportFile(path, context);
    if (!report)
      return fail(llvm::toString(report.takeError()));
    reports.emplace_back(path, std::move(*report));
  }
  if (json) {
    if (reports.size() == 1) {
      printCostReportJSON(reports[0].second, llvm::outs());
    } else {
      llvm::outs() << "{\"before\": ";
      printCostReportJSON(reports[0].second, llvm::outs());
      llvm::outs() << ", \"after\": ";
      printCostReportJSON(reports[1].second, llvm::outs());
      llvm::outs() << "}\n";
    }
  } else {
    for (const auto &[path, report] : reports) {
      llvm::outs() << "model: " << path << "\n";
      printCostReport(report, llvm::outs());
    }
    if (reports.size() == 2)
      printCostComparison(reports[0].second, reports[1].second, llvm::outs());
  }
  if (!htmlPath.empty()) {
    // Written to a temporary and renamed: no half-written page on failure.
    if (llvm::Error err = llvm::writeToOutput(htmlPath, [&](llvm::raw_ostream &os) {
          printCostReportHTML(reports, os);
          return llvm::Error::success();
        }))
      return fail(htmlPath + ": " + llvm::toString(std::move(err)));
    if (!json)
      llvm::outs() << "wrote " << htmlPath << "\n";
  }
  return 0;
}

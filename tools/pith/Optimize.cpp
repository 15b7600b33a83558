//===- Optimize.cpp - pith optimize: run transforms, write ONNX -----------===//
//
//   pith optimize IN.onnx -o OUT.onnx --pipeline 'PASS{opt=v},PASS'
//                 [--calibration FILE.npz] [--report-json FILE.json]
//
// Runs a pass pipeline in MLIR's textual syntax (the pass and option names
// of pith-opt, named pipelines included) on a model, writes standard ONNX,
// and prints what each pass reports it did (the module's pith.report) and
// the cost before and after. Calibration inputs (numpy .npz, arrays named
// after the model's inputs) are what lossy passes measure their error on
// unless their own option names others; with them, both models are
// compiled and the output error the transforms cost is reported.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "pith/API/Pith.h"
#include "pith/Analysis/CostModel.h"
#include "pith/Runtime/HostTensor.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <map>

using namespace pith;

namespace {

struct FloatError {
  double maxAbsolute;
  /// The largest difference over the reference's largest magnitude.
  double maxRelative;
  /// ||other - reference||_2 / ||reference||_2: what the lossy passes'
  /// max-rel-error budgets bound.
  double relativeL2;
};

FloatError floatError(const api::Tensor &reference, const api::Tensor &other) {
  size_t n = reference.data.size() / sizeof(float);
  double maxDiff = 0, maxRef = 0, squaredDiff = 0, squaredRef = 0;
  for (size_t i = 0; i < n; ++i) {
    float a, b;
    std::memcpy(&a, reference.data.data() + i * sizeof(float), sizeof(float));
    std::memcpy(&b, other.data.data() + i * sizeof(float), sizeof(float));
    double diff = double(a) - double(b);
    maxDiff = std::max(maxDiff, std::fabs(diff));
    maxRef = std::max(maxRef, std::fabs(double(a)));
    squaredDiff += diff * diff;
    squaredRef += double(a) * a;
  }
  return {maxDiff, maxRef > 0 ? maxDiff / maxRef : maxDiff,
          squaredRef > 0 ? std::sqrt(squaredDiff / squaredRef) : std::sqrt(squaredDiff)};
}

/// Compiles both models for the calibration inputs' shapes, runs them on
/// those inputs and prints each output's error.
int measureError(const api::Model &original, const api::Model &optimized,
                 const std::map<std::string, HostTensor> &calibration) {
  api::CompileOptions options;
  for (const auto &[name, tensor] : calibration)
    options.inputShapes[name] = tensor.shape;
  std::vector<std::vector<api::Tensor>> results;
  std::vector<std::string> names;
  for (const api::Model *model : {&original, &optimized}) {
    auto compiled = model->compile(options);
    if (!compiled)
      return driver::fail(compiled.status().message());
    names.clear();
    std::vector<api::TensorView> inputs;
    for (const api::TensorInfo &info : compiled->inputs()) {
      const HostTensor &tensor = calibration.at(info.name);
      inputs.push_back({api::DataType(tensor.dataType), tensor.shape, tensor.data.data()});
    }
    for (const api::TensorInfo &info : compiled->outputs())
      names.push_back(info.name);
    auto outputs = compiled->run(inputs);
    if (!outputs)
      return driver::fail(outputs.status().message());
    results.push_back(std::move(*outputs));
  }
  llvm::outs() << "output error on the calibration inputs (optimized vs original):\n";
  for (size_t i = 0; i < results[0].size(); ++i) {
    const api::Tensor &a = results[0][i], &b = results[1][i];
    const std::string &name = names[i];
    if (a.shape != b.shape)
      return driver::fail("output '" + name + "' changed shape");
    if (a.dataType != api::DataType::Float) {
      llvm::outs() << "  " << name << ": " << (a.data == b.data ? "identical" : "differs")
                   << "\n";
      continue;
    }
    FloatError e = floatError(a, b);
    llvm::outs() << llvm::format("  %s: max abs %.3e, relative %.3e, relative L2 %.3e\n",
                                 name.c_str(), e.maxAbsolute, e.maxRelative, e.relativeL2);
  }
  return 0;
}

/// The totals the API reports, as the cost model's report for printing.
CostReport costReportOf(const api::CostSummary &summary) {
  CostReport report;
  report.total.parameters = summary.parameters;
  report.total.nonzeroParameters = summary.nonzeroParameters;
  report.total.weightBytesByType["all"] = summary.weightBytes;
  report.total.macs = summary.macs;
  report.total.flops = summary.flops;
  report.peakActivationBytes = summary.peakActivationBytes;
  return report;
}

int writeFile(llvm::StringRef path, llvm::StringRef text, llvm::StringRef option) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return driver::fail(option + " " + path + ": " + ec.message());
  os << text << "\n";
  return 0;
}

} // namespace

int driver::optimize(llvm::ArrayRef<const char *> args) {
  std::string input, output, pipeline, calibrationPath, reportPath;
  bool sparseInitializers = false;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if (arg == "--sparse-initializers")
      sparseInitializers = true;
    else if (arg == "-o" && i + 1 < args.size())
      output = args[++i];
    else if (arg == "--pipeline" && i + 1 < args.size())
      pipeline = args[++i];
    else if (arg == "--calibration" && i + 1 < args.size())
      calibrationPath = args[++i];
    else if (arg == "--report-json" && i + 1 < args.size())
      reportPath = args[++i];
    else if (arg.starts_with("-"))
      return fail("unknown option '" + arg + "'");
    else if (input.empty())
      input = arg.str();
    else
      return fail("more than one model given");
  }
  if (input.empty() || output.empty() || pipeline.empty())
    return fail("usage: pith optimize IN.onnx -o OUT.onnx --pipeline 'PASS{opt=v},...' "
                "[--calibration FILE.npz] [--report-json FILE.json] [--sparse-initializers]");

  auto model = api::Model::load(input);
  if (!model)
    return fail(model.status().message());
  api::CostSummary before = model->report().cost;
  api::OptimizeOptions options;
  options.calibrationPath = calibrationPath;
  options.progress = true;
  if (api::Status status = model->optimize(pipeline, options); !status)
    return fail(status.message());
  api::Report report = model->report();
  for (const api::PassReport &pass : report.passes) {
    llvm::outs() << pass.pass << ":\n";
    for (const std::string &line : pass.lines)
      llvm::outs() << "  " << line << "\n";
  }
  if (!reportPath.empty())
    if (int status = writeFile(reportPath, report.json, "--report-json"))
      return status;
  if (api::Status status = model->save(output, sparseInitializers); !status)
    return fail(status.message());
  llvm::outs() << "wrote " << output << "\n";
  printCostComparison(costReportOf(before), costReportOf(report.cost), llvm::outs());
  if (calibrationPath.empty())
    return 0;
  auto original = api::Model::load(input);
  if (!original)
    return fail(original.status().message());
  auto calibration = readNpz(calibrationPath);
  if (!calibration)
    return fail(llvm::toString(calibration.takeError()));
  return measureError(*original, *model, *calibration);
}

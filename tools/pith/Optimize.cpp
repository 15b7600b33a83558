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

#include "ONNX/ONNXOps.h"
#include "pith/Analysis/CostModel.h"
#include "pith/Compression/Calibration.h"
#include "pith/Compression/Passes.h"
#include "pith/Export/ONNXExporter.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"
#include "pith/Runtime/HostTensor.h"
#include "pith/Runtime/JitModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

using namespace pith;

namespace {

/// "[2/3] pith-low-rank ... 1.24 s" on stderr for each top-level pass.
class Progress : public mlir::PassInstrumentation {
public:
  explicit Progress(size_t total) : total(total) {}
  void runBeforePass(mlir::Pass *pass, mlir::Operation *op) override {
    if (!llvm::isa<mlir::ModuleOp>(op) || depth++ != 0)
      return;
    start = std::chrono::steady_clock::now();
    llvm::outs().flush(); // keep the two streams in order on a terminal
    llvm::errs() << "[" << ++index << "/" << total << "] " << pass->getArgument() << " ...";
  }
  void runAfterPass(mlir::Pass *pass, mlir::Operation *op) override { finish(op); }
  void runAfterPassFailed(mlir::Pass *pass, mlir::Operation *op) override { finish(op); }

private:
  void finish(mlir::Operation *op) {
    if (!llvm::isa<mlir::ModuleOp>(op) || --depth != 0)
      return;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    llvm::errs() << llvm::format(" %.2f s\n", seconds);
  }
  size_t total, index = 0;
  int depth = 0;
  std::chrono::steady_clock::time_point start;
};

struct FloatError {
  double maxAbsolute;
  /// The largest difference over the reference's largest magnitude.
  double maxRelative;
  /// ||other - reference||_2 / ||reference||_2: what the lossy passes'
  /// max-rel-error budgets bound.
  double relativeL2;
};

FloatError floatError(const HostTensor &reference, const HostTensor &other) {
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

/// Runs both models on the calibration inputs and prints each output's error.
int measureError(llvm::StringRef original, llvm::StringRef optimized,
                 const std::map<std::string, HostTensor> &calibration) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto &[name, tensor] : calibration)
    shapes[name] = tensor.shape;
  std::vector<std::vector<HostTensor>> results;
  std::vector<std::string> names;
  for (llvm::StringRef path : {original, optimized}) {
    auto model = JitModel::compileFile(path, shapes);
    if (!model)
      return driver::fail(llvm::toString(model.takeError()));
    names.clear();
    for (const TensorSpec &spec : (*model)->outputs())
      names.push_back(spec.name);
    std::vector<HostTensor> inputs;
    for (const TensorSpec &spec : (*model)->inputs())
      inputs.push_back(calibration.at(spec.name));
    auto outputs = (*model)->run(inputs);
    if (!outputs)
      return driver::fail(path + ": " + llvm::toString(outputs.takeError()));
    results.push_back(std::move(*outputs));
  }
  llvm::outs() << "output error on the calibration inputs (optimized vs original):\n";
  for (size_t i = 0; i < results[0].size(); ++i) {
    const HostTensor &a = results[0][i], &b = results[1][i];
    const std::string &name = names[i];
    if (a.shape != b.shape)
      return driver::fail("output '" + name + "' changed shape");
    if (a.dataType != 1) {
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

/// Each pass's report lines, under its name.
void printReport(mlir::ArrayAttr report, llvm::raw_ostream &os) {
  for (auto entry : report.getAsRange<mlir::DictionaryAttr>()) {
    os << entry.getAs<mlir::StringAttr>("pass").getValue() << ":\n";
    for (auto line : entry.getAs<mlir::ArrayAttr>("lines").getAsValueRange<mlir::StringAttr>())
      os << "  " << line << "\n";
  }
}

/// An attribute of a report entry as JSON.
llvm::json::Value toJSON(mlir::Attribute attr) {
  if (auto s = llvm::dyn_cast<mlir::StringAttr>(attr))
    return s.str();
  if (auto b = llvm::dyn_cast<mlir::BoolAttr>(attr))
    return b.getValue();
  if (auto i = llvm::dyn_cast<mlir::IntegerAttr>(attr))
    return i.getInt();
  if (auto f = llvm::dyn_cast<mlir::FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto array = llvm::dyn_cast<mlir::ArrayAttr>(attr)) {
    llvm::json::Array items;
    for (mlir::Attribute item : array)
      items.push_back(toJSON(item));
    return items;
  }
  if (auto dict = llvm::dyn_cast<mlir::DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (mlir::NamedAttribute field : dict)
      object[field.getName().getValue()] = toJSON(field.getValue());
    return object;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return text;
}

/// The passes' reports as a JSON list (empty when no pass reported).
int writeReportJSON(mlir::ArrayAttr report, llvm::StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return driver::fail("--report-json " + path + ": " + ec.message());
  os << llvm::formatv("{0:2}", report ? toJSON(report) : llvm::json::Array()) << "\n";
  return 0;
}

bool hasWeights(mlir::ModuleOp module) {
  bool found = false;
  module.walk([&](ONNX::InitializerOp op) {
    found |= llvm::isa<mlir::FloatType>(op.getType().getElementType());
  });
  return found;
}

} // namespace

int driver::optimize(llvm::ArrayRef<const char *> args) {
  std::string input, output, pipeline, calibrationPath, reportPath;
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if (arg == "-o" && i + 1 < args.size())
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
                "[--calibration FILE.npz] [--report-json FILE.json]");

  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  registerAllPasses();
  mlir::PassManager pm(&context);
  pm.enableVerifier();
  pm.setNesting(mlir::OpPassManager::Nesting::Implicit);
  std::string problem;
  llvm::raw_string_ostream problemStream(problem);
  if (failed(mlir::parsePassPipeline(pipeline, pm, problemStream)))
    return fail("--pipeline '" + pipeline + "': " +
                llvm::StringRef(problem).trim().split('\n').first);

  auto module = importONNXFile(input, &context);
  if (!module)
    return fail(llvm::toString(module.takeError()));
  if (!hasWeights(**module))
    return fail(input + ": the model has no weights to optimize");
  std::map<std::string, HostTensor> calibration;
  if (!calibrationPath.empty()) {
    auto arrays = readCalibration(calibrationPath, **module);
    if (!arrays)
      return fail(llvm::toString(arrays.takeError()));
    calibration = std::move(*arrays);
    (**module)->setAttr(compression::kCalibrationAttrName,
                        mlir::StringAttr::get(&context, calibrationPath));
  }

  CostReport before = analyzeCost(**module);
  pm.addInstrumentation(std::make_unique<Progress>(pm.size()));
  if (failed(pm.run(**module)))
    return fail(input + ": the pipeline failed");
  auto report = (**module)->getAttrOfType<mlir::ArrayAttr>(compression::kReportAttrName);
  (**module)->removeAttr(compression::kReportAttrName);
  (**module)->removeAttr(compression::kCalibrationAttrName);
  if (report)
    printReport(report, llvm::outs());
  if (!reportPath.empty())
    if (int status = writeReportJSON(report, reportPath))
      return status;
  if (llvm::Error err = exportONNXFile(**module, output))
    return fail(llvm::toString(std::move(err)));
  CostReport after = analyzeCost(**module);
  llvm::outs() << "wrote " << output << "\n";
  printCostComparison(before, after, llvm::outs());
  if (!calibration.empty())
    return measureError(input, output, calibration);
  return 0;
}

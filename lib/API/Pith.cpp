//===- Pith.cpp - The C++ API: load, optimize, report, export, compile, run ===//
//
// Every path into Pith (the CLI's `pith optimize`, the C API, the Python
// package) comes through here: the same registered passes, parsed from the
// same pipeline syntax, the same exporter and the same compilation path
// (lib/Runtime/Compilation.cpp). Errors from LLVM (llvm::Error) and MLIR
// (diagnostics) are turned into Status values at this boundary.
//
//===----------------------------------------------------------------------===//

#include "pith/API/Pith.h"

#include "Internal.h"

#include "ONNX/ONNXOps.h"
#include "pith/Analysis/CostModel.h"
#include "pith/Compression/Calibration.h"
#include "pith/Compression/Passes.h"
#include "pith/Export/ONNXExporter.h"
#include "pith/Import/ONNXImporter.h"
#include "pith/InitAll.h"
#include "pith/Proto/ONNXProto.h"
#include "pith/Runtime/HostTensor.h"
#include "pith/Runtime/JitModel.h"
#include "pith/Runtime/LibraryModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdio>
#include <mutex>

using namespace pith::api;

using namespace pith::api::detail;

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
    llvm::errs() << llvm::formatv(" {0:F2} s\n", seconds);
  }
  size_t total, index = 0;
  int depth = 0;
  std::chrono::steady_clock::time_point start;
};

TensorInfo infoOf(llvm::StringRef name, mlir::Type type) {
  TensorInfo info;
  info.name = name.str();
  if (auto shaped = llvm::dyn_cast<mlir::ShapedType>(type)) {
    info.dataType = DataType(pith::proto::elementTypeToONNX(shaped.getElementType()).value_or(0));
    info.ranked = shaped.hasRank();
    if (shaped.hasRank())
      for (int64_t d : shaped.getShape())
        info.shape.push_back(mlir::ShapedType::isDynamic(d) ? -1 : d);
  }
  return info;
}

TensorInfo infoOf(const pith::TensorSpec &spec) {
  return {spec.name, DataType(spec.dataType), spec.shape, true};
}

bool hasFloatWeights(mlir::ModuleOp module) {
  bool found = false;
  module.walk([&](pith::ONNX::InitializerOp op) {
    found |= llvm::isa<mlir::FloatType>(op.getType().getElementType());
  });
  return found;
}

} // namespace

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

size_t pith::api::byteWidth(DataType type) {
  return pith::byteWidthOf(static_cast<int32_t>(type));
}

std::string pith::api::dataTypeName(DataType type) {
  return pith::dataTypeName(static_cast<int32_t>(type));
}

static int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t Tensor::numElements() const { return product(shape); }
int64_t TensorView::numElements() const { return product(shape); }

//===----------------------------------------------------------------------===//
// CompiledModel
//===----------------------------------------------------------------------===//

/// JIT-compiled for the CPU, or a library for cuda: one of the two is set.
struct CompiledModel::Impl {
  std::unique_ptr<pith::JitModel> jit;
  std::unique_ptr<pith::LibraryModel> library;
  std::vector<TensorInfo> inputs, outputs;
};

CompiledModel::CompiledModel(std::shared_ptr<Impl> impl) : impl(std::move(impl)) {}

static const std::vector<TensorInfo> kNoTensors;

const std::vector<TensorInfo> &CompiledModel::inputs() const {
  return impl ? impl->inputs : kNoTensors;
}
const std::vector<TensorInfo> &CompiledModel::outputs() const {
  return impl ? impl->outputs : kNoTensors;
}
int64_t CompiledModel::peakIntermediateBytes() const {
  if (!impl)
    return 0;
  return impl->jit ? impl->jit->peakIntermediateBytes() : impl->library->peakIntermediateBytes();
}
double CompiledModel::compileSeconds() const {
  if (!impl)
    return 0;
  return impl->jit ? impl->jit->compileSeconds() : impl->library->compileSeconds();
}

Result<std::vector<Tensor>> CompiledModel::run(const std::vector<TensorView> &inputs) const {
  if (!impl)
    return failure("the compiled model was moved from");
  std::vector<pith::HostTensorRef> refs;
  for (const TensorView &view : inputs) {
    for (int64_t d : view.shape)
      if (d < 0)
        return failure("a tensor has a negative dimension");
    refs.push_back({static_cast<int32_t>(view.dataType), view.shape, view.data,
                    view.numElements() * static_cast<int64_t>(byteWidth(view.dataType))});
  }
  auto outputs = impl->jit ? impl->jit->run(refs) : impl->library->run(refs);
  if (!outputs)
    return failure(outputs.takeError());
  std::vector<Tensor> tensors;
  for (pith::HostTensor &out : *outputs)
    tensors.push_back({DataType(out.dataType), std::move(out.shape), std::move(out.data)});
  return tensors;
}

//===----------------------------------------------------------------------===//
// Model
//===----------------------------------------------------------------------===//

Model::Model(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}

static Status movedFrom() { return failure("the model was moved from"); }
Model::Model(Model &&) noexcept = default;
Model &Model::operator=(Model &&) noexcept = default;
Model::~Model() = default;

Result<Model> Model::load(const std::string &path) {
  auto impl = Impl::create(path);
  auto module = pith::importONNXFile(path, impl->context.get());
  if (!module)
    return failure(module.takeError());
  impl->module = std::move(*module);
  return Model(std::move(impl));
}

Result<Model> Model::loadBytes(std::string_view bytes, const std::string &name) {
  auto impl = Impl::create(name);
  auto module = pith::importONNXBuffer(llvm::StringRef(bytes.data(), bytes.size()),
                                       /*isText=*/false, name, /*baseDirectory=*/"",
                                       impl->context.get());
  if (!module)
    return failure(module.takeError());
  impl->module = std::move(*module);
  return Model(std::move(impl));
}

std::vector<TensorInfo> Model::inputs() const {
  std::vector<TensorInfo> infos;
  if (auto graph = impl ? graphOf(*impl->module) : nullptr)
    for (auto [i, type] : llvm::enumerate(graph.getArgumentTypes())) {
      auto name = graph.getArgAttrOfType<mlir::StringAttr>(i, pith::ONNX::attrs::kName);
      infos.push_back(infoOf(name ? name.getValue() : "", type));
    }
  return infos;
}

std::vector<TensorInfo> Model::outputs() const {
  std::vector<TensorInfo> infos;
  if (auto graph = impl ? graphOf(*impl->module) : nullptr)
    for (auto [i, type] : llvm::enumerate(graph.getResultTypes())) {
      auto name = graph.getResultAttrOfType<mlir::StringAttr>(i, pith::ONNX::attrs::kName);
      infos.push_back(infoOf(name ? name.getValue() : "", type));
    }
  return infos;
}

Status Model::optimize(const std::string &pipeline, const OptimizeOptions &options) {
  if (!impl)
    return movedFrom();
  registerPassesOnce();
  mlir::MLIRContext *context = impl->context.get();
  mlir::PassManager pm(context);
  pm.enableVerifier();
  pm.setNesting(mlir::OpPassManager::Nesting::Implicit);
  std::string problem;
  llvm::raw_string_ostream problemStream(problem);
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, problemStream)))
    return failure("pipeline '" + pipeline + "': " + firstLine(problem));
  if (!hasFloatWeights(*impl->module))
    return failure(impl->name + ": the model has no weights to optimize");

  // Passes run on a copy: on failure the model stays as it was.
  mlir::OwningOpRef<mlir::ModuleOp> copy(impl->module->clone());
  if (!options.calibrationPath.empty()) {
    auto arrays = pith::readCalibration(options.calibrationPath, *copy);
    if (!arrays)
      return failure(arrays.takeError());
    (*copy)->setAttr(pith::compression::kCalibrationAttrName,
                     mlir::StringAttr::get(context, options.calibrationPath));
  }
  if (options.progress)
    pm.addInstrumentation(std::make_unique<Progress>(pm.size()));
  FirstError error(context);
  if (mlir::failed(pm.run(*copy)))
    return failure(impl->name + ": " +
                   (error.get().empty() ? "the pipeline failed" : error.get()));
  if (auto report = (*copy)->getAttrOfType<mlir::ArrayAttr>(pith::compression::kReportAttrName))
    llvm::append_range(impl->reports, report.getValue());
  (*copy)->removeAttr(pith::compression::kReportAttrName);
  (*copy)->removeAttr(pith::compression::kCalibrationAttrName);
  impl->module = std::move(copy);
  return Status::success();
}

/// `value` as the pipeline syntax writes an option's value.
static std::string optionText(const PassOptionValue &value) {
  // Strings with spaces or braces are quoted, as MLIR's option parser reads them.
  auto quoted = [](const std::string &text) {
    return text.find_first_of(" {},\"") == std::string::npos ? text : "\"" + text + "\"";
  };
  if (auto *b = std::get_if<bool>(&value))
    return *b ? "true" : "false";
  if (auto *i = std::get_if<int64_t>(&value))
    return std::to_string(*i);
  if (auto *d = std::get_if<double>(&value)) {
    char buffer[32]; // exactly: the pass parses what was given
    std::snprintf(buffer, sizeof(buffer), "%.17g", *d);
    return buffer;
  }
  if (auto *text = std::get_if<std::string>(&value))
    return quoted(*text);
  std::string list;
  for (const std::string &item : std::get<std::vector<std::string>>(value))
    list += (list.empty() ? "" : ",") + quoted(item);
  return list;
}

Status Model::optimize(const std::string &pass, const PassOptions &passOptions,
                       const OptimizeOptions &options) {
  if (pass.find_first_of("{},") != std::string::npos)
    return failure("optimize: '" + pass + "' is a pipeline, not a pass name; give options "
                   "in the pipeline or name one pass");
  std::string pipeline = pass;
  if (!passOptions.empty()) {
    pipeline += "{";
    for (auto [i, option] : llvm::enumerate(passOptions))
      pipeline += (i ? " " : "") + option.first + "=" + optionText(option.second);
    pipeline += "}";
  }
  return optimize(pipeline, options);
}

Report Model::report() const {
  Report report;
  if (!impl)
    return report;
  for (mlir::Attribute attr : impl->reports) {
    auto entry = llvm::cast<mlir::DictionaryAttr>(attr);
    PassReport pass;
    if (auto name = entry.getAs<mlir::StringAttr>("pass"))
      pass.pass = name.str();
    if (auto lines = entry.getAs<mlir::ArrayAttr>("lines"))
      for (auto line : lines.getAsValueRange<mlir::StringAttr>())
        pass.lines.push_back(line.str());
    report.passes.push_back(std::move(pass));
  }
  pith::CostReport cost = pith::analyzeCost(*impl->module);
  report.cost = {cost.total.parameters, cost.total.nonzeroParameters,
                 cost.total.weightBytes(),  cost.total.macs,
                 cost.total.flops,          cost.peakActivationBytes,
                 cost.assumedDynamicDimensions};
  llvm::json::Object json;
  json["passes"] = pith::compression::reportToJSON(
      mlir::ArrayAttr::get(impl->context.get(), impl->reports));
  json["cost"] = llvm::json::Object{{"parameters", report.cost.parameters},
                                    {"nonzero_parameters", report.cost.nonzeroParameters},
                                    {"weight_bytes", report.cost.weightBytes},
                                    {"macs", report.cost.macs},
                                    {"flops", report.cost.flops},
                                    {"peak_activation_bytes", report.cost.peakActivationBytes},
                                    {"assumed_dynamic_dimensions",
                                     report.cost.assumedDynamicDimensions}};
  report.json = llvm::formatv("{0:2}", llvm::json::Value(std::move(json)));
  return report;
}

Status Model::save(const std::string &path, bool sparseInitializers) const {
  if (!impl)
    return movedFrom();
  pith::ExportOptions options;
  options.sparseInitializers = sparseInitializers;
  if (llvm::Error error = pith::exportONNXFile(*impl->module, path, options))
    return failure(std::move(error));
  return Status::success();
}

Result<std::string> Model::toBytes() const {
  if (!impl)
    return movedFrom();
  auto bytes = pith::exportONNXBytes(*impl->module);
  if (!bytes)
    return failure(bytes.takeError());
  return std::move(*bytes);
}

Result<CompiledModel> Model::compile(const CompileOptions &options) const {
  if (!impl)
    return movedFrom();
  pith::CompileTarget target;
  if (std::string problem = pith::CompileTarget::parse(options.target, options.gpuMath, target);
      !problem.empty())
    return failure("compile: " + problem);
  // The compiled model is what standard ONNX of the model says: the same
  // path as `pith optimize` then `pith run`.
  auto bytes = pith::exportONNXBytes(*impl->module);
  if (!bytes)
    return failure(bytes.takeError());
  auto compiled = std::make_shared<CompiledModel::Impl>();
  auto describe = [&](const auto &model) {
    for (const pith::TensorSpec &spec : model.inputs())
      compiled->inputs.push_back(infoOf(spec));
    for (const pith::TensorSpec &spec : model.outputs())
      compiled->outputs.push_back(infoOf(spec));
  };
  if (target.kind == pith::CompileTarget::Kind::CUDA) {
    auto library =
        pith::LibraryModel::compileBytes(*bytes, impl->name, target, options.inputShapes);
    if (!library)
      return failure(library.takeError());
    compiled->library = std::move(*library);
    describe(*compiled->library);
  } else {
    auto jit = pith::JitModel::compileBytes(*bytes, impl->name, options.inputShapes);
    if (!jit)
      return failure(jit.takeError());
    compiled->jit = std::move(*jit);
    describe(*compiled->jit);
  }
  return CompiledModel(std::move(compiled));
}

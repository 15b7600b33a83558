//===- Calibration.cpp - Output error of a model on calibration inputs ----===//
//
// A candidate module is measured the way a user would run it: exported to
// ONNX (a temporary file), compiled by the CPU pipeline, run. Going through
// the file keeps the compilation independent of the pass's context, at the
// price of writing the weights once per measurement.
//
//===----------------------------------------------------------------------===//

#include "pith/Compression/Calibration.h"

#include "ONNX/ONNXOps.h"
#include "pith/Compression/Passes.h"
#include "pith/Export/ONNXExporter.h"
#include "pith/Runtime/JitModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace pith;

llvm::Expected<std::map<std::string, HostTensor>> pith::readCalibration(llvm::StringRef path,
                                                                        ModuleOp module) {
  auto arrays = readNpz(path);
  if (!arrays)
    return llvm::createStringError("calibration " + path + ": " +
                                   llvm::toString(arrays.takeError()));
  auto func = *module.getOps<func::FuncOp>().begin();
  std::map<std::string, RankedTensorType> inputs;
  std::string names;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, ONNX::attrs::kName);
    auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[i]);
    if (!name || !type)
      continue;
    inputs[name.str()] = type;
    names += (names.empty() ? "" : ", ") + name.str();
  }
  auto error = [&](const llvm::Twine &message) {
    return llvm::createStringError("calibration " + path + ": " + message);
  };
  for (const auto &[name, tensor] : *arrays) {
    auto it = inputs.find(name);
    if (it == inputs.end())
      return error("'" + name + "' is not an input of the model (inputs: " + names + ")");
    RankedTensorType type = it->second;
    bool ok = static_cast<int64_t>(tensor.shape.size()) == type.getRank();
    for (int64_t d = 0; ok && d < type.getRank(); ++d)
      ok = type.isDynamicDim(d) || type.getDimSize(d) == tensor.shape[d];
    if (!ok) {
      std::string want, got;
      llvm::raw_string_ostream ws(want), gs(got);
      type.print(ws);
      llvm::interleave(tensor.shape, gs, "x");
      return error("'" + name + "' has shape " + got + ", the model takes " + want);
    }
  }
  for (const auto &[name, type] : inputs)
    if (!arrays->count(name))
      return error("no array for input '" + name + "'");
  return arrays;
}

llvm::Expected<std::unique_ptr<OutputErrorMeter>>
OutputErrorMeter::create(ModuleOp reference, llvm::StringRef path) {
  auto inputs = readCalibration(path, reference);
  if (!inputs)
    return inputs.takeError();
  std::unique_ptr<OutputErrorMeter> meter(new OutputErrorMeter());
  meter->inputs = std::move(*inputs);
  const HostTensor &first = meter->inputs.begin()->second;
  meter->sampleCount = first.shape.empty() ? 1 : first.shape[0];
  auto outputs = meter->run(reference);
  if (!outputs)
    return outputs.takeError();
  meter->reference = std::move(*outputs);
  return meter;
}

llvm::Expected<std::unique_ptr<OutputErrorMeter>>
OutputErrorMeter::forPass(ModuleOp module, llvm::StringRef option) {
  std::string path = option.str();
  if (auto recorded = module->getAttrOfType<StringAttr>(compression::kCalibrationAttrName);
      path.empty() && recorded)
    path = recorded.str();
  if (path.empty())
    return nullptr;
  return create(module, path);
}

llvm::Expected<std::vector<HostTensor>> OutputErrorMeter::run(ModuleOp module) {
  llvm::SmallString<128> path;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("pith-calibration", "onnx", path))
    return llvm::createStringError("cannot create a temporary file: " + ec.message());
  auto removeFile = llvm::make_scope_exit([&] { llvm::sys::fs::remove(path); });
  if (llvm::Error err = exportONNXFile(module, path))
    return std::move(err);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto &[name, tensor] : inputs)
    shapes[name] = tensor.shape;
  auto model = JitModel::compileFile(path, shapes);
  if (!model)
    return model.takeError();
  std::vector<HostTensor> ordered;
  for (const TensorSpec &spec : (*model)->inputs())
    ordered.push_back(inputs.at(spec.name));
  return (*model)->run(ordered);
}

llvm::Expected<std::vector<HostTensor>> OutputErrorMeter::capture(ModuleOp module,
                                                                  ArrayRef<Value> values) {
  IRMapping mapping;
  OwningOpRef<ModuleOp> clone(cast<ModuleOp>(module->clone(mapping)));
  auto func = *clone->getOps<func::FuncOp>().begin();
  Operation *terminator = func.getBody().front().getTerminator();
  SmallVector<Value> results(terminator->getOperands());
  size_t graphOutputs = results.size();
  SmallVector<DictionaryAttr> resultAttrs;
  for (size_t i = 0; i < graphOutputs; ++i)
    resultAttrs.push_back(func.getResultAttrDict(i));
  Builder b(module.getContext());
  for (auto [i, value] : llvm::enumerate(values)) {
    results.push_back(mapping.lookup(value));
    resultAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
        ONNX::attrs::kName, b.getStringAttr("pith.capture." + std::to_string(i)))));
  }
  terminator->setOperands(results);
  func.setFunctionType(FunctionType::get(module.getContext(), func.getArgumentTypes(),
                                         ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
  auto outputs = run(*clone);
  if (!outputs)
    return outputs.takeError();
  outputs->erase(outputs->begin(), outputs->begin() + graphOutputs);
  return outputs;
}

llvm::Expected<double> OutputErrorMeter::measure(ModuleOp candidate) {
  auto outputs = run(candidate);
  if (!outputs)
    return outputs.takeError();
  if (outputs->size() != reference.size())
    return llvm::createStringError("the edited model has a different number of outputs");
  double worst = 0;
  for (size_t o = 0; o < reference.size(); ++o) {
    const HostTensor &want = reference[o], &got = (*outputs)[o];
    if (want.shape != got.shape)
      return llvm::createStringError("output " + std::to_string(o) + " changed shape");
    if (want.dataType != 1) // only float outputs carry an error
      continue;
    double diff = 0, norm = 0;
    size_t n = want.data.size() / sizeof(float);
    for (size_t i = 0; i < n; ++i) {
      float a, b;
      std::memcpy(&a, want.data.data() + i * sizeof(float), sizeof a);
      std::memcpy(&b, got.data.data() + i * sizeof(float), sizeof b);
      diff += (double(b) - a) * (double(b) - a);
      norm += double(a) * a;
    }
    worst = std::max(worst, norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff));
  }
  return worst;
}

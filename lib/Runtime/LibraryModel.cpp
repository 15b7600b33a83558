//===- LibraryModel.cpp - Compile to a shared library and run it ----------===//

#include "pith/Runtime/LibraryModel.h"

#include "pith-c/Runtime.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <cstring>

using namespace pith;

namespace {
llvm::Error statusError(PithStatus *status) {
  std::string message = pithStatusMessage(status);
  pithStatusFree(status);
  return llvm::createStringError(message);
}
} // namespace

llvm::Expected<std::unique_ptr<LibraryModel>>
LibraryModel::compileFile(llvm::StringRef path, const CompileTarget &target,
                          const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  auto start = std::chrono::steady_clock::now();
  return fromLowered(lowerONNXFile(path, target, inputShapes), start);
}

llvm::Expected<std::unique_ptr<LibraryModel>>
LibraryModel::compileBytes(llvm::StringRef bytes, llvm::StringRef displayName,
                           const CompileTarget &target,
                           const std::map<std::string, std::vector<int64_t>> &inputShapes) {
  auto start = std::chrono::steady_clock::now();
  return fromLowered(lowerONNXBytes(bytes, displayName, target, inputShapes), start);
}

llvm::Expected<std::unique_ptr<LibraryModel>>
LibraryModel::fromLowered(llvm::Expected<std::unique_ptr<LoweredModel>> lowered,
                          std::chrono::steady_clock::time_point start) {
  if (!lowered)
    return lowered.takeError();
  std::unique_ptr<LibraryModel> result(new LibraryModel());
  llvm::SmallString<128> directory;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("pith-model", directory))
    return llvm::createStringError("cannot create a temporary directory: " + ec.message());
  result->directory = std::string(directory);
  llvm::SmallString<128> library(directory);
  llvm::sys::path::append(library, "model.so");
  std::string weights = std::string(library) + ".weights";
  if (llvm::Error err = writeWeightsFile(**lowered, weights))
    return std::move(err);
  if (llvm::Error err = emitSharedLibrary(**lowered, library))
    return std::move(err);
  if (PithStatus *status = pithModelLoad(library.c_str(), weights.c_str(), &result->model))
    return statusError(status);
  for (const auto &value : (*lowered)->metadata.inputs)
    result->inputSpecs.push_back({value.name, value.dataType, value.shape});
  for (const auto &value : (*lowered)->metadata.outputs)
    result->outputSpecs.push_back({value.name, value.dataType, value.shape});
  result->compileTime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(result);
}

LibraryModel::~LibraryModel() {
  if (model)
    pithModelFree(model);
  if (!directory.empty())
    llvm::sys::fs::remove_directories(directory);
}

int64_t LibraryModel::peakIntermediateBytes() const {
  return pithModelPeakIntermediateBytes(model);
}

std::string LibraryModel::device() const { return pithModelDevice(model); }

llvm::Expected<std::vector<HostTensor>>
LibraryModel::run(const std::vector<HostTensor> &inputs) {
  return run(refsOf(inputs));
}

llvm::Expected<std::vector<HostTensor>>
LibraryModel::run(const std::vector<HostTensorRef> &inputs) {
  std::vector<PithTensor> given;
  for (const HostTensorRef &tensor : inputs)
    given.push_back(PithTensor{tensor.dataType, static_cast<int64_t>(tensor.shape.size()),
                               tensor.shape.data(), const_cast<void *>(tensor.data)});
  std::vector<PithTensor> produced(outputSpecs.size());
  if (PithStatus *status = pithModelRunAllocating(model, given.data(), given.size(),
                                                  produced.data(), produced.size()))
    return statusError(status);
  std::vector<HostTensor> results;
  for (PithTensor &tensor : produced) {
    HostTensor out;
    out.dataType = tensor.dataType;
    out.shape.assign(tensor.shape, tensor.shape + tensor.rank);
    out.data.resize(out.numElements() * byteWidthOf(tensor.dataType));
    std::memcpy(out.data.data(), tensor.data, out.data.size());
    pithTensorRelease(&tensor);
    results.push_back(std::move(out));
  }
  return results;
}

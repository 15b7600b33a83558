//===- LibraryModel.h - Compile to a shared library and run it -*- C++ -*-===//
//
// The way to run a model compiled for a target the JIT does not serve
// (cuda): compile ahead of time into a private temporary directory, load
// the library through the C runtime (include/pith-c/Runtime.h), run. The
// same path `pith compile` plus pith-run-compiled take, in one process.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_LIBRARYMODEL_H
#define PITH_RUNTIME_LIBRARYMODEL_H

#include "pith/Runtime/Compilation.h"
#include "pith/Runtime/HostTensor.h"
#include "pith/Runtime/JitModel.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct PithModel;

namespace pith {

class LibraryModel {
public:
  static llvm::Expected<std::unique_ptr<LibraryModel>>
  compileFile(llvm::StringRef path, const CompileTarget &target,
              const std::map<std::string, std::vector<int64_t>> &inputShapes = {});
  static llvm::Expected<std::unique_ptr<LibraryModel>>
  compileBytes(llvm::StringRef bytes, llvm::StringRef displayName, const CompileTarget &target,
               const std::map<std::string, std::vector<int64_t>> &inputShapes = {});
  ~LibraryModel();

  const std::vector<TensorSpec> &inputs() const { return inputSpecs; }
  const std::vector<TensorSpec> &outputs() const { return outputSpecs; }
  llvm::Expected<std::vector<HostTensor>> run(const std::vector<HostTensor> &inputs);
  llvm::Expected<std::vector<HostTensor>> run(const std::vector<HostTensorRef> &inputs);
  double compileSeconds() const { return compileTime; }
  int64_t peakIntermediateBytes() const;
  /// "cpu" or "cuda: <GPU>".
  std::string device() const;

private:
  LibraryModel() = default;
  static llvm::Expected<std::unique_ptr<LibraryModel>>
  fromLowered(llvm::Expected<std::unique_ptr<LoweredModel>> lowered,
              std::chrono::steady_clock::time_point start);
  PithModel *model = nullptr;
  std::string directory;
  std::vector<TensorSpec> inputSpecs, outputSpecs;
  double compileTime = 0;
};

} // namespace pith

#endif // PITH_RUNTIME_LIBRARYMODEL_H

//===- JitModel.h - Compile an ONNX model in process and run it -*- C++ -*-===//
//
// Imports a model, lowers it with the CPU pipeline, JIT-compiles it with
// MLIR's ExecutionEngine and runs it on host tensors. Weights are passed to
// the compiled code by pointer from the imported blobs, never copied.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_JITMODEL_H
#define PITH_RUNTIME_JITMODEL_H

#include "pith/Runtime/HostTensor.h"

#include "llvm/Support/Error.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pith {

struct LoweredModel;

/// A graph input or output as the compiled code sees it.
struct TensorSpec {
  std::string name;
  int32_t dataType = 0;
  /// -1 for a dynamic dimension.
  std::vector<int64_t> shape;
};

class JitModel {
public:
  /// Imports and compiles the ONNX model at `path`. Errors are one line
  /// naming the file and, where one is at fault, the node.
  /// `inputShapes` fixes symbolic input dimensions, by input name.
  static llvm::Expected<std::unique_ptr<JitModel>>
  compileFile(llvm::StringRef path,
              const std::map<std::string, std::vector<int64_t>> &inputShapes = {});
  /// The same for binary ONNX in memory; `displayName` names it in errors.
  static llvm::Expected<std::unique_ptr<JitModel>>
  compileBytes(llvm::StringRef bytes, llvm::StringRef displayName,
               const std::map<std::string, std::vector<int64_t>> &inputShapes = {});
  ~JitModel();

  const std::vector<TensorSpec> &inputs() const { return inputSpecs; }
  const std::vector<TensorSpec> &outputs() const { return outputSpecs; }

  /// Runs the model on `inputs`, in graph-input order. Checks data types and
  /// shapes first.
  llvm::Expected<std::vector<HostTensor>> run(const std::vector<HostTensor> &inputs);
  /// The same on tensors the caller owns, read in place. Safe to call from
  /// several threads at once (each run takes its own arena).
  llvm::Expected<std::vector<HostTensor>> run(const std::vector<HostTensorRef> &inputs);

  /// Seconds spent importing and compiling.
  double compileSeconds() const { return compileTime; }

  /// Bytes of the arena holding all intermediate buffers, as planned by
  /// liveness (pith-plan-buffers): the peak memory of intermediates.
  int64_t peakIntermediateBytes() const { return arenaBytes; }

private:
  JitModel();
  static llvm::Expected<std::unique_ptr<JitModel>>
  fromLowered(llvm::Expected<std::unique_ptr<LoweredModel>> lowered, llvm::StringRef path,
              std::chrono::steady_clock::time_point start);
  struct Impl;
  std::unique_ptr<Impl> impl;
  std::vector<TensorSpec> inputSpecs, outputSpecs;
  double compileTime = 0;
  int64_t arenaBytes = 0;
};

} // namespace pith

#endif // PITH_RUNTIME_JITMODEL_H

//===- Compilation.h - ONNX model to LLVM dialect, for JIT and AOT -*- C++ -*-===//
//
// One compilation path for `pith run` (JIT) and `pith compile` (shared
// library): import, the CPU pipeline in stages, and the model's interface
// recorded on the way.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_RUNTIME_COMPILATION_H
#define PITH_RUNTIME_COMPILATION_H

#include "pith/Runtime/ModelMetadata.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pith {

struct LoweredModel {
  std::unique_ptr<mlir::MLIRContext> context;
  /// The LLVM dialect module, with the entry point `pith_graph_packed`.
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// Interface and weights layout (offsets in a weights file; the hash is
  /// filled in when the file is written).
  ModelMetadata metadata;
  /// Each weight's bytes, in argument order: the imported blobs (owned by
  /// `context`) or `ownedWeights`.
  std::vector<llvm::ArrayRef<char>> weightData;
  std::vector<std::vector<char>> ownedWeights;
};

/// Imports and lowers the model at `path` for the host CPU. Errors are one
/// line naming the file and, where one is at fault, the node.
/// `inputShapes` fixes graph inputs' symbolic dimensions (by input name).
/// What to compile for. CPU: JIT or a shared library linking
/// libpith_kernels.so. CUDA: a shared library linking
/// libpith_cuda_runtime.so; every shape must be static.
struct CompileTarget {
  enum class Kind { CPU, CUDA } kind = Kind::CPU;
  /// CUDA: "fp32", "tf32", "fp16" or "bf16" (pith::GPUMath).
  std::string gpuMath = "fp32";
  /// CUDA: SM architectures for the fatbin (empty: sm_80 and sm_90).
  std::vector<std::string> chips;
  /// CUDA: matmuls and convolutions in cuBLAS/cuDNN ("library") or in
  /// generated kernels ("generated", to measure the choice).
  bool libraryContractions = true;

  /// Parses --target (cpu, cuda), --gpu-math and --gpu-contractions
  /// values; "" on success.
  static std::string parse(llvm::StringRef target, llvm::StringRef gpuMath,
                           CompileTarget &out,
                           llvm::StringRef gpuContractions = "library");
};

llvm::Expected<std::unique_ptr<LoweredModel>>
lowerONNXFile(llvm::StringRef path, const CompileTarget &target,
              const std::map<std::string, std::vector<int64_t>> &inputShapes = {});

llvm::Expected<std::unique_ptr<LoweredModel>>
lowerONNXBytes(llvm::StringRef bytes, llvm::StringRef displayName, const CompileTarget &target,
               const std::map<std::string, std::vector<int64_t>> &inputShapes = {});

llvm::Expected<std::unique_ptr<LoweredModel>>
lowerONNXFileForCPU(llvm::StringRef path,
                    const std::map<std::string, std::vector<int64_t>> &inputShapes = {});

/// The same for binary ONNX in memory; `displayName` names it in errors.
/// External data is refused.
llvm::Expected<std::unique_ptr<LoweredModel>>
lowerONNXBytesForCPU(llvm::StringRef bytes, llvm::StringRef displayName,
                     const std::map<std::string, std::vector<int64_t>> &inputShapes = {});

/// Where this process loaded libpith_kernels.so from (what generated code
/// calls): JIT-compiled code resolves its symbols there, libraries link it.
llvm::Expected<std::string> kernelsLibraryPath();

/// Where libpith_cuda_runtime.so is: next to libpith_kernels.so.
llvm::Expected<std::string> cudaRuntimeLibraryPath();

/// Writes the weights file of a lowered model and sets its hash.
llvm::Error writeWeightsFile(LoweredModel &model, llvm::StringRef path);

/// Compiles a lowered model (after writeWeightsFile) into a shared library
/// exporting `pith_graph_packed` and `pith_model_metadata`.
llvm::Error emitSharedLibrary(LoweredModel &model, llvm::StringRef path);

} // namespace pith

#endif // PITH_RUNTIME_COMPILATION_H

//===- Pipelines.h - Pith's named pass pipelines ----------------*- C++ -*-===//
//
// The pipelines every entry point runs (pith-opt, the `pith` driver, the
// library APIs): one definition each, registered by name for pith-opt.
//
//===----------------------------------------------------------------------===//

#ifndef PITH_PIPELINES_PIPELINES_H
#define PITH_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace pith {

/// `pith-cpu-pipeline`: onnx dialect -> LLVM dialect for x86-64. The graph
/// function takes (inputs..., weights..., outputs...) as memrefs, outputs
/// as out-parameters the caller allocates.
void buildCPUPipeline(mlir::OpPassManager &pm);

/// The steps of pith-cpu-pipeline after the onnx conversion, for lit tests
/// of each and for the runtime, which reads the planned arena size between
/// them: `pith-cpu-bufferize` (linalg on tensors -> memrefs; outputs become
/// out-parameters, intermediates views of one planned arena argument) and
/// `pith-cpu-lower-to-llvm` (-> LLVM dialect).
void buildCPUBufferizePipeline(mlir::OpPassManager &pm);
void buildCPULowerToLLVMPipeline(mlir::OpPassManager &pm);

/// The GPU pipeline (lib/Pipelines/CUDAPipeline.cpp): the same lowering to
/// linalg and bufferization (one planned arena), NCHW convolutions (cuDNN's
/// native layout), matmuls and convolutions as cuBLAS/cuDNN calls, every
/// other loop nest a kernel; PTX through MLIR's NVVM target, cubins for
/// `chips` and a fatbin (or, with ptxOnly, the PTX left in the gpu.binary,
/// for tests).
struct CUDAPipelineOptions : public mlir::PassPipelineOptions<CUDAPipelineOptions> {
  ListOption<std::string> chips{*this, "chips",
                                llvm::cl::desc("SM architectures (default sm_80, sm_90)")};
  Option<bool> ptxOnly{*this, "ptx-only",
                       llvm::cl::desc("Stop at PTX: no ptxas, no fatbin"),
                       llvm::cl::init(false)};
  Option<bool> libraryCalls{
      *this, "library-calls",
      llvm::cl::desc("Matmuls and convolutions in cuBLAS/cuDNN (else generated kernels, "
                     "as every other loop nest: for measuring the choice)"),
      llvm::cl::init(true)};
};
void buildCUDAPipeline(mlir::OpPassManager &pm, const CUDAPipelineOptions &options);
void buildCUDABufferizePipeline(mlir::OpPassManager &pm);
void buildCUDALowerToLLVMPipeline(mlir::OpPassManager &pm,
                                  const CUDAPipelineOptions &options);

/// Registers the pipelines above with the pass registry.
/// pith-prepare: float initializers lifted to pith parameters, then
/// canonicalized; where transform pipelines start.
void buildPreparePipeline(mlir::OpPassManager &pm);

void registerPipelines();

} // namespace pith

#endif // PITH_PIPELINES_PIPELINES_H

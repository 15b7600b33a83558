//===- CUDAPipeline.cpp - onnx dialect to LLVM plus GPU code for NVIDIA ---===//
//
// Host code (LLVM dialect) launches kernels and calls cuBLAS/cuDNN through
// Pith's GPU runtime (lib/Runtime/CUDA); all tensor data stays in device
// memory. Kernels: one per remaining loop nest (pith-map-loops-to-gpu),
// outlined into one gpu.module, lowered by MLIR's NVVM pipeline to PTX for
// the lowest chip, then cubins per chip in a fatbin.
//
//===----------------------------------------------------------------------===//

#include "pith/Pipelines/Pipelines.h"

#include "pith/Conversion/Passes.h"
#include "pith/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"

#include <cstdlib>
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"

using namespace mlir;
using namespace pith;

void pith::buildCUDALowerToLLVMPipeline(OpPassManager &pm,
                                        const CUDAPipelineOptions &options) {
  if (options.libraryCalls) {
    LinalgToKernelCallsPassOptions kernels;
    kernels.target = "cuda";
    pm.addPass(createLinalgToKernelCallsPass(kernels));
  }
  pm.addPass(createConvertBufferizationToMemRefPass());
  // Every copy becomes a kernel (a memcpy would run on the host).
  StridedCopiesToLinalgPassOptions copies;
  copies.allCopies = true;
  pm.addNestedPass<func::FuncOp>(createStridedCopiesToLinalgPass(copies));
  // Matmuls left (generated contractions, or types the libraries are not
  // given) become shared-memory tiled kernels, the rest loop nests.
  pm.addPass(createTileContractionsForGPUPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createMapLoopsToGPUPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createMergeGPUModulesPass());
  // MLIR's NVVM target links libdevice (the math functions) from the CUDA
  // toolkit it finds through these variables; default to where Pith's
  // build found the toolkit, so that the result does not depend on the
  // caller's environment.
  if (!std::getenv("CUDA_ROOT") && !std::getenv("CUDA_HOME") && !std::getenv("CUDA_PATH"))
    setenv("CUDA_PATH", PITH_CUDA_TOOLKIT_DIR, /*overwrite=*/0);
  gpu::GPUToNVVMPipelineOptions nvvm;
  // PTX for the lowest chip runs on every later one (ptxas and the driver's
  // JIT take it); PTX ISA 8.0 is the first that sm_90 accepts.
  std::vector<std::string> chips(options.chips.begin(), options.chips.end());
  if (chips.empty())
    chips = {"sm_80", "sm_90"};
  nvvm.cubinChip = *std::min_element(chips.begin(), chips.end());
  nvvm.cubinFeatures = "+ptx80";
  nvvm.cubinFormat = "isa";
  nvvm.optLevel = 3;
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
  if (options.ptxOnly)
    return;
  GPUBinaryToFatbinPassOptions fatbin;
  fatbin.chips.assign(chips.begin(), chips.end());
  pm.addPass(createGPUBinaryToFatbinPass(fatbin));
}

void pith::buildCUDAPipeline(OpPassManager &pm, const CUDAPipelineOptions &options) {
  pm.addPass(createExpandToONNXPass());
  pm.addPass(createRefineShapesPass());
  pm.addPass(createWidenConvolutionsPass());
  pm.addPass(createConvertONNXToLinalgPass());
  buildCUDABufferizePipeline(pm);
  buildCUDALowerToLLVMPipeline(pm, options);
}

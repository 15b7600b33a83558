//===- CPUPipeline.cpp - onnx dialect to LLVM for x86-64 -------------------===//
//
// onnx -> linalg on tensors (Pith's conversion), channels-last convolutions,
// elementwise fusion, one-shot bufferization with static results turned
// into caller-allocated out-parameters (symbolically shaped ones are
// returned), deallocation of temporaries, kernel calls, loops
// (OpenMP-parallel where large), and the LLVM dialect.
// Math functions without an LLVM intrinsic call libm.
//
//===----------------------------------------------------------------------===//

#include "pith/Pipelines/Pipelines.h"

#include "pith/Conversion/Passes.h"
#include "pith/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace pith;

/// Shared by the CPU and GPU pipelines. Channels-last convolutions and the
/// fused factored-matmul kernel are CPU choices: cuDNN takes NCHW, and on
/// the GPU a factored layer is two cuBLAS GEMMs.
static void buildBufferizePipeline(OpPassManager &pm, bool forCPU) {
  pm.addPass(createCanonicalizerPass());
  if (forCPU) {
    pm.addNestedPass<func::FuncOp>(createConvolutionsToNHWCPass());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addNestedPass<func::FuncOp>(createFuseElementwisePass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createStaticResultsToOutParamsPass());
  // A low-rank layer's x . U then needs no buffer of its own.
  if (forCPU)
    pm.addPass(createFuseFactoredMatmulsPass());
  // Statically sized intermediates share one arena; what remains (dynamic
  // sizes) is freed by the deallocation pipeline.
  pm.addNestedPass<func::FuncOp>(createPlanBuffersPass());
  bufferization::buildBufferDeallocationPipeline(pm);
}

void pith::buildCPUBufferizePipeline(OpPassManager &pm) { buildBufferizePipeline(pm, true); }
void pith::buildCUDABufferizePipeline(OpPassManager &pm) { buildBufferizePipeline(pm, false); }

void pith::buildCPULowerToLLVMPipeline(OpPassManager &pm) {
  // Matmuls and convolutions run in tuned kernels; the rest becomes loops,
  // the outer dimensions of the large ones shared among threads by OpenMP
  // (the runtime oneDNN's kernels use too, so one pool serves both).
  pm.addPass(createLinalgToKernelCallsPass());
  // Returned outputs that are views of other buffers are cloned for the
  // caller (bufferization.clone): an allocation and a copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addNestedPass<func::FuncOp>(createStridedCopiesToLinalgPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createParallelizeLoopsPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // The OpenMP conversion wraps each loop body in memref.alloca_scope; it
  // allocates nothing here, and canonicalization inlines it before scf.for
  // loops inside become multi-block control flow (which the scope forbids).
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createApproximateMathPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  // Expanding strided metadata of slices at loop-dependent offsets makes
  // affine.apply ops: lower them too.
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  // Integer powers have no LLVM intrinsic: expand them to loops first.
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void pith::buildCPUPipeline(OpPassManager &pm) {
  pm.addPass(createExpandToONNXPass());
  pm.addPass(createRefineShapesPass());
  pm.addPass(createWidenConvolutionsPass());
  pm.addPass(createConvertONNXToLinalgPass());
  buildCPUBufferizePipeline(pm);
  buildCPULowerToLLVMPipeline(pm);
}

void pith::registerPipelines() {
  PassPipelineRegistration<>(
      "pith-prepare",
      "Lift float initializers to pith parameters and canonicalize (where "
      "transform pipelines start)",
      buildPreparePipeline);
  PassPipelineRegistration<>("pith-cpu-pipeline",
                             "Lower the onnx dialect to LLVM for the CPU",
                             buildCPUPipeline);
  PassPipelineRegistration<>(
      "pith-cpu-bufferize",
      "Bufferize linalg on tensors, outputs as out-parameters, intermediates "
      "in a planned arena (the middle of pith-cpu-pipeline)",
      buildCPUBufferizePipeline);
  PassPipelineRegistration<CUDAPipelineOptions>(
      "pith-cuda-pipeline", "Lower the onnx dialect to LLVM and GPU code for NVIDIA GPUs",
      buildCUDAPipeline);
  PassPipelineRegistration<>(
      "pith-cuda-bufferize",
      "Bufferize for the GPU pipeline (NCHW convolutions, one arena)",
      buildCUDABufferizePipeline);
  PassPipelineRegistration<CUDAPipelineOptions>(
      "pith-cuda-lower-to-llvm",
      "Lower bufferized linalg to cuBLAS/cuDNN calls, GPU kernels (PTX, "
      "cubins, fatbin) and host code in the LLVM dialect",
      buildCUDALowerToLLVMPipeline);
  PassPipelineRegistration<>(
      "pith-cpu-lower-to-llvm",
      "Lower bufferized linalg to the LLVM dialect (the end of "
      "pith-cpu-pipeline)",
      buildCPULowerToLLVMPipeline);
}

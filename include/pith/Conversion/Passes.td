//===- Passes.td - Pith's conversion passes -----------------*- tablegen -*-===//

#ifndef PITH_CONVERSION_PASSES_TD
#define PITH_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertONNXToLinalgPass : Pass<"pith-convert-onnx-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower the onnx dialect to linalg, tensor, arith and math";
  let description = [{
    Lowers every onnx op of the model's graph function to upstream dialects
    on tensors. Initializers become trailing function arguments marked
    `pith.weight = "<name>"`, so weights are passed in (mapped from a file or
    from the import's blobs) instead of being compiled into the code.
    Unsigned element types become signless. An op without a lowering, or a
    value whose type is unknown, is an error naming the node.

    ```mlir
    %y = onnx.Relu(%x) : (tensor<2xf32>) -> tensor<2xf32>
    // becomes
    %y = linalg.generic {...} ins(%x : tensor<2xf32>) outs(%e : tensor<2xf32>) {
      ^bb0(%a: f32, %b: f32):
        %m = arith.maximumf %a, %zero : f32
        linalg.yield %m : f32
    } -> tensor<2xf32>
    ```
  }];
  let dependentDialects = [
    "mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::func::FuncDialect", "mlir::scf::SCFDialect"
  ];
}

def LinalgToKernelCallsPass : Pass<"pith-linalg-to-kernel-calls", "mlir::ModuleOp"> {
  let summary = "Run bufferized matmuls and convolutions through CPU kernels";
  let description = [{
    Replaces f32 `linalg.matmul`, `linalg.batch_matmul` and
    `linalg.conv_2d_nchw_fchw` on contiguous memrefs by calls to Pith's CPU
    kernels (lib/Kernels, on oneDNN: blocked, vectorized for the host's
    AVX-512/AVX2 and multithreaded), keeping linalg's accumulate semantics
    (C += A * B). The rest of the code stays MLIR-generated loops. See
    docs/codegen.md for why, with measurements.

    ```mlir
    linalg.matmul ins(%a, %b : memref<64x32xf32>, memref<32x16xf32>)
                  outs(%c : memref<64x16xf32>)
    // becomes
    %a0 = memref.cast %a : memref<64x32xf32> to memref<?x?xf32>
    ...
    call @pith_kernel_matmul_f32(%a0, %b0, %c0) : (...) -> ()
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", "\"cpu\"",
           "Whose kernels: cpu (pith_kernel_*, lib/Kernels) or cuda "
           "(pith_cuda_*, lib/Runtime/CUDA: cuBLAS and cuDNN on device memory)">
  ];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

def FuseFactoredMatmulsPass : Pass<"pith-fuse-factored-matmuls", "mlir::ModuleOp"> {
  let summary = "Run a low-rank layer's two bufferized matmuls as one row-tiled kernel call";
  let description = [{
    Bufferized, a factored linear map y = (x . U) . V (pith.factored_linear
    after expansion, or any such pair of matmuls) holds x . U whole in a
    rows x rank buffer. Where that buffer is zeroed, written by the first
    matmul and read only by the second, and the rank is below both outer
    dimensions, the pair becomes one call to
    `pith_kernel_factored_matmul_f32`, which computes x . U a tile of rows at
    a time in a bounded per-thread scratch (at most max(64 rows, 256 KiB)).
    Run before pith-plan-buffers: the intermediate then takes no arena
    space, so factoring a layer does not raise peak buffer bytes.

    ```mlir
    linalg.fill ins(%zero : f32) outs(%t : memref<6x2xf32>)
    linalg.matmul ins(%x, %u : memref<6x8xf32>, memref<8x2xf32>) outs(%t : memref<6x2xf32>)
    linalg.matmul ins(%t, %v : memref<6x2xf32>, memref<2x6xf32>) outs(%y : memref<6x6xf32>)
    // becomes
    call @pith_kernel_factored_matmul_f32(%x0, %u0, %v0, %y0) : (...) -> ()
    ```
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect"];
}

def MapLoopsToGPUPass : Pass<"pith-map-loops-to-gpu", "mlir::ModuleOp"> {
  let summary = "Run each top-level parallel loop nest as one GPU kernel launch";
  let description = [{
    After bufferization and the kernel calls, what is left of the graph is
    `scf.parallel` loop nests (from linalg) on device buffers. Each nest
    becomes a `gpu.launch` of one thread per iteration: the iteration space
    is linearized and split into blocks of 256 threads, each thread
    delinearizes its index (reductions stay sequential loops inside the
    thread). Globals the body reads (constant tables) are re-read inside the
    kernel, so outlining copies them to the device module. Remaining
    allocations become `gpu.alloc`. Host code must not touch tensor data: a
    load, store or copy left outside a kernel is an error naming the node.

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) { ... }
    // becomes
    gpu.launch blocks(%bx, ...) in (%g = %c1, ...) threads(%tx, ...) in (%t = %c256, ...) {
      // %n = %bx * 256 + %tx; if %n < 32: %i = %n / 8, %j = %n % 8; ...
    }
    ```
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect"];
}

def TileContractionsForGPUPass : Pass<"pith-tile-contractions-for-gpu", "mlir::ModuleOp"> {
  let summary = "Run bufferized matmuls as GPU kernels tiled through shared memory";
  let description = [{
    `linalg.matmul` and `linalg.batch_matmul` (plain indexing maps, one
    element type) that no library call took become a `gpu.launch` of
    16 x 16-thread blocks, one per 16 x 16 tile of C (the batch on the
    grid's z): A and B pass through two 16 x 16 workgroup buffers a K-tile at
    a time, with a barrier after loading and after using each tile; edges
    load zeros. C += A * B, as in linalg.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect"];
}

def MergeGPUModulesPass : Pass<"pith-merge-gpu-modules", "mlir::ModuleOp"> {
  let summary = "Put every outlined kernel in one gpu.module";
  let description = [{
    Kernel outlining makes one gpu.module per launch; a model has hundreds.
    Merged, the model's device code is compiled by ptxas once per chip and
    loaded with one module load.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def GPUBinaryToFatbinPass : Pass<"pith-gpu-binary-to-fatbin", "mlir::ModuleOp"> {
  let summary = "Compile PTX gpu.binary objects into one fatbin for several chips";
  let description = [{
    MLIR's NVVM target gives the kernels' PTX (format=isa, targeting the
    lowest chip). This pass runs the CUDA toolkit's ptxas for each chip in
    `chips` and packs the cubins, with the PTX for newer GPUs to JIT, into a
    fatbin with `fatbinary`; the driver loads the cubin matching the device.
  }];
  let options = [
    ListOption<"chips", "chips", "std::string",
               "SM architectures to build cubins for (default sm_80, sm_90)">,
    Option<"toolkit", "toolkit", "std::string", "\"\"",
           "CUDA toolkit root (default: $CUDA_PATH, else /usr/local/cuda)">
  ];
}

#endif // PITH_CONVERSION_PASSES_TD

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

#endif // PITH_CONVERSION_PASSES_TD

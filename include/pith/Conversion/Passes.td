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
    "mlir::func::FuncDialect"
  ];
}

#endif // PITH_CONVERSION_PASSES_TD

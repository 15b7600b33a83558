// A model that is already fp16, and one with no float weights, pass through
// pith-mixed-precision unchanged, with a note in the report.
// RUN: pith-opt %s --split-input-file --pith-mixed-precision="precision=fp16" | FileCheck %s
// CHECK: "the model has no float32 weights (its 1 float weights are already 16-bit or wider): left unchanged"
// CHECK: func.func @already_fp16(%arg0: tensor<2x4xf16> {onnx.name = "x"}) -> (tensor<2x4xf16> {onnx.name = "y"})
// CHECK-NEXT: pith.use @w : tensor<4x4xf16>
// CHECK-NEXT: onnx.MatMul(%arg0, %{{.*}}) {onnx.names = ["y"]} : (tensor<2x4xf16>, tensor<4x4xf16>) -> tensor<2x4xf16>
// CHECK: "the model has no float weights: left unchanged"
// CHECK: func.func @no_weights(%arg0: tensor<2x4xf32> {onnx.name = "x"}) -> (tensor<2x4xf32> {onnx.name = "y"})
// CHECK-NEXT: onnx.Relu(%arg0) {onnx.names = ["y"]} : (tensor<2x4xf32>) -> tensor<2x4xf32>

module attributes {onnx.ir_version = 8 : i64, onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @already_fp16(%x: tensor<2x4xf16> {onnx.name = "x"}) -> (tensor<2x4xf16> {onnx.name = "y"}) {
    %w = onnx.Initializer "w" dense<0.5> : tensor<4x4xf16>
    %y = onnx.MatMul(%x, %w) {onnx.names = ["y"]} : (tensor<2x4xf16>, tensor<4x4xf16>) -> tensor<2x4xf16>
    return %y : tensor<2x4xf16>
  }
}

// -----

module attributes {onnx.ir_version = 8 : i64, onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @no_weights(%x: tensor<2x4xf32> {onnx.name = "x"}) -> (tensor<2x4xf32> {onnx.name = "y"}) {
    %y = onnx.Relu(%x) {onnx.names = ["y"]} : (tensor<2x4xf32>) -> tensor<2x4xf32>
    return %y : tensor<2x4xf32>
  }
}

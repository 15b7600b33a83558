// RUN: pith-translate --export-onnx %s --onnx-text | FileCheck %s

// A value returned under a name it cannot take (a graph input, or a value
// already named by an earlier output) reaches its output through an Identity
// node; a value returned once takes the output's name itself.

// CHECK-LABEL: outputs (float[2] x) => (float[2] first, float[2] second, float[2] passthrough, float[2] weights)
// CHECK: <float[2] weights = {1.0, 2.0}>
// CHECK: first = Relu (x)
// CHECK-NEXT: second = Identity (first)
// CHECK-NEXT: passthrough = Identity (x)
// CHECK-NEXT: }
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @outputs(%x: tensor<2xf32> {onnx.name = "x"})
      -> (tensor<2xf32> {onnx.name = "first"}, tensor<2xf32> {onnx.name = "second"}, tensor<2xf32> {onnx.name = "passthrough"}, tensor<2xf32> {onnx.name = "weights"}) {
    %w = onnx.Initializer "weights" dense<[1.0, 2.0]> : tensor<2xf32>
    %0 = onnx.Relu(%x) {onnx.names = ["r"]} : (tensor<2xf32>) -> tensor<2xf32>
    return %0, %0, %x, %w : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
  }
}

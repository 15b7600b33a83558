// RUN: pith-opt %s --pith-lift-parameters | FileCheck %s
// RUN: pith-opt %s --pith-lift-parameters --pith-expand-to-onnx | FileCheck %s --check-prefix=BACK

// Float initializers become parameters read through pith.use; integer ones
// (shapes) stay. Expanding gives the initializers back.
module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK:       pith.parameter @fc.weight : tensor<4x2xf32> = dense<5.000000e-01> : tensor<4x2xf32> sources ["fc.weight"]
  // CHECK-LABEL: func @graph
  // CHECK:         %[[W:.*]] = pith.use @fc.weight : tensor<4x2xf32>
  // CHECK:         onnx.Initializer "shape"
  // CHECK:         onnx.MatMul(%arg0, %[[W]])
  // BACK:          %[[W:.*]] = onnx.Initializer "fc.weight" dense<5.000000e-01> : tensor<4x2xf32>
  // BACK:          onnx.MatMul(%arg0, %[[W]])
  // BACK-NOT:    pith.
  func.func @graph(%x: tensor<3x4xf32>) -> tensor<6xf32> {
    %w = onnx.Initializer "fc.weight" dense<0.5> : tensor<4x2xf32>
    %s = onnx.Initializer "shape" dense<[6]> : tensor<1xi64>
    %y = onnx.MatMul(%x, %w) : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
    %r = onnx.Reshape(%y, %s) : (tensor<3x2xf32>, tensor<1xi64>) -> tensor<6xf32>
    return %r : tensor<6xf32>
  }
}

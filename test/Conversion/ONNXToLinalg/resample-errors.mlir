// RUN: pith-opt %s -split-input-file -verify-diagnostics --pith-convert-onnx-to-linalg

module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {
  func.func @resize_antialias(%x: tensor<1x1x4x4xf32>, %scales: tensor<4xf32>) -> tensor<1x1x2x2xf32> {
    %none = onnx.None
    // expected-error @+2 {{Resize with antialias is not supported}}
    // expected-error @+1 {{failed to legalize operation 'onnx.Resize'}}
    %y = onnx.Resize(%x, %none, %scales, %none) {antialias = 1 : i64, mode = "linear"} : (tensor<1x1x4x4xf32>, none, tensor<4xf32>, none) -> tensor<1x1x2x2xf32>
    return %y : tensor<1x1x2x2xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 16 : i64}} {
  func.func @grid_sample_bad_mode(%x: tensor<1x1x3x3xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
    // expected-error @+2 {{GridSample mode 'area' is not supported}}
    // expected-error @+1 {{failed to legalize operation 'onnx.GridSample'}}
    %y = onnx.GridSample(%x, %g) {mode = "area"} : (tensor<1x1x3x3xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
    return %y : tensor<1x1x2x2xf32>
  }
}

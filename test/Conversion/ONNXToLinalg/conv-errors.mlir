// RUN: pith-opt %s -split-input-file -verify-diagnostics --pith-convert-onnx-to-linalg

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @conv_dynamic_spatial(%x: tensor<1x3x?x?xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x?x?xf32> {
    %none = onnx.None
    // expected-error @+2 {{the input needs static dimensions after the batch dimension}}
    // expected-error @+1 {{failed to legalize operation 'onnx.Conv'}}
    %0 = onnx.Conv(%x, %w, %none) : (tensor<1x3x?x?xf32>, tensor<4x3x3x3xf32>, none) -> tensor<1x4x?x?xf32>
    return %0 : tensor<1x4x?x?xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @conv_bad_group(%x: tensor<1x3x5x5xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<1x4x3x3xf32> {
    %none = onnx.None
    // expected-error @+2 {{group does not divide the channels}}
    // expected-error @+1 {{failed to legalize operation 'onnx.Conv'}}
    %0 = onnx.Conv(%x, %w, %none) {group = 2 : i64} : (tensor<1x3x5x5xf32>, tensor<4x1x3x3xf32>, none) -> tensor<1x4x3x3xf32>
    return %0 : tensor<1x4x3x3xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @max_pool_result_mismatch(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32> {
    // expected-error @+2 {{computed output size 2 of spatial dimension 0 differs from the result type's 3}}
    // expected-error @+1 {{failed to legalize operation 'onnx.MaxPool'}}
    %y, %i = onnx.MaxPool(%x) {kernel_shape = array<i64: 3, 3>} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x3x3xf32>, none)
    return %y : tensor<1x1x3x3xf32>
  }
}

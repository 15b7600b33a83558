// RUN: pith-opt %s -split-input-file -verify-diagnostics --pith-convert-onnx-to-linalg

module attributes {onnx.opset_import = {ai.onnx = 21 : i64}} {
  func.func @quantize_to_float8(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<f8E4M3FN>) -> tensor<4xf8E4M3FN> {
    // expected-error @+2 {{only quantization to 8- and 16-bit integers is supported}}
    // expected-error @+1 {{failed to legalize operation 'onnx.QuantizeLinear'}}
    %0 = onnx.QuantizeLinear(%x, %s, %z) : (tensor<4xf32>, tensor<f32>, tensor<f8E4M3FN>) -> tensor<4xf8E4M3FN>
    return %0 : tensor<4xf8E4M3FN>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 21 : i64}} {
  func.func @quantize_scale_not_along_axis(%x: tensor<2x3xf32>, %s: tensor<2x3xf32>, %z: tensor<2x3xi8>) -> tensor<2x3xi8> {
    // expected-error @+2 {{scales and zero points must be scalars or 1-D tensors along the axis}}
    // expected-error @+1 {{failed to legalize operation 'onnx.QuantizeLinear'}}
    %0 = onnx.QuantizeLinear(%x, %s, %z) : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi8>) -> tensor<2x3xi8>
    return %0 : tensor<2x3xi8>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 21 : i64}} {
  func.func @dequantize_axis_length_mismatch(%x: tensor<2x3xi8>, %s: tensor<2xf32>, %z: tensor<2xi8>) -> tensor<2x3xf32> {
    // expected-error @+2 {{the length of the scales differs from the size of the axis}}
    // expected-error @+1 {{failed to legalize operation 'onnx.DequantizeLinear'}}
    %0 = onnx.DequantizeLinear(%x, %s, %z) : (tensor<2x3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 10 : i64}} {
  func.func @matmul_integer_zero_point_2d(%a: tensor<4x3xui8>, %b: tensor<3x2xui8>, %az: tensor<4x3xui8>) -> tensor<4x2xi32> {
    %none = onnx.None
    // expected-error @+2 {{a's zero point must be a scalar or a 1-D tensor along its matrix dimension}}
    // expected-error @+1 {{failed to legalize operation 'onnx.MatMulInteger'}}
    %0 = onnx.MatMulInteger(%a, %b, %az, %none) : (tensor<4x3xui8>, tensor<3x2xui8>, tensor<4x3xui8>, none) -> tensor<4x2xi32>
    return %0 : tensor<4x2xi32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 10 : i64}} {
  func.func @qlinear_conv_groups(%x: tensor<1x2x5x5xui8>, %s: tensor<f32>, %z: tensor<ui8>, %w: tensor<2x1x3x3xui8>) -> tensor<1x2x3x3xui8> {
    %none = onnx.None
    // expected-error @+2 {{QLinearConv supports one group only}}
    // expected-error @+1 {{failed to legalize operation 'onnx.QLinearConv'}}
    %0 = onnx.QLinearConv(%x, %s, %z, %w, %s, %z, %s, %z, %none) {group = 2 : i64} : (tensor<1x2x5x5xui8>, tensor<f32>, tensor<ui8>, tensor<2x1x3x3xui8>, tensor<f32>, tensor<ui8>, tensor<f32>, tensor<ui8>, none) -> tensor<1x2x3x3xui8>
    return %0 : tensor<1x2x3x3xui8>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {
  func.func @scatter_nd_dynamic_index_depth(%data: tensor<4x4xf32>, %ind: tensor<2x?xi64>, %upd: tensor<2xf32>) -> tensor<4x4xf32> {
    // expected-error @+2 {{the last dimension of the indices must be static}}
    // expected-error @+1 {{failed to legalize operation 'onnx.ScatterND'}}
    %0 = onnx.ScatterND(%data, %ind, %upd) : (tensor<4x4xf32>, tensor<2x?xi64>, tensor<2xf32>) -> tensor<4x4xf32>
    return %0 : tensor<4x4xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 13 : i64}} {
  func.func @lrn_dynamic_channels(%x: tensor<1x?x4x4xf32>) -> tensor<1x?x4x4xf32> {
    // expected-error @+2 {{LRN needs a static channel dimension}}
    // expected-error @+1 {{failed to legalize operation 'onnx.LRN'}}
    %0 = onnx.LRN(%x) {size = 3 : i64} : (tensor<1x?x4x4xf32>) -> tensor<1x?x4x4xf32>
    return %0 : tensor<1x?x4x4xf32>
  }
}

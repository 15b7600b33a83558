// RUN: pith-opt %s -split-input-file -verify-diagnostics --pith-convert-onnx-to-linalg

module attributes {onnx.opset_import = {ai.onnx = 14 : i64}} {
  func.func @rnn_dynamic_sequence(%x: tensor<?x3x4xf32>, %w: tensor<1x5x4xf32>, %r: tensor<1x5x5xf32>) -> tensor<1x3x5xf32> {
    %none = onnx.None
    // expected-error @+2 {{X, W and R must have static 3-D shapes}}
    // expected-error @+1 {{failed to legalize operation 'onnx.RNN'}}
    %Y, %Y_h = onnx.RNN(%x, %w, %r, %none, %none, %none) {hidden_size = 5 : i64} : (tensor<?x3x4xf32>, tensor<1x5x4xf32>, tensor<1x5x5xf32>, none, none, none) -> (none, tensor<1x3x5xf32>)
    return %Y_h : tensor<1x3x5xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 14 : i64}} {
  func.func @rnn_unknown_activation(%x: tensor<2x3x4xf32>, %w: tensor<1x5x4xf32>, %r: tensor<1x5x5xf32>) -> tensor<1x3x5xf32> {
    %none = onnx.None
    // expected-error @+2 {{unsupported activation 'gelu'}}
    // expected-error @+1 {{failed to legalize operation 'onnx.RNN'}}
    %Y, %Y_h = onnx.RNN(%x, %w, %r, %none, %none, %none) {hidden_size = 5 : i64, activations = ["Gelu"]} : (tensor<2x3x4xf32>, tensor<1x5x4xf32>, tensor<1x5x5xf32>, none, none, none) -> (none, tensor<1x3x5xf32>)
    return %Y_h : tensor<1x3x5xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 14 : i64}} {
  func.func @lstm_wrong_gate_count(%x: tensor<2x3x4xf32>, %w: tensor<1x15x4xf32>, %r: tensor<1x15x5xf32>) -> tensor<1x3x5xf32> {
    %none = onnx.None
    // expected-error @+2 {{W must have static shape 1x20x4}}
    // expected-error @+1 {{failed to legalize operation 'onnx.LSTM'}}
    %Y, %Y_h, %Y_c = onnx.LSTM(%x, %w, %r, %none, %none, %none, %none, %none) {hidden_size = 5 : i64} : (tensor<2x3x4xf32>, tensor<1x15x4xf32>, tensor<1x15x5xf32>, none, none, none, none, none) -> (none, tensor<1x3x5xf32>, none)
    return %Y_h : tensor<1x3x5xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 12 : i64}} {
  func.func @einsum_unknown_output_label(%x: tensor<3x4xf32>) -> tensor<3xf32> {
    // expected-error @+2 {{einsum output label 'k' does not appear in the inputs}}
    // expected-error @+1 {{failed to legalize operation 'onnx.Einsum'}}
    %0 = onnx.Einsum(%x) {equation = "ij->k"} : (tensor<3x4xf32>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 12 : i64}} {
  func.func @einsum_size_mismatch(%x: tensor<3x4xf32>, %y: tensor<5x2xf32>) -> tensor<3x2xf32> {
    // expected-error @+2 {{einsum operands disagree on a dimension size}}
    // expected-error @+1 {{failed to legalize operation 'onnx.Einsum'}}
    %0 = onnx.Einsum(%x, %y) {equation = "ij,jk->ik"} : (tensor<3x4xf32>, tensor<5x2xf32>) -> tensor<3x2xf32>
    return %0 : tensor<3x2xf32>
  }
}

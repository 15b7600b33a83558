// RUN: pith-opt %s -split-input-file -verify-diagnostics --pith-convert-onnx-to-linalg

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @dft_bad_last_dimension(%x: tensor<1x4x3xf32>) -> tensor<1x4x2xf32> {
    %none = onnx.None
    // expected-error @+2 {{DFT input's last dimension must be 1 (real) or 2 (complex)}}
    // expected-error @+1 {{failed to legalize operation 'onnx.DFTV17'}}
    %0 = onnx.DFTV17(%x, %none) : (tensor<1x4x3xf32>, none) -> tensor<1x4x2xf32>
    return %0 : tensor<1x4x2xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @dft_result_length_mismatch(%x: tensor<1x4x1xf32>) -> tensor<1x4x2xf32> {
    %none = onnx.None
    // expected-error @+2 {{DFT result has 4 elements along the axis; the length 4 gives 3}}
    // expected-error @+1 {{failed to legalize operation 'onnx.DFTV17'}}
    %0 = onnx.DFTV17(%x, %none) {onesided = 1 : i64} : (tensor<1x4x1xf32>, none) -> tensor<1x4x2xf32>
    return %0 : tensor<1x4x2xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @stft_bins_mismatch(%s: tensor<1x32x1xf32>, %step: tensor<i64>, %w: tensor<8xf32>) -> tensor<1x7x8x2xf32> {
    %none = onnx.None
    // expected-error @+2 {{STFT result has 8 bins; the frame length 8 gives 5}}
    // expected-error @+1 {{failed to legalize operation 'onnx.STFT'}}
    %0 = onnx.STFT(%s, %step, %w, %none) : (tensor<1x32x1xf32>, tensor<i64>, tensor<8xf32>, none) -> tensor<1x7x8x2xf32>
    return %0 : tensor<1x7x8x2xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  func.func @window_size_not_scalar(%n: tensor<2xi64>) -> tensor<8xf32> {
    // expected-error @+2 {{size must be a scalar}}
    // expected-error @+1 {{failed to legalize operation 'onnx.HannWindow'}}
    %0 = onnx.HannWindow(%n) : (tensor<2xi64>) -> tensor<8xf32>
    return %0 : tensor<8xf32>
  }
}

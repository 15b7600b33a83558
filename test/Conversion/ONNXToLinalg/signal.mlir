// RUN: pith-opt %s -split-input-file --pith-convert-onnx-to-linalg -mlir-print-local-scope | FileCheck %s

// DFT of a real signal along axis 1: one generic whose extra loop (d4)
// reduces over the input samples in f64 (the real part read with the
// constant index 0 of the last dimension), then a generic rounding to f32.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @dft_real_axis1
  // CHECK-SAME: (%[[X:.*]]: tensor<1x4x3x1xf32>)
  // CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f64) outs(%{{.*}} : tensor<1x4x3x2xf64>)
  // CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, 0)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<1x4x3x1xf32>) outs(%[[ZERO]] : tensor<1x4x3x2xf64>)
  // CHECK: arith.remui
  // CHECK: math.cos
  // CHECK: math.sin
  // CHECK: %[[OUT:.*]] = linalg.generic
  // CHECK-SAME: ins(%[[SUM]] : tensor<1x4x3x2xf64>) outs(%{{.*}} : tensor<1x4x3x2xf32>)
  // CHECK: arith.truncf
  // CHECK: return %[[OUT]]
  func.func @dft_real_axis1(%x: tensor<1x4x3x1xf32>) -> tensor<1x4x3x2xf32> {
    %none = onnx.None
    %0 = onnx.DFTV17(%x, %none) {axis = 1 : i64} : (tensor<1x4x3x1xf32>, none) -> tensor<1x4x3x2xf32>
    return %0 : tensor<1x4x3x2xf32>
  }

  // A complex inverse DFT reads both parts and scales the sums by 1/L.
  // CHECK-LABEL: func.func @dft_complex_inverse
  // CHECK-SAME: (%[[X:.*]]: tensor<2x6x2xf32>)
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, 1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]
  // CHECK-SAME: ins(%[[X]], %[[X]] : tensor<2x6x2xf32>, tensor<2x6x2xf32>)
  // CHECK: linalg.generic
  // CHECK: arith.mulf
  // CHECK: arith.truncf
  func.func @dft_complex_inverse(%x: tensor<2x6x2xf32>) -> tensor<2x6x2xf32> {
    %none = onnx.None
    %0 = onnx.DFTV17(%x, %none) {axis = 1 : i64, inverse = 1 : i64} : (tensor<2x6x2xf32>, none) -> tensor<2x6x2xf32>
    return %0 : tensor<2x6x2xf32>
  }

  // onesided keeps bins 0..L/2; a run-time dft_length masks the samples.
  // CHECK-LABEL: func.func @dft_onesided_runtime_length
  // CHECK-SAME: (%[[X:.*]]: tensor<8x1xf32>, %[[L:.*]]: tensor<i64>)
  // CHECK: %[[LEN:.*]] = tensor.extract %[[L]][] : tensor<i64>
  // CHECK: %[[IDX:.*]] = arith.index_cast %[[LEN]] : i64 to index
  // CHECK: linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<4x2xf64>)
  // CHECK: arith.cmpi ult, %{{.*}}, %[[IDX]] : index
  func.func @dft_onesided_runtime_length(%x: tensor<8x1xf32>, %l: tensor<i64>) -> tensor<4x2xf32> {
    %0 = onnx.DFTV17(%x, %l) {axis = 0 : i64, onesided = 1 : i64} : (tensor<8x1xf32>, tensor<i64>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// Opset 20 takes the axis as a (constant) input, -2 by default.

module attributes {onnx.opset_import = {ai.onnx = 20 : i64}} {
  // CHECK-LABEL: func.func @dft_opset20_axis_input
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d3, d1, 0)>
  func.func @dft_opset20_axis_input(%x: tensor<5x3x1xf32>) -> tensor<5x3x2xf32> {
    %none = onnx.None
    %axis = onnx.Constant() {value = dense<0> : tensor<i64>} : () -> tensor<i64>
    %0 = onnx.DFT(%x, %none, %axis) : (tensor<5x3x1xf32>, none, tensor<i64>) -> tensor<5x3x2xf32>
    return %0 : tensor<5x3x2xf32>
  }
}

// -----

// STFT: the reduction loop runs over the window (here a filled window of
// ones of the frame length); the frame's samples are gathered at
// frame * step + n.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @stft_no_window
  // CHECK-SAME: (%[[S:.*]]: tensor<1x32x1xf32>, %[[STEP:.*]]: tensor<i64>)
  // CHECK: tensor.extract %[[STEP]][] : tensor<i64>
  // CHECK: %[[ONES:.*]] = linalg.fill ins(%{{.*}} : f64) outs(%{{.*}} : tensor<8xf64>)
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[ONES]] : tensor<8xf64>)
  // CHECK: tensor.extract %[[S]]
  // CHECK: math.cos
  func.func @stft_no_window(%s: tensor<1x32x1xf32>, %step: tensor<i64>) -> tensor<1x7x5x2xf32> {
    %none = onnx.None
    %len = onnx.Constant() {value = dense<8> : tensor<i64>} : () -> tensor<i64>
    %0 = onnx.STFT(%s, %step, %none, %len) : (tensor<1x32x1xf32>, tensor<i64>, none, tensor<i64>) -> tensor<1x7x5x2xf32>
    return %0 : tensor<1x7x5x2xf32>
  }

  // A window is the reduction loop's operand.
  // CHECK-LABEL: func.func @stft_window
  // CHECK-SAME: (%[[S:.*]]: tensor<1x32x2xf32>, %[[STEP:.*]]: tensor<i64>, %[[W:.*]]: tensor<8xf32>)
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%[[W]] : tensor<8xf32>)
  func.func @stft_window(%s: tensor<1x32x2xf32>, %step: tensor<i64>, %w: tensor<8xf32>) -> tensor<1x7x5x2xf32> {
    %none = onnx.None
    %0 = onnx.STFT(%s, %step, %w, %none) : (tensor<1x32x2xf32>, tensor<i64>, tensor<8xf32>, none) -> tensor<1x7x5x2xf32>
    return %0 : tensor<1x7x5x2xf32>
  }
}

// -----

// The windows are elementwise over the result, with N = size (periodic) or
// size - 1 read at run time.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @hann_window
  // CHECK-SAME: (%[[N:.*]]: tensor<i32>)
  // CHECK: %[[SIZE:.*]] = tensor.extract %[[N]][] : tensor<i32>
  // CHECK: %[[DEN:.*]] = arith.sitofp %[[SIZE]] : i32 to f64
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} outs(%{{.*}} : tensor<8xf32>)
  // CHECK: arith.divf %{{.*}}, %[[DEN]] : f64
  // CHECK: math.sin
  // CHECK-NOT: math.cos
  // CHECK: arith.truncf
  func.func @hann_window(%n: tensor<i32>) -> tensor<8xf32> {
    %0 = onnx.HannWindow(%n) : (tensor<i32>) -> tensor<8xf32>
    return %0 : tensor<8xf32>
  }

  // Symmetric (periodic = 0): N = size - 1.
  // CHECK-LABEL: func.func @hamming_window_symmetric
  // CHECK: %[[SIZE:.*]] = arith.sitofp %{{.*}} : i64 to f64
  // CHECK: %[[DEN:.*]] = arith.subf %[[SIZE]], %{{.*}} : f64
  // CHECK: linalg.generic
  // CHECK: arith.divf %{{.*}}, %[[DEN]] : f64
  // CHECK: math.cos
  func.func @hamming_window_symmetric(%n: tensor<i64>) -> tensor<5xf32> {
    %0 = onnx.HammingWindow(%n) {periodic = 0 : i64} : (tensor<i64>) -> tensor<5xf32>
    return %0 : tensor<5xf32>
  }

  // Blackman has two cosines; output_datatype = double needs no rounding.
  // CHECK-LABEL: func.func @blackman_window_f64
  // CHECK: linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<6xf64>)
  // CHECK: math.cos
  // CHECK: math.cos
  // CHECK-NOT: arith.truncf
  // CHECK: linalg.yield
  func.func @blackman_window_f64(%n: tensor<i64>) -> tensor<6xf64> {
    %0 = onnx.BlackmanWindow(%n) {output_datatype = 11 : i64} : (tensor<i64>) -> tensor<6xf64>
    return %0 : tensor<6xf64>
  }
}

// -----

// MelWeightMatrix: the mel scale of the edges outside the generic, each
// element's three edge bins (expm1, floor) inside it.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @mel_weight_matrix
  // CHECK: math.log1p
  // CHECK: math.log1p
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<9x8xf32>)
  // CHECK-COUNT-3: math.expm1
  // CHECK: arith.select
  func.func @mel_weight_matrix(%mels: tensor<i32>, %len: tensor<i32>, %rate: tensor<i32>, %lo: tensor<f32>, %hi: tensor<f32>) -> tensor<9x8xf32> {
    %0 = onnx.MelWeightMatrix(%mels, %len, %rate, %lo, %hi) : (tensor<i32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>) -> tensor<9x8xf32>
    return %0 : tensor<9x8xf32>
  }
}

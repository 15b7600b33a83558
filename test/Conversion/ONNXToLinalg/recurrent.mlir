// RUN: pith-opt %s -split-input-file --pith-convert-onnx-to-linalg -mlir-print-local-scope | FileCheck %s

// RNN: X·W^T of every step is one matmul before the loop (biases added to
// it); the loop carries the state in a [2, 1, B, H] double buffer, the step's
// H·R^T accumulates into that step's slice of the projection, tanh in one
// generic written into the other slot.

module attributes {onnx.opset_import = {ai.onnx = 14 : i64}} {
  // CHECK-LABEL: func.func @rnn_forward_bias
  // CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[W:.*]]: tensor<1x5x4xf32>, %[[R:.*]]: tensor<1x5x5xf32>, %[[B:.*]]: tensor<1x10xf32>)
  // CHECK: %[[XF:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  // CHECK: %[[W0:.*]] = tensor.extract_slice %[[W]][0, 0, 0] [1, 5, 4] [1, 1, 1] : tensor<1x5x4xf32> to tensor<5x4xf32>
  // CHECK: %[[WT:.*]] = linalg.transpose ins(%[[W0]] : tensor<5x4xf32>) outs(%{{.*}} : tensor<4x5xf32>) permutation = [1, 0]
  // CHECK: %[[XW:.*]] = linalg.matmul ins(%[[XF]], %[[WT]] : tensor<6x4xf32>, tensor<4x5xf32>)
  // CHECK: %[[XWB:.*]] = linalg.generic {{.*}} ins(%[[XW]], %{{.*}} : tensor<6x5xf32>, tensor<5xf32>)
  // CHECK: %[[STEPS:.*]] = tensor.expand_shape %[[XWB]] {{\[}}[0, 1], [2]] output_shape [2, 3, 5]
  // CHECK: %[[RT:.*]] = linalg.transpose ins(%{{.*}} : tensor<5x5xf32>) outs(%{{.*}} : tensor<5x5xf32>) permutation = [1, 0]
  // CHECK: %[[LOOP:.*]] = scf.for %[[T:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[S:[^ ]*]] = %{{.*}}) -> (tensor<2x1x3x5xf32>)
  // CHECK:   %[[H:.*]] = tensor.extract_slice %[[S]][%[[CUR:[^,]*]], 0, 0, 0] [1, 1, 3, 5] [1, 1, 1, 1] : tensor<2x1x3x5xf32> to tensor<3x5xf32>
  // CHECK:   %[[XT:.*]] = tensor.extract_slice %[[STEPS]][%[[T]], 0, 0] [1, 3, 5] [1, 1, 1] : tensor<2x3x5xf32> to tensor<3x5xf32>
  // CHECK:   %[[PRE:.*]] = linalg.matmul ins(%[[H]], %[[RT]] : tensor<3x5xf32>, tensor<5x5xf32>) outs(%[[XT]] : tensor<3x5xf32>)
  // CHECK:   %[[NEW:.*]] = linalg.generic
  // CHECK:     math.tanh
  // CHECK:   %[[NEXT:.*]] = tensor.insert_slice %[[NEW]] into %[[S]][%{{.*}}, 0, 0, 0] [1, 1, 3, 5]
  // CHECK:   scf.yield %[[NEXT]]
  // CHECK: %[[LAST:.*]] = tensor.extract_slice %[[LOOP]][0, 0, 0, 0] [1, 1, 3, 5]
  // CHECK: %[[YH:.*]] = tensor.insert_slice %[[LAST]] into %{{.*}}[0, 0, 0] [1, 3, 5] [1, 1, 1] : tensor<3x5xf32> into tensor<1x3x5xf32>
  // CHECK: return %[[YH]]
  func.func @rnn_forward_bias(%x: tensor<2x3x4xf32>, %w: tensor<1x5x4xf32>, %r: tensor<1x5x5xf32>, %b: tensor<1x10xf32>) -> tensor<1x3x5xf32> {
    %none = onnx.None
    %Y, %Y_h = onnx.RNN(%x, %w, %r, %b, %none, %none) {hidden_size = 5 : i64} : (tensor<2x3x4xf32>, tensor<1x5x4xf32>, tensor<1x5x5xf32>, tensor<1x10xf32>, none, none) -> (none, tensor<1x3x5xf32>)
    return %Y_h : tensor<1x3x5xf32>
  }
}

// -----

// Reverse direction, batch-major layout: X is transposed to time-major
// first, the loop walks steps T-1..0, and Y [T, B, H] is transposed back into
// Y [B, T, 1, H].

module attributes {onnx.opset_import = {ai.onnx = 14 : i64}} {
  // CHECK-LABEL: func.func @rnn_reverse_layout1
  // CHECK-SAME: (%[[X:.*]]: tensor<3x2x4xf32>
  // CHECK: linalg.transpose ins(%[[X]] : tensor<3x2x4xf32>) outs(%{{.*}} : tensor<2x3x4xf32>) permutation = [1, 0, 2]
  // CHECK: %[[LOOP:.*]]:2 = scf.for %[[T:[^ ]*]] = {{.*}} -> (tensor<2x1x3x5xf32>, tensor<2x3x5xf32>)
  // CHECK:   %[[STEP:.*]] = arith.subi %{{.*}}, %[[T]] : index
  // CHECK:   tensor.extract_slice %{{.*}}[%[[STEP]], 0, 0] [1, 3, 5]
  // CHECK:   tensor.insert_slice %{{.*}} into %{{.*}}[%[[STEP]], 0, 0] [1, 3, 5] [1, 1, 1] : tensor<3x5xf32> into tensor<2x3x5xf32>
  // CHECK: %[[YB:.*]] = linalg.transpose ins(%[[LOOP]]#1 : tensor<2x3x5xf32>) outs(%{{.*}} : tensor<3x2x5xf32>) permutation = [1, 0, 2]
  // CHECK: tensor.insert_slice %[[YB]] into %{{.*}}[0, 0, 0, 0] [3, 2, 1, 5] [1, 1, 1, 1] : tensor<3x2x5xf32> into tensor<3x2x1x5xf32>
  func.func @rnn_reverse_layout1(%x: tensor<3x2x4xf32>, %w: tensor<1x5x4xf32>, %r: tensor<1x5x5xf32>) -> tensor<3x2x1x5xf32> {
    %none = onnx.None
    %Y, %Y_h = onnx.RNN(%x, %w, %r, %none, %none, %none) {hidden_size = 5 : i64, direction = "reverse", layout = 1 : i64} : (tensor<3x2x4xf32>, tensor<1x5x4xf32>, tensor<1x5x5xf32>, none, none, none) -> (tensor<3x2x1x5xf32>, none)
    return %Y : tensor<3x2x1x5xf32>
  }
}

// -----

// Bidirectional LSTM with sequence lengths: one loop per direction; the
// state (h and c) and Y's slice of the step are written by one generic that
// keeps the old state and gives Y zeros past each sequence's end.

module attributes {onnx.opset_import = {ai.onnx = 14 : i64}} {
  // CHECK-LABEL: func.func @lstm_bidirectional_sequence_lens
  // CHECK-SAME: %[[LENS:[^:]*]]: tensor<2xi32>)
  // CHECK: scf.for {{.*}} -> (tensor<2x2x2x3xf32>, tensor<3x2x3xf32>)
  // CHECK:   %[[PRE:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x12xf32>) outs(%{{.*}} : tensor<2x12xf32>)
  // CHECK:   %[[I:.*]] = tensor.extract_slice %[[PRE]][0, 0] [2, 3]
  // CHECK:   %[[O:.*]] = tensor.extract_slice %[[PRE]][0, 3] [2, 3]
  // CHECK:   %[[F:.*]] = tensor.extract_slice %[[PRE]][0, 6] [2, 3]
  // CHECK:   %[[C:.*]] = tensor.extract_slice %[[PRE]][0, 9] [2, 3]
  // CHECK:   linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[I]], %[[O]], %[[F]], %[[C]], %[[LENS]] : {{.*}}, tensor<2xi32>)
  // CHECK:     arith.cmpi slt
  // CHECK:     arith.select
  // CHECK:     arith.select
  // CHECK:     arith.select
  // CHECK:     linalg.yield {{.*}} : f32, f32, f32
  // CHECK: scf.for {{.*}} -> (tensor<2x2x2x3xf32>, tensor<3x2x3xf32>)
  // CHECK:   arith.subi
  // CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [3, 1, 2, 3] [1, 1, 1, 1] : tensor<3x2x3xf32> into tensor<3x2x2x3xf32>
  // CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 1, 0, 0] [3, 1, 2, 3] [1, 1, 1, 1] : tensor<3x2x3xf32> into tensor<3x2x2x3xf32>
  func.func @lstm_bidirectional_sequence_lens(%x: tensor<3x2x4xf32>, %w: tensor<2x12x4xf32>, %r: tensor<2x12x3xf32>, %s: tensor<2xi32>) -> (tensor<3x2x2x3xf32>, tensor<2x2x3xf32>) {
    %none = onnx.None
    %Y, %Y_h, %Y_c = onnx.LSTM(%x, %w, %r, %none, %s, %none, %none, %none) {hidden_size = 3 : i64, direction = "bidirectional"} : (tensor<3x2x4xf32>, tensor<2x12x4xf32>, tensor<2x12x3xf32>, none, tensor<2xi32>, none, none, none) -> (tensor<3x2x2x3xf32>, none, tensor<2x2x3xf32>)
    return %Y, %Y_c : tensor<3x2x2x3xf32>, tensor<2x2x3xf32>
  }
}

// -----

// GRU: z and r come from one matmul; the reset gate multiplies H before the
// h gate's matmul.

module attributes {onnx.opset_import = {ai.onnx = 14 : i64}} {
  // CHECK-LABEL: func.func @gru_reset_before_linear
  // CHECK: scf.for
  // CHECK:   %[[ZR:.*]] = linalg.matmul ins(%[[H:.*]], %{{.*}} : tensor<2x5xf32>, tensor<5x10xf32>) outs(%{{.*}} : tensor<2x10xf32>)
  // CHECK:   %[[R:.*]] = tensor.extract_slice %[[ZR]][0, 5] [2, 5]
  // CHECK:   %[[RH:.*]] = linalg.generic {{.*}} ins(%[[H]], %[[R]] :
  // CHECK:   linalg.matmul ins(%[[RH]], %{{.*}} : tensor<2x5xf32>, tensor<5x5xf32>) outs(%{{.*}} : tensor<2x5xf32>)
  func.func @gru_reset_before_linear(%x: tensor<3x2x4xf32>, %w: tensor<1x15x4xf32>, %r: tensor<1x15x5xf32>) -> tensor<1x2x5xf32> {
    %none = onnx.None
    %Y, %Y_h = onnx.GRU(%x, %w, %r, %none, %none, %none) {hidden_size = 5 : i64} : (tensor<3x2x4xf32>, tensor<1x15x4xf32>, tensor<1x15x5xf32>, none, none, none) -> (none, tensor<1x2x5xf32>)
    return %Y_h : tensor<1x2x5xf32>
  }

  // linear_before_reset: H·Rh^T is its own matmul from zero, and Rb_h is
  // added inside the gate generic, not to the input projection.
  // CHECK-LABEL: func.func @gru_linear_before_reset
  // CHECK-SAME: %[[B:[^:]*]]: tensor<1x30xf32>)
  // CHECK: %[[RBH:.*]] = tensor.extract_slice %[[B]][0, 25] [1, 5] [1, 1] : tensor<1x30xf32> to tensor<5xf32>
  // CHECK: scf.for
  // CHECK:   %[[ZERO:.*]] = linalg.fill
  // CHECK:   %[[HR:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x5xf32>, tensor<5x5xf32>) outs(%[[ZERO]] : tensor<2x5xf32>)
  // CHECK:   linalg.generic {{.*}} ins({{.*}}%[[HR]], %[[RBH]] :
  func.func @gru_linear_before_reset(%x: tensor<3x2x4xf32>, %w: tensor<1x15x4xf32>, %r: tensor<1x15x5xf32>, %b: tensor<1x30xf32>) -> tensor<1x2x5xf32> {
    %none = onnx.None
    %Y, %Y_h = onnx.GRU(%x, %w, %r, %b, %none, %none) {hidden_size = 5 : i64, linear_before_reset = 1 : i64} : (tensor<3x2x4xf32>, tensor<1x15x4xf32>, tensor<1x15x5xf32>, tensor<1x30xf32>, none, none) -> (none, tensor<1x2x5xf32>)
    return %Y_h : tensor<1x2x5xf32>
  }
}

// -----

// Einsum: one generic, output loops first (identity output map), summed
// letters as reduction loops.

module attributes {onnx.opset_import = {ai.onnx = 12 : i64}} {
  // CHECK-LABEL: func.func @einsum_batch_matmul
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
  // CHECK:   arith.mulf
  // CHECK:   arith.addf
  func.func @einsum_batch_matmul(%x: tensor<5x2x3xf32>, %y: tensor<5x3x4xf32>) -> tensor<5x2x4xf32> {
    %0 = onnx.Einsum(%x, %y) {equation = "bij, bjk -> bik"} : (tensor<5x2x3xf32>, tensor<5x3x4xf32>) -> tensor<5x2x4xf32>
    return %0 : tensor<5x2x4xf32>
  }

  // A repeated letter reads the diagonal; no output letters: a scalar.
  // CHECK-LABEL: func.func @einsum_trace
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0) -> (d0, d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
  func.func @einsum_trace(%x: tensor<3x3xf32>) -> tensor<f32> {
    %0 = onnx.Einsum(%x) {equation = "ii"} : (tensor<3x3xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }

  // Implicit output: ellipsis dimensions, then the letters seen once in
  // alphabetical order.
  // CHECK-LABEL: func.func @einsum_implicit_ellipsis
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
  func.func @einsum_implicit_ellipsis(%x: tensor<5x2x3xf32>, %y: tensor<3x4xf32>) -> tensor<5x2x4xf32> {
    %0 = onnx.Einsum(%x, %y) {equation = "...ij,jk"} : (tensor<5x2x3xf32>, tensor<3x4xf32>) -> tensor<5x2x4xf32>
    return %0 : tensor<5x2x4xf32>
  }

  // A size-1 ellipsis dimension broadcasts.
  // CHECK-LABEL: func.func @einsum_ellipsis_broadcast
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]
  func.func @einsum_ellipsis_broadcast(%x: tensor<2x2x3xf32>, %y: tensor<1x3x4xf32>) -> tensor<2x2x4xf32> {
    %0 = onnx.Einsum(%x, %y) {equation = "...ij,...jk->...ik"} : (tensor<2x2x3xf32>, tensor<1x3x4xf32>) -> tensor<2x2x4xf32>
    return %0 : tensor<2x2x4xf32>
  }
}

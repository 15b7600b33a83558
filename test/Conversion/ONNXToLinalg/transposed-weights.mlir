// RUN: pith-opt %s -split-input-file --pith-convert-onnx-to-linalg --canonicalize | FileCheck %s

// Gemm with transB (how linear layers export) reads B in place through
// transposed indexing maps: no transposed copy.
// CHECK-LABEL: func @gemm_trans_b
// CHECK-NOT:     linalg.transpose
// CHECK:         linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%arg0, %arg1 : tensor<2x4xf32>, tensor<3x4xf32>)
func.func @gemm_trans_b(%a: tensor<2x4xf32>, %b: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %none = onnx.None
  %y = onnx.Gemm(%a, %b, %none) {transB = 1 : i64} : (tensor<2x4xf32>, tensor<3x4xf32>, none) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// So does MatMul of a transposed weight, also with a 3-D activation.
// CHECK-LABEL: func @matmul_of_transpose
// CHECK-NOT:     linalg.transpose
// CHECK:         tensor.collapse_shape
// CHECK:         linalg.matmul indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}] ins(%{{.*}}, %arg1 : tensor<10x4xf32>, tensor<3x4xf32>)
func.func @matmul_of_transpose(%x: tensor<2x5x4xf32>, %w: tensor<3x4xf32>) -> tensor<2x5x3xf32> {
  %t = onnx.Transpose(%w) {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %y = onnx.MatMul(%x, %t) : (tensor<2x5x4xf32>, tensor<4x3xf32>) -> tensor<2x5x3xf32>
  return %y : tensor<2x5x3xf32>
}

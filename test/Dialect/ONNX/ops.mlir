// RUN: pith-opt %s | pith-opt | FileCheck %s

// CHECK-LABEL: func.func @gemm
func.func @gemm(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // CHECK: %[[NONE:.*]] = onnx.None
  %none = onnx.None
  // CHECK: onnx.Gemm(%{{.*}}, %{{.*}}, %[[NONE]]) {alpha = 5.000000e-01 : f32, transB = 0 : i64}
  %0 = onnx.Gemm(%a, %b, %none) {alpha = 0.5 : f32, transB = 0 : i64} : (tensor<2x3xf32>, tensor<3x4xf32>, none) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

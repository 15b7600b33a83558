// RUN: pith-opt %s -split-input-file --pith-convert-onnx-to-linalg -mlir-print-local-scope | FileCheck %s

// Resize: one gathering generic per resized axis. Sizes known at compile
// time skip the axes that keep their size; scales read at run time do not.
// GridSample: one generic gathering at the grid's coordinates.

module attributes {onnx.opset_import = {ai.onnx = 13 : i64}} {
  // CHECK-LABEL: func.func @resize_linear_sizes
  // CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x2xf32>)
  // CHECK: %[[OUT:.*]] = linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<1x1x3x2xf32>)
  // CHECK: math.floor
  // CHECK: tensor.extract %[[X]]
  // CHECK: tensor.extract %[[X]]
  // CHECK: arith.truncf
  // CHECK: return %[[OUT]]
  func.func @resize_linear_sizes(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x3x2xf32> {
    %none = onnx.None
    %sizes = onnx.Constant() {value = dense<[1, 1, 3, 2]> : tensor<4xi64>} : () -> tensor<4xi64>
    %y = onnx.ResizeV13(%x, %none, %none, %sizes) {mode = "linear"} : (tensor<1x1x2x2xf32>, none, none, tensor<4xi64>) -> tensor<1x1x3x2xf32>
    return %y : tensor<1x1x3x2xf32>
  }

  // CHECK-LABEL: func.func @resize_nearest_runtime_scales
  // CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x2xf32>, %[[SCALES:.*]]: tensor<4xf32>)
  // CHECK: tensor.extract %[[SCALES]]
  // CHECK: linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<1x1x2x2xf32>)
  // CHECK: linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<1x1x2x2xf32>)
  // CHECK: linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<1x1x4x2xf32>)
  // CHECK: %[[OUT:.*]] = linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<1x1x4x4xf32>)
  // CHECK: return %[[OUT]]
  func.func @resize_nearest_runtime_scales(%x: tensor<1x1x2x2xf32>, %scales: tensor<4xf32>) -> tensor<1x1x4x4xf32> {
    %none = onnx.None
    %y = onnx.ResizeV13(%x, %none, %scales, %none) {mode = "nearest"} : (tensor<1x1x2x2xf32>, none, tensor<4xf32>, none) -> tensor<1x1x4x4xf32>
    return %y : tensor<1x1x4x4xf32>
  }

  // CHECK-LABEL: func.func @grid_sample_nearest
  // CHECK-SAME: (%[[X:.*]]: tensor<1x1x3x3xf32>, %[[G:.*]]: tensor<1x2x2x2xf32>)
  // CHECK: linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<1x1x2x2xf32>)
  // CHECK: tensor.extract %[[G]]
  // CHECK: math.roundeven
  // CHECK: tensor.extract %[[X]]
  func.func @grid_sample_nearest(%x: tensor<1x1x3x3xf32>, %g: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> {
    %y = onnx.GridSample(%x, %g) {mode = "nearest"} : (tensor<1x1x3x3xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32>
    return %y : tensor<1x1x2x2xf32>
  }
}

// RUN: pith-opt %s -split-input-file --pith-convert-onnx-to-linalg -mlir-print-local-scope | FileCheck %s

// RoiAlign: one generic over the output whose body loops (scf.for) over
// each bin's sampling grid, gathering the four bilinear corners of
// X[batch_indices[r], c] with tensor.extract; avg divides by the grid size.

module attributes {onnx.opset_import = {ai.onnx = 16 : i64}} {
  // CHECK-LABEL: func.func @roi_align_avg_half_pixel
  // CHECK-SAME: (%[[X:.*]]: tensor<1x2x6x6xf32>, %[[R:.*]]: tensor<3x4xf32>, %[[B:.*]]: tensor<3xi64>)
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<3x2x2x2xf32>)
  // CHECK: %[[ROI:.*]] = linalg.index 0 : index
  // CHECK: tensor.extract %[[R]][%[[ROI]], %{{.*}}] : tensor<3x4xf32>
  // CHECK: %[[BATCH:.*]] = tensor.extract %[[B]][%[[ROI]]] : tensor<3xi64>
  // CHECK: %[[SUM:.*]] = scf.for
  // CHECK: scf.for
  // CHECK-COUNT-4: tensor.extract %[[X]]
  // CHECK: scf.yield
  // CHECK: scf.yield
  // CHECK: arith.maxsi
  // CHECK: arith.divf %[[SUM]]
  // CHECK: arith.truncf
  func.func @roi_align_avg_half_pixel(%x: tensor<1x2x6x6xf32>, %rois: tensor<3x4xf32>, %b: tensor<3xi64>) -> tensor<3x2x2x2xf32> {
    %0 = onnx.RoiAlign(%x, %rois, %b) {output_height = 2 : i64, output_width = 2 : i64, sampling_ratio = 2 : i64} : (tensor<1x2x6x6xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x2x2x2xf32>
    return %0 : tensor<3x2x2x2xf32>
  }

  // max mode takes the largest weighted corner, from -inf; an adaptive grid
  // (sampling_ratio 0) is ceil(bin size) per roi.
  // CHECK-LABEL: func.func @roi_align_max_adaptive
  // CHECK: math.ceil
  // CHECK: scf.for
  // CHECK-COUNT-4: arith.maximumf %{{.*}}, %{{.*}} : f64
  // CHECK-NOT: arith.maxsi
  func.func @roi_align_max_adaptive(%x: tensor<1x2x6x6xf32>, %rois: tensor<3x4xf32>, %b: tensor<3xi64>) -> tensor<3x2x1x1xf32> {
    %0 = onnx.RoiAlign(%x, %rois, %b) {mode = "max", coordinate_transformation_mode = "output_half_pixel"} : (tensor<1x2x6x6xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x2x1x1xf32>
    return %0 : tensor<3x2x1x1xf32>
  }
}

// -----

// MaxUnpool: a zero tensor of the result's shape, then an scf.for over the
// input elements inserting each at its index's position (skipping indices
// outside the unpooled shape).

module attributes {onnx.opset_import = {ai.onnx = 11 : i64}} {
  // CHECK-LABEL: func.func @max_unpool_2d
  // CHECK-SAME: (%[[X:.*]]: tensor<1x1x2x2xf32>, %[[I:.*]]: tensor<1x1x2x2xi64>)
  // CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x4x4xf32>)
  // CHECK: %[[OUT:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (tensor<1x1x4x4xf32>)
  // CHECK: %[[V:.*]] = tensor.extract %[[X]]
  // CHECK: %[[AT:.*]] = tensor.extract %[[I]]
  // CHECK: arith.cmpi slt, %[[AT]], %{{.*}} : i64
  // CHECK: scf.if
  // CHECK: tensor.insert %[[V]] into %[[ACC]]
  // CHECK: } else {
  // CHECK: scf.yield %[[ACC]]
  // CHECK: return %[[OUT]]
  func.func @max_unpool_2d(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>) -> tensor<1x1x4x4xf32> {
    %none = onnx.None
    %0 = onnx.MaxUnpool(%x, %i, %none) {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, none) -> tensor<1x1x4x4xf32>
    return %0 : tensor<1x1x4x4xf32>
  }

  // A larger output_shape: the scatter writes the 5x5 result directly
  // (indices still refer to the inferred 4x4 shape); no pad.
  // CHECK-LABEL: func.func @max_unpool_output_shape
  // CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x5x5xf32>)
  // CHECK: scf.for
  // CHECK: arith.constant 16 : i64
  // CHECK-NOT: tensor.pad
  func.func @max_unpool_output_shape(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>, %shape: tensor<4xi64>) -> tensor<1x1x5x5xf32> {
    %0 = onnx.MaxUnpool(%x, %i, %shape) {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, tensor<4xi64>) -> tensor<1x1x5x5xf32>
    return %0 : tensor<1x1x5x5xf32>
  }
}

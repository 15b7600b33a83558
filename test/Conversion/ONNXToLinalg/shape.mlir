// RUN: pith-opt %s --pith-convert-onnx-to-linalg | FileCheck %s

module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {

// CHECK-LABEL: func.func @reshape_collapses
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>
// CHECK: %[[R:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK: return %[[R]]
func.func @reshape_collapses(%x: tensor<2x3x4xf32>, %shape: tensor<2xi64>) -> tensor<6x4xf32> {
  %0 = onnx.Reshape(%x, %shape) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  return %0 : tensor<6x4xf32>
}

// Shapes that do not line up go through 1-D.
// CHECK-LABEL: func.func @reshape_reorders
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [3, 2] : tensor<6xf32> into tensor<3x2xf32>
func.func @reshape_reorders(%x: tensor<2x3xf32>, %shape: tensor<2xi64>) -> tensor<3x2xf32> {
  %0 = onnx.Reshape(%x, %shape) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// A dynamic result shape is computed from the shape input at run time.
// CHECK-LABEL: func.func @reshape_dynamic
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xi64>
// CHECK: tensor.reshape %{{.*}}(%[[SHAPE]]) : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
func.func @reshape_dynamic(%x: tensor<?x4xf32>, %shape: tensor<2xi64>) -> tensor<?x?xf32> {
  %0 = onnx.Reshape(%x, %shape) : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// CHECK-LABEL: func.func @unsqueeze_expands
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [3, 1, 4] : tensor<3x4xf32> into tensor<3x1x4xf32>
func.func @unsqueeze_expands(%x: tensor<3x4xf32>) -> tensor<3x1x4xf32> {
  %axes = onnx.Constant() {value = dense<1> : tensor<1xi64>} : () -> tensor<1xi64>
  %0 = onnx.Unsqueeze(%x, %axes) : (tensor<3x4xf32>, tensor<1xi64>) -> tensor<3x1x4xf32>
  return %0 : tensor<3x1x4xf32>
}

// CHECK-LABEL: func.func @squeeze_collapses_dynamic
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<1x?xf32> into tensor<?xf32>
func.func @squeeze_collapses_dynamic(%x: tensor<1x?xf32>) -> tensor<?xf32> {
  %axes = onnx.Constant() {value = dense<0> : tensor<1xi64>} : () -> tensor<1xi64>
  %0 = onnx.Squeeze(%x, %axes) : (tensor<1x?xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// CHECK-LABEL: func.func @flatten_dynamic
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : tensor<?x3x4xf32> into tensor<?x12xf32>
func.func @flatten_dynamic(%x: tensor<?x3x4xf32>) -> tensor<?x12xf32> {
  %0 = onnx.Flatten(%x) {axis = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// CHECK-LABEL: func.func @shape_static
// CHECK: %[[S:.*]] = arith.constant dense<[3, 4]> : tensor<2xi64>
// CHECK: return %[[S]]
func.func @shape_static(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  %0 = onnx.Shape(%x) {start = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// CHECK-LABEL: func.func @shape_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x4xf32>
// CHECK: %[[D64:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: tensor.from_elements %[[D64]], %{{.*}} : tensor<2xi64>
func.func @shape_dynamic(%x: tensor<?x4xf32>) -> tensor<2xi64> {
  %0 = onnx.Shape(%x) : (tensor<?x4xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// CHECK-LABEL: func.func @size_static
// CHECK: arith.constant dense<24> : tensor<i64>
func.func @size_static(%x: tensor<2x3x4xf32>) -> tensor<i64> {
  %0 = onnx.Size(%x) : (tensor<2x3x4xf32>) -> tensor<i64>
  return %0 : tensor<i64>
}

// CHECK-LABEL: func.func @transpose_default_reverses
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<4x3x2xf32>) permutation = [2, 1, 0]
func.func @transpose_default_reverses(%x: tensor<2x3x4xf32>) -> tensor<4x3x2xf32> {
  %0 = onnx.Transpose(%x) : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  return %0 : tensor<4x3x2xf32>
}

// CHECK-LABEL: func.func @concat_inserts_slices
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x5xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x8xf32>
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %[[B]] into %[[I0]][0, 3] [2, 5] [1, 1]
func.func @concat_inserts_slices(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %0 = onnx.Concat(%a, %b) {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// Split sizes come from the result types, not the (run-time) split input.
// CHECK-LABEL: func.func @split_extracts_slices
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [2, 1] [1, 1] : tensor<2x4xf32> to tensor<2x1xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 1] [2, 3] [1, 1] : tensor<2x4xf32> to tensor<2x3xf32>
func.func @split_extracts_slices(%x: tensor<2x4xf32>, %split: tensor<2xi64>) -> (tensor<2x1xf32>, tensor<2x3xf32>) {
  %0:2 = onnx.Split(%x, %split) {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2xi64>) -> (tensor<2x1xf32>, tensor<2x3xf32>)
  return %0#0, %0#1 : tensor<2x1xf32>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @slice_constant
// CHECK: tensor.extract_slice %{{.*}}[1, 0] [2, 2] [1, 2] : tensor<4x4xf32> to tensor<2x2xf32>
func.func @slice_constant(%x: tensor<4x4xf32>) -> tensor<2x2xf32> {
  %starts = onnx.Constant() {value = dense<[1, 0]> : tensor<2xi64>} : () -> tensor<2xi64>
  %ends = onnx.Constant() {value = dense<[3, 100]> : tensor<2xi64>} : () -> tensor<2xi64>
  %axes = onnx.Constant() {value = dense<[0, -1]> : tensor<2xi64>} : () -> tensor<2xi64>
  %steps = onnx.Constant() {value = dense<[1, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
  %0 = onnx.Slice(%x, %starts, %ends, %axes, %steps) : (tensor<4x4xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// Run-time starts: a generic reading X[start + i * step].
// CHECK-LABEL: func.func @slice_runtime
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<10xf32>
func.func @slice_runtime(%x: tensor<10xf32>, %starts: tensor<1xi64>, %ends: tensor<1xi64>) -> tensor<3xf32> {
  %none = onnx.None
  %0 = onnx.Slice(%x, %starts, %ends, %none, %none) : (tensor<10xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// CHECK-LABEL: func.func @gather_reads_indices
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : tensor<2xi64>) outs(%{{.*}} : tensor<3x2xf32>)
// CHECK: tensor.extract %{{.*}} : tensor<3x5xf32>
func.func @gather_reads_indices(%data: tensor<3x5xf32>, %indices: tensor<2xi64>) -> tensor<3x2xf32> {
  %0 = onnx.Gather(%data, %indices) {axis = 1 : i64} : (tensor<3x5xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// CHECK-LABEL: func.func @gather_elements
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}} : tensor<3x3xf32>
func.func @gather_elements(%data: tensor<3x3xf32>, %indices: tensor<2x3xi64>) -> tensor<2x3xf32> {
  %0 = onnx.GatherElements(%data, %indices) {axis = 0 : i64} : (tensor<3x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @gather_nd
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}} : tensor<2x2xi64>
// CHECK: tensor.extract %{{.*}} : tensor<2x2xf32>
func.func @gather_nd(%data: tensor<2x2xf32>, %indices: tensor<2x2xi64>) -> tensor<2xf32> {
  %0 = onnx.GatherND(%data, %indices) : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// CHECK-LABEL: func.func @expand_broadcasts
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : tensor<3x1xf32>) outs(%{{.*}} : tensor<3x4xf32>)
func.func @expand_broadcasts(%x: tensor<3x1xf32>, %shape: tensor<2xi64>) -> tensor<3x4xf32> {
  %0 = onnx.Expand(%x, %shape) : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// CHECK-LABEL: func.func @tile_wraps
// CHECK: linalg.generic
// CHECK: arith.remui
// CHECK: tensor.extract %{{.*}} : tensor<2x3xf32>
func.func @tile_wraps(%x: tensor<2x3xf32>, %repeats: tensor<2xi64>) -> tensor<4x3xf32> {
  %0 = onnx.Tile(%x, %repeats) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @pad_constant_inserts
// CHECK: %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4x5xf32>)
// CHECK: tensor.insert_slice %{{.*}} into %[[F]][1, 2] [2, 2] [1, 1]
func.func @pad_constant_inserts(%x: tensor<2x2xf32>) -> tensor<4x5xf32> {
  %pads = onnx.Constant() {value = dense<[1, 2, 1, 1]> : tensor<4xi64>} : () -> tensor<4xi64>
  %none = onnx.None
  %0 = onnx.Pad(%x, %pads, %none, %none) {mode = "constant"} : (tensor<2x2xf32>, tensor<4xi64>, none, none) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// CHECK-LABEL: func.func @pad_reflect
// CHECK: linalg.generic
// CHECK: arith.select
// CHECK: tensor.extract %{{.*}} : tensor<3xi32>
func.func @pad_reflect(%x: tensor<3xi32>, %pads: tensor<2xi64>) -> tensor<5xi32> {
  %none = onnx.None
  %0 = onnx.Pad(%x, %pads, %none, %none) {mode = "reflect"} : (tensor<3xi32>, tensor<2xi64>, none, none) -> tensor<5xi32>
  return %0 : tensor<5xi32>
}

// CHECK-LABEL: func.func @depth_to_space
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}} : tensor<1x8x2x3xf32>
func.func @depth_to_space(%x: tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32> {
  %0 = onnx.DepthToSpace(%x) {blocksize = 2 : i64, mode = "DCR"} : (tensor<1x8x2x3xf32>) -> tensor<1x2x4x6xf32>
  return %0 : tensor<1x2x4x6xf32>
}

// CHECK-LABEL: func.func @space_to_depth
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}} : tensor<1x2x4x6xf32>
func.func @space_to_depth(%x: tensor<1x2x4x6xf32>) -> tensor<1x8x2x3xf32> {
  %0 = onnx.SpaceToDepth(%x) {blocksize = 2 : i64} : (tensor<1x2x4x6xf32>) -> tensor<1x8x2x3xf32>
  return %0 : tensor<1x8x2x3xf32>
}

// CHECK-LABEL: func.func @constant_of_shape_fills
// CHECK: %[[V:.*]] = arith.constant 7 : i32
// CHECK: linalg.fill ins(%[[V]] : i32) outs(%{{.*}} : tensor<2x3xi32>)
func.func @constant_of_shape_fills(%shape: tensor<2xi64>) -> tensor<2x3xi32> {
  %0 = onnx.ConstantOfShape(%shape) {value = dense<7> : tensor<1xi32>} : (tensor<2xi64>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}

// CHECK-LABEL: func.func @range_dynamic
// CHECK: math.ceil
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<?xf32>)
// CHECK: arith.sitofp
func.func @range_dynamic(%start: tensor<f32>, %limit: tensor<f32>, %delta: tensor<f32>) -> tensor<?xf32> {
  %0 = onnx.Range(%start, %limit, %delta) : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// CHECK-LABEL: func.func @eye_like
// CHECK: linalg.generic
// CHECK: arith.cmpi eq
func.func @eye_like(%x: tensor<3x4xf32>) -> tensor<3x4xi32> {
  %0 = onnx.EyeLike(%x) {k = 1 : i64, dtype = 6 : i64} : (tensor<3x4xf32>) -> tensor<3x4xi32>
  return %0 : tensor<3x4xi32>
}

// CHECK-LABEL: func.func @trilu_lower
// CHECK: linalg.generic
// CHECK: arith.cmpi sle
func.func @trilu_lower(%x: tensor<3x4xf32>, %k: tensor<i64>) -> tensor<3x4xf32> {
  %0 = onnx.Trilu(%x, %k) {upper = 0 : i64} : (tensor<3x4xf32>, tensor<i64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// CHECK-LABEL: func.func @one_hot
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<3xi64>) outs(%{{.*}} : tensor<3x5xf32>)
// CHECK: arith.select
func.func @one_hot(%indices: tensor<3xi64>, %depth: tensor<i64>, %values: tensor<2xf32>) -> tensor<3x5xf32> {
  %0 = onnx.OneHot(%indices, %depth, %values) : (tensor<3xi64>, tensor<i64>, tensor<2xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// A constant axis gives one reduction over the axis.
// CHECK-LABEL: func.func @cumsum_constant_axis
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NOT: linalg.generic
func.func @cumsum_constant_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %axis = onnx.Constant() {value = dense<1> : tensor<i64>} : () -> tensor<i64>
  %0 = onnx.CumSum(%x, %axis) : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// A run-time axis: one reduction per axis, chosen at run time.
// CHECK-LABEL: func.func @cumsum_runtime_axis
// CHECK: %[[LAST:.*]] = linalg.generic
// CHECK: %[[FIRST:.*]] = linalg.generic
// CHECK: arith.select %{{.*}}, %[[FIRST]], %[[LAST]] : tensor<2x3xf32>
func.func @cumsum_runtime_axis(%x: tensor<2x3xf32>, %axis: tensor<i32>) -> tensor<2x3xf32> {
  %0 = onnx.CumSum(%x, %axis) {reverse = 1 : i64} : (tensor<2x3xf32>, tensor<i32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

}

// RUN: pith-opt %s -split-input-file -verify-diagnostics --pith-convert-onnx-to-linalg

module attributes {onnx.opset_import = {ai.onnx = 16 : i64}} {
  func.func @roi_align_bad_mode(%x: tensor<1x2x6x6xf32>, %rois: tensor<3x4xf32>, %b: tensor<3xi64>) -> tensor<3x2x1x1xf32> {
    // expected-error @+2 {{RoiAlign coordinate_transformation_mode 'align_corners' is not supported}}
    // expected-error @+1 {{failed to legalize operation 'onnx.RoiAlign'}}
    %0 = onnx.RoiAlign(%x, %rois, %b) {coordinate_transformation_mode = "align_corners"} : (tensor<1x2x6x6xf32>, tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x2x1x1xf32>
    return %0 : tensor<3x2x1x1xf32>
  }
}

// -----

module attributes {onnx.opset_import = {ai.onnx = 11 : i64}} {
  func.func @max_unpool_output_too_small(%x: tensor<1x1x2x2xf32>, %i: tensor<1x1x2x2xi64>, %shape: tensor<4xi64>) -> tensor<1x1x3x3xf32> {
    // expected-error @+2 {{MaxUnpool output_shape is smaller than the unpooled shape}}
    // expected-error @+1 {{failed to legalize operation 'onnx.MaxUnpool'}}
    %0 = onnx.MaxUnpool(%x, %i, %shape) {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>, tensor<4xi64>) -> tensor<1x1x3x3xf32>
    return %0 : tensor<1x1x3x3xf32>
  }
}

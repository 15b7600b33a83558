// RUN: pith-opt %s -split-input-file --pith-convert-onnx-to-linalg -mlir-print-local-scope | FileCheck %s

// Conv with one group: pads become tensor.pad with zeros, the convolution
// linalg.conv_2d_nchw_fchw, the bias a per-channel add after it.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @conv_2d_pads_strides_bias
  // CHECK-SAME: (%[[X:.*]]: tensor<1x3x5x5xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[B:.*]]: tensor<4xf32>)
  // CHECK: %[[PAD:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
  // CHECK: } : tensor<1x3x5x5xf32> to tensor<1x3x7x7xf32>
  // CHECK: %[[INIT:.*]] = linalg.fill
  // CHECK: %[[CONV:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %[[W]] : tensor<1x3x7x7xf32>, tensor<4x3x3x3xf32>) outs(%[[INIT]] : tensor<1x4x3x3xf32>)
  // CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>]
  // CHECK-SAME: ins(%[[CONV]], %[[B]] : tensor<1x4x3x3xf32>, tensor<4xf32>)
  // CHECK: arith.addf
  // CHECK: return %[[OUT]]
  func.func @conv_2d_pads_strides_bias(%x: tensor<1x3x5x5xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x3x3xf32> {
    %0 = onnx.Conv(%x, %w, %b) {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x5x5xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x3x3xf32>
    return %0 : tensor<1x4x3x3xf32>
  }

  // SAME_UPPER puts the odd pad at the end; no bias, no add.
  // CHECK-LABEL: func.func @conv_1d_same_upper
  // CHECK: tensor.pad %{{.*}} low[0, 0, 0] high[0, 0, 1]
  // CHECK: linalg.conv_1d_ncw_fcw {dilations = dense<1> : tensor<1xi64>, strides = dense<2> : tensor<1xi64>}
  // CHECK-NOT: linalg.generic
  func.func @conv_1d_same_upper(%x: tensor<1x2x5xf32>, %w: tensor<3x2x2xf32>) -> tensor<1x3x3xf32> {
    %none = onnx.None
    %0 = onnx.Conv(%x, %w, %none) {auto_pad = "SAME_UPPER", strides = array<i64: 2>} : (tensor<1x2x5xf32>, tensor<3x2x2xf32>, none) -> tensor<1x3x3xf32>
    return %0 : tensor<1x3x3xf32>
  }

  // One group per channel: the (C, 1, kh, kw) kernel drops its unit
  // dimension for linalg.depthwise_conv_2d_nchw_chw.
  // CHECK-LABEL: func.func @conv_depthwise
  // CHECK-SAME: (%[[X:.*]]: tensor<1x3x5x5xf32>, %[[W:.*]]: tensor<3x1x3x3xf32>)
  // CHECK: %[[K:.*]] = tensor.collapse_shape %[[W]] {{\[}}[0, 1], [2], [3]] : tensor<3x1x3x3xf32> into tensor<3x3x3xf32>
  // CHECK: linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[X]], %[[K]] : tensor<1x3x5x5xf32>, tensor<3x3x3xf32>)
  func.func @conv_depthwise(%x: tensor<1x3x5x5xf32>, %w: tensor<3x1x3x3xf32>) -> tensor<1x3x3x3xf32> {
    %none = onnx.None
    %0 = onnx.Conv(%x, %w, %none) {group = 3 : i64} : (tensor<1x3x5x5xf32>, tensor<3x1x3x3xf32>, none) -> tensor<1x3x3x3xf32>
    return %0 : tensor<1x3x3x3xf32>
  }

  // Other groups: input and kernel split their channels into (G, C/G), a
  // generic convolves within each group, the result merges them back.
  // CHECK-LABEL: func.func @conv_groups
  // CHECK-SAME: (%[[X:.*]]: tensor<1x4x5xf32>, %[[W:.*]]: tensor<6x2x3xf32>)
  // CHECK-DAG: %[[WG:.*]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3]] output_shape [2, 3, 2, 3]
  // CHECK-DAG: %[[XG:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2], [3]] output_shape [1, 2, 2, 5]
  // CHECK: %[[CONV:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d3 + d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
  // CHECK-SAME: ins(%[[XG]], %[[WG]] : tensor<1x2x2x5xf32>, tensor<2x3x2x3xf32>)
  // CHECK: %[[OUT:.*]] = tensor.collapse_shape %[[CONV]] {{\[}}[0], [1, 2], [3]] : tensor<1x2x3x3xf32> into tensor<1x6x3xf32>
  // CHECK: return %[[OUT]]
  func.func @conv_groups(%x: tensor<1x4x5xf32>, %w: tensor<6x2x3xf32>) -> tensor<1x6x3xf32> {
    %none = onnx.None
    %0 = onnx.Conv(%x, %w, %none) {group = 2 : i64} : (tensor<1x4x5xf32>, tensor<6x2x3xf32>, none) -> tensor<1x6x3xf32>
    return %0 : tensor<1x6x3xf32>
  }

  // ConvInteger: widened operands minus zero points, summed in i32; the
  // pads hold the input zero point.
  // CHECK-LABEL: func.func @conv_integer_zero_point
  // CHECK-SAME: (%[[X:.*]]: tensor<1x1x3x3xi8>, %[[W:.*]]: tensor<1x1x2x2xi8>, %[[ZP:.*]]: tensor<i8>)
  // CHECK: %[[Z:.*]] = tensor.extract %[[ZP]][] : tensor<i8>
  // CHECK: tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
  // CHECK: tensor.yield %[[Z]] : i8
  // CHECK: linalg.generic
  // CHECK: arith.extui
  // CHECK: arith.subi
  // CHECK: arith.muli
  // CHECK: -> tensor<1x1x1x4x4xi32>
  func.func @conv_integer_zero_point(%x: tensor<1x1x3x3xui8>, %w: tensor<1x1x2x2xui8>, %zp: tensor<ui8>) -> tensor<1x1x4x4xi32> {
    %none = onnx.None
    %0 = onnx.ConvInteger(%x, %w, %zp, %none) {pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x3x3xui8>, tensor<1x1x2x2xui8>, tensor<ui8>, none) -> tensor<1x1x4x4xi32>
    return %0 : tensor<1x1x4x4xi32>
  }
}

// -----

// ConvTranspose: the input scattered into zeros (offset (K-1)*d, stride s),
// the kernel flipped and transposed to (M, C, k...), then a convolution.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @conv_transpose_strided
  // CHECK-SAME: (%[[X:.*]]: tensor<1x1x3x3xf32>, %[[W:.*]]: tensor<1x2x3x3xf32>)
  // CHECK: %[[ZEROS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x1x9x9xf32>)
  // CHECK: %[[SLICE:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 1, 3, 3] [1, 1, 1, 1]
  // CHECK: %[[Z:.*]] = tensor.insert_slice %[[SLICE]] into %[[ZEROS]][0, 0, 2, 2] [1, 1, 3, 3] [1, 1, 2, 2]
  // CHECK: %[[FLIP:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0 + d2, d1, -d3 + 2, -d4 + 2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>]
  // CHECK-SAME: ins(%[[W]] : tensor<1x2x3x3xf32>)
  // CHECK: %[[K:.*]] = tensor.collapse_shape %[[FLIP]] {{\[}}[0, 1], [2], [3], [4]] : tensor<1x2x1x3x3xf32> into tensor<2x1x3x3xf32>
  // CHECK: %[[OUT:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[Z]], %[[K]] : tensor<1x1x9x9xf32>, tensor<2x1x3x3xf32>)
  // CHECK: return %[[OUT]] : tensor<1x2x7x7xf32>
  func.func @conv_transpose_strided(%x: tensor<1x1x3x3xf32>, %w: tensor<1x2x3x3xf32>) -> tensor<1x2x7x7xf32> {
    %none = onnx.None
    %0 = onnx.ConvTranspose(%x, %w, %none) {strides = array<i64: 2, 2>} : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>, none) -> tensor<1x2x7x7xf32>
    return %0 : tensor<1x2x7x7xf32>
  }
}

// -----

// Pooling: max pads with -inf, average with 0; float 1-D/2-D pools are the
// linalg named pooling ops, the rest generic window reductions.

module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {
  // CHECK-LABEL: func.func @max_pool_same_upper
  // CHECK-SAME: (%[[X:.*]]: tensor<1x1x5x5xf32>)
  // CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: %[[PAD:.*]] = tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 0, 1, 1]
  // CHECK: tensor.yield %[[NEGINF]] : f32
  // CHECK: %[[INIT:.*]] = linalg.fill ins(%[[NEGINF]] : f32)
  // CHECK: %[[WIN:.*]] = tensor.empty() : tensor<2x2xf32>
  // CHECK: %[[OUT:.*]] = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %[[WIN]] : tensor<1x1x6x6xf32>, tensor<2x2xf32>) outs(%[[INIT]] : tensor<1x1x3x3xf32>)
  // CHECK: return %[[OUT]]
  func.func @max_pool_same_upper(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
    %y, %i = onnx.MaxPool(%x) {auto_pad = "SAME_UPPER", kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x5x5xf32>) -> (tensor<1x1x3x3xf32>, none)
    return %y : tensor<1x1x3x3xf32>
  }

  // ceil_mode pads the end so the last window fits.
  // CHECK-LABEL: func.func @max_pool_ceil_mode
  // CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
  // CHECK: linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%{{.*}}, %{{.*}} : tensor<1x1x5x5xf32>, tensor<3x3xf32>) outs(%{{.*}} : tensor<1x1x2x2xf32>)
  func.func @max_pool_ceil_mode(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
    %y, %i = onnx.MaxPool(%x) {ceil_mode = 1 : i64, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, none)
    return %y : tensor<1x1x2x2xf32>
  }

  // Unsigned integers: a generic with arith.maxui, padded with 0.
  // CHECK-LABEL: func.func @max_pool_unsigned
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
  // CHECK: arith.maxui
  func.func @max_pool_unsigned(%x: tensor<1x1x3x3xui8>) -> tensor<1x1x2x2xui8> {
    %y, %i = onnx.MaxPool(%x) {kernel_shape = array<i64: 2, 2>} : (tensor<1x1x3x3xui8>) -> (tensor<1x1x2x2xui8>, none)
    return %y : tensor<1x1x2x2xui8>
  }

  // Indices used: one generic reduces (value, flat index) pairs.
  // CHECK-LABEL: func.func @max_pool_indices
  // CHECK: %[[R:.*]]:2 = linalg.generic
  // CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  // CHECK: arith.cmpf ogt
  // CHECK: return %[[R]]#0, %[[R]]#1
  func.func @max_pool_indices(%x: tensor<1x1x3x3xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>) {
    %y, %i = onnx.MaxPool(%x) {kernel_shape = array<i64: 2, 2>} : (tensor<1x1x3x3xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
    return %y, %i : tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>
  }

  // Pads not counted: the divisor is the number of input cells under each
  // window, computed from the output position.
  // CHECK-LABEL: func.func @average_pool_excludes_pads
  // CHECK: %[[SUM:.*]] = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%{{.*}}, %{{.*}} : tensor<1x1x6x6xf32>, tensor<3x3xf32>)
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%[[SUM]] : tensor<1x1x4x4xf32>)
  // CHECK: linalg.index 2
  // CHECK: arith.ceildivsi
  // CHECK: arith.divf
  func.func @average_pool_excludes_pads(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
    %y = onnx.AveragePool(%x) {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
    return %y : tensor<1x1x4x4xf32>
  }

  // Pads counted: divide by the kernel size.
  // CHECK-LABEL: func.func @average_pool_counts_pads
  // CHECK: linalg.pooling_nchw_sum
  // CHECK: %[[NINE:.*]] = arith.constant 9.000000e+00 : f32
  // CHECK: arith.divf %{{.*}}, %[[NINE]]
  // CHECK-NOT: linalg.index
  func.func @average_pool_counts_pads(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
    %y = onnx.AveragePool(%x) {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
    return %y : tensor<1x1x4x4xf32>
  }

  // Global pools: the window is the whole spatial extent.
  // CHECK-LABEL: func.func @global_average_pool
  // CHECK-SAME: (%[[X:.*]]: tensor<2x3x4x4xf32>)
  // CHECK: linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[X]], %{{.*}} : tensor<2x3x4x4xf32>, tensor<4x4xf32>) outs(%{{.*}} : tensor<2x3x1x1xf32>)
  // CHECK: arith.constant 1.600000e+01 : f32
  func.func @global_average_pool(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x1x1xf32> {
    %y = onnx.GlobalAveragePool(%x) : (tensor<2x3x4x4xf32>) -> tensor<2x3x1x1xf32>
    return %y : tensor<2x3x1x1xf32>
  }

  // LpPool: sum of squares in a generic, then a square root.
  // CHECK-LABEL: func.func @lp_pool
  // CHECK: linalg.generic
  // CHECK: math.absf
  // CHECK: arith.mulf
  // CHECK: arith.addf
  // CHECK: math.sqrt
  func.func @lp_pool(%x: tensor<1x1x4xf32>) -> tensor<1x1x3xf32> {
    %y = onnx.LpPool(%x) {kernel_shape = array<i64: 2>} : (tensor<1x1x4xf32>) -> tensor<1x1x3xf32>
    return %y : tensor<1x1x3xf32>
  }
}

// -----

// BatchNormalization (inference): one generic reading the per-channel
// operands along dimension 1.

module attributes {onnx.opset_import = {ai.onnx = 15 : i64}} {
  // CHECK-LABEL: func.func @batch_norm
  // CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[S:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<3xf32>, %[[M:.*]]: tensor<3xf32>, %[[V:.*]]: tensor<3xf32>)
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>]
  // CHECK-SAME: ins(%[[X]], %[[S]], %[[B]], %[[M]], %[[V]] :
  // CHECK: math.sqrt
  func.func @batch_norm(%x: tensor<2x3x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x4xf32> {
    %y, %rm, %rv = onnx.BatchNormalization(%x, %s, %b, %m, %v) : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4xf32>, none, none)
    return %y : tensor<2x3x4xf32>
  }

  // Training mode: batch mean and variance by channel reductions; running
  // statistics blend with momentum.
  // CHECK-LABEL: func.func @batch_norm_training
  // CHECK: arith.constant 8.000000e+00 : f32
  // CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d0, d2)>, affine_map<(d0, d1, d2) -> (d0)>], iterator_types = ["parallel", "reduction", "reduction"]}
  // CHECK: arith.constant 0.899999976 : f32
  // CHECK: return %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>
  func.func @batch_norm_training(%x: tensor<2x3x4xf32>, %s: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>) {
    %y, %rm, %rv = onnx.BatchNormalization(%x, %s, %b, %m, %v) {training_mode = 1 : i64} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>)
    return %y, %rm, %rv : tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>
  }
}

// RUN: pith-opt %s --pith-convolutions-to-nhwc --canonicalize | FileCheck %s

#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
#bias = affine_map<(n, c, h, w) -> (c)>

// conv -> bias + clip -> zero pad -> depthwise conv: the image is
// transposed to NHWC once, every op between the convolutions follows into
// NHWC, and the result is transposed back once for the NCHW return value.
// CHECK-LABEL: func @chain
// CHECK-SAME:    (%[[X:.*]]: tensor<1x8x16x16xf32>, %[[W:.*]]: tensor<16x8x1x1xf32>, %[[B:.*]]: tensor<16xf32>, %[[D:.*]]: tensor<16x3x3xf32>)
// CHECK:         %[[XT:.*]] = linalg.transpose ins(%[[X]] : tensor<1x8x16x16xf32>) outs(%{{.*}} : tensor<1x16x16x8xf32>) permutation = [0, 2, 3, 1]
// CHECK:         %[[C:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[XT]], %[[W]] : tensor<1x16x16x8xf32>, tensor<16x8x1x1xf32>)
// CHECK-SAME:      pith.dilations = array<i64: 1, 1>, pith.kernel = "conv2d_nhwc_fchw_f32", pith.strides = array<i64: 1, 1>
// CHECK:         %[[E:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[C]], %[[B]] : tensor<1x16x16x16xf32>, tensor<16xf32>)
// CHECK:         %[[P:.*]] = tensor.pad %[[E]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:         %[[DW:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[P]], %[[D]] : tensor<1x18x18x16xf32>, tensor<16x3x3xf32>)
// CHECK-SAME:      pith.kernel = "depthwise_conv2d_nhwc_f32", pith.strides = array<i64: 2, 2>
// CHECK:         %[[R:.*]] = linalg.transpose ins(%[[DW]] : tensor<1x8x8x16xf32>) outs(%{{.*}} : tensor<1x16x8x8xf32>) permutation = [0, 3, 1, 2]
// CHECK-NOT:     linalg.transpose
// CHECK:         return %[[R]]
func.func @chain(%x: tensor<1x8x16x16xf32>, %w: tensor<16x8x1x1xf32>, %b: tensor<16xf32>,
                 %d: tensor<16x3x3xf32>) -> tensor<1x16x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %e0 = tensor.empty() : tensor<1x16x16x16xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x8x16x16xf32>, tensor<16x8x1x1xf32>) outs(%f0 : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  %e1 = tensor.empty() : tensor<1x16x16x16xf32>
  %act = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c, %b : tensor<1x16x16x16xf32>, tensor<16xf32>) outs(%e1 : tensor<1x16x16x16xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    %lo = arith.maximumf %s, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x16x16x16xf32>
  %p = tensor.pad %act low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x16x16x16xf32> to tensor<1x16x18x18xf32>
  %e2 = tensor.empty() : tensor<1x16x8x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %dw = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%p, %d : tensor<1x16x18x18xf32>, tensor<16x3x3xf32>) outs(%f2 : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %dw : tensor<1x16x8x8xf32>
}

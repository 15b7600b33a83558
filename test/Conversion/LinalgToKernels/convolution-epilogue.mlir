// RUN: pith-opt %s -split-input-file --pith-linalg-to-kernel-calls | FileCheck %s

#image = affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh + kh, ow + kw, c)>
#weights = affine_map<(n, oh, ow, f, kh, kw, c) -> (f, c, kh, kw)>
#out = affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh, ow, f)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
#channel = affine_map<(n, h, w, c) -> (c)>

// zero fill -> channels-last convolution -> bias + residual + ReLU6 alone
// reading the result: one fused call writes the epilogue's output directly.
// CHECK-LABEL: func @fused
// CHECK-NOT:     linalg.fill
// CHECK:         %[[BOTH:.*]] = arith.constant 3 : i64
// CHECK-NEXT:    %[[LO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %[[HI:.*]] = arith.constant 6.000000e+00 : f32
// CHECK-NEXT:    call @pith_kernel_conv2d_nhwc_fchw_f32_fused({{.*}}, %[[BOTH]], %[[LO]], %[[HI]]) : (memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32, f32) -> ()
// CHECK-NOT:     linalg.generic
func.func @fused(%x: memref<1x4x4x8xf32>, %w: memref<16x8x1x1xf32>, %b: memref<16xf32>,
                 %r: memref<1x4x4x16xf32>, %arena: memref<2048xi8>, %z: memref<1x4x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %c0 = arith.constant 0 : index
  %y = memref.view %arena[%c0][] : memref<2048xi8> to memref<1x4x4x16xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x4x4x16xf32>)
  linalg.generic {indexing_maps = [#image, #weights, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x4x4x8xf32>, memref<16x8x1x1xf32>) outs(%y : memref<1x4x4x16xf32>)
      attrs = {pith.kernel = "conv2d_nhwc_fchw_f32", pith.strides = array<i64: 1, 1>, pith.dilations = array<i64: 1, 1>} {
  ^bb0(%in: f32, %wt: f32, %acc: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #channel, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y, %b, %r : memref<1x4x4x16xf32>, memref<16xf32>, memref<1x4x4x16xf32>) outs(%z : memref<1x4x4x16xf32>) {
  ^bb0(%v: f32, %bias: f32, %res: f32, %o: f32):
    %0 = arith.addf %v, %bias : f32
    %1 = arith.addf %0, %res : f32
    %2 = arith.maximumf %1, %zero : f32
    %3 = arith.minimumf %2, %six : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#image = affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh + kh, ow + kw, c)>
#weights = affine_map<(n, oh, ow, f, kh, kw, c) -> (f, c, kh, kw)>
#out = affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh, ow, f)>
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>

// The convolution's result is read again after the epilogue: no fusion, the
// plain accumulating call.
// CHECK-LABEL: func @read_later
// CHECK:         linalg.fill
// CHECK:         call @pith_kernel_conv2d_nhwc_fchw_f32(
// CHECK:         linalg.generic
func.func @read_later(%x: memref<1x4x4x8xf32>, %w: memref<16x8x1x1xf32>, %arena: memref<2048xi8>,
                      %z: memref<1x4x4x16xf32>, %z2: memref<1x4x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %y = memref.view %arena[%c0][] : memref<2048xi8> to memref<1x4x4x16xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<1x4x4x16xf32>)
  linalg.generic {indexing_maps = [#image, #weights, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x4x4x8xf32>, memref<16x8x1x1xf32>) outs(%y : memref<1x4x4x16xf32>)
      attrs = {pith.kernel = "conv2d_nhwc_fchw_f32", pith.strides = array<i64: 1, 1>, pith.dilations = array<i64: 1, 1>} {
  ^bb0(%in: f32, %wt: f32, %acc: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : memref<1x4x4x16xf32>) outs(%z : memref<1x4x4x16xf32>) {
  ^bb0(%v: f32, %o: f32):
    %m = arith.maximumf %v, %zero : f32
    linalg.yield %m : f32
  }
  memref.copy %y, %z2 : memref<1x4x4x16xf32> to memref<1x4x4x16xf32>
  return
}

// -----

#image = affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh + kh, ow + kw, c)>
#weights = affine_map<(n, oh, ow, f, kh, kw, c) -> (f, c, kh, kw)>
#out = affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh, ow, f)>

// A zero-padded image (zeroed buffer, input copied into its interior): the
// kernel reads the input and pads by itself (top 1, left 1, bottom 1,
// right 1); the zeroing and the copy go.
// CHECK-LABEL: func @padded
// CHECK-NOT:     linalg.map
// CHECK-NOT:     memref.copy
// CHECK:         %[[X:.*]] = memref.cast %arg0 : memref<1x4x4x8xf32> to memref<?x?x?x?xf32>
// CHECK:         call @pith_kernel_conv2d_nhwc_fchw_f32(%[[X]], {{.*}}) : (memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
func.func @padded(%x: memref<1x4x4x8xf32>, %w: memref<16x8x3x3xf32>, %arena: memref<4096xi8>,
                  %y: memref<1x4x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %p = memref.view %arena[%c0][] : memref<4096xi8> to memref<1x6x6x8xf32>
  linalg.map outs(%p : memref<1x6x6x8xf32>)
    (%init: f32) {
      linalg.yield %zero : f32
    }
  %interior = memref.subview %p[0, 1, 1, 0] [1, 4, 4, 8] [1, 1, 1, 1] : memref<1x6x6x8xf32> to memref<1x4x4x8xf32, strided<[288, 48, 8, 1], offset: 56>>
  memref.copy %x, %interior : memref<1x4x4x8xf32> to memref<1x4x4x8xf32, strided<[288, 48, 8, 1], offset: 56>>
  linalg.generic {indexing_maps = [#image, #weights, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%p, %w : memref<1x6x6x8xf32>, memref<16x8x3x3xf32>) outs(%y : memref<1x4x4x16xf32>)
      attrs = {pith.kernel = "conv2d_nhwc_fchw_f32", pith.strides = array<i64: 1, 1>, pith.dilations = array<i64: 1, 1>} {
  ^bb0(%in: f32, %wt: f32, %acc: f32):
    %pr = arith.mulf %in, %wt : f32
    %s = arith.addf %acc, %pr : f32
    linalg.yield %s : f32
  }
  return
}

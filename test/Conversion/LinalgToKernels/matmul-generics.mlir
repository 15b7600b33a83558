// RUN: pith-opt %s -split-input-file --pith-linalg-to-kernel-calls | FileCheck %s

// numpy matmul's generic (what MatMul lowers to with symbolic shapes) runs
// in the kernels on collapsed views of its buffers.

#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
// [B, M, K] x [K, N]: one 2-D matmul over B*M rows.
// CHECK-LABEL: func @shared_weight
// CHECK:         %[[A:.*]] = memref.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : memref<?x?x384xf32> into memref<?x384xf32>
// CHECK:         %[[C:.*]] = memref.collapse_shape %arg2 {{\[\[}}0, 1], [2]] : memref<?x?x1536xf32> into memref<?x1536xf32>
// CHECK:         call @pith_kernel_matmul_f32(
// CHECK-NOT:     linalg.generic
func.func @shared_weight(%a: memref<?x?x384xf32>, %w: memref<384x1536xf32>, %c: memref<?x?x1536xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<?x?x384xf32>, memref<384x1536xf32>) outs(%c : memref<?x?x1536xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#lhs = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#rhs = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#out = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
// [B, H, M, K] x [B, H, K, N]: the batched kernel over B*H matrices.
// CHECK-LABEL: func @batched
// CHECK-COUNT-3: memref.collapse_shape {{.*}} {{\[\[}}0, 1], [2], [3]]
// CHECK:         call @pith_kernel_batch_matmul_f32(
// CHECK-NOT:     linalg.generic
func.func @batched(%a: memref<?x12x?x32xf32>, %b: memref<?x12x32x?xf32>, %c: memref<?x12x?x?xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x12x?x32xf32>, memref<?x12x32x?xf32>) outs(%c : memref<?x12x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (k, n)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
// Anything else in the body (here a max) is not a matmul: left alone.
// CHECK-LABEL: func @not_a_matmul
// CHECK-NOT:     call
// CHECK:         linalg.generic
func.func @not_a_matmul(%a: memref<?x?x4xf32>, %w: memref<4x8xf32>, %c: memref<?x?x8xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<?x?x4xf32>, memref<4x8xf32>) outs(%c : memref<?x?x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.maximumf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

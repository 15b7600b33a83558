// RUN: pith-opt %s --pith-linalg-to-kernel-calls | FileCheck %s

// A weight that is at least half zeros (the compiler marks weight arguments
// with their zero fraction) goes to the sparse kernel, read transposed where
// the matmul reads it so; a denser one stays with the dense kernel.
// CHECK-LABEL: func @sparse_weight
// CHECK:         call @pith_kernel_sparse_matmul_f32
// CHECK-NOT:     linalg.matmul
func.func @sparse_weight(%a: memref<4x8xf32>, %w: memref<8x16xf32> {pith.weight = "w", pith.zero_fraction = 0.9 : f64},
                         %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %w : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// CHECK-LABEL: func @sparse_transposed_weight
// CHECK:         %[[T:.*]] = memref.transpose %arg1
// CHECK:         %[[B:.*]] = memref.cast %[[T]]
// CHECK:         call @pith_kernel_sparse_matmul_f32(%{{.*}}, %[[B]], %{{.*}})
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @sparse_transposed_weight(%a: memref<4x8xf32>, %w: memref<16x8xf32> {pith.weight = "w", pith.zero_fraction = 0.5 : f64},
                                    %c: memref<4x16xf32>) {
  linalg.matmul indexing_maps = [#a, #b, #c] ins(%a, %w : memref<4x8xf32>, memref<16x8xf32>) outs(%c : memref<4x16xf32>)
  return
}

// CHECK-LABEL: func @dense_weight
// CHECK:         call @pith_kernel_matmul_f32
// CHECK-NOT:     sparse
func.func @dense_weight(%a: memref<4x8xf32>, %w: memref<8x16xf32> {pith.weight = "w", pith.zero_fraction = 0.3 : f64},
                        %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %w : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// An activation operand is never taken for a sparse weight.
// CHECK-LABEL: func @activation
// CHECK:         call @pith_kernel_matmul_f32
func.func @activation(%a: memref<4x8xf32>, %w: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %w : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}
